-- Crypto-shredding (store/sealing.py): one data key per person, wrapped by a master key from the
-- settings. Erasing a person deletes the key (master_key_id and wrapped become NULL) and keeps
-- the row as a tombstone with erased_at, so that readers show "[erased]" and nothing more is
-- sealed for that person. Auditors do not read this table (it is not granted to them).
CREATE TABLE data_keys (
    person_id       text PRIMARY KEY,
    master_key_id   text,
    wrapped         bytea,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    erased_at       timestamptz,
    CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL)),
    CHECK ((wrapped IS NULL) = (master_key_id IS NULL))
);

-- Workers seal (a person's first text makes their key) and erase (the retention schedule);
-- erasure also deletes the person's directory rows.
GRANT SELECT, INSERT, UPDATE ON data_keys TO mentorflow_writer;
GRANT DELETE ON people TO mentorflow_writer;
