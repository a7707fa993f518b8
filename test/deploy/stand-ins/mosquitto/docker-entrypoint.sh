#!/bin/sh
# STAND-IN entrypoint (test-only), like the official image's: as root, give /mosquitto (mounted folders
# included; read-only mounts are skipped) to the mosquitto user, which the broker then switches to.
set -eu
if [ "$(id -u)" = 0 ]; then
  find /mosquitto -path /mosquitto/config -prune -o ! -user 1883 -exec chown 1883:1883 {} + 2>/dev/null || true
fi
exec "$@"
