-- Deliveries beside the decisions (issue 12): a claim is a lease with an owner and an expiry, a
-- recipient can be deferred (a 4xx to RCPT, or the relay at fault) and retried later, and a
-- delivery the relay could not take within the retry window is held for `mentorflow mail resend`
-- (a relay or configuration fault is never recorded against the recipient).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_state_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_state_check
    CHECK (state IN ('sending', 'sent', 'failed', 'deferred', 'held'));
ALTER TABLE deliveries
    ADD COLUMN lease_owner text,
    ADD COLUMN lease_expires_at timestamptz,
    -- The relay's 250 reply to the message (its queue id): where to look for a sent message.
    ADD COLUMN relay_reply text,
    -- Whose fault a deferred, held or failed delivery is: 'recipient' or the relay's kind.
    ADD COLUMN fault text;
CREATE INDEX deliveries_unfinished ON deliveries (state) WHERE state IN ('deferred', 'held', 'sending');
