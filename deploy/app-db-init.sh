#!/bin/sh
# Runs once, when app-db's volume is first created (docker-entrypoint-initdb.d): the roles of
# README "Operations". Migrations (as the owner) grant mentorflow_writer what a worker needs;
# the workers log in as mentorflow_worker, which can append to the event log but never rewrite it.
set -eu
psql -v ON_ERROR_STOP=1 -v password="$MENTORFLOW_WORKER_DB_PASSWORD" \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<'SQL'
CREATE ROLE mentorflow_writer NOLOGIN;
CREATE ROLE mentorflow_auditor NOLOGIN;
CREATE ROLE mentorflow_worker LOGIN PASSWORD :'password' IN ROLE mentorflow_writer;
SQL
