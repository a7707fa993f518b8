# Sourced by the scripts in deploy/ops/: finds the Compose command and reads .env. Not run on its own.
#   COMPOSE   the Compose command with any flags of the project (default: `docker compose`, else `docker-compose`)
#   ENV_FILE  the project's env file (default: .env in the repository root)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ENV_FILE=${ENV_FILE:-$repo_root/.env}

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

if [[ -z ${COMPOSE:-} ]]; then
  if docker compose version >/dev/null 2>&1; then
    COMPOSE='docker compose'
  elif command -v docker-compose >/dev/null; then
    COMPOSE=docker-compose
  else
    die 'neither `docker compose` nor `docker-compose` is installed'
  fi
fi

# Word-split on purpose: COMPOSE may carry flags (--project-name, -f, --env-file).
compose() {
  # shellcheck disable=SC2086
  (cd "$repo_root" && $COMPOSE "$@")
}

# The value of KEY in the env file (the last line setting it, as Compose reads it); empty when unset.
env_value() {
  local line
  line=$(grep -E "^$1=" "$ENV_FILE" | tail -n 1) || true
  printf '%s' "${line#*=}"
}
