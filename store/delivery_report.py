"""What could not be delivered, per programme: read-only, for the coordinator's status."""

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True)
class FailedDelivery:
    kind: str
    person_id: str
    smtp_code: int | None
    error: str | None
    at: datetime


async def failed_deliveries(pool: asyncpg.Pool, programme_id: str) -> list[FailedDelivery]:
    """Failed deliveries of the programme's own notifications and its groups', oldest first."""
    groups = programme_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = await pool.fetch(
        "SELECT o.kind, d.person_id, d.smtp_code, d.error, d.updated_at AS at"
        " FROM deliveries d JOIN outbox o USING (event_id)"
        " WHERE d.state = 'failed' AND (o.stream_id = $1 OR o.stream_id LIKE $2)"
        " ORDER BY d.updated_at, d.person_id",
        f"programme:{programme_id}",
        f"relationship:{groups}:%",
    )
    return [FailedDelivery(**dict(r)) for r in rows]
