#!/usr/bin/env bash
# Install the .deb on this machine and check it as a user would meet it, then remove it.
#
#   packaging/smoke-deb.sh [DEB] [--out DIR] [--screenshot PNG]
#
# DEB defaults to the newest dist/deskmate_*_amd64.deb; DIR (default build/smoke) receives
# results.json (sizes, start-up times) and the logs; PNG (default docs/screenshots/installed-app.png)
# is a screenshot of the installed app on Xvfb.
# Needs root (apt-get installs the package and its Depends). Steps:
#   1. apt-get install ./DEB (pulls the Depends); every bundled library resolves (debdeps --strict);
#      the command, desktop entry and icons are where the desktop looks for them.
#   2. `deskmate --selftest` from the installed copy, on a private D-Bus with an unlocked GNOME
#      Keyring (a real Secret Service), in a throwaway HOME/XDG_* so the real home is never touched.
#   3. The installed app on Xvfb: time from launch to its window being mapped (4 starts, the first
#      with an empty profile), screenshot (packaging/window-time.sh).
#   4. Upgrade to a bumped version of the same package, then remove and purge it: the user's
#      config and data (in the throwaway home) must be byte-for-byte unchanged, /opt/deskmate gone,
#      and the installed files unmodified while it ran (dpkg --verify).
set -Eeuo pipefail
trap 'printf "[%s] failed at line %s: %s\n" "$(basename "$0")" "$LINENO" "$BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=$ROOT/build/smoke
SHOT=$ROOT/docs/screenshots/installed-app.png
DEB=""
while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=$2; shift 2 ;;
        --screenshot) SHOT=$2; shift 2 ;;
        *) DEB=$1; shift ;;
    esac
done
[ -n "$DEB" ] || DEB=$(ls -t "$ROOT"/dist/deskmate_*_amd64.deb 2>/dev/null | head -1 || true)

say() { printf '[smoke-deb] %s\n' "$*" >&2; }
die() { printf '[smoke-deb] FAILED: %s\n' "$*" >&2; exit 1; }

[ -n "$DEB" ] && [ -f "$DEB" ] || die "no .deb given and none in dist/ (run packaging/build-deb.sh)."
DEB=$(cd "$(dirname "$DEB")" && pwd)/$(basename "$DEB")
[ "$(id -u)" = 0 ] || die "run as root: it installs the package with apt-get."
command -v apt-get >/dev/null && command -v dpkg >/dev/null || die "needs apt-get and dpkg (Debian/Ubuntu)."
mkdir -p "$OUT" "$(dirname "$SHOT")"
export DEBIAN_FRONTEND=noninteractive

# Fresh package lists: apt must be able to fetch the package's Depends on a new machine.
apt-get update -qq || say "warning: apt-get update failed; using the package lists at hand"
# Tools for the check itself (not Depends of the package).
TOOLS=(xvfb xdotool imagemagick x11-utils desktop-file-utils dbus gnome-keyring)
MISSING_TOOLS=()
for t in "${TOOLS[@]}"; do dpkg -s "$t" >/dev/null 2>&1 || MISSING_TOOLS+=("$t"); done
if [ ${#MISSING_TOOLS[@]} -gt 0 ]; then
    say "installing the test tools: ${MISSING_TOOLS[*]}"
    apt-get install -y -qq --no-install-recommends "${MISSING_TOOLS[@]}" >/dev/null
fi

PIDS=()
INSTALLED=0
TMP=$(mktemp -d /tmp/deskmate-smoke.XXXXXX)
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    # A failed run does not leave its package behind.
    if [ "$INSTALLED" = 1 ] && dpkg -s deskmate >/dev/null 2>&1; then dpkg --purge deskmate >/dev/null 2>&1 || true; fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# A throwaway user environment; only these variables reach the app (env -i), so nothing of the
# caller's (a test runner's QT_QPA_PLATFORM or keyring backend, the real HOME) leaks in.
H=$TMP/home
mkdir -p "$H" "$TMP/run"
chmod 700 "$TMP/run"
APPENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$H" USER=smoke
        LANG=C.UTF-8 XDG_CONFIG_HOME="$H/.config" XDG_DATA_HOME="$H/.local/share" XDG_CACHE_HOME="$H/.cache"
        XDG_RUNTIME_DIR="$TMP/run")

if dpkg -s deskmate >/dev/null 2>&1; then
    say "removing the deskmate package already installed here"
    apt-get remove -y -qq deskmate >/dev/null
fi

# --- 1. install --------------------------------------------------------------------------------------
VERSION=$(dpkg-deb -f "$DEB" Version)
DEB_BYTES=$(stat -c %s "$DEB")
say "installing $DEB ($((DEB_BYTES / 1024 / 1024)) MiB)"
INSTALLED=1
apt-get install -y -qq "$DEB" > "$OUT/apt-install.log" 2>&1 || { cat "$OUT/apt-install.log" >&2; die "apt-get install"; }
[ "$(command -v deskmate)" = /usr/bin/deskmate ] || die "no /usr/bin/deskmate on PATH"
INSTALLED_KB=$(dpkg-query -W -f='${Installed-Size}' deskmate)
OPT_KB=$(du -sk /opt/deskmate | cut -f1)
python3 packaging/debdeps.py /opt/deskmate --strict > "$OUT/debdeps.txt" \
    || die "a library of /opt/deskmate does not resolve after installing the Depends (see above)"
desktop-file-validate /usr/share/applications/deskmate.desktop || die "desktop entry invalid"
for f in /usr/share/icons/hicolor/scalable/apps/deskmate.svg /usr/share/icons/hicolor/48x48/apps/deskmate.png \
         /usr/share/icons/hicolor/256x256/apps/deskmate.png; do
    [ -f "$f" ] || die "icon $f missing"
done
"${APPENV[@]}" deskmate --version | grep -q "deskmate $(echo "$VERSION" | sed 's/[+~-].*//')" || die "deskmate --version"

# --- 2. self-test, with a real Secret Service ---------------------------------------------------------
DBUS_ADDR=$(dbus-daemon --session --fork --print-address=1 --print-pid=2 --nopidfile 2>"$TMP/dbus.pid" | head -1)
PIDS+=("$(head -1 "$TMP/dbus.pid")")
APPENV+=(DBUS_SESSION_BUS_ADDRESS="$DBUS_ADDR")
# GNOME Keyring in the foreground (so it is our child, with a pid to stop), unlocked with a password
# read on stdin; then wait until it holds the Secret Service name on our bus.
printf 'smoke' | "${APPENV[@]}" gnome-keyring-daemon --foreground --unlock --components=secrets \
    > "$OUT/keyring.log" 2>&1 &
PIDS+=("$!")
SECRETS=""
for _ in $(seq 100); do
    SECRETS=$(DBUS_SESSION_BUS_ADDRESS=$DBUS_ADDR dbus-send --session --print-reply --dest=org.freedesktop.DBus / \
        org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | awk '/boolean/ {print $2}' || true)
    [ "$SECRETS" = true ] && break
    sleep 0.1
done
[ "$SECRETS" = true ] || say "warning: no Secret Service came up (see $OUT/keyring.log); the keyring check will say so"
say "deskmate --selftest (installed copy)"
SELFTEST_RC=0
"${APPENV[@]}" QT_QPA_PLATFORM=offscreen timeout 600 deskmate --selftest > "$OUT/selftest.log" 2>&1 || SELFTEST_RC=$?
cat "$OUT/selftest.log" >&2
if [ "$SELFTEST_RC" != 0 ]; then
    # DESKMATE_SMOKE_KEEP_GOING=1: go on to the window and removal checks (e.g. with an untrained model).
    [ "${DESKMATE_SMOKE_KEEP_GOING:-0}" = 1 ] || die "deskmate --selftest exited $SELFTEST_RC"
    say "warning: deskmate --selftest exited $SELFTEST_RC; going on (DESKMATE_SMOKE_KEEP_GOING=1)"
fi

# Something the user made, to check that nobody touches it.
mkdir -p "$H/.config/deskmate" "$H/.local/share/deskmate"
echo "the user's own note" > "$H/.local/share/deskmate/user-note.txt"

# --- 3. the installed app on Xvfb ---------------------------------------------------------------------
say "starting the installed app on Xvfb (4 starts)"
"${APPENV[@]}" "$ROOT/packaging/window-time.sh" --runs 4 --screenshot "$SHOT" \
    --settle "${DESKMATE_SMOKE_SETTLE_S:-20}" --log-dir "$OUT" -- deskmate > "$OUT/window-times.txt" \
    || die "the installed app did not show its window (see $OUT/app-run-*.log)"
mapfile -t TIMES < <(sed -n 's/^window_s=\([0-9.]*\).*/\1/p' "$OUT/window-times.txt")
mapfile -t CPUS < <(sed -n 's/.*cpu_s=\([0-9.na]*\).*/\1/p' "$OUT/window-times.txt")
FIRST=${TIMES[0]}
WARM=("${TIMES[@]:1}")
say "window after ${FIRST} s (first start), ${WARM[*]} s (next starts); CPU ${CPUS[*]} s"

# Installed files unchanged by running the app (the model folder is read-only to the app).
dpkg --verify deskmate > "$OUT/dpkg-verify.txt" 2>&1 || { cat "$OUT/dpkg-verify.txt" >&2; die "installed files changed"; }
STRAY=$(dpkg -L deskmate | sort > "$TMP/owned"; find /opt/deskmate | sort | comm -23 - "$TMP/owned")
[ -z "$STRAY" ] || die "the app wrote into /opt/deskmate: $STRAY"

fingerprint() { (cd "$H" && find .config/deskmate .local/share/deskmate -type f -print0 | sort -z | xargs -0 sha256sum); }
BEFORE=$(fingerprint)
[ -n "$BEFORE" ] || die "the app left no config or data in the user's folders (nothing to protect?)"

# --- 4. upgrade, remove, purge ------------------------------------------------------------------------
say "upgrading to $VERSION+smoke1 (the same files under a newer version)"
dpkg-deb -R "$DEB" "$TMP/up"
sed -i "s/^Version: .*/Version: $VERSION+smoke1/" "$TMP/up/DEBIAN/control"
dpkg-deb --root-owner-group -Znone --build "$TMP/up" "$TMP/deskmate_up.deb" >/dev/null
rm -rf "$TMP/up"
apt-get install -y -qq "$TMP/deskmate_up.deb" >> "$OUT/apt-install.log" 2>&1 || die "upgrade failed"
[ "$(dpkg-query -W -f='${Version}' deskmate)" = "$VERSION+smoke1" ] || die "upgrade did not take"
"${APPENV[@]}" deskmate model info > "$OUT/model-info.txt" 2>&1 || { cat "$OUT/model-info.txt" >&2; die "model after upgrade"; }
[ "$(fingerprint)" = "$BEFORE" ] || die "the upgrade changed the user's config or data"

say "removing and purging"
apt-get remove -y -qq deskmate >> "$OUT/apt-install.log" 2>&1 || die "apt-get remove"
[ ! -e /opt/deskmate ] || die "/opt/deskmate left behind: $(find /opt/deskmate | head)"
[ ! -e /usr/bin/deskmate ] || die "/usr/bin/deskmate left behind"
[ ! -e /usr/share/applications/deskmate.desktop ] || die "desktop entry left behind"
dpkg --purge deskmate >> "$OUT/apt-install.log" 2>&1 || die "dpkg --purge"
INSTALLED=0
[ "$(fingerprint)" = "$BEFORE" ] || die "removal changed the user's config or data"

python3 - "$OUT/results.json" <<EOF
import json, statistics, sys
warm = [float(x) for x in "${WARM[*]}".split()]
json.dump({
    "deb": "$(basename "$DEB")", "version": "$VERSION",
    "deb_bytes": $DEB_BYTES, "installed_size_kib": $INSTALLED_KB, "opt_kib": $OPT_KB,
    "window_first_s": $FIRST, "window_next_s": warm, "window_median_s": statistics.median(warm),
    "window_cpu_s": [float(x) for x in "${CPUS[*]}".split()],
    "load_average": open("/proc/loadavg").read().split()[:3], "cpus": __import__("os").cpu_count(),
    "selftest": open("$OUT/selftest.log").read().splitlines(), "selftest_rc": $SELFTEST_RC,
    "user_files_checked": len("""$BEFORE""".splitlines()),
    "screenshot": "$SHOT", "upgrade": "ok", "remove": "ok", "purge": "ok",
}, open(sys.argv[1], "w"), indent=2)
EOF
say "passed: package $((DEB_BYTES / 1024 / 1024)) MiB, installed $((INSTALLED_KB / 1024)) MiB, window ${FIRST} s first / ${WARM[*]} s"
