#!/bin/sh
# Run by docker-compose.yml's temporal-schema service (temporalio/admin-tools): creates Temporal's two
# databases on the compose Postgres and brings their schemas to the server's version, the way
# Temporal's own compose examples do. Safe on every `docker compose up`: `create` of an existing
# database fails harmlessly, setup-schema at 0.0 is a no-op once done, update-schema applies only
# the versions the database is missing.
set -eu
SCHEMA=/etc/temporal/schema/postgresql/v12
tool() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" --pw "$POSTGRES_PWD" "$@"; }
until nc -z "$POSTGRES_SEEDS" "$DB_PORT"; do echo 'waiting for Postgres'; sleep 1; done
for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  db=${pair%%:*}
  dir=${pair#*:}
  tool --db "$db" create || echo "database $db exists"
  tool --db "$db" setup-schema -v 0.0
  tool --db "$db" update-schema -d "$SCHEMA/$dir/versioned"
done
echo 'Temporal schemas are up to date'
