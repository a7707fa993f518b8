#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian bookworm machine (run as root, as CI does). Idempotent: when
# everything is present it only checks, in about a second.
#   apt: PostgreSQL, Mosquitto, Docker engine, debootstrap (builds the stand-in for gradescope/autograder-base)
#   crun (pinned), the runtime graders run under; on a hybrid cgroup host, the v2 hierarchy's controllers moved to v1
#   npm ci: when node_modules is missing or older than package-lock.json
#   Temporal CLI (dev server): $TEMPORAL_CLI, else .tools/bin/temporal or `temporal` on PATH at the pinned
#   version, else built with `go install` once per version into ~/.cache/greengrader/temporal-cli/<version>/ and
#   linked as .tools/bin/temporal (a fresh clone links it instead of spending ~20 s relinking 250 MB)
#   Temporal time-skipping test server (workflow tests): io.temporal:temporal-test-server from Maven Central with
#   its dependencies, cached per version in ~/.cache/greengrader/temporal-test-server/<version>/ behind a launcher
#   Mosquitto's client-id-guard plugin: built with gcc against mosquitto-dev's headers (pinned to the installed
#   mosquitto) into ~/.cache/greengrader/mosquitto-plugin/<sha256 of its source>/ by build-mosquitto-plugin.sh
set -euo pipefail

# The one pin of the Temporal CLI; scripts/with-services.ts uses whatever this script installed.
TEMPORAL_CLI_VERSION=v1.5.1
TEMPORAL_CLI_PACKAGE=github.com/temporalio/cli/cmd/temporal
# The one pin of the time-skipping test server; scripts/lib/test-services.ts reads it from this line.
TEMPORAL_TEST_SERVER_VERSION=1.38.0
# The OCI runtime graders run under (GRADER_RUNTIME=auto); pinned: the sandbox tests vouch for this version.
CRUN_VERSION=1.8.1-1+deb12u1
# Debian stable's own versions, unpinned: the tests only need what bookworm ships.
APT_PACKAGES=(ca-certificates debian-archive-keyring postgresql mosquitto mosquitto-clients docker.io debootstrap docker-compose chromium
  openjdk-17-jre-headless maven gcc)

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STARTED=$EPOCHREALTIME
INSTALLED=()

log() { echo "[bootstrap] $*" >&2; }
die() {
  echo "[bootstrap] error: $*" >&2
  exit 1
}

# --- Node (not installed here: Debian's nodejs is too old) -----------------------------------------------------
command -v node >/dev/null || die "node is missing: install Node.js 20.3 or newer (https://nodejs.org or NodeSource)"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 3) ? 0 : 1)' ||
  die "node $(node --version) is too old: install Node.js 20.3 or newer"

# Installs the given apt packages (NAME or NAME=VERSION), if any; only root may.
apt_install() {
  (($# > 0)) || return 0
  [[ $EUID -eq 0 ]] || die "missing apt packages ($*): run this script as root"
  log "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  INSTALLED+=("apt: $*")
}

# --- apt packages --------------------------------------------------------------------------------------------
missing=()
for package in "${APT_PACKAGES[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$package")
done
apt_install "${missing[@]}"
dpkg-query -W -f='${Package} ${Version}\n' "${APT_PACKAGES[@]}" | sed 's/^/[bootstrap]   /' >&2

# --- Mosquitto plugin headers --------------------------------------------------------------------------------
# The plugin is built against the broker that loads it: the headers' version must be the installed mosquitto's.
mosquitto_version=$(dpkg-query -W -f='${Version}' mosquitto)
header_packages=()
for package in mosquitto-dev libmosquitto-dev; do
  [[ "$(dpkg-query -W -f='${Status} ${Version}' "$package" 2>/dev/null || true)" == "install ok installed $mosquitto_version" ]] ||
    header_packages+=("$package=$mosquitto_version")
done
apt_install "${header_packages[@]}"
log "  mosquitto client-id-guard plugin: $("$REPO/scripts/build-mosquitto-plugin.sh")"

# --- crun ----------------------------------------------------------------------------------------------------
# A dockerd that greengrader starts registers it (--add-runtime crun=/usr/bin/crun); an engine already running
# must be restarted with that flag to offer it.
[[ "$(dpkg-query -W -f='${Status} ${Version}' crun 2>/dev/null || true)" == "install ok installed $CRUN_VERSION" ]] ||
  apt_install "crun=$CRUN_VERSION"
# crun refuses a hybrid cgroup layout (v1 controllers, v2 at /sys/fs/cgroup/unified) whose v2 hierarchy holds a
# controller ("cgroups in hybrid mode not supported"); runc ignores it. A controller no v2 group uses can be
# mounted as a v1 hierarchy of its own, which empties the v2 list. Not kept over a reboot: bootstrap again.
unified=/sys/fs/cgroup/unified
if [[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null || true)" == tmpfs && -r $unified/cgroup.controllers ]]; then
  for controller in $(cat "$unified/cgroup.controllers"); do
    [[ $EUID -eq 0 ]] || die "cgroup controller $controller sits in the v2 hierarchy, which crun refuses: run as root"
    if mkdir -p "/sys/fs/cgroup/$controller" && mount -t cgroup -o "$controller" cgroup "/sys/fs/cgroup/$controller"; then
      log "  cgroup controller $controller moved to a v1 hierarchy of its own (for crun)"
    else
      log "  cgroup controller $controller is in use in the v2 hierarchy: graders will run under runc"
    fi
  done
fi

# --- npm dependencies ----------------------------------------------------------------------------------------
# npm ci rewrites node_modules/.package-lock.json, so it is newer than package-lock.json after every install.
if [[ ! -d "$REPO/node_modules" || "$REPO/package-lock.json" -nt "$REPO/node_modules/.package-lock.json" ]]; then
  log "npm ci"
  (cd "$REPO" && npm ci --no-audit --no-fund)
  INSTALLED+=("npm ci")
fi
log "  node $(node --version), npm $(npm --version)"

# --- Temporal CLI --------------------------------------------------------------------------------------------
# Prints a binary's Temporal CLI version without the leading v. Builds from `go install` report 0.0.0-DEV to
# --version, so ask the Go build info first.
temporal_version() {
  local binary=$1 version=""
  if command -v go >/dev/null; then
    version=$(go version -m "$binary" 2>/dev/null | awk '$1 == "mod" && $2 == "github.com/temporalio/cli" { print $3 }')
  fi
  [[ -n "$version" ]] || version=$("$binary" --version 2>/dev/null | awk '{ print $3 }')
  echo "${version#v}"
}
is_pinned_temporal() { [[ -x "$1" && "$(temporal_version "$1")" == "${TEMPORAL_CLI_VERSION#v}" ]]; }

REPO_TEMPORAL="$REPO/.tools/bin/temporal"
CACHED_TEMPORAL_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/greengrader/temporal-cli/$TEMPORAL_CLI_VERSION"
CACHED_TEMPORAL="$CACHED_TEMPORAL_DIR/temporal"
if [[ -n "${TEMPORAL_CLI:-}" ]]; then
  [[ -x "$TEMPORAL_CLI" ]] || die "TEMPORAL_CLI=$TEMPORAL_CLI is not an executable"
  temporal="$TEMPORAL_CLI (from TEMPORAL_CLI, version $(temporal_version "$TEMPORAL_CLI"))"
elif is_pinned_temporal "$REPO_TEMPORAL"; then
  temporal="$REPO_TEMPORAL $TEMPORAL_CLI_VERSION"
elif command -v temporal >/dev/null && is_pinned_temporal "$(command -v temporal)"; then
  temporal="$(command -v temporal) $TEMPORAL_CLI_VERSION"
else
  if ! is_pinned_temporal "$CACHED_TEMPORAL"; then
    command -v go >/dev/null || die "the Temporal CLI $TEMPORAL_CLI_VERSION is missing and building it needs Go 1.25 or \
newer, which Debian bookworm does not ship (golang-go is 1.19): install Go from https://go.dev/dl/ and put it on \
PATH, or set TEMPORAL_CLI to a temporal $TEMPORAL_CLI_VERSION binary"
    go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
    ((go_minor >= 21)) || die "$(go version) is too old to build the Temporal CLI: install Go 1.25 or newer (https://go.dev/dl/)"
    # Go 1.21-1.24 can fetch the 1.25 toolchain the CLI's go.mod asks for; newer ones just use themselves.
    ((go_minor >= 25)) || export GOTOOLCHAIN=auto
    mkdir -p "$CACHED_TEMPORAL_DIR"
    log "go install $TEMPORAL_CLI_PACKAGE@$TEMPORAL_CLI_VERSION into $CACHED_TEMPORAL_DIR (minutes on a cold Go cache)"
    # One builder per cache dir (parallel bootstraps); the binary is built aside and renamed in whole.
    (
      flock 9
      if ! is_pinned_temporal "$CACHED_TEMPORAL"; then
        staging=$(mktemp -d "$CACHED_TEMPORAL_DIR/.staging-XXXXXX")
        trap 'rm -rf "$staging"' EXIT # a failed or interrupted build leaves nothing behind
        GOBIN="$staging" go install "$TEMPORAL_CLI_PACKAGE@$TEMPORAL_CLI_VERSION"
        mv -f "$staging/temporal" "$CACHED_TEMPORAL"
        rm -rf "$staging"
      fi
    ) 9>"$CACHED_TEMPORAL_DIR/.install.lock"
    is_pinned_temporal "$CACHED_TEMPORAL" || die "go install did not produce temporal $TEMPORAL_CLI_VERSION at $CACHED_TEMPORAL"
    INSTALLED+=("temporal $TEMPORAL_CLI_VERSION")
  fi
  # The services launcher looks in .tools/bin (src/services/temporal-cli.ts); the link makes the cached build that.
  mkdir -p "$REPO/.tools/bin"
  ln -sfn "$CACHED_TEMPORAL" "$REPO_TEMPORAL"
  temporal="$REPO_TEMPORAL -> $CACHED_TEMPORAL $TEMPORAL_CLI_VERSION"
fi
log "  temporal: $temporal"

# --- Temporal time-skipping test server ----------------------------------------------------------------------
# Its native binary is downloaded from temporal.download, which CI cannot reach; the same server ships as a Java
# artifact on Maven Central. A directory with a launcher in it is complete: it is renamed into place last.
TEST_SERVER_HOME="${XDG_CACHE_HOME:-$HOME/.cache}/greengrader/temporal-test-server"
TEST_SERVER_DIR="$TEST_SERVER_HOME/$TEMPORAL_TEST_SERVER_VERSION"
if [[ ! -x "$TEST_SERVER_DIR/temporal-test-server" ]]; then
  log "mvn: io.temporal:temporal-test-server:$TEMPORAL_TEST_SERVER_VERSION and its dependencies"
  mkdir -p "$TEST_SERVER_HOME"
  staging=$(mktemp -d "$TEST_SERVER_HOME/.staging-XXXXXX")
  cat >"$staging/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>greengrader.local</groupId>
  <artifactId>temporal-test-server-fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$TEMPORAL_TEST_SERVER_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
  mvn -q -B -f "$staging/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$staging/lib" \
    >"$staging/mvn.log" 2>&1 || {
    output=$(cat "$staging/mvn.log")
    rm -rf "$staging"
    die "mvn could not fetch the test server: $output"
  }
  # The SDK execs this with the port as its only argument and gives it 5 s to listen; on a busy 2-core machine a
  # cold JVM needs 2-4 s. C1-only JIT, the serial collector and a class-data archive of start-up make it ~1.5 s.
  cat >"$staging/temporal-test-server" <<'EOF'
#!/bin/sh
here=$(dirname "$(readlink -f "$0")")
cds=""
[ -f "$here/start-up.jsa" ] && cds="-XX:SharedArchiveFile=$here/start-up.jsa -Xlog:cds=off -Xlog:cds+dynamic=off"
# shellcheck disable=SC2086 # $cds and GG_TEST_SERVER_JAVA_OPTS are lists of flags
exec "${JAVA_HOME:+$JAVA_HOME/bin/}java" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC $cds ${GG_TEST_SERVER_JAVA_OPTS:-} \
  -cp "$here/lib/*" io.temporal.testserver.TestServer "$@"
EOF
  chmod +x "$staging/temporal-test-server"
  rm -rf "$TEST_SERVER_DIR"
  mv "$staging" "$TEST_SERVER_DIR"
  # The archive records the class path, so it is dumped from the final directory: start once, stop when listening.
  port=$((20000 + RANDOM % 20000))
  GG_TEST_SERVER_JAVA_OPTS="-XX:ArchiveClassesAtExit=$TEST_SERVER_DIR/start-up.jsa.tmp -Xlog:cds=off" \
    "$TEST_SERVER_DIR/temporal-test-server" "$port" >/dev/null 2>&1 &
  server=$!
  for _ in $(seq 1 300); do
    (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  kill "$server" && wait "$server" || true
  if [[ -s "$TEST_SERVER_DIR/start-up.jsa.tmp" ]]; then
    mv "$TEST_SERVER_DIR/start-up.jsa.tmp" "$TEST_SERVER_DIR/start-up.jsa"
  else
    log "  (no class-data archive: the test server starts, only slower)"
  fi
  INSTALLED+=("temporal-test-server $TEMPORAL_TEST_SERVER_VERSION")
fi
log "  temporal test server: $TEST_SERVER_DIR/temporal-test-server ($(find "$TEST_SERVER_DIR/lib" -name '*.jar' | wc -l) jars)"

elapsed=$(awk -v from="$STARTED" -v to="$EPOCHREALTIME" 'BEGIN { printf "%.1f", to - from }')
if ((${#INSTALLED[@]} > 0)); then
  log "installed $(IFS=';'; echo "${INSTALLED[*]}" | sed 's/;/; /g') in ${elapsed}s"
else
  log "nothing to install (checked in ${elapsed}s)"
fi
