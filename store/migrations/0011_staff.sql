-- Staff of the web app: coordinators (of the programmes listed), auditors (read only, every
-- programme) and admins (every programme). They sign in by e-mailed link like participants; the
-- session holds the staff id only. `mentorflow staff add|list|remove` keeps this table.
CREATE TABLE staff (
    staff_id    uuid PRIMARY KEY,
    email       text NOT NULL,
    role        text NOT NULL CHECK (role IN ('coordinator', 'auditor', 'admin')),
    programmes  text[] NOT NULL DEFAULT '{}',
    added_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((role = 'coordinator') = (cardinality(programmes) > 0))
);
CREATE UNIQUE INDEX staff_email ON staff (lower(email));

GRANT SELECT ON staff TO mentorflow_writer;
