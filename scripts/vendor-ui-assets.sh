#!/usr/bin/env bash
# Vendors the JavaScript of the server's web UI (run by a maintainer, not at install time).
# Fetches htmx from the npm registry with `npm pack` (npm checks the package's integrity) and
# copies its minified build and licence into src/deconflict/api/static/. The copied files are
# committed, so installing or serving deconflict needs neither npm nor a network, and the UI
# loads nothing from a CDN. Leaflet for the map is served from the report's vendored copy
# (scripts/vendor-report-assets.sh).
# Also vendors axe-core (MPL-2.0), which only the accessibility checks of the browser tests use,
# into tests/vendor/axe-core/ (it is not served and not installed with the package).
# Usage: bash scripts/vendor-ui-assets.sh
set -euo pipefail
HTMX_VERSION="2.0.11"
AXE_VERSION="4.14.1"
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

axe-core ${AXE_VERSION} (MPL-2.0), used by the browser tests' accessibility checks only, is vendored by the
same script into tests/vendor/axe-core/ (VENDORED.txt there); it is not served or installed.
TXT
echo "vendored htmx ${HTMX_VERSION} into $static"

axe="$root/tests/vendor/axe-core"
npm pack --silent "axe-core@${AXE_VERSION}" >/dev/null
rm -rf package && tar -xzf "axe-core-${AXE_VERSION}.tgz"
mkdir -p "$axe"
cp package/axe.min.js "$axe/axe.min.js"
cp package/LICENSE "$axe/LICENSE"
cp package/LICENSE-3RD-PARTY.txt "$axe/LICENSE-3RD-PARTY.txt"
cat >"$axe/VENDORED.txt" <<TXT
Third-party files used by the browser tests only (vendored by scripts/vendor-ui-assets.sh; not served, not installed).

axe-core ${AXE_VERSION}  https://github.com/dequelabs/axe-core  MPL-2.0 (LICENSE; bundled parts: LICENSE-3RD-PARTY.txt)
  from the npm registry: axe-core-${AXE_VERSION}.tgz sha256 $(sha256sum "axe-core-${AXE_VERSION}.tgz" | cut -d' ' -f1)
  files: axe.min.js (unmodified)
TXT
echo "vendored axe-core ${AXE_VERSION} into $axe"
