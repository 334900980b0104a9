-- Appends only through a SECURITY DEFINER function (issue 12, item 13). The worker's role could
-- stall the log (UPDATE log_head), skip or reuse versions (UPDATE streams) and backdate
-- recorded_at (INSERT with any value). Now:
-- * a BEFORE INSERT trigger (running as the owner) assigns global_position from log_head, version
--   from streams and recorded_at from the clock, whatever the INSERT says;
-- * mentorflow_append(stream, expected version, events) is the one way in for the writer: it
--   locks the stream, checks the expected version and inserts the events and their outbox rows;
-- * the writer keeps SELECT on the log, and UPDATE on outbox (delivered_at) and deliveries only.
-- Auditors no longer read people (names and addresses): the record carries ids only.

CREATE FUNCTION mentorflow_assign_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE log_head SET position = position + 1 RETURNING position INTO NEW.global_position;
    UPDATE streams SET version = version + 1 WHERE stream_id = NEW.stream_id
        RETURNING version INTO NEW.version;
    IF NEW.version IS NULL THEN
        RAISE EXCEPTION 'stream % does not exist', NEW.stream_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    NEW.recorded_at := clock_timestamp();
    RETURN NEW;
END
$$;

-- Named to sort before events_chain: BEFORE triggers fire in name order, and the chain hashes
-- the position, version and recorded_at assigned here.
CREATE TRIGGER events_assign BEFORE INSERT ON events
FOR EACH ROW EXECUTE FUNCTION mentorflow_assign_event();

-- Raises SQLSTATE MF409 when the stream is not at p_expected (the caller's concurrency conflict).
CREATE FUNCTION mentorflow_append(p_stream text, p_expected integer, p_events jsonb)
RETURNS TABLE (new_version integer, first_position bigint, last_position bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    current integer;
    e jsonb;
    assigned bigint;
    first_assigned bigint;
BEGIN
    INSERT INTO streams (stream_id, version) VALUES (p_stream, 0)
        ON CONFLICT (stream_id) DO NOTHING;
    SELECT s.version INTO current FROM streams s WHERE s.stream_id = p_stream FOR UPDATE;
    IF current <> p_expected THEN
        RAISE EXCEPTION 'stream % is at version %, expected %', p_stream, current, p_expected
            USING ERRCODE = 'MF409';
    END IF;
    FOR e IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        INSERT INTO events (global_position, stream_id, version, event_id, type,
                            schema_version, occurred_at, actor, payload)
        VALUES (0, p_stream, 0, (e->>'event_id')::uuid, e->>'type',
                (e->>'schema_version')::integer, (e->>'occurred_at')::timestamptz,
                e->>'actor', e->'payload')
        RETURNING global_position INTO assigned;
        first_assigned := coalesce(first_assigned, assigned);
        IF jsonb_typeof(e->'notification') = 'object' THEN
            INSERT INTO outbox (event_id, stream_id, kind, recipients)
            VALUES ((e->>'event_id')::uuid, p_stream, e->'notification'->>'kind',
                    e->'notification'->'recipients');
        END IF;
    END LOOP;
    RETURN QUERY SELECT s.version, first_assigned, assigned FROM streams s
        WHERE s.stream_id = p_stream;
END
$$;

REVOKE ALL ON FUNCTION mentorflow_append(text, integer, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION mentorflow_assign_event() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION mentorflow_append(text, integer, jsonb) TO mentorflow_writer;

REVOKE INSERT ON events FROM mentorflow_writer;
REVOKE INSERT, UPDATE ON streams, log_head FROM mentorflow_writer;
REVOKE INSERT ON outbox FROM mentorflow_writer;
REVOKE SELECT ON people FROM mentorflow_auditor;
