#!/usr/bin/env bash
# macOS: build Deskmate.app with PyInstaller and wrap it in a .dmg. Run on a Mac (Apple silicon
# or Intel: the app is built for the architecture of the Python that runs PyInstaller).
#
#   packaging/macos/build-app.sh
#
# Needs: Python 3.10+ (python.org or Homebrew), Xcode command-line tools (iconutil, codesign,
# hdiutil ship with macOS). Environment:
#   DESKMATE_MODEL_DIR     ship this built model folder (e.g. one copied from a Linux build: the
#                          ONNX model is the same on every platform) instead of building it here
#   DESKMATE_CODESIGN_ID   a "Developer ID Application: ..." identity; default "-" (ad-hoc, runs on
#                          this Mac; other Macs need a real identity plus notarization, see docs/install.md)
# Output: dist/Deskmate.app and dist/Deskmate-<version>.dmg
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
VENV=${DESKMATE_VENV:-$ROOT/.venv}
PY=$VENV/bin/python
say() { printf '[macos] %s\n' "$*" >&2; }

# 1. A virtual environment with the app and the packaging tools (the model-building extra only
#    when the model is built here).
[ -x "$PY" ] || python3 -m venv "$VENV"
"$PY" -m pip install -q --upgrade pip
if [ -n "${DESKMATE_MODEL_DIR:-}" ]; then
    "$PY" -m pip install -q -e ".[package]"
else
    "$PY" -m pip install -q "torch==2.13.0"
    "$PY" -m pip install -q -e ".[build,package]"
    "$PY" -m app model build
    DESKMATE_MODEL_DIR=$("$PY" -c 'from app.paths import AppPaths; print(AppPaths.for_user().models)')/deskmate-v1
fi
export DESKMATE_MODEL_DIR

# 2. The app icon: an .iconset of the PNGs in assets/, turned into .icns by iconutil.
ICONSET=$ROOT/build/icons/deskmate.iconset
rm -rf "$ICONSET"; mkdir -p "$ICONSET"
for size in 16 32 128 256 512; do
    cp "assets/deskmate-$size.png" "$ICONSET/icon_${size}x${size}.png"
    double=$((size * 2))
    [ -f "assets/deskmate-$double.png" ] && cp "assets/deskmate-$double.png" "$ICONSET/icon_${size}x${size}@2x.png"
done
iconutil -c icns "$ICONSET" -o "$ROOT/build/icons/deskmate.icns"
export DESKMATE_ICON=$ROOT/build/icons/deskmate.icns

# 3. PyInstaller -> dist/Deskmate.app (the spec adds the BUNDLE step on macOS).
rm -rf dist/deskmate dist/Deskmate.app
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller packaging/deskmate.spec
APP=dist/Deskmate.app
"$PY" packaging/finish_bundle.py "$APP/Contents/Frameworks"

# 4. Sign (ad-hoc unless an identity is given); the model stamp is written before, so signing covers it.
if [ -n "${DESKMATE_CODESIGN_ID:-}" ]; then
    # A real identity: hardened runtime and a timestamp, as notarization requires.
    codesign --force --deep --options runtime --timestamp -s "$DESKMATE_CODESIGN_ID" "$APP"
else
    codesign --force --deep -s - "$APP"  # ad-hoc: runs on this Mac
fi
codesign --verify --deep --strict "$APP"

# 5. Check the frozen app: it starts and accepts its bundled model (in a throwaway home).
TMPHOME=$(mktemp -d); trap 'rm -rf "$TMPHOME"' EXIT
env -i PATH="$PATH" HOME="$TMPHOME" "$APP/Contents/MacOS/deskmate" --version
env -i PATH="$PATH" HOME="$TMPHOME" "$APP/Contents/MacOS/deskmate" model info
env -i PATH="$PATH" HOME="$TMPHOME" QT_QPA_PLATFORM=offscreen "$APP/Contents/MacOS/deskmate" --selftest \
    || say "warning: the self-test failed (see above); a locked Keychain is a common reason"

# 6. The disk image: the app and a link to /Applications, compressed (UDZO).
VERSION=$("$PY" -c 'import app; print(app.__version__)')
STAGE=$ROOT/build/dmg
rm -rf "$STAGE"; mkdir -p "$STAGE"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
DMG=dist/Deskmate-$VERSION.dmg
rm -f "$DMG"
hdiutil create -volname "Deskmate $VERSION" -srcfolder "$STAGE" -ov -format UDZO "$DMG"
say "done: $APP ($(du -sh "$APP" | cut -f1)), $DMG ($(du -h "$DMG" | cut -f1))"
