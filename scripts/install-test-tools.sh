#!/usr/bin/env bash
# Installs what the test suite needs: the Python packages, Debian's Chromium for the browser
# tests (Playwright drives the system browser; it downloads none of its own) and Debian's
# poppler-utils, whose pdftoppm draws a packing slip and an invoice as images
# (tests/integration/test_documents.py).
set -euo pipefail
python3 -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
