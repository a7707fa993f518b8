#!/usr/bin/env bash
# Build the Temporal server (temporal-server) and its SQL schema tool (temporal-sql-tool) for the compose test's
# stand-in images, from the Go module pinned in tools/temporal/go.mod (the version docker-compose.yml pins for
# temporalio/server). Test-only: the product never runs these binaries; operators pull the official images.
#
# Binaries are cached outside the repository, in
#   ${GG_TEMPORAL_BIN_DIR:-$HOME/.cache/greengrader/temporal-server/<version>}
# next to the release's schema/postgresql/v12 (the files temporal-sql-tool applies); only what is missing (or
# whose version does not match the pin) is rebuilt. A cold build took 35 min on 2 busy cores (6.5 min of CPU).
#
# Progress goes to stderr; the only line on stdout is the binary directory:
#   TEMPORAL_BIN=$(scripts/build-temporal-server.sh)
#
# Environment:
#   GG_TEMPORAL_BIN_DIR  where the binaries live (default above)
#   GO                   go command (default: go on PATH, else /usr/local/go/bin/go)
#   GG_TEMPORAL_NICE     nice level for the compiler (default 19; empty = no nice)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mod_dir="$repo_root/tools/temporal"

log() { printf '[build-temporal-server] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f "$mod_dir/go.mod" ]] || die "missing $mod_dir/go.mod"
# `require go.temporal.io/server vX` or a line inside a require block.
version=$(awk '$1 == "require" { $1 = ""; $0 = $0 } $1 == "go.temporal.io/server" && $2 ~ /^v/ { print $2; exit }' "$mod_dir/go.mod")
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "cannot read the go.temporal.io/server version from tools/temporal/go.mod"

bin_dir=${GG_TEMPORAL_BIN_DIR:-$HOME/.cache/greengrader/temporal-server/$version}
mkdir -p "$bin_dir"

# Both binaries print "<name> version <x.y.z>" for --version.
is_current() {
  local out
  [[ -x "$bin_dir/$1" ]] || return 1
  out=$("$bin_dir/$1" --version 2>/dev/null) || return 1
  [[ $out == *"${version#v}"* ]]
}
assets_current() {
  [[ -f "$bin_dir/schema/.version" && $(<"$bin_dir/schema/.version") == "$version" ]]
}

binaries=(temporal-server temporal-sql-tool)
missing=()
for b in "${binaries[@]}"; do
  if is_current "$b"; then log "$b: cached ($version)"; else missing+=("$b"); fi
done

if ((${#missing[@]} > 0)) || ! assets_current; then
  if [[ -z ${GO:-} ]]; then
    if command -v go >/dev/null 2>&1; then GO=go; else GO=/usr/local/go/bin/go; fi
  fi
  command -v "$GO" >/dev/null 2>&1 || [[ -x $GO ]] || die "no go toolchain (set GO=/path/to/go)"

  # One builder at a time per cache dir (parallel test workers may all call us).
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$bin_dir/.lock"
    flock 9
  fi

  nice_cmd=()
  if [[ -n ${GG_TEMPORAL_NICE-19} ]] && command -v nice >/dev/null 2>&1; then
    nice_cmd=(nice -n "${GG_TEMPORAL_NICE-19}")
  fi

  # The module asks for go 1.25; the local toolchain (newer) builds it, so never download another one.
  export CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local

  total_start=$SECONDS
  for b in "${missing[@]}"; do
    if is_current "$b"; then log "$b: cached ($version)"; continue; fi
    case $b in
      temporal-server) pkg=go.temporal.io/server/cmd/server ;;
      temporal-sql-tool) pkg=go.temporal.io/server/cmd/tools/sql ;;
    esac
    log "$b: building $pkg ..."
    start=$SECONDS
    tmp="$bin_dir/.$b.tmp.$$"
    if ! (cd "$mod_dir" && "${nice_cmd[@]}" "$GO" build -trimpath -ldflags "-s -w" -o "$tmp" "$pkg"); then
      rm -f "$tmp"
      die "$b: build failed"
    fi
    mv -f "$tmp" "$bin_dir/$b"
    is_current "$b" || die "$b: built, but '$b --version' does not print ${version#v}"
    log "$b: built in $((SECONDS - start))s ($(du -h "$bin_dir/$b" | cut -f1))"
  done

  if ! assets_current; then
    # The schema files ship in the module source, not in the binaries.
    src=$(cd "$mod_dir" && "$GO" list -m -f '{{.Dir}}' go.temporal.io/server)
    [[ -d $src/schema/postgresql/v12 ]] || die "no schema/postgresql/v12 in $src"
    rm -rf "$bin_dir/schema"
    mkdir -p "$bin_dir/schema/postgresql"
    cp -r "$src/schema/postgresql/v12" "$bin_dir/schema/postgresql/"
    chmod -R u+w "$bin_dir/schema"
    printf '%s' "$version" >"$bin_dir/schema/.version"
    log "schema copied from $src"
  fi
  log "total build time: $((SECONDS - total_start))s"
fi

log "binaries in $bin_dir"
printf '%s\n' "$bin_dir"
