#!/usr/bin/env bash
# Vendors the JavaScript the HTML report inlines (run by a maintainer, not at install time).
# Fetches the packages from the npm registry with `npm pack`, checks their integrity (npm does),
# and copies the distribution files and licences into src/deconflict/report/static/.
# The copied files are committed, so installing deconflict needs neither npm nor a network.
# Usage: bash scripts/vendor-report-assets.sh
set -euo pipefail
LEAFLET_VERSION="1.9.4"
root="$(cd "$(dirname "$0")/.." && pwd)"
static="$root/src/deconflict/report/static"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "leaflet@${LEAFLET_VERSION}" >/dev/null
tar -xzf "leaflet-${LEAFLET_VERSION}.tgz"
# Flat layout: the package data pattern in pyproject.toml is report/static/* (no subfolders).
mkdir -p "$static"
rm -f "$static"/leaflet*
cp package/dist/leaflet.js package/dist/leaflet.css "$static/"
for png in package/dist/images/*.png; do cp "$png" "$static/leaflet-$(basename "$png")"; done
cp package/LICENSE "$static/leaflet-LICENSE.txt"
sha256sum "leaflet-${LEAFLET_VERSION}.tgz" | cut -d' ' -f1 >"$work/sha"
cat >"$static/VENDORED.txt" <<TXT
Third-party files inlined into deconflict HTML reports (vendored by scripts/vendor-report-assets.sh).

leaflet ${LEAFLET_VERSION}  https://leafletjs.com  BSD-2-Clause (leaflet-LICENSE.txt)
  from the npm registry: leaflet-${LEAFLET_VERSION}.tgz sha256 $(cat "$work/sha")
  files: dist/leaflet.js, dist/leaflet.css, dist/images/NAME.png as leaflet-NAME.png
TXT
echo "vendored leaflet ${LEAFLET_VERSION} into $static"
