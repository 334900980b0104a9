-- A programme's staged cohort is needed only until its start activity stores `programme_started`
-- (issue 13): from now on that activity clears it, and a retried start finds its event by id
-- (activities/cohort.py). This clears the cohorts of programmes started before, which were kept.
-- Programmes not started yet keep theirs.
DELETE FROM staged_cohorts s
WHERE EXISTS (
    SELECT FROM events e
    WHERE e.stream_id = 'programme:' || s.programme_id AND e.version = 1
      AND e.type = 'programme_started'
);
