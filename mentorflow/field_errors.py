"""Validation errors said the way a coordinator can act on them.

Pydantic's messages are written for programmers ("Value error, ...", "String should match pattern
'^[A-Za-z0-9]...'"). :func:`explain` turns one error into what is wrong with the value and what is
allowed instead; a date written the Finnish way (``20.11.2026``) gets the ISO form to use.
"""

import re
from datetime import date
from typing import Any

from pydantic_core import ErrorDetails

from domain.model import Id

_PATTERNS = {
    Id.__metadata__[0].pattern: (  # type: ignore[attr-defined]
        "use letters a-z, digits, '.', '_' or '-' (at most 64, starting with a letter or digit;"
        " no spaces, no e-mail addresses)"
    ),
}
_DOTTED_DATE = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})\s*$")
_SLASHED_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


def explain(error: ErrorDetails) -> str:
    """One error's message: what is wrong and what is allowed, without pydantic's phrasing."""
    kind, ctx, value = error["type"], error.get("ctx") or {}, error.get("input")
    shown = _show(value)
    simple = _SIMPLE.get(kind)
    if simple is not None:
        return simple.format(value=shown, **{k: _show(v, quote=False) for k, v in ctx.items()})
    if kind in ("literal_error", "enum"):
        return f"{shown} is not allowed: use {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        help_ = _PATTERNS.get(ctx.get("pattern"), "it contains characters that are not allowed")
        return f"{shown} is not allowed: {help_}"
    if kind.startswith("date") or kind.startswith("datetime"):
        return _date_hint(value)
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else error["msg"]
    if kind == "value_error":
        return _value_error(error["msg"], shown)
    return error["msg"]


_SIMPLE = {
    "missing": "is required",
    "extra_forbidden": "is not a known field here (check its spelling)",
    "int_parsing": "{value} is not a whole number",
    "int_type": "{value} is not a whole number",
    "int_from_float": "{value} is not a whole number",
    "float_parsing": "{value} is not a number",
    "float_type": "{value} is not a number",
    "bool_parsing": "{value} is not allowed: use true or false",
    "bool_type": "{value} is not allowed: use true or false",
    "greater_than_equal": "{value} is too small: the least allowed is {ge}",
    "less_than_equal": "{value} is too large: the most allowed is {le}",
    "greater_than": "{value} is too small: it must be more than {gt}",
    "less_than": "{value} is too large: it must be less than {lt}",
    "string_too_long": "is too long: at most {max_length} characters",
    "string_type": "{value} is not allowed: write it as text",
    "list_type": "must be a list, such as [a, b]",
    "tuple_type": "must be a list, such as [a, b]",
    "dict_type": "must be a section of `key: value` lines",
    "model_type": "must be a section of `key: value` lines",
    "model_attributes_type": "must be a section of `key: value` lines",
}


def _date_hint(value: Any) -> str:
    text = str(value)
    for pattern in (_DOTTED_DATE, _SLASHED_DATE):  # both day first, as written in the Nordics
        match = pattern.match(text)
        if match:
            day, month, year = (int(g) for g in match.groups())
            try:
                suggestion = f" ({date(year, month, day).isoformat()})"
            except ValueError:
                suggestion = ""
            return f"{text!r} is not a date in the form needed: use YYYY-MM-DD{suggestion}"
    return f"{_show(value)} is not a date: use YYYY-MM-DD, such as 2026-11-20"


def _value_error(message: str, shown: str) -> str:
    message = message.removeprefix("Value error, ")
    if message.startswith("value is not a valid email address"):
        why = message.partition(": ")[2]
        return f"{shown} is not a valid e-mail address" + (f" ({why})" if why else "")
    return message


def _show(value: Any, quote: bool = True) -> str:
    if isinstance(value, str):
        return repr(value) if quote else value
    if isinstance(value, dict | list | tuple):
        return "the value given"
    return str(value)
