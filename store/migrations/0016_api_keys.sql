-- API keys of machine clients (an HR system pushing participants, a report job): each acts with
-- one role on one programme only. `mentorflow staff key create|list|revoke` keeps this table.
-- Only the SHA-256 of a key is stored (the key is 256 random bits, shown once at creation); a
-- revoked key stays listed, with when it was revoked, and is refused.
CREATE TABLE api_keys (
    key_id        uuid PRIMARY KEY,
    key_hash      bytea NOT NULL UNIQUE,
    programme_id  text NOT NULL,
    role          text NOT NULL CHECK (role IN ('coordinator', 'auditor')),
    name          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    revoked_at    timestamptz
);

GRANT SELECT ON api_keys TO mentorflow_writer;
