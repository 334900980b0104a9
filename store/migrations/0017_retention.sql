-- Retention (issue 13): how long a closed programme's personal data is kept, from the programme
-- file's `retention.personal_data` (an ISO-8601 duration; programmes registered before this
-- migration keep the default, two years). The retention workflow reads it with the programme's
-- `programme_closed` event and erases the people of programmes past it (store/retention.py).
ALTER TABLE programmes ADD COLUMN retention text NOT NULL DEFAULT 'P2Y';
