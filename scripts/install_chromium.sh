#!/usr/bin/env bash
# Install Debian's chromium for the browser tests of the HTML report, only if it is missing.
# Idempotent; exits non-zero (saying why) when it cannot install (no apt-get, not root, no sudo).
set -euo pipefail
for name in chromium chromium-browser; do
    if command -v "$name" >/dev/null 2>&1; then
        exit 0
    fi
done
if ! command -v apt-get >/dev/null 2>&1; then
    echo "cannot install chromium: apt-get not found (install Chromium and put it on PATH)" >&2
    exit 1
fi
SUDO=()
if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO=(sudo -n)
    else
        echo "cannot install chromium: not root and no password-less sudo" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! "${SUDO[@]}" apt-get install -y -q chromium; then
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q chromium
fi
command -v chromium >/dev/null 2>&1
