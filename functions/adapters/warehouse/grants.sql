-- ClickHouse users and grants for Tributary: one user per role, each with what its code does and no more.
-- Run once per deployment as an administrator, with the passwords from each function's own secret:
--   envsubst < functions/adapters/warehouse/grants.sql | clickhouse client --multiquery
-- Names: the BI database `tributary` (CLICKHOUSE_DATABASE) and its ops database `tributary_ops`, which holds
-- the quarantine (raw payloads, PII) and the ingest log. If CLICKHOUSE_DATABASE differs, replace both names.
-- Needs ClickHouse 24.4 or later (SQL SECURITY DEFINER views, wildcard table grants).
-- test/integration/clickhouse-grants.test.ts runs these grants on chDB, one role per process.

CREATE DATABASE IF NOT EXISTS tributary;
CREATE DATABASE IF NOT EXISTS tributary_ops;

-- ingest (the ingest function, CLICKHOUSE_USER=tributary_ingest): creates event tables, adds and widens their
-- columns, keeps their _dedup/_all views, inserts batches; writes the quarantine and the log, never reads them.
CREATE USER IF NOT EXISTS tributary_ingest IDENTIFIED WITH sha256_password BY '${TRIBUTARY_INGEST_PASSWORD}';
GRANT CREATE DATABASE ON tributary.* TO tributary_ingest;
GRANT CREATE DATABASE ON tributary_ops.* TO tributary_ingest;
GRANT SELECT, INSERT, CREATE TABLE, ALTER ADD COLUMN, ALTER MODIFY COLUMN, CREATE VIEW, DROP VIEW ON tributary.* TO tributary_ingest;
-- CREATE OR REPLACE VIEW builds the new view under a temporary name, then drops the old one.
GRANT SELECT, DROP TABLE ON tributary._tmp_replace_* TO tributary_ingest;
GRANT CREATE TABLE, INSERT ON tributary_ops.* TO tributary_ingest;
-- <event>_all views read the lake's older days through s3() (only when lakeUrl is set). They are
-- SQL SECURITY DEFINER views owned by this user, so readers of a view need no s3() right of their own.
GRANT CREATE TEMPORARY TABLE, S3 ON *.* TO tributary_ingest;

-- jobs (ab-daily and every job in schemas/jobs/, CLICKHOUSE_USER=tributary_jobs): reads the event tables,
-- replaces days of its output tables through staging tables; cannot change or drop an event table.
CREATE USER IF NOT EXISTS tributary_jobs IDENTIFIED WITH sha256_password BY '${TRIBUTARY_JOBS_PASSWORD}';
GRANT SELECT ON tributary.* TO tributary_jobs;
GRANT CREATE DATABASE ON tributary.* TO tributary_jobs; -- CREATE DATABASE IF NOT EXISTS before its first table
-- Its rights on the job output tables follow from the job files, never written here: after this file, and
-- after every deploy that adds a job, run as the administrator
--   CLICKHOUSE_DATABASE=tributary npx tributary jobs grants | clickhouse client --multiquery
-- (one GRANT per output: CREATE TABLE, INSERT, ALTER DELETE, and ALTER ADD COLUMN for SQL jobs; docs/jobs.md).
GRANT CREATE TABLE, INSERT, DROP TABLE ON tributary._stage_* TO tributary_jobs;
-- its run history (every window run, failed ones with their message), which the console's Jobs page lists
GRANT CREATE DATABASE ON tributary_ops.* TO tributary_jobs;
GRANT CREATE TABLE, INSERT ON tributary_ops._job_runs TO tributary_jobs;

-- BI (dashboards, analysts): the event tables, their views and the job outputs; the ingest log for freshness
-- and the jobs' run history (no payloads in either). Nothing else in tributary_ops: the quarantine's raw bytes stay out of reach.
CREATE USER IF NOT EXISTS tributary_bi IDENTIFIED WITH sha256_password BY '${TRIBUTARY_BI_PASSWORD}';
GRANT SELECT ON tributary.* TO tributary_bi;
GRANT SELECT ON tributary_ops._ingest_log TO tributary_bi;
GRANT SELECT ON tributary_ops._job_runs TO tributary_bi;

-- data steward: reads the quarantine to fix and replay records (mirrors the S3 deny on lake/_quarantine/).
CREATE USER IF NOT EXISTS tributary_steward IDENTIFIED WITH sha256_password BY '${TRIBUTARY_STEWARD_PASSWORD}';
GRANT SELECT ON tributary_ops.* TO tributary_steward;
-- `tributary quarantine replay` (CLICKHOUSE_USER=tributary_steward) runs the ingest path itself: the ingest
-- user's rights on the event tables, and it writes the quarantine, the log and the resolutions it reads.
GRANT CREATE DATABASE ON tributary.* TO tributary_steward;
GRANT CREATE DATABASE ON tributary_ops.* TO tributary_steward;
GRANT SELECT, INSERT, CREATE TABLE, ALTER ADD COLUMN, ALTER MODIFY COLUMN, CREATE VIEW, DROP VIEW ON tributary.* TO tributary_steward;
GRANT SELECT, DROP TABLE ON tributary._tmp_replace_* TO tributary_steward;
GRANT CREATE TABLE, INSERT ON tributary_ops._quarantine TO tributary_steward;
GRANT CREATE TABLE, INSERT ON tributary_ops._ingest_log TO tributary_steward;
GRANT CREATE TABLE, INSERT ON tributary_ops._quarantine_resolved TO tributary_steward;
GRANT CREATE TEMPORARY TABLE, S3 ON *.* TO tributary_steward; -- <event>_all views (re)made when a replay adds a column

-- Upgrading a deployment from before the ops database (2026-12-06): new code writes tributary_ops; the old
-- tributary._quarantine and tributary._ingest_log stay where they were, and a BI grant on tributary.* still
-- reads the old quarantine until an administrator moves or drops it (RENAME works on Atomic databases):
--   RENAME TABLE tributary._quarantine TO tributary_ops._quarantine_before_ops;
--   DROP TABLE tributary._ingest_log;  -- lineage only; or keep it until its TTL has passed
