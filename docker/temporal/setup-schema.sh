#!/bin/sh
# Creates or upgrades Temporal's schemas in the databases that setup-databases.sh created.
# Safe on every start: setup-schema keeps a newer recorded version, and update-schema applies
# only the versions above the recorded one, so a newer admin-tools image upgrades in place.
# temporal-sql-tool reads its connection from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD.
set -eu

: "${SQL_PLUGIN:?SQL_PLUGIN is not set}"
: "${SQL_HOST:?SQL_HOST is not set}"

schema_root=/etc/temporal/schema/postgresql/v12

apply_schema() {
  database=$1
  schema_dir=$2

  echo "Applying the Temporal schema to database ${database}"
  temporal-sql-tool --db "$database" setup-schema -v 0.0
  temporal-sql-tool --db "$database" update-schema -d "$schema_dir"
}

apply_schema temporal "$schema_root/temporal/versioned"
apply_schema temporal_visibility "$schema_root/visibility/versioned"

echo 'Temporal schemas are up to date.'
