"""Errors of the event store, translated from asyncpg at this one boundary.

EventStoreError
├── ConcurrencyConflict   the stream is not at the version the writer expected
├── EventIdReused         an event id already stored with other content
└── InvalidEventData      PostgreSQL refused the content itself (e.g. NUL in text): never retried
"""


class EventStoreError(Exception):
    """Base of every error the store raises."""


class ConcurrencyConflict(EventStoreError):
    """Someone else appended to the stream: the writer's view of it is stale."""


class EventIdReused(EventStoreError):
    """An event id is stored already with different content: never silently overwritten."""


class InvalidEventData(EventStoreError):
    """The database refused what an event holds (a data exception, SQLSTATE class 22).

    Nothing was written, and presenting the same batch again can only fail again.
    """
