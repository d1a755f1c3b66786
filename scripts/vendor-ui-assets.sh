#!/usr/bin/env bash
# Vendors the JavaScript of the server's web UI (run by a maintainer, not at install time).
# Fetches htmx from the npm registry with `npm pack` (npm checks the package's integrity) and
# copies its minified build and licence into src/deconflict/api/static/. The copied files are
# committed, so installing or serving deconflict needs neither npm nor a network, and the UI
# loads nothing from a CDN. Leaflet for the map is served from the report's vendored copy
# (scripts/vendor-report-assets.sh).
# Usage: bash scripts/vendor-ui-assets.sh
set -euo pipefail
HTMX_VERSION="2.0.11"
root="$(cd "$(dirname "$0")/.." && pwd)"
static="$root/src/deconflict/api/static"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm pack --silent "htmx.org@${HTMX_VERSION}" >/dev/null
tar -xzf "htmx.org-${HTMX_VERSION}.tgz"
mkdir -p "$static"
rm -f "$static"/htmx*
cp package/dist/htmx.min.js "$static/htmx.min.js"
cp package/LICENSE "$static/htmx-LICENSE.txt"
sha256sum "htmx.org-${HTMX_VERSION}.tgz" | cut -d' ' -f1 >"$work/sha"
cat >"$static/VENDORED.txt" <<TXT
Third-party files served by the deconflict web UI (vendored by scripts/vendor-ui-assets.sh).

htmx ${HTMX_VERSION}  https://htmx.org  0BSD (htmx-LICENSE.txt)
  from the npm registry: htmx.org-${HTMX_VERSION}.tgz sha256 $(cat "$work/sha")
  files: dist/htmx.min.js
TXT
echo "vendored htmx ${HTMX_VERSION} into $static"
