#!/usr/bin/env bash
# The single test command, locally and in CI (.ci/run): bootstrap, typecheck, lint, format check, dead code, then the tests
# against real services (scripts/with-services.ts). Stops after the first failing step; prints each step's time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SUMMARY=()
print_summary() {
  ((${#SUMMARY[@]} > 0)) || return 0
  printf '\n[test] step timings\n' >&2
  printf '%s\n' "${SUMMARY[@]}" >&2
}
trap print_summary EXIT

step() {
  local name=$1
  shift
  printf '\n[test] ==> %s: %s\n' "$name" "$*" >&2
  local started=$EPOCHREALTIME status=0
  "$@" || status=$?
  local elapsed
  elapsed=$(awk -v from="$started" -v to="$EPOCHREALTIME" 'BEGIN { printf "%.1f", to - from }')
  SUMMARY+=("$(printf '  %-10s %7ss  %s' "$name" "$elapsed" "$( ((status == 0)) && echo ok || echo "FAILED (exit $status)")")")
  return "$status"
}

# The static checks run side by side, two lines on two cores: eslint (~50 s) beside typecheck, prettier and knip
# (~50 s together) instead of ~100 s one after another. Each one's output is printed whole once both lines end.
checks() {
  local dir status=0
  dir=$(mktemp -d)
  (
    SUMMARY=() failed=0
    # knip: unused files, exports and dependencies (knip.json lists the entry points it cannot find by itself).
    { step typecheck npx tsc --noEmit && step prettier npx prettier --check . && step knip npx knip; } || failed=$?
    printf '%s\n' "${SUMMARY[@]}" >"$dir/summary-a"
    exit "$failed"
  ) >"$dir/out-a" 2>&1 &
  local a=$!
  (
    SUMMARY=() failed=0
    step eslint npx eslint . || failed=$?
    printf '%s\n' "${SUMMARY[@]}" >"$dir/summary-b"
    exit "$failed"
  ) >"$dir/out-b" 2>&1 &
  local b=$!
  wait "$a" || status=$?
  wait "$b" || status=$?
  cat "$dir/out-a" "$dir/out-b" >&2
  local line
  while IFS= read -r line; do [[ -n "$line" ]] && SUMMARY+=("$line"); done < <(cat "$dir/summary-a" "$dir/summary-b" 2>/dev/null)
  rm -rf "$dir"
  return "$status"
}

step bootstrap bash scripts/bootstrap.sh
step checks checks
# The Kubernetes control plane the k8s tests run (built from the Go module proxy; cached, ~0.3 s when present).
step k8s bash scripts/build-k8s.sh
# The Temporal server and SQL tool of the compose test's stand-in images (Go module proxy; cached like k8s).
step temporal bash scripts/build-temporal-server.sh
step test npm test
