"""The ``type`` of every ``ApplicationError`` that crosses a layer, named once.

An activity raises with one of these and a workflow, a retry policy or a client matches on it:
a constant, so that the two sides cannot drift apart. Broken business rules travel with the
domain's own codes (``domain.errors.RuleViolation.code``), which the web app translates.
"""

CONCURRENCY_CONFLICT = "ConcurrencyConflict"
"""The stream is not at the version the workflow expected (``store.errors``)."""
EVENT_ID_REUSED = "EventIdReused"
"""An event id is stored already with other content (``store.errors``)."""
INVALID_EVENT_DATA = "InvalidEventData"
"""The database refused an event's content: retrying cannot help (``store.errors``)."""
APPEND_FAILURES = (CONCURRENCY_CONFLICT, EVENT_ID_REUSED, INVALID_EVENT_DATA)
"""What an append raises that retrying cannot fix: the retry policies name them."""

NO_OUTBOX_ROW = "NoOutboxRow"
"""A notification to deliver has no outbox row (the workflow asked for an event never stored)."""

NOT_STARTED = "NotStarted"
"""An Update reached a workflow that has not recorded its start yet."""
INVALID_DATA = "invalid_data"
"""The refusal an Update gets when the record refused its events' content; nothing is written."""
NOT_RECORDED = "not_recorded"
"""The refusal an Update gets when its events could not be recorded now (it may try again)."""
