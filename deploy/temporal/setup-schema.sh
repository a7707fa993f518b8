#!/bin/sh
# Brings Temporal's two PostgreSQL databases up to the schema of the pinned admin-tools image; run by the
# temporal-schema service before every start of the server. Idempotent: setup-schema only adds the version
# table to an empty database, update-schema applies the versions still missing (and so upgrades the schema
# when TEMPORAL_VERSION moves on). The databases themselves are created at PostgreSQL's first start
# (deploy/postgres/create-databases.sql). temporal-sql-tool reads the password from SQL_PASSWORD.
set -eu
: "${SQL_HOST:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"

schema_dir=/etc/temporal/schema/postgresql/v12
sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$SQL_HOST" -p 5432 -u "$SQL_USER" "$@"
}

sql_tool --db temporal setup-schema -v 0.0
sql_tool --db temporal update-schema -d "$schema_dir/temporal/versioned"
sql_tool --db temporal_visibility setup-schema -v 0.0
sql_tool --db temporal_visibility update-schema -d "$schema_dir/visibility/versioned"
echo 'Temporal schema is up to date'
