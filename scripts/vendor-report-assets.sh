#!/usr/bin/env bash
# Vendors the JavaScript and data the HTML report inlines (run by a maintainer, not at install time).
# Fetches the packages from the npm registry with `npm pack`, checks their integrity (npm does),
# and copies the distribution files and licences into src/deconflict/report/static/.
# The copied files are committed, so installing deconflict needs neither npm nor a network.
# Usage: bash scripts/vendor-report-assets.sh
set -euo pipefail
LEAFLET_VERSION="1.9.4"
MARKERCLUSTER_VERSION="1.5.3"
PMTILES_VERSION="4.5.0"
PROTOMAPS_LEAFLET_VERSION="5.1.0"
TOPOJSON_CLIENT_VERSION="3.1.0"
WORLD_ATLAS_VERSION="2.0.2"
root="$(cd "$(dirname "$0")/.." && pwd)"
static="$root/src/deconflict/report/static"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
unpack() {  # unpack NAME VERSION -> ./NAME/ (the package folder); prints the tarball's sha256
  local tgz
  tgz="$(npm pack --silent "$1@$2")"
  mkdir -p "$1" && tar -xzf "$tgz" -C "$1" --strip-components=1
  sha256sum "$tgz" | cut -d' ' -f1
}
sha_leaflet="$(unpack leaflet "$LEAFLET_VERSION")"
sha_cluster="$(unpack leaflet.markercluster "$MARKERCLUSTER_VERSION")"
sha_pmtiles="$(unpack pmtiles "$PMTILES_VERSION")"
sha_protomaps="$(unpack protomaps-leaflet "$PROTOMAPS_LEAFLET_VERSION")"
sha_topojson="$(unpack topojson-client "$TOPOJSON_CLIENT_VERSION")"
sha_atlas="$(unpack world-atlas "$WORLD_ATLAS_VERSION")"
# Flat layout: the package data pattern in pyproject.toml is report/static/* (no subfolders).
mkdir -p "$static"
rm -f "$static"/leaflet* "$static"/MarkerCluster* "$static"/pmtiles* "$static"/protomaps-leaflet* \
  "$static"/topojson-client* "$static"/world-atlas*
cp leaflet/dist/leaflet.js leaflet/dist/leaflet.css "$static/"
for png in leaflet/dist/images/*.png; do cp "$png" "$static/leaflet-$(basename "$png")"; done
cp leaflet/LICENSE "$static/leaflet-LICENSE.txt"
cp leaflet.markercluster/dist/leaflet.markercluster.js leaflet.markercluster/dist/MarkerCluster.css "$static/"
cp leaflet.markercluster/MIT-LICENCE.txt "$static/leaflet.markercluster-LICENSE.txt"
cp pmtiles/dist/pmtiles.js "$static/"
cp protomaps-leaflet/dist/protomaps-leaflet.js "$static/"
cp protomaps-leaflet/LICENSE "$static/protomaps-leaflet-LICENSE.txt"
cp topojson-client/dist/topojson-client.min.js "$static/"
cp topojson-client/LICENSE "$static/topojson-client-LICENSE.txt"
cp world-atlas/countries-50m.json "$static/world-atlas-countries-50m.json"
cp world-atlas/LICENSE "$static/world-atlas-LICENSE.txt"
# The pmtiles npm package ships no licence file; this is the licence of its source repository
# (protomaps/PMTiles, LICENSE), which package.json names (BSD-3-Clause).
cat >"$static/pmtiles-LICENSE.txt" <<'TXT'
Copyright 2021 Protomaps LLC

Redistribution and use in source and binary forms, with or without modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice, this list of conditions and the following disclaimer in the documentation and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its contributors may be used to endorse or promote products derived from this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
TXT
cat >"$static/VENDORED.txt" <<TXT
Third-party files inlined into deconflict HTML reports and served to the web UI's map
(vendored by scripts/vendor-report-assets.sh from the npm registry; sha256 of each tarball).

leaflet ${LEAFLET_VERSION}  https://leafletjs.com  BSD-2-Clause (leaflet-LICENSE.txt)
  leaflet-${LEAFLET_VERSION}.tgz sha256 ${sha_leaflet}
  files: dist/leaflet.js, dist/leaflet.css, dist/images/NAME.png as leaflet-NAME.png
leaflet.markercluster ${MARKERCLUSTER_VERSION}  https://github.com/Leaflet/Leaflet.markercluster  MIT (leaflet.markercluster-LICENSE.txt)
  leaflet.markercluster-${MARKERCLUSTER_VERSION}.tgz sha256 ${sha_cluster}
  files: dist/leaflet.markercluster.js, dist/MarkerCluster.css
pmtiles ${PMTILES_VERSION}  https://github.com/protomaps/PMTiles  BSD-3-Clause (pmtiles-LICENSE.txt: the source
  repository's licence; the npm tarball has no licence file)
  pmtiles-${PMTILES_VERSION}.tgz sha256 ${sha_pmtiles}
  files: dist/pmtiles.js
protomaps-leaflet ${PROTOMAPS_LEAFLET_VERSION}  https://github.com/protomaps/protomaps-leaflet  BSD-3-Clause (protomaps-leaflet-LICENSE.txt)
  protomaps-leaflet-${PROTOMAPS_LEAFLET_VERSION}.tgz sha256 ${sha_protomaps}
  files: dist/protomaps-leaflet.js
topojson-client ${TOPOJSON_CLIENT_VERSION}  https://github.com/topojson/topojson-client  ISC (topojson-client-LICENSE.txt)
  topojson-client-${TOPOJSON_CLIENT_VERSION}.tgz sha256 ${sha_topojson}
  files: dist/topojson-client.min.js
world-atlas ${WORLD_ATLAS_VERSION}  https://github.com/topojson/world-atlas  ISC (world-atlas-LICENSE.txt); the
  country outlines are Natural Earth 1:50m data, public domain (https://www.naturalearthdata.com)
  world-atlas-${WORLD_ATLAS_VERSION}.tgz sha256 ${sha_atlas}
  files: countries-50m.json as world-atlas-countries-50m.json
TXT
echo "vendored the report's map libraries into $static"
