-- A hash input that does not depend on a PostgreSQL version (issue 12, item 15).
--
-- Format 1 (every event stored before this migration, verifiable as before): the columns joined
-- with an unescaped '|', the payload as PostgreSQL's jsonb text. Format 2 (every event from
-- now on): length-prefixed fields (each field's UTF-8 bytes after its length as 4 bytes, big
-- endian), the first field the tag 'mentorflow-event-2', the payload as canonical JSON: object
-- keys sorted by code point, no whitespace, strings escaped as RFC 8785 does (only '"', '\' and
-- control characters), numbers as plain decimals without exponent or trailing zeros (RFC 8785
-- writes integers the same way; it differs only for very large or small fractions). store/
-- integrity.py implements both formats again, in Python. The chains run on unbroken across the
-- change: each event's hash covers the previous one, whatever the format.

ALTER TABLE events ADD COLUMN hash_format smallint NOT NULL DEFAULT 1 CHECK (hash_format IN (1, 2));
ALTER TABLE events ALTER COLUMN hash_format SET DEFAULT 2;

CREATE FUNCTION mentorflow_canonical_json(j jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = pg_catalog AS $$
BEGIN
    CASE jsonb_typeof(j)
    WHEN 'object' THEN
        RETURN '{' || coalesce((SELECT string_agg(to_json(key)::text || ':'
            || public.mentorflow_canonical_json(value), ',' ORDER BY key COLLATE "C")
            FROM jsonb_each(j)), '') || '}';
    WHEN 'array' THEN
        RETURN '[' || coalesce((SELECT string_agg(public.mentorflow_canonical_json(value), ','
            ORDER BY n) FROM jsonb_array_elements(j) WITH ORDINALITY AS a(value, n)), '') || ']';
    WHEN 'string' THEN
        RETURN to_json(j #>> '{}')::text;
    WHEN 'number' THEN
        RETURN trim_scale((j #>> '{}')::numeric)::text;
    WHEN 'boolean' THEN
        RETURN CASE WHEN j = 'true'::jsonb THEN 'true' ELSE 'false' END;
    ELSE
        RETURN 'null';
    END CASE;
END
$$;

CREATE FUNCTION mentorflow_field(t text) RETURNS bytea
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT int4send(octet_length(convert_to(t, 'UTF8'))) || convert_to(t, 'UTF8')
$$;

CREATE FUNCTION mentorflow_event_bytes(e events) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT CASE e.hash_format
        WHEN 1 THEN convert_to(mentorflow_event_text(e), 'UTF8')
        ELSE mentorflow_field('mentorflow-event-2')
            || mentorflow_field(e.global_position::text) || mentorflow_field(e.stream_id)
            || mentorflow_field(e.version::text) || mentorflow_field(e.event_id::text)
            || mentorflow_field(e.type) || mentorflow_field(e.schema_version::text)
            || mentorflow_field(to_char(e.occurred_at AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS.US'))
            || mentorflow_field(to_char(e.recorded_at AT TIME ZONE 'UTC',
                                        'YYYY-MM-DD"T"HH24:MI:SS.US'))
            || mentorflow_field(e.actor) || mentorflow_field(mentorflow_canonical_json(e.payload))
    END
$$;

CREATE OR REPLACE FUNCTION mentorflow_chain_event() RETURNS trigger
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
    NEW.stream_hash := sha256(previous_stream || mentorflow_event_bytes(NEW));
    NEW.global_hash := sha256(previous_global || NEW.stream_hash);
    RETURN NEW;
END
$$;

-- New events are always format 2, whatever an INSERT says.
CREATE OR REPLACE FUNCTION mentorflow_assign_event() RETURNS trigger
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
    NEW.hash_format := 2;
    RETURN NEW;
END
$$;
