#!/usr/bin/env bash
# Build dist/deskmate_<version>_amd64.deb with dpkg-deb from the PyInstaller folder.
#
#   packaging/build-deb.sh              # builds the app folder first (and the model if it is missing)
#   packaging/build-deb.sh --reuse-app  # package the dist/deskmate/ already built
#
# Environment:
#   PYTHON                 the Python with Deskmate installed (default: .venv/bin/python)
#   DESKMATE_DEB_VERSION   package version (default: app.__version__)
#   DESKMATE_DEB_COMPRESS  dpkg-deb compressor: zstd (default: fast, and the INT8 model barely
#                          compresses, so xz saves little for many times the build time), xz or gzip
#
# Layout: /opt/deskmate (the app folder, read-only), /usr/bin/deskmate (a wrapper), the desktop
# entry in /usr/share/applications, icons in /usr/share/icons/hicolor. The maintainer scripts only
# refresh the menu and icon caches: nobody's ~/.config/deskmate or ~/.local/share/deskmate is touched.
set -Eeuo pipefail
trap 'printf "[%s] failed at line %s: %s\n" "$(basename "$0")" "$LINENO" "$BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-$ROOT/.venv/bin/python}
COMPRESS=${DESKMATE_DEB_COMPRESS:-zstd}

say() { printf '[build-deb] %s\n' "$*" >&2; }
die() { printf '[build-deb] error: %s\n' "$*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || die "dpkg-deb is missing (Debian/Ubuntu: apt-get install dpkg)."
REUSE=0
for arg in "$@"; do
    case "$arg" in
        --reuse-app) REUSE=1 ;;
        *) die "unknown argument $arg (usage: packaging/build-deb.sh [--reuse-app])" ;;
    esac
done

if [ "$REUSE" = 0 ] || [ ! -x dist/deskmate/deskmate ]; then
    packaging/build-app.sh
fi
APP=$ROOT/dist/deskmate
[ -x "$APP/deskmate" ] || die "no app folder at $APP."

VERSION=${DESKMATE_DEB_VERSION:-$("$PY" -c 'import app; print(app.__version__)')}
DEB=$ROOT/dist/deskmate_${VERSION}_amd64.deb
STAGE=$ROOT/build/deb/root
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/doc/deskmate"

# The app folder (hard links: no second copy of the model on disk).
cp -al "$APP" "$STAGE/opt/deskmate"
install -m 0755 packaging/debian/deskmate.sh "$STAGE/usr/bin/deskmate"
install -m 0644 packaging/deskmate.desktop "$STAGE/usr/share/applications/deskmate.desktop"
install -m 0644 packaging/debian/copyright "$STAGE/usr/share/doc/deskmate/copyright"
for png in assets/deskmate-[0-9]*.png; do
    size=${png##*-}; size=${size%.png}
    install -D -m 0644 "$png" "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/deskmate.png"
done
install -D -m 0644 assets/deskmate.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/deskmate.svg"

# Owned by root, readable by all, writable by none but root; executables stay executable.
find "$STAGE" -type d -exec chmod 0755 {} +
find "$STAGE" -type f -exec chmod u+rw,go+r,go-w {} +

INSTALLED_KB=$(du -sk --apparent-size --exclude=DEBIAN "$STAGE" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@INSTALLED_SIZE@/$INSTALLED_KB/" packaging/debian/control.in \
    > "$STAGE/DEBIAN/control"
install -m 0755 packaging/debian/postinst packaging/debian/postrm "$STAGE/DEBIAN/"
(cd "$STAGE" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    > "$STAGE/DEBIAN/md5sums"
chmod 0644 "$STAGE/DEBIAN/control" "$STAGE/DEBIAN/md5sums"

# Every system library the folder links must be declared (those not installed here are named by
# Debian's library naming rule; smoke-deb.sh re-checks after apt has installed the Depends).
python3 packaging/debdeps.py "$STAGE/opt/deskmate" --control "$STAGE/DEBIAN/control" > build/deb/depends.txt \
    || die "Depends in packaging/debian/control.in misses a library (see above and build/deb/depends.txt)."

say "dpkg-deb --build ($COMPRESS)"
rm -f "$DEB"
dpkg-deb --root-owner-group -Z"$COMPRESS" --build "$STAGE" "$DEB" >&2
say "done: $DEB ($(du -h "$DEB" | cut -f1), installed $((INSTALLED_KB / 1024)) MiB)"
echo "$DEB"
