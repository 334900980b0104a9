"""Text that can be recorded: what every free-text field people fill in must satisfy.

PostgreSQL refuses NUL in ``text`` and ``jsonb`` and an unpaired surrogate cannot be encoded as
UTF-8; other control characters are invisible to whoever reads the record. Such text is refused
where it enters (a command, a programme file), with the position of the character, so that no
workflow ever decides on something the event store would then refuse.
"""

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, StringConstraints, ValidatorFunctionWrapHandler, WrapValidator

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")

MAX_TEXT = 4000
"""Characters in one free text (an agreement, an answer, a reason)."""

MAX_ITEMS = 20
"""Goals of an agreement, answers of a feedback, attendees of a meeting."""


def storable(text: str) -> str:
    """``text`` unchanged, or ValueError naming the first character that cannot be recorded."""
    bad = _UNSTORABLE.search(text)
    if bad is None:
        return text
    point = ord(bad.group())
    what = "an unpaired surrogate" if 0xD800 <= point <= 0xDFFF else "a control character"
    raise ValueError(f"text contains {what} (U+{point:04X}) at position {bad.start()}")


Storable = AfterValidator(storable)


@dataclass(frozen=True)
class FreeText:
    """Marks a field as free text a person writes: entry points seal every field so marked."""


FREE_TEXT = FreeText()

SEALED_PREFIX = "mf1:"
"""Sealed text: ``mf1:<base64url of nonce + ciphertext>:<author's person id>``."""

MAX_SEALED = 24_000
"""Characters of one sealed text: a text of MAX_TEXT characters (4 UTF-8 bytes each at most),
its nonce and tag in base64, and the author's id."""

_SEALED = re.compile(r"mf1:[A-Za-z0-9_-]{38,}:[^\x00-\x1f\x7f]{1,128}")


def sealed(text: str) -> bool:
    """Whether ``text`` has the shape of sealed text (the domain never opens it)."""
    return len(text) <= MAX_SEALED and _SEALED.fullmatch(text) is not None


def _plain_or_sealed(value: Any, plain: ValidatorFunctionWrapHandler) -> Any:
    # Sealed text is carried as it is: its plain text was checked before it was sealed.
    if isinstance(value, str) and value.startswith(SEALED_PREFIX):
        if not sealed(value):
            raise ValueError(f"sealed text is malformed or over {MAX_SEALED} characters")
        return value
    return plain(value)


Text = Annotated[
    str,
    FREE_TEXT,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    Storable,
    WrapValidator(_plain_or_sealed),
]
"""Free text a person writes: bounded, and only characters that can be recorded; or that text
sealed with its author's data key (see mentorflow/privacy), which is how workflows receive it."""

PlainText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT), Storable
]
"""Text before it is sealed: what an entry point checks a person's text against."""

Key = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Storable
]
"""A question's key in feedback answers."""

Code = Annotated[str, StringConstraints(min_length=1, max_length=40), Storable]
"""A scale or choice answer: a number or an option's id, never free text."""

Actor = Annotated[str, StringConstraints(min_length=1, max_length=128), Storable]
"""A person's id in a command (ids reach the event log's ``actor`` column)."""
