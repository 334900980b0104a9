"""Errors of the event store, translated from asyncpg at this one boundary.

EventStoreError
├── ConcurrencyConflict   the stream is not at the version the writer expected
└── EventIdReused         an event id already stored with other content
"""


class EventStoreError(Exception):
    """Base of every error the store raises."""


class ConcurrencyConflict(EventStoreError):
    """Someone else appended to the stream: the writer's view of it is stale."""


class EventIdReused(EventStoreError):
    """An event id is stored already with different content: never silently overwritten."""
