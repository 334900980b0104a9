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

-- What the staff's programme and group pages read: each programme's and relationship's state,
-- folded from its events by the web app's projector (mentorflow/web/staff/views.py), which
-- applies only the events past `staff_view_position` (no replay per request). Rebuildable:
-- empty both tables and the next request folds the log again.
CREATE TABLE staff_views (
    stream_id     text PRIMARY KEY,
    programme_id  text NOT NULL,
    version       integer NOT NULL,
    state         jsonb NOT NULL
);
CREATE INDEX staff_views_programme ON staff_views (programme_id);
CREATE TABLE staff_view_position (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    position  bigint NOT NULL
);
INSERT INTO staff_view_position (position) VALUES (0);

GRANT SELECT, INSERT, UPDATE ON staff_views, staff_view_position TO mentorflow_writer;
