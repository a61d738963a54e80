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
# After PyInstaller it checks what it made: the bundled model verifies from inside the frozen
# app, no build-time package (torch, transformers, gguf, optimum, onnx) is in the folder, and
# every shared library in it resolves (ldd), writing the system libraries it uses to
# build/app-system-libs.txt (build-deb.sh turns them into Depends).
set -euo pipefail
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
# The adapter the model was built from, when it was the default one: the app re-checks its hash at load.
ADAPTER_DIR=$("$PY" - "$MODEL_DIR" <<'EOF'
import sys
from pathlib import Path
from app.model.manifest import default_adapter_dir, read_manifest
m = read_manifest(Path(sys.argv[1]))
found = default_adapter_dir(m.name) if (m.adapter_choice == "default" and m.inputs.adapter) else None
print(found or "")
EOF
)
export DESKMATE_MODEL_DIR=$MODEL_DIR DESKMATE_ADAPTER_DIR=$ADAPTER_DIR
say "model: $MODEL_DIR${ADAPTER_DIR:+ (adapter $ADAPTER_DIR)}"

# 3. PyInstaller.
rm -rf "$DIST"
say "running PyInstaller (a few minutes on 2 cores)"
"$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$ROOT/dist" --workpath "$WORK" \
    packaging/deskmate.spec
INTERNAL=$DIST/_internal
BUNDLED_MODEL=$INTERNAL/models/$(basename "$MODEL_DIR")

# 4. Make the model folder installable read-only: readable by everyone, whole-second mtimes (a .deb keeps
#    seconds only) and a fresh `.verified` stamp, so the installed app checks sizes instead of re-hashing
#    ~300 MB at every start.
chmod -R u+rwX,go+rX,go-w "$DIST"
"$PY" - "$BUNDLED_MODEL" <<'EOF'
import os, sys
from pathlib import Path
from app.model.manifest import STAMP_FILE, verify
model = Path(sys.argv[1])
(model / STAMP_FILE).unlink(missing_ok=True)
for p in model.rglob("*"):
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns // 10**9 * 10**9, st.st_mtime_ns // 10**9 * 10**9))
verify(model, full=True, check_current=False)
EOF

# 5. Nothing of the model-building stack may ship.
FORBIDDEN=$(find "$INTERNAL" -maxdepth 2 \( -iname 'torch*' -o -iname 'transformers*' -o -iname 'gguf*' \
    -o -iname 'optimum*' -o -iname 'onnx' -o -iname 'onnx-*' -o -iname 'peft*' -o -iname 'accelerate*' \
    -o -iname 'libtorch*' \) -print)
[ -z "$FORBIDDEN" ] || die "build-time packages slipped into the bundle: $FORBIDDEN"

# 6. Every shared library in the folder resolves; list the system ones it needs.
: > "$ROOT/build/app-system-libs.txt"
MISSING=""
while IFS= read -r -d '' so; do
    out=$(LD_LIBRARY_PATH="$INTERNAL:$INTERNAL/PySide6/Qt/lib" ldd "$so" 2>/dev/null || true)
    while read -r lib _ path _; do
        case "$path" in
            not) MISSING="$MISSING $lib(${so#$INTERNAL/})" ;;
            /*) case "$path" in "$DIST"/*) ;; *) echo "$lib $path" >> "$ROOT/build/app-system-libs.txt" ;; esac ;;
        esac
    done <<< "$(grep "=>" <<< "$out" || true)"
done < <(find "$DIST" -type f \( -name '*.so' -o -name '*.so.*' -o -name deskmate \) -print0)
sort -u -o "$ROOT/build/app-system-libs.txt" "$ROOT/build/app-system-libs.txt"
if [ -n "$MISSING" ]; then
    # Not fatal here: a system library may simply not be installed on the build machine.
    # smoke-deb.sh checks the installed copy after apt has pulled the package's Depends.
    say "warning: libraries not found on this machine:$MISSING"
fi

# 7. The frozen app starts, and finds and verifies its bundled model (in a throwaway home).
TMPHOME=$(mktemp -d)
trap 'rm -rf "$TMPHOME"' EXIT
HOME=$TMPHOME XDG_CONFIG_HOME=$TMPHOME/.config XDG_DATA_HOME=$TMPHOME/.local/share \
    "$DIST/deskmate" --version >&2
HOME=$TMPHOME XDG_CONFIG_HOME=$TMPHOME/.config XDG_DATA_HOME=$TMPHOME/.local/share \
    "$DIST/deskmate" model info --name "$(basename "$MODEL_DIR")" >&2 \
    || die "the frozen app does not accept its bundled model (see above)."

say "done: $DIST ($(du -sh "$DIST" | cut -f1))"
