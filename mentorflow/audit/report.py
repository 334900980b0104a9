"""``mentorflow audit verify`` and ``export``: the checks an auditor runs, as one report."""

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel

from mentorflow.audit.checkpoint import Checkpoint, check, fingerprint
from mentorflow.audit.histories import HistoryReplay, replay_archived
from mentorflow.audit.records import (
    AuditError,
    RelationshipAsOf,
    local,
    relationship_as_of,
    relationship_id_of,
)
from store.integrity import verify_log, verify_stream
from store.sealing import Sealer
from workflows.messages import workflow_id


class AuditReport(BaseModel):
    """``mentorflow audit verify --json``: stable, documented in the README."""

    scope: str
    """``all`` or the relationship id."""
    ok: bool
    log: dict[str, Any]
    """The chain check: events, streams, head_position, head_hash, broken (the first link that
    does not hold: problem, global_position, stream_id, version), seconds."""
    histories: HistoryReplay
    checkpoint: str | None
    """``ok``, or what is wrong with the log against the checkpoint; None without one."""
    checkpoint_key: str | None = None
    """The fingerprint of the trusted key the checkpoint was checked with."""
    seconds: float


async def verify(
    pool: asyncpg.Pool,
    workflows: Sequence[type],
    relationship_id: str | None = None,
    checkpoint_file: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    trusted_key: str | None = None,
    trusted_fingerprint: str | None = None,
    taken: Checkpoint | None = None,
) -> AuditReport:
    """``taken``: a checkpoint already read (the web form), instead of ``checkpoint_file``."""
    started = time.perf_counter()
    relationship_id = relationship_id and relationship_id_of(relationship_id)
    async with pool.acquire() as conn:
        if relationship_id is None:
            log = await verify_log(conn, progress)
        else:
            log = await verify_stream(conn, workflow_id(relationship_id))
            if log.events == 0:
                raise AuditError(f"no relationship {relationship_id!r} in the event store")
        log.seconds = round(time.perf_counter() - started, 3)
        checkpoint = checkpoint_key = None
        if checkpoint_file is not None:
            taken = load_checkpoint(checkpoint_file)
        if taken is not None:
            problem = await check(conn, taken, trusted_key, trusted_fingerprint)
            checkpoint = problem or "ok"
            checkpoint_key = fingerprint(trusted_key) if trusted_key else trusted_fingerprint
    ids = None if relationship_id is None else [workflow_id(relationship_id)]
    histories = await replay_archived(pool, workflows, ids)
    return AuditReport(
        scope=relationship_id or "all",
        ok=log.ok and not histories.failures and checkpoint in (None, "ok"),
        log=log.as_json(),
        histories=histories,
        checkpoint=checkpoint,
        checkpoint_key=checkpoint_key,
        seconds=round(time.perf_counter() - started, 3),
    )


def load_checkpoint(path: Path) -> Checkpoint:
    try:
        return Checkpoint.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise AuditError(f"cannot read checkpoint {path}: {' '.join(str(e).split())}") from e


class AuditExport(BaseModel):
    """``mentorflow audit export --format json``: the relationship and its verification."""

    generated_at: datetime
    relationship: RelationshipAsOf
    verification: AuditReport


async def export(
    pool: asyncpg.Pool,
    workflows: Sequence[type],
    relationship_id: str,
    sealer: Sealer | None = None,
) -> AuditExport:
    relationship = await relationship_as_of(pool, relationship_id, None, sealer)
    verification = await verify(pool, workflows, relationship_id)
    return AuditExport(
        generated_at=datetime.now(UTC),
        relationship=relationship,
        verification=verification,
    )


def to_html(report: AuditExport) -> str:
    """A self-contained page (no external assets) a person can read and archive."""
    env = Environment(
        loader=PackageLoader("mentorflow.audit", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    zone = report.relationship.timezone
    return env.get_template("export.html").render(
        r=report, zone=zone, local=lambda at: local(at, zone)
    )
