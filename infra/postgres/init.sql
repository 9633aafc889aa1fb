-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d).
-- One database per service: each service owns its schema and migrates it at start-up.
CREATE DATABASE orders OWNER webstore;
CREATE DATABASE catalog OWNER webstore;
CREATE DATABASE payments OWNER webstore;
