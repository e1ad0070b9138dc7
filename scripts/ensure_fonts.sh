#!/usr/bin/env bash
# Make sure a CJK TrueType font is installed for the PDF service guides (management) and the
# browser tests: Debian's fonts-wqy-microhei. Idempotent: does nothing when the font is there.
# Exits non-zero, saying why, when it cannot install it.
set -euo pipefail
FONT="${MANAGEMENT_GUIDE_FONT_PATH:-/usr/share/fonts/truetype/wqy/wqy-microhei.ttc}"
if [ -f "$FONT" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "[ensure_fonts] $FONT is missing and apt-get is not available: install a CJK TrueType font by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "[ensure_fonts] $FONT is missing and this user cannot run apt-get (not root, no sudo)" >&2
    exit 1
  fi
fi
echo "[ensure_fonts] installing Debian's fonts-wqy-microhei"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends fonts-wqy-microhei >/dev/null
if [ ! -f "$FONT" ]; then
  echo "[ensure_fonts] apt-get finished but $FONT is still missing" >&2
  exit 1
fi
