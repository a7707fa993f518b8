-- Run once by the postgres image when its data volume is first initialised (docker-entrypoint-initdb.d), as
-- POSTGRES_USER. POSTGRES_DB (greengrader) is created by the image itself; these two belong to Temporal, whose
-- schema the temporal-schema service then applies (deploy/temporal/setup-schema.sh).
CREATE DATABASE temporal;
CREATE DATABASE temporal_visibility;
