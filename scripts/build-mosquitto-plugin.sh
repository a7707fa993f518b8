#!/usr/bin/env bash
# Builds deploy/mosquitto/client-id-guard/client-id-guard.c (the Mosquitto plugin that keeps the bridge's client
# id for the bridge's login) into a cache outside the repository, keyed by the source's sha256:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/greengrader/mosquitto-plugin/<sha256>/client-id-guard.so
# and rebuilds only when the source changes. Needs gcc and the headers of Debian's mosquitto-dev and
# libmosquitto-dev (scripts/bootstrap.sh installs them). Progress goes to stderr; stdout is the .so's path only:
#   GG_MOSQUITTO_CLIENT_ID_GUARD=$(scripts/build-mosquitto-plugin.sh)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source_file="$repo_root/deploy/mosquitto/client-id-guard/client-id-guard.c"

log() { printf '[build-mosquitto-plugin] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

[[ -f $source_file ]] || die "missing $source_file"
sha=$(sha256sum "$source_file" | cut -d' ' -f1)
out_dir="${XDG_CACHE_HOME:-$HOME/.cache}/greengrader/mosquitto-plugin/$sha"
plugin="$out_dir/client-id-guard.so"

if [[ ! -f $plugin ]]; then
  command -v gcc >/dev/null || die "gcc is missing: apt-get install gcc (or run scripts/bootstrap.sh as root)"
  for header in mosquitto_broker.h mosquitto_plugin.h mosquitto.h; do
    [[ -f /usr/include/$header ]] ||
      die "/usr/include/$header is missing: apt-get install mosquitto-dev libmosquitto-dev (or run scripts/bootstrap.sh as root)"
  done
  mkdir -p "$out_dir"
  # A temporary name, renamed last: a parallel build or a reader never sees half a file.
  tmp="$out_dir/.client-id-guard.so.$$"
  gcc -std=c11 -O2 -Wall -Wextra -Werror -fPIC -shared -o "$tmp" "$source_file" || {
    rm -f "$tmp"
    die "gcc failed on $source_file"
  }
  mv -f "$tmp" "$plugin"
  log "built $plugin"
fi
printf '%s\n' "$plugin"
