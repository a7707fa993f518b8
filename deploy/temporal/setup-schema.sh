#!/bin/sh
# Brings Temporal's two PostgreSQL databases up to the schema of the pinned admin-tools image; run by the
# temporal-schema service before every start of the server. Idempotent: setup-schema only adds the version
# table to an empty database, update-schema applies the versions still missing (and so upgrades the schema
# when the Temporal tags move on). The databases themselves are created at PostgreSQL's first start
# (deploy/postgres/create-databases.sql). temporal-sql-tool reads its connection from SQL_PLUGIN, SQL_HOST,
# SQL_PORT, SQL_USER and SQL_PASSWORD (its default port is MySQL's, so SQL_PORT is required too).
set -eu
: "${SQL_PLUGIN:?}" "${SQL_HOST:?}" "${SQL_PORT:?}" "${SQL_USER:?}" "${SQL_PASSWORD:?}"

schema_dir=/etc/temporal/schema/postgresql/v12
temporal-sql-tool --db temporal setup-schema -v 0.0
temporal-sql-tool --db temporal update-schema -d "$schema_dir/temporal/versioned"
temporal-sql-tool --db temporal_visibility setup-schema -v 0.0
temporal-sql-tool --db temporal_visibility update-schema -d "$schema_dir/visibility/versioned"
echo 'Temporal schema is up to date'
