-- Tamper evidence for the event log: a hash chain per stream and one over the whole log, and a
-- database that refuses to rewrite history.
--
-- Each event's stream_hash = sha256(previous stream_hash of its stream (empty for version 1) ||
-- its record text); its global_hash = sha256(global_hash at position - 1 (empty at 1) ||
-- stream_hash). The record text is every stored column, '|'-separated, times in UTC with
-- microseconds, the payload as PostgreSQL's canonical jsonb text. `mentorflow audit verify`
-- recomputes both chains in Python from the stored columns: a second, independent implementation.

CREATE FUNCTION mentorflow_event_text(e events) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT concat_ws('|',
        e.global_position, e.stream_id, e.version, e.event_id, e.type, e.schema_version,
        to_char(e.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        to_char(e.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US'),
        e.actor, e.payload::text)
$$;

ALTER TABLE events ADD COLUMN stream_hash bytea, ADD COLUMN global_hash bytea;

CREATE FUNCTION mentorflow_chain_event() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    previous_stream bytea := '';
    previous_global bytea := '';
BEGIN
    IF NEW.version > 1 THEN
        SELECT stream_hash INTO STRICT previous_stream FROM events
        WHERE stream_id = NEW.stream_id AND version = NEW.version - 1;
    END IF;
    IF NEW.global_position > 1 THEN
        SELECT global_hash INTO STRICT previous_global FROM events
        WHERE global_position = NEW.global_position - 1;
    END IF;
    NEW.stream_hash := sha256(previous_stream || convert_to(mentorflow_event_text(NEW), 'UTF8'));
    NEW.global_hash := sha256(previous_global || NEW.stream_hash);
    RETURN NEW;
END
$$;

-- Chain what is already stored, in log order, before the log becomes append-only.
DO $$
DECLARE
    e events;
    previous_stream bytea;
    previous_global bytea := '';
BEGIN
    FOR e IN SELECT * FROM events ORDER BY global_position LOOP
        previous_stream := '';
        IF e.version > 1 THEN
            SELECT stream_hash INTO STRICT previous_stream FROM events
            WHERE stream_id = e.stream_id AND version = e.version - 1;
        END IF;
        e.stream_hash := sha256(previous_stream || convert_to(mentorflow_event_text(e), 'UTF8'));
        e.global_hash := sha256(previous_global || e.stream_hash);
        UPDATE events SET stream_hash = e.stream_hash, global_hash = e.global_hash
        WHERE global_position = e.global_position;
        previous_global := e.global_hash;
    END LOOP;
END
$$;

ALTER TABLE events ALTER COLUMN stream_hash SET NOT NULL, ALTER COLUMN global_hash SET NOT NULL;

CREATE TRIGGER events_chain BEFORE INSERT ON events
FOR EACH ROW EXECUTE FUNCTION mentorflow_chain_event();

CREATE FUNCTION mentorflow_refuse_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the event log is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION mentorflow_refuse_rewrite();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
FOR EACH STATEMENT EXECUTE FUNCTION mentorflow_refuse_rewrite();

-- Temporal's own record of each workflow run, archived before the server's retention deletes it:
-- `audit verify` replays these with the current workflow code. Insert-only, like the events.
CREATE TABLE workflow_histories (
    workflow_id     text NOT NULL,
    run_id          text NOT NULL,
    archived_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    complete        boolean NOT NULL,
    history         text NOT NULL,
    PRIMARY KEY (workflow_id, run_id)
);
CREATE TRIGGER workflow_histories_append_only BEFORE UPDATE OR DELETE ON workflow_histories
FOR EACH ROW EXECUTE FUNCTION mentorflow_refuse_rewrite();

-- Roles for deployments (see README, Operations): the worker logs in as a member of
-- mentorflow_writer, auditors as members of mentorflow_auditor; neither owns the tables, so
-- neither can drop the triggers above.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mentorflow_writer') THEN
        CREATE ROLE mentorflow_writer NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mentorflow_auditor') THEN
        CREATE ROLE mentorflow_auditor NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON events FROM PUBLIC;
GRANT SELECT, INSERT ON events, workflow_histories TO mentorflow_writer;
GRANT SELECT, INSERT, UPDATE ON streams, log_head, outbox, deliveries, people, programmes
    TO mentorflow_writer;
GRANT SELECT ON events, streams, log_head, outbox, deliveries, people, programmes,
    workflow_histories, schema_migrations TO mentorflow_auditor;
