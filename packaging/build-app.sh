#!/usr/bin/env bash
# Build the self-contained Deskmate folder with PyInstaller: dist/deskmate/ (Linux; macOS and
# Windows have their own scripts under packaging/macos and packaging/windows).
#
#   packaging/build-app.sh            # uses the built model (builds it first when missing)
#
# Environment:
#   PYTHON                 the Python with Deskmate installed (default: .venv/bin/python)
#   DESKMATE_MODEL_NAME    which built model to ship (default: deskmate-v1)
#   DESKMATE_MODEL_DIR     ship this model folder instead of AppPaths.for_user().models/NAME
#
# After PyInstaller it checks what it made: no build-time package (torch, transformers, gguf,
# optimum, onnx) is in the folder, and the frozen app finds and accepts its bundled model.
# (build-deb.sh then checks the system libraries it links against the package's Depends.)
set -Eeuo pipefail
trap 'printf "[%s] failed at line %s: %s\n" "$(basename "$0")" "$LINENO" "$BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
NAME=${DESKMATE_MODEL_NAME:-deskmate-v1}
DIST=$ROOT/dist/deskmate
WORK=$ROOT/build/pyinstaller

say() { printf '[build-app] %s\n' "$*" >&2; }
die() { printf '[build-app] error: %s\n' "$*" >&2; exit 1; }

[ -x "$PY" ] || die "no Python at $PY; run ./dev setup first (or set PYTHON)."

# 1. PyInstaller, from the project's `package` extra.
if ! "$PY" -c 'import PyInstaller' 2>/dev/null; then
    say "installing the packaging tools (pip install -e .[package])"
    "$PY" -m pip install -q -e ".[package]"
fi

# 2. The model to ship: a built, up-to-date one (the build is a no-op when it already is).
if [ -n "${DESKMATE_MODEL_DIR:-}" ]; then
    MODEL_DIR=$(cd "$DESKMATE_MODEL_DIR" && pwd)
else
    MODEL_DIR=$("$PY" -c 'from app.paths import AppPaths; print(AppPaths.for_user().models)')/$NAME
    if ! "$PY" -m app model info --name "$NAME" >/dev/null 2>&1; then
        say "no up-to-date model at $MODEL_DIR: running \`deskmate model build --name $NAME\`"
        "$PY" -m app model build --name "$NAME"
    fi
fi
[ -f "$MODEL_DIR/manifest.json" ] || die "$MODEL_DIR holds no built model (manifest.json missing)."
export DESKMATE_MODEL_DIR=$MODEL_DIR
say "model: $MODEL_DIR"

# 3. PyInstaller.
rm -rf "$DIST"
say "running PyInstaller (a few minutes on 2 cores)"
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$ROOT/dist" --workpath "$WORK" \
    packaging/deskmate.spec
INTERNAL=$DIST/_internal

# 4. Readable by everyone; the model sealed (whole-second mtimes + its check stamp); nothing of the
#    model-building stack (torch, transformers, gguf, optimum, onnx) in the folder.
chmod -R u+rwX,go+rX,go-w "$DIST"
# A Python built from source (pyenv) leaves debug symbols in libpython: 23 MB -> 6 MB. Only libpython: the
# wheels' libraries are stripped already, and stripping ones that auditwheel patched can break them.
if command -v strip >/dev/null; then
    for lib in "$INTERNAL"/libpython3*.so*; do [ -L "$lib" ] || strip --strip-unneeded "$lib"; done
fi
"$PY" packaging/finish_bundle.py "$INTERNAL" >&2

# 5. The frozen app starts, and finds and verifies its bundled model (in a throwaway home).
TMPHOME=$(mktemp -d)
trap 'rm -rf "$TMPHOME"' EXIT
env -i PATH="$PATH" HOME="$TMPHOME" XDG_CONFIG_HOME="$TMPHOME/.config" XDG_DATA_HOME="$TMPHOME/.local/share" \
    "$DIST/deskmate" --version >&2
env -i PATH="$PATH" HOME="$TMPHOME" XDG_CONFIG_HOME="$TMPHOME/.config" XDG_DATA_HOME="$TMPHOME/.local/share" \
    "$DIST/deskmate" model info --name "$(basename "$MODEL_DIR")" >&2 \
    || die "the frozen app does not accept its bundled model (see above)."

say "done: $DIST ($(du -sh "$DIST" | cut -f1))"
