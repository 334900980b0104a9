"""Local time without zoneinfo: a zone's UTC offsets over a span, computed once outside workflows.

People live by local dates: a meeting "on 3 March" in Helsinki, a deadline "by the end of the
day". Workflows keep UTC and Temporal's sandbox refuses ``zoneinfo``, so the programme's zone is
resolved at launch (``domain.calendar.zone_offsets``) into its offsets and transitions over the
programme's span; these travel with the relationship's first event, and every local date and
every calendar step (months, days) is computed from them, deterministically, on replay too.
"""

import bisect
from datetime import UTC, date, datetime, timedelta

from pydantic import AwareDatetime

from domain.model import Frozen


class Transition(Frozen):
    at: AwareDatetime
    """The instant (UTC) from which ``offset`` applies."""
    offset: int
    """Seconds east of UTC."""


class ZoneOffsets(Frozen):
    """The offsets of one zone (``name``, e.g. Europe/Helsinki) over a span of years."""

    name: str
    initial: int
    """Seconds east of UTC before the first transition."""
    transitions: tuple[Transition, ...] = ()

    def offset_at(self, instant: datetime) -> timedelta:
        """The offset of the last transition at or before ``instant`` (transitions in order)."""
        after = bisect.bisect_right(self.transitions, instant, key=_at)
        return timedelta(seconds=self.transitions[after - 1].offset if after else self.initial)

    def to_local(self, instant: datetime) -> datetime:
        """The wall-clock time at ``instant`` (naive)."""
        return (instant.astimezone(UTC) + self.offset_at(instant)).replace(tzinfo=None)

    def from_local(self, wall: datetime) -> datetime:
        """The UTC instant of a wall-clock time (naive); the earlier one when it is ambiguous."""
        as_if_utc = wall.replace(tzinfo=UTC)
        before = self.offset_at(as_if_utc - timedelta(days=1))
        after = self.offset_at(as_if_utc + timedelta(days=1))
        valid = [t for t in (as_if_utc - before, as_if_utc - after) if self.to_local(t) == wall]
        # In a spring-forward gap no instant has this wall time: take it as the offset before
        # the change would have it (02:30 becomes 03:30).
        return min(valid, default=as_if_utc - before)

    def local_date(self, instant: datetime) -> date:
        return self.to_local(instant).date()

    def shifted(self, by: timedelta) -> "ZoneOffsets":
        """The same offsets ``by`` later (a simulation runs a past calendar from today)."""
        moved = tuple(t.model_copy(update={"at": t.at + by}) for t in self.transitions)
        return self.model_copy(update={"transitions": moved})


def _at(t: Transition) -> datetime:
    return t.at


def local_date(instant: datetime, zone: ZoneOffsets | None) -> date:
    """``instant``'s date where the programme is (its UTC date when no zone is known)."""
    return zone.local_date(instant) if zone is not None else instant.astimezone(UTC).date()
