#!/usr/bin/env bash
# The console's two PostgreSQL roles. The postgres image runs this once, as the superuser, when
# it initialises an empty data volume (/docker-entrypoint-initdb.d/); run it by hand (same
# variables) for a database you manage yourself.
#
#   OWNER_ROLE    (candlefish_owner) owns the database and every table; `migrate` runs as it.
#   RUNTIME_ROLE  (candlefish) what web, worker, beat and the sequencer connect as. It owns
#                 nothing, so it can never ALTER a table, DISABLE TRIGGER or TRUNCATE; `migrate`
#                 (with DATABASE_RUNTIME_ROLE set) grants it read/write on the console's tables
#                 and only INSERT/SELECT on the audit ledger (plus the sequencer's one update).
#
# Passwords come from $SECRETS_DIR/database_owner_password and database_password (written by
# deploy/make-secrets.sh). Needs psql, POSTGRES_USER (a superuser) and POSTGRES_DB.
set -euo pipefail

SECRETS_DIR="${SECRETS_DIR:-/run/secrets}"
OWNER_ROLE="${OWNER_ROLE:-candlefish_owner}"
RUNTIME_ROLE="${RUNTIME_ROLE:-candlefish}"

psql -v ON_ERROR_STOP=1 -q --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner="$OWNER_ROLE" -v runtime="$RUNTIME_ROLE" -v db="$POSTGRES_DB" \
    -v owner_password="$(head -n1 "$SECRETS_DIR/database_owner_password")" \
    -v runtime_password="$(head -n1 "$SECRETS_DIR/database_password")" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE ROLE :"runtime" LOGIN PASSWORD :'runtime_password' NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
ALTER DATABASE :"db" OWNER TO :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"runtime";
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"runtime";
SQL
echo "created roles $OWNER_ROLE (owner, for migrate) and $RUNTIME_ROLE (runtime) in $POSTGRES_DB"
