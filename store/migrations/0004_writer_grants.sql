-- A worker that logs in as a member of mentorflow_writer (not the owner) checks the schema is
-- current instead of migrating it (MENTORFLOW_MIGRATE=false; `mentorflow migrate` runs as owner).
GRANT SELECT ON schema_migrations TO mentorflow_writer;
