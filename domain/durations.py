"""ISO-8601 durations, so one policy can run in seconds in a test and in months in production.

``P1M`` is a calendar month (isodate keeps months and years symbolic), ``PT30S`` thirty seconds.
"""

import functools
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import isodate
from pydantic import AfterValidator

if TYPE_CHECKING:
    from domain.localtime import ZoneOffsets


@functools.lru_cache(maxsize=256)
def parse_duration(text: str) -> timedelta | isodate.Duration:
    """Parse an ISO-8601 duration; raise ``ValueError`` naming the text when it is not one.

    Cached: a schedule parses its policy's few durations at every step (durations are values,
    never changed in place)."""
    try:
        value = isodate.parse_duration(text)
    except (isodate.ISO8601Error, ValueError) as e:
        raise ValueError(f"{text!r} is not an ISO-8601 duration (e.g. P1M, P14D, PT1H30M)") from e
    # isodate.Duration has no sign test of its own; adding it to a fixed instant gives one.
    probe = datetime(2000, 1, 1) + value  # noqa: DTZ001 - only the difference is used
    if probe <= datetime(2000, 1, 1):  # noqa: DTZ001
        raise ValueError(f"{text!r} must be a positive duration")
    return value


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


IsoDuration = Annotated[str, AfterValidator(_check_duration)]
"""A positive ISO-8601 duration kept as text: it serialises as the user wrote it."""


def add(at: datetime, duration: str, times: int = 1, zone: "ZoneOffsets | None" = None) -> datetime:
    """``at`` plus ``times`` x ``duration``; months are calendar months (Jan 31 + P1M = Feb 28).

    With ``zone``, on the wall clock there: midnight plus a month (or a day) is midnight again,
    across a daylight-saving change too. Without, in UTC (histories recorded before zones).
    """
    value: Any = parse_duration(duration)
    if zone is not None:
        return zone.from_local(zone.to_local(at) + value * times)
    result: datetime = at + value * times
    return result


def subtract(at: datetime, duration: str, zone: "ZoneOffsets | None" = None) -> datetime:
    """``at`` minus ``duration`` (on ``zone``'s wall clock when given, see :func:`add`)."""
    value: Any = parse_duration(duration)
    if zone is not None:
        return zone.from_local(zone.to_local(at) - value)
    result: datetime = at - value
    return result
