"""Errors of the domain layer.

DomainError
├── RuleViolation    a command breaks a business rule; ``code`` says which (shown to people)
└── InvalidHistory   a stream of events that no relationship could have produced
    └── UnknownEventVersion  a stored event this code cannot read (``domain.codec``)
"""


class DomainError(Exception):
    """Base of every error raised by domain/."""


class RuleViolation(DomainError):
    """A command was refused; nothing was recorded. ``code`` is stable, ``str()`` is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class InvalidHistory(DomainError):
    """Events that do not form a valid relationship history."""


class UnknownEventVersion(InvalidHistory):
    """A stored event whose type or version this code cannot read (newer, or no upcaster)."""
