#!/bin/sh
# /usr/bin/deskmate: start the packaged app (a wrapper rather than a symlink, so the
# bundle always finds its own folder, whatever the caller's PATH and working directory).
exec /opt/deskmate/deskmate "$@"
