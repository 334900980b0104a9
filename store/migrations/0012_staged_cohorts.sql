-- The cohort a programme starts with, staged by its starter (`mentorflow programme start`) just
-- before the workflow starts. The workflow's start activity reads it into the programme's first
-- event (programme_started), so that a cohort of any size never travels through Temporal, whose
-- payloads are limited to 2 MB. Profiles only (ids, role, unit, manager id, competences,
-- capacity, training date): names and addresses stay in `people`.
CREATE TABLE staged_cohorts (
    programme_id    text    NOT NULL,
    position        integer NOT NULL,
    person_id       text    NOT NULL,
    profile         jsonb   NOT NULL,
    PRIMARY KEY (programme_id, position),
    UNIQUE (programme_id, person_id)
);

GRANT SELECT, INSERT, DELETE ON staged_cohorts TO mentorflow_writer;
GRANT SELECT ON staged_cohorts TO mentorflow_auditor;
