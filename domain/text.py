"""Text that can be recorded: what every free-text field people fill in must satisfy.

PostgreSQL refuses NUL in ``text`` and ``jsonb`` and an unpaired surrogate cannot be encoded as
UTF-8; other control characters are invisible to whoever reads the record. Such text is refused
where it enters (a command, a programme file), with the position of the character, so that no
workflow ever decides on something the event store would then refuse.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

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

Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT), Storable
]
"""Free text a person writes: bounded, and only characters that can be recorded."""

Key = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), Storable
]
"""A question's key in feedback answers."""

Code = Annotated[str, StringConstraints(min_length=1, max_length=40), Storable]
"""A scale or choice answer: a number or an option's id, never free text."""

Actor = Annotated[str, StringConstraints(min_length=1, max_length=128), Storable]
"""A person's id in a command (ids reach the event log's ``actor`` column)."""
