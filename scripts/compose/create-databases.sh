#!/bin/bash
# Postgres image init hook: one database per koppel service.
set -e
for db in ${POSTGRES_MULTIPLE_DATABASES//,/ }; do
  psql -v ON_ERROR_STOP=1 -U postgres -c "CREATE DATABASE \"$db\""
done
