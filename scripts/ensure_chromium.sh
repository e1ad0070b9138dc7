#!/usr/bin/env bash
# Make sure Debian's chromium is at /usr/bin/chromium for the browser tests (tests/browser).
# Idempotent: does nothing when it is already there. Playwright never downloads a browser here;
# it drives this one through executable_path. Exits non-zero, saying why, when it cannot.
set -euo pipefail
CHROMIUM="${YIWANG_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[ensure_chromium] $CHROMIUM is missing and apt-get is not available: install chromium by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "[ensure_chromium] $CHROMIUM is missing and this user cannot run apt-get (not root, no sudo)" >&2
    exit 1
  fi
fi
echo "[ensure_chromium] installing Debian's chromium (apt-get update && apt-get install -y chromium)"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-wqy-microhei >/dev/null
if [ ! -x "$CHROMIUM" ]; then
  echo "[ensure_chromium] apt-get finished but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "[ensure_chromium] $("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
