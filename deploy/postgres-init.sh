#!/bin/sh
# deploy/compose.yml (docker-entrypoint-initdb.d, run once on an empty volume as the superuser):
# the case store and the tracker store, each owned by its own role; no other role may connect.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v case_pw="$XINFANG_DB_PASSWORD" -v tracker_pw="$XINFANG_TRACKER_DB_PASSWORD" <<'SQL'
CREATE ROLE xinfang LOGIN PASSWORD :'case_pw';
CREATE ROLE xinfang_tracker LOGIN PASSWORD :'tracker_pw';
CREATE DATABASE xinfang OWNER xinfang;
CREATE DATABASE xinfang_tracker OWNER xinfang_tracker;
REVOKE CONNECT, TEMPORARY ON DATABASE xinfang FROM PUBLIC;
REVOKE CONNECT, TEMPORARY ON DATABASE xinfang_tracker FROM PUBLIC;
SQL
