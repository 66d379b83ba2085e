-- Run once by the postgres image on an empty data directory
-- (/docker-entrypoint-initdb.d/), as POSTGRES_USER (motcua): one database per
-- service (no service reads another service's tables).
CREATE DATABASE motcua_intake;
CREATE DATABASE motcua_processing;
CREATE DATABASE motcua_payment;
CREATE DATABASE motcua_postal;
CREATE DATABASE motcua_notify;
CREATE DATABASE motcua_reports;
CREATE DATABASE motcua_gateway;
