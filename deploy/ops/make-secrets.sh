#!/usr/bin/env bash
# Fills every secret of .env that is still CHANGE_ME, then writes the broker's password file from .env (the one
# place the secrets live). Run it from anywhere, before the first `docker compose up` and after each rotation:
#
#   cp .env.example .env && $EDITOR .env      # the settings; leave the CHANGE_ME secrets to this script
#   deploy/ops/make-secrets.sh
#   deploy/ops/make-secrets.sh --rotate MQTT_PUBLISHER_PASSWORD   # new value, then what to restart
#
# .env stays mode 600. Rotatable: MQTT_PASSWORD, MQTT_PUBLISHER_PASSWORD, POSTGRES_PASSWORD (deploy/README.md,
# "Secrets"). ANONYMISE_KEY and MQTT_CLIENT_ID are refused: a new key gives every student a new pseudonym, and a
# new client id abandons the bridge's queued session. Environment: COMPOSE, ENV_FILE (deploy/ops/compose.sh).
set -euo pipefail
# shellcheck source=deploy/ops/compose.sh
. "$(dirname "${BASH_SOURCE[0]}")/compose.sh"
umask 077

rotate=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --rotate)
      [[ $# -ge 2 ]] || die '--rotate needs a variable name'
      case $2 in
        MQTT_PASSWORD | MQTT_PUBLISHER_PASSWORD | POSTGRES_PASSWORD) rotate+=("$2") ;;
        *) die "$2 cannot be rotated by this script (rotatable: MQTT_PASSWORD, MQTT_PUBLISHER_PASSWORD, POSTGRES_PASSWORD)" ;;
      esac
      shift 2
      ;;
    *) die "unknown argument $1 (usage: make-secrets.sh [--rotate NAME]...)" ;;
  esac
done

if [[ ! -e $ENV_FILE ]]; then
  cp "$repo_root/.env.example" "$ENV_FILE"
  log "created $ENV_FILE from .env.example: review its settings"
fi
chmod 600 "$ENV_FILE"

# Hex keeps each value URL-safe (POSTGRES_PASSWORD goes into DATABASE_URL as is) and free of shell quoting.
new_value() {
  case $1 in
    MQTT_CLIENT_ID) printf 'greengrader-bridge-%s' "$(openssl rand -hex 8)" ;;
    *) openssl rand -hex 24 ;;
  esac
}

# Writes KEY=VALUE in place of the key's line (appends it when absent), through a mode-600 temporary file.
set_value() {
  local tmp
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  awk -v key="$1" -v value="$2" '
    index($0, key "=") == 1 { if (!done) print key "=" value; done = 1; next }
    { print }
    END { if (!done) print key "=" value }' "$ENV_FILE" >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

for key in POSTGRES_PASSWORD MQTT_PASSWORD MQTT_PUBLISHER_PASSWORD MQTT_CLIENT_ID ANONYMISE_KEY; do
  value=$(env_value "$key")
  if [[ $value == CHANGE_ME || -z $value ]]; then
    set_value "$key" "$(new_value "$key")"
    log "generated $key"
  fi
done
for key in "${rotate[@]}"; do
  value=$(new_value "$key")
  if [[ $key == POSTGRES_PASSWORD ]]; then
    # The image reads POSTGRES_PASSWORD only when it creates the cluster: change the role itself first, over the
    # container's local socket (trusted there), so .env never names a password the server does not know.
    # psql interpolates :'pw' (quoted as a literal) only in what it reads from stdin, not in -c.
    printf "ALTER ROLE CURRENT_USER PASSWORD :'pw';\n" |
      compose exec -T postgres psql -q -v ON_ERROR_STOP=1 -U "$(env_value POSTGRES_USER)" -d greengrader \
        -v pw="$value" >/dev/null ||
      die 'could not change the PostgreSQL role (is postgres running?); .env is unchanged'
  fi
  set_value "$key" "$value"
  log "rotated $key"
done

# The node worker reaches the engine with the socket's group: a fact of this host, not a choice.
if [[ -S /var/run/docker.sock ]]; then
  gid=$(stat -c %g /var/run/docker.sock)
  if [[ $(env_value DOCKER_GID) != "$gid" ]]; then
    set_value DOCKER_GID "$gid"
    log "DOCKER_GID=$gid (the group of /var/run/docker.sock)"
  fi
fi

# The broker's logins, rewritten from .env each time so the two never disagree. mosquitto_passwd -b shows the
# password in the container's process list for a moment; nothing else runs in that one-off container.
passwd_file=/mosquitto/auth/passwd
compose run --rm -T --no-deps mosquitto mosquitto_passwd -c -b "$passwd_file" \
  "$(env_value MQTT_USERNAME)" "$(env_value MQTT_PASSWORD)"
compose run --rm -T --no-deps mosquitto mosquitto_passwd -b "$passwd_file" \
  "$(env_value MQTT_PUBLISHER_USERNAME)" "$(env_value MQTT_PUBLISHER_PASSWORD)"
log "wrote the broker's password file (logins $(env_value MQTT_USERNAME) and $(env_value MQTT_PUBLISHER_USERNAME))"

for key in "${rotate[@]}"; do
  case $key in
    MQTT_PASSWORD) log 'next: docker compose kill -s HUP mosquitto && docker compose up -d bridge' ;;
    MQTT_PUBLISHER_PASSWORD)
      log 'next: docker compose kill -s HUP mosquitto, then give the hooks the new MQTT_PUBLISHER_PASSWORD (the old one is refused from now on)'
      ;;
    POSTGRES_PASSWORD) log 'next: docker compose up -d (recreates everything that connects to PostgreSQL)' ;;
  esac
done
