"""Errors of the entry layer: what a command or a server refuses, with a message for a person.

Every entry point (``mentorflow ...``, ``worker.py``, the web app) turns these into one line on
stderr and exit code 1. The inner layers keep their own trees (``domain.errors``,
``store.errors``; business refusals reach Temporal's callers as ``ApplicationError`` with a type
from ``contracts.errors``).

MentorflowError
├── StackError              a server (Temporal, the embedded PostgreSQL, ...) cannot be started or
│   │                       reached; the message says what to do
│   └── DatabaseUnavailable the event store cannot be reached, or its schema is not current
├── CodecError              a Temporal payload cannot be sealed or opened (mentorflow.codec)
├── ProgrammeFileError      a programme file cannot be used (mentorflow.programme_files)
├── ProgrammeError          a programme request is refused (mentorflow.programmes)
├── WrongStoreError         the worker serves another event store (mentorflow.deployment)
├── ReadError               an HR export cannot be read as a table (mentorflow.hr_import)
└── AuditError              an audit request cannot be answered (mentorflow.audit)
"""


class MentorflowError(Exception):
    """Base of every error the entry layer raises for a person to read."""


class StackError(MentorflowError, RuntimeError):
    """The database or Temporal could not be started or reached; the message says what to do."""


class DatabaseUnavailable(StackError):
    """The event store cannot be reached, its URL is not valid, or its schema is not current."""
