#!/usr/bin/env bash
# Installs what the tests need from Debian when it is missing (run by `make test`).
# Needs root; runs `apt-get update` first. Does nothing when everything is present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then need+=(postgresql); fi
if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then need+=(postgresql-15-postgis-3); fi
if [ "${#need[@]}" -eq 0 ]; then
  exit 0
fi
echo "installing Debian packages for the tests: ${need[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  echo "error: need root to install ${need[*]} (run: sudo bash scripts/install-system-deps.sh)" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
