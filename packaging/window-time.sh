#!/usr/bin/env bash
# Time from launching a command to its Deskmate window being mapped, on a private Xvfb screen.
#
#   packaging/window-time.sh [--runs N] [--screenshot PNG] [--settle S] [--log-dir DIR] -- COMMAND [ARGS]
#
# Starts Xvfb, launches COMMAND N times (default 3) one after the other, each time waiting for a
# visible window named "Deskmate" (xdotool), then stops it. Prints one line per start,
# "window_s=SECONDS cpu_s=SECONDS" (wall time, and the CPU time the app used until then), to stdout. With --screenshot, the first start is left running S seconds
# (default 20: the model loads in the background) and its window is saved as PNG.
# The caller's environment reaches COMMAND (give it a throwaway HOME); DISPLAY and
# QT_QPA_PLATFORM=xcb are set here. Needs xvfb, xdotool, x11-utils and imagemagick.
set -Eeuo pipefail
RUNS=3
SHOT=""
SETTLE=20
LOGS=$(mktemp -d)
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --screenshot) SHOT=$2; shift 2 ;;
        --settle) SETTLE=$2; shift 2 ;;
        --log-dir) LOGS=$2; shift 2 ;;
        --) shift; break ;;
        *) break ;;
    esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--runs N] [--screenshot PNG] [--settle S] -- COMMAND [ARGS]" >&2; exit 2; }
mkdir -p "$LOGS"
say() { printf '[window-time] %s\n' "$*" >&2; }
die() { printf '[window-time] FAILED: %s\n' "$*" >&2; exit 1; }

APP_PID=""
XVFB_PID=""
cleanup() {
    if [ -n "$APP_PID" ]; then kill "$APP_PID" 2>/dev/null || true; fi
    if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; fi
}
trap cleanup EXIT

# A free display number: the first whose lock file and socket are absent.
for n in $(seq 90 199); do
    [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ] || { DISPLAY_NUM=:$n; break; }
done
Xvfb "$DISPLAY_NUM" -screen 0 1280x800x24 -nolisten tcp -noreset > "$LOGS/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 100); do xdpyinfo -display "$DISPLAY_NUM" >/dev/null 2>&1 && break; sleep 0.1; done
xdpyinfo -display "$DISPLAY_NUM" >/dev/null 2>&1 || { cat "$LOGS/xvfb.log" >&2; die "Xvfb did not start"; }
export DISPLAY=$DISPLAY_NUM QT_QPA_PLATFORM=xcb

stop_app() {
    kill "$APP_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$APP_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$APP_PID" 2>/dev/null || true
    wait "$APP_PID" 2>/dev/null || true
    APP_PID=""
}

for run in $(seq "$RUNS"); do
    kill -0 "$XVFB_PID" 2>/dev/null || { cat "$LOGS/xvfb.log" >&2; die "Xvfb is gone"; }
    start=$(date +%s.%N)
    "$@" > "$LOGS/app-run-$run.log" 2>&1 &
    APP_PID=$!
    win=""
    for _ in $(seq 1200); do  # 60 s at most
        win=$(xdotool search --onlyvisible --name 'Deskmate' 2>/dev/null | head -1 || true)
        [ -n "$win" ] && break
        kill -0 "$APP_PID" 2>/dev/null || { cat "$LOGS/app-run-$run.log" >&2; die "start $run: the app exited"; }
        sleep 0.05
    done
    [ -n "$win" ] || die "start $run: no Deskmate window within 60 s (see $LOGS/app-run-$run.log)"
    now=$(date +%s.%N)
    secs=$(awk -v a="$start" -v b="$now" 'BEGIN { printf "%.2f", b - a }')
    # CPU time the app used until then (user + system, all threads): unlike the wall time it hardly
    # depends on what else the machine is doing. Fields 14 and 15 of /proc/PID/stat, in clock ticks.
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$APP_PID/stat" 2>/dev/null || echo nan)
    say "start $run: window after $secs s ($cpu s of CPU)"
    echo "window_s=$secs cpu_s=$cpu"
    if [ "$run" = 1 ] && [ -n "$SHOT" ]; then
        sleep "$SETTLE"
        kill -0 "$APP_PID" 2>/dev/null || { cat "$LOGS/app-run-$run.log" >&2; die "the app quit on its own"; }
        # The screen cut to the window (grabbing the window alone misses what Qt draws in child surfaces).
        eval "$(xdotool getwindowgeometry --shell "$win")"
        import -window root -crop "${WIDTH}x${HEIGHT}+${X}+${Y}" +repage "$SHOT"
        say "screenshot: $SHOT"
    fi
    stop_app
done
