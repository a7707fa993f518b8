#!/usr/bin/env bash
# Build a real Kubernetes control plane for tests (kube-apiserver,
# kube-scheduler, etcd) from the Go module pinned in tools/k8s/go.mod.
#
# Binaries are cached outside the repository, in
#   ${GG_K8S_BIN_DIR:-$HOME/.cache/greengrader/k8s/<kubernetes-version>}
# and only those that are missing (or whose --version does not match the pin)
# are built. A cold build takes roughly 15-25 minutes on 2 cores; a warm run
# takes well under a second.
#
# Progress goes to stderr; the only line on stdout is the binary directory:
#   K8S_BIN=$(scripts/build-k8s.sh)
#
# Environment:
#   GG_K8S_BIN_DIR  where the binaries live (default above)
#   GO              go command (default: go on PATH, else /usr/local/go/bin/go)
#   GG_K8S_NICE     nice level for the compiler (default 19; empty = no nice)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mod_dir="$repo_root/tools/k8s"

log() { printf '[build-k8s] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ -f "$mod_dir/go.mod" ]] || die "missing $mod_dir/go.mod"

# Versions come from go.mod itself (no go invocation needed when cached).
mod_version() {
  awk -v m="$1" '$1 == m && $2 ~ /^v/ { print $2; exit }' "$mod_dir/go.mod"
}
k8s_version=$(mod_version k8s.io/kubernetes)
etcd_version=$(mod_version go.etcd.io/etcd/server/v3)
[[ $k8s_version =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] ||
  die "cannot read the k8s.io/kubernetes version from tools/k8s/go.mod (got '$k8s_version')"
k8s_major=${BASH_REMATCH[1]}
k8s_minor=${BASH_REMATCH[2]}
[[ -n $etcd_version ]] || die "cannot read the go.etcd.io/etcd/server/v3 version from tools/k8s/go.mod"

bin_dir=${GG_K8S_BIN_DIR:-$HOME/.cache/greengrader/k8s/$k8s_version}
mkdir -p "$bin_dir"

# What `<binary> --version` must print for a cached binary to be reused.
expected_version() {
  case $1 in
    kube-apiserver | kube-scheduler) printf 'Kubernetes %s' "$k8s_version" ;;
    etcd) printf 'etcd Version: %s' "${etcd_version#v}" ;;
  esac
}

is_current() {
  local bin="$bin_dir/$1" out
  [[ -x $bin ]] || return 1
  out=$("$bin" --version 2>/dev/null) || return 1
  [[ $out == *"$(expected_version "$1")"* ]]
}

binaries=(kube-apiserver kube-scheduler etcd)
missing=()
for b in "${binaries[@]}"; do
  if is_current "$b"; then
    log "$b: cached ($(expected_version "$b"))"
  else
    missing+=("$b")
  fi
done

if ((${#missing[@]} > 0)); then
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
  if [[ -n ${GG_K8S_NICE-19} ]] && command -v nice >/dev/null 2>&1; then
    nice_cmd=(nice -n "${GG_K8S_NICE-19}")
  fi

  export CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly

  # buildDate = the release's publication time, so builds are reproducible.
  build_date=$(cd "$mod_dir" && "$GO" list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)
  [[ -n $build_date ]] || build_date=1970-01-01T00:00:00Z

  k8s_ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version"
    k8s_ldflags+=" -X $pkg.gitMajor=$k8s_major"
    k8s_ldflags+=" -X $pkg.gitMinor=$k8s_minor"
    k8s_ldflags+=" -X $pkg.gitTreeState=clean"
    k8s_ldflags+=" -X $pkg.gitCommit="
    k8s_ldflags+=" -X $pkg.buildDate=$build_date"
  done
  etcd_ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$etcd_version"

  total_start=$SECONDS
  for b in "${missing[@]}"; do
    # Another process may have built it while we waited for the lock.
    if is_current "$b"; then
      log "$b: cached ($(expected_version "$b"))"
      continue
    fi
    case $b in
      kube-apiserver) pkg=k8s.io/kubernetes/cmd/kube-apiserver ldflags=$k8s_ldflags ;;
      kube-scheduler) pkg=k8s.io/kubernetes/cmd/kube-scheduler ldflags=$k8s_ldflags ;;
      etcd) pkg=./cmd/etcd ldflags=$etcd_ldflags ;;
    esac
    log "$b: building $pkg ..."
    start=$SECONDS
    tmp="$bin_dir/.$b.tmp.$$"
    if ! (cd "$mod_dir" && "${nice_cmd[@]}" "$GO" build -trimpath -ldflags "$ldflags" -o "$tmp" "$pkg"); then
      rm -f "$tmp"
      die "$b: build failed"
    fi
    mv -f "$tmp" "$bin_dir/$b"
    is_current "$b" || die "$b: built, but '$b --version' does not print '$(expected_version "$b")'"
    log "$b: built in $((SECONDS - start))s ($(du -h "$bin_dir/$b" | cut -f1))"
  done
  log "total build time: $((SECONDS - total_start))s"
fi

"$bin_dir/kube-apiserver" --version >&2
log "binaries in $bin_dir"
printf '%s\n' "$bin_dir"
