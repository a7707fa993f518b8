#!/usr/bin/env bash
# Backs up the stack's three databases (GreenGrader's `greengrader`, Temporal's `temporal` and
# `temporal_visibility`) into DIR as pg_dump custom-format files, consistent with each other:
#
#   deploy/ops/backup.sh /var/backups/greengrader/$(date -u +%Y%m%dT%H%M%SZ)
#
# pg_dump (and pg_dumpall) snapshot each database on its own, so while Temporal and the workers write, the
# three dumps would show different moments (a run row without its workflow, or the reverse). This script
# stops every writer first (bridge, orchestrator, node, temporal; PostgreSQL and the broker keep running, so
# Gradescope's publishes wait in the broker's queue), dumps, and starts again what was running: seconds of pause.
# A grader running on the node is stopped and runs again afterwards. Keep .env beside the dumps (somewhere
# as safe): ANONYMISE_KEY and the passwords are not in them. Restore: deploy/ops/restore.sh DIR.
# Environment: COMPOSE, ENV_FILE (deploy/ops/compose.sh).
set -euo pipefail
# shellcheck source=deploy/ops/compose.sh
. "$(dirname "${BASH_SOURCE[0]}")/compose.sh"
umask 077

[[ $# -eq 1 ]] || die 'usage: backup.sh DIR (created; must not hold a backup already)'
dir=$1
[[ ! -e $dir/greengrader.dump ]] || die "$dir already holds a backup"
mkdir -p "$dir"

writers=(bridge orchestrator node temporal-ui temporal)
running=$(compose ps --services --filter status=running)
grep -qx postgres <<<"$running" || die 'postgres is not running: start the stack first (docker compose up -d)'
stopped=()
for service in "${writers[@]}"; do
  if grep -qx "$service" <<<"$running"; then stopped+=("$service"); fi
done
restart() {
  # Started in reverse (Temporal before the workers); each waits for its dependencies as in `up`.
  local index
  for ((index = ${#stopped[@]} - 1; index >= 0; index--)); do compose start "${stopped[index]}" >/dev/null; done
}
if [[ ${#stopped[@]} -gt 0 ]]; then
  log "stopping ${stopped[*]}"
  compose stop "${stopped[@]}" >/dev/null
  trap restart EXIT
fi

user=$(env_value POSTGRES_USER)
for db in greengrader temporal temporal_visibility; do
  compose exec -T postgres pg_dump -U "$user" -d "$db" --format=custom >"$dir/$db.dump"
  log "dumped $db ($(stat -c %s "$dir/$db.dump") bytes)"
done
(cd "$dir" && sha256sum greengrader.dump temporal.dump temporal_visibility.dump >SHA256SUMS)
date -u +%Y-%m-%dT%H:%M:%SZ >"$dir/TAKEN_AT"
log "backup in $dir"
