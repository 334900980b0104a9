-- Contact details and the delivery record of every notification.

-- Who takes part in which programme, with the details a message needs. Kept out of the events and
-- out of Temporal's histories (they carry ids only), so a person's details can be corrected or
-- erased without touching the audit record.
CREATE TABLE programmes (
    programme_id    text PRIMARY KEY,
    name            text NOT NULL,
    timezone        text NOT NULL,
    coordinator_id  text NOT NULL
);

CREATE TABLE people (
    programme_id    text NOT NULL REFERENCES programmes (programme_id),
    person_id       text NOT NULL,
    name            text NOT NULL,
    email           text NOT NULL,
    locale          text NOT NULL CHECK (locale IN ('fi', 'sv', 'en')),
    PRIMARY KEY (programme_id, person_id)
);

-- One row per (notification, recipient). A row is claimed ('sending', with its Message-ID) in a
-- transaction of its own before the SMTP transaction starts, so a retry knows a send may have
-- happened; 'sent' and 'failed' are final.
CREATE TABLE deliveries (
    event_id        uuid NOT NULL REFERENCES outbox (event_id),
    person_id       text NOT NULL,
    message_id      text NOT NULL UNIQUE,
    state           text NOT NULL CHECK (state IN ('sending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    smtp_code       integer,
    error           text,
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (event_id, person_id)
);

-- An outbox row is done once every recipient's delivery is final (sent or failed).
ALTER TABLE outbox ADD COLUMN failed integer NOT NULL DEFAULT 0 CHECK (failed >= 0);
