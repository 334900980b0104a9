-- Sign-in links are single use: the web app records each link's id when it is used, and a link
-- whose id is already here is refused. Ids only (random UUIDs): nothing personal is kept.
CREATE TABLE used_sign_in_links (
    token_id    uuid PRIMARY KEY,
    used_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

GRANT SELECT, INSERT ON used_sign_in_links TO mentorflow_writer;
GRANT SELECT ON used_sign_in_links TO mentorflow_auditor;
