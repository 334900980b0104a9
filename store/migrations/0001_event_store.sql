-- The append-only event log, its streams, and the notification outbox.

-- One row per stream: its current version. Locking this row serialises appends to the stream.
CREATE TABLE streams (
    stream_id   text PRIMARY KEY,
    version     integer NOT NULL CHECK (version >= 0)
);

-- The head of the global log. Appends take this row's lock to assign global positions, so
-- positions are gapless and in commit order: a reader never sees position n+1 before n commits
-- (unlike a sequence, whose values are handed out before commit and lost on rollback).
CREATE TABLE log_head (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    position    bigint NOT NULL CHECK (position >= 0)
);
INSERT INTO log_head (position) VALUES (0);

CREATE TABLE events (
    global_position bigint PRIMARY KEY,
    stream_id       text NOT NULL REFERENCES streams (stream_id),
    version         integer NOT NULL CHECK (version >= 1),
    event_id        uuid NOT NULL UNIQUE,
    type            text NOT NULL,
    schema_version  integer NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor           text NOT NULL,
    payload         jsonb NOT NULL,
    UNIQUE (stream_id, version)
);

-- Notifications the workflows decided to send, one row per event; delivery is a later concern.
CREATE TABLE outbox (
    event_id        uuid PRIMARY KEY REFERENCES events (event_id),
    stream_id       text NOT NULL,
    kind            text NOT NULL,
    recipients      jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    delivered_at    timestamptz
);
CREATE INDEX outbox_undelivered ON outbox (created_at) WHERE delivered_at IS NULL;
