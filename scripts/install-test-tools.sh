#!/usr/bin/env bash
# Installs what the test suite needs: the Python packages and Debian's Chromium for the
# browser tests (Playwright drives the system browser; it downloads none of its own).
set -euo pipefail
python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
