#!/bin/sh
# Creates the roles and databases of the stack on the bundled PostgreSQL, and resets the role
# passwords to the values in .env. Safe to run on every start: existing objects are kept.
#   novart               owned by role novart: the application's tables
#   temporal             owned by role temporal: Temporal's persistence
#   temporal_visibility  owned by role temporal: Temporal's visibility store
# Reads PGHOST, PGUSER, PGPASSWORD (a superuser), NOVART_DB_PASSWORD and TEMPORAL_DB_PASSWORD.
set -eu

: "${NOVART_DB_PASSWORD:?NOVART_DB_PASSWORD is not set}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}"

# psql substitutes :'name' with a quoted literal, so passwords need no escaping here.
psql --no-psqlrc --set ON_ERROR_STOP=1 --dbname postgres \
  --set novart_password="$NOVART_DB_PASSWORD" \
  --set temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE novart LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'novart') \gexec
SELECT 'CREATE ROLE temporal LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'temporal') \gexec
ALTER ROLE novart WITH LOGIN PASSWORD :'novart_password';
ALTER ROLE temporal WITH LOGIN PASSWORD :'temporal_password';

SELECT 'CREATE DATABASE novart OWNER novart' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'novart') \gexec
SELECT 'CREATE DATABASE temporal OWNER temporal' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal') \gexec
SELECT 'CREATE DATABASE temporal_visibility OWNER temporal' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'temporal_visibility') \gexec
SQL

echo 'Databases novart, temporal and temporal_visibility are ready.'
