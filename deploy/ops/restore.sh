#!/usr/bin/env bash
# Restores a backup of deploy/ops/backup.sh into a stack whose volumes are new (after `docker compose down -v`,
# or on another host with the same .env), then starts it:
#
#   docker compose down -v                     # only if the broken stack is still there; its data goes
#   deploy/ops/restore.sh /var/backups/greengrader/20261129T080000Z [SERVICE...]
#
# It starts PostgreSQL alone (its first start creates the three empty databases), loads the three dumps, then
# `up -d` (the named services, default all): the schema service finds Temporal's schema current, every
# GreenGrader process finds its migrations applied, Temporal resumes its workflows where the backup left them.
# Refuses a database that already holds tables: restore never merges into live data.
# Environment: COMPOSE, ENV_FILE (deploy/ops/compose.sh).
set -euo pipefail
# shellcheck source=deploy/ops/compose.sh
. "$(dirname "${BASH_SOURCE[0]}")/compose.sh"

[[ $# -ge 1 ]] || die 'usage: restore.sh DIR [SERVICE...]'
dir=$1
shift
[[ -f $dir/SHA256SUMS ]] || die "$dir holds no backup (no SHA256SUMS)"
(cd "$dir" && sha256sum --quiet --check SHA256SUMS) || die "$dir: a dump does not match SHA256SUMS"

user=$(env_value POSTGRES_USER)
compose up -d postgres >/dev/null
# Over TCP, with the password: the image's first-start server listens on a socket only, so this sees the real one,
# after the databases of deploy/postgres/create-databases.sql exist.
ready=
for _ in $(seq 1 90); do
  if compose exec -T -e PGPASSWORD="$(env_value POSTGRES_PASSWORD)" postgres \
    psql -h 127.0.0.1 -U "$user" -d temporal_visibility -tAc 'SELECT 1' >/dev/null 2>&1; then
    ready=1
    break
  fi
  sleep 2
done
[[ -n $ready ]] || die 'PostgreSQL did not accept connections within 3 minutes'

for db in greengrader temporal temporal_visibility; do
  tables=$(compose exec -T postgres psql -U "$user" -d "$db" -tAc \
    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
  [[ $tables == 0 ]] || die "database $db already holds $tables tables: restore needs new volumes (docker compose down -v)"
done
for db in greengrader temporal temporal_visibility; do
  compose exec -T postgres pg_restore -U "$user" -d "$db" --exit-on-error --no-owner <"$dir/$db.dump"
  log "restored $db"
done

compose up -d "$@" >/dev/null
log "stack started on the backup of $(cat "$dir/TAKEN_AT" 2>/dev/null || echo 'an unknown time')"
