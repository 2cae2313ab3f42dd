-- deploy/compose.yml: the tracker store's database next to the case store's (POSTGRES_DB).
CREATE DATABASE xinfang_tracker;
