"""``mentorflow audit``: read-only commands for auditors, against the event store only.

They need no Temporal server and write nothing: an auditor can run them as a member of the
``mentorflow_auditor`` role (SELECT only). Archived Temporal histories are replayed from the store.
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

if TYPE_CHECKING:
    import asyncpg

    from mentorflow.audit.records import Moment
    from mentorflow.audit.report import AuditReport
    from store.sealing import Sealer

from mentorflow.cli_common import JsonFlag, fail

T = TypeVar("T")

audit_app = typer.Typer(
    no_args_is_help=True,
    help="Replay, verify and export the record (read-only; MENTORFLOW_DATABASE_URL).",
)


def _relationship(value: str | None) -> str | None:
    from mentorflow.audit.records import relationship_id_of

    return None if value is None else relationship_id_of(value)


RelationshipArg = Annotated[
    str,
    typer.Argument(
        metavar="RELATIONSHIP",
        help="The relationship: `pilot:1` or its workflow id `relationship:pilot:1`.",
        callback=_relationship,
    ),
]


def _with_store(use: "Callable[..., Awaitable[T]]") -> T:
    """Open the event store read-only (no migration), run ``use(pool)``, one-line errors."""
    import asyncpg

    from mentorflow import embedded
    from mentorflow.audit.records import AuditError
    from mentorflow.database import database_url
    from mentorflow.log_setup import configure_logging
    from mentorflow.settings import Settings
    from store.migrate import schema_version
    from store.pool import create_pool

    settings = Settings()
    configure_logging("WARNING", settings.log_format)

    async def go() -> T:
        url = database_url(settings)
        try:
            pool = await create_pool(url, min_size=1, max_size=4)
        except (OSError, asyncpg.PostgresError) as e:
            raise AuditError(f"cannot reach the event store: {e}") from e
        try:
            if await schema_version(pool) < 3:
                raise AuditError(
                    "the event store has no hash chains yet: start a worker once to migrate it"
                )
            return await use(pool)
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except (AuditError, embedded.StackError) as e:
        fail(str(e))
    except asyncpg.PostgresError as e:
        fail(f"the event store refused the request: {e}")


def _sealer(pool: "asyncpg.Pool") -> "Sealer":
    """Opens the texts of a timeline (the master keys of the settings)."""
    from mentorflow.settings import Settings
    from store.sealing import Sealer

    return Sealer(pool, Settings().master())


def _moment(value: str | None) -> "Moment | None":
    from mentorflow.audit.records import parse_moment

    if value is None:
        return None
    try:
        return parse_moment(value)
    except ValueError:
        fail(
            f"--as-of {value!r} is not a date or a date-time (e.g. 2026-03-01, the end of that"
            " day in the programme's zone, or 2026-03-01T12:00)"
        )


@audit_app.command("replay")
def replay(
    relationship_id: RelationshipArg,
    as_of: Annotated[
        str | None,
        typer.Option(
            metavar="WHEN",
            help="The state as it was then (default: now): a date (the end of that day), or a"
            " date-time, in the programme's time zone unless it carries one.",
        ),
    ] = None,
    json_output: JsonFlag = False,
) -> None:
    """The relationship's state as of a moment (the workflow's own fold) and its timeline."""
    from mentorflow.audit.records import local, relationship_as_of

    moment = _moment(as_of)
    result = _with_store(
        lambda pool: relationship_as_of(pool, relationship_id, moment, _sealer(pool))
    )
    if json_output:
        print(result.model_dump_json(indent=2))
        return
    s, zone = result.state, result.timezone
    print(
        f"{result.relationship_id}: {result.events} of {result.total_events} events"
        + (f" up to {local(result.as_of, zone)}" if result.as_of else "")
        + f" (times in {zone})"
    )
    if s is None:
        print("  not started yet")
    else:
        closure = f", closed: {s.closure.outcome} ({s.closure.reason})" if s.closure else ""
        print(f"  phase {s.phase}{closure}")
        active = ", ".join(f"{p} ({m.role})" for p, m in s.members.items() if m.active)
        print(f"  active members: {active}")
        print(f"  meetings: {', '.join(f'{m.number}:{m.status}' for m in s.meetings) or '-'}")
    for entry in result.timeline:
        print(f"  {local(entry.at, zone)} {entry.actor:>10}  {entry.text}")


VerifiedArg = Annotated[
    str | None,
    typer.Argument(
        metavar="RELATIONSHIP",
        help="A relationship (`pilot:1` or `relationship:pilot:1`); or --all.",
        callback=_relationship,
    ),
]
CheckpointOption = Annotated[
    Path | None,
    typer.Option(help="A checkpoint file from `audit checkpoint`: the log must extend it."),
]
PublicKeyOption = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        help="The checkpoint key you trust (hex, or a file with it or its PEM); default"
        " MENTORFLOW_AUDIT_KEY_FINGERPRINT.",
    ),
]


@audit_app.command("verify")
def verify(
    relationship_id: VerifiedArg = None,
    all_: Annotated[bool, typer.Option("--all", help="The whole log and every archive.")] = False,
    checkpoint: CheckpointOption = None,
    public_key: PublicKeyOption = None,
    json_output: JsonFlag = False,
) -> None:
    """Check hash chains, versions and positions; replay archived Temporal histories.

    Names the first broken link; exit code 1 unless everything holds.
    """
    from mentorflow.audit.report import verify as run_verify
    from mentorflow.runtime import WORKFLOWS

    if (relationship_id is None) == (not all_):
        fail("give a relationship id or --all (not both)")
    if checkpoint is not None and relationship_id is not None:
        fail("--checkpoint checks the whole log: use it with --all")
    key, fingerprint = _trusted(checkpoint, public_key)
    progress = _progress_on_terminal if not json_output else None
    report = _with_store(
        lambda pool: run_verify(
            pool, WORKFLOWS, relationship_id, checkpoint, progress, key, fingerprint
        )
    )
    if json_output:
        print(report.model_dump_json(indent=2))
    else:
        _show_verification(report)
    if not report.ok:
        raise typer.Exit(1)


def _progress_on_terminal(done: int, total: int) -> None:
    if sys.stderr.isatty():
        print(f"\r  {done:,} of {total:,} events", end="", file=sys.stderr, flush=True)


def _show_verification(report: "AuditReport") -> None:
    log = report.log
    broken = log["broken"]
    chain = (
        f"BROKEN at position {broken['global_position']} (stream {broken['stream_id']},"
        f" version {broken['version']}): {broken['problem']}"
        if broken
        else f"OK: {log['events']:,} events in {log['streams']:,} stream(s), head"
        f" {log['head_position']} {log['head_hash'][:16]}..."
    )
    print(f"chains: {chain}")
    h = report.histories
    print(f"histories: {h.replayed} archived run(s) replayed, {len(h.failures)} differ")
    for f in h.failures:
        print(f"  {f.workflow_id} run {f.run_id}: {f.error}")
    if report.checkpoint is not None:
        print(f"checkpoint: {report.checkpoint} (trusted key {report.checkpoint_key})")
    print(f"{'OK' if report.ok else 'FAILED'} in {report.seconds:.2f} s")


def _trusted(checkpoint: Path | None, public_key: str | None) -> tuple[str | None, str | None]:
    """The key a checkpoint is checked with: given, or configured; refused when neither."""
    from mentorflow.audit.checkpoint import UntrustedKey, trusted_public_key
    from mentorflow.settings import Settings

    if checkpoint is None:
        if public_key is not None:
            fail("--public-key goes with --checkpoint")
        return None, None
    if public_key is not None:
        try:
            return trusted_public_key(public_key), None
        except (UntrustedKey, OSError) as e:
            fail(str(e))
    configured = Settings().audit_key_fingerprint
    if configured is None:
        fail(
            "--checkpoint needs a key you trust, apart from the checkpoint file: --public-key,"
            " or MENTORFLOW_AUDIT_KEY_FINGERPRINT"
        )
    return None, configured


@audit_app.command("checkpoint")
def checkpoint(
    key: Annotated[
        Path | None,
        typer.Option(help="Ed25519 key (PEM); default MENTORFLOW_DATA_DIR/audit-key.pem, created."),
    ] = None,
) -> None:
    """Print a signed digest of the log head (JSON); keep it outside the database.

    The log is verified first: a checkpoint of a broken log is refused.
    """
    from mentorflow.audit.checkpoint import UntrustedKey, fingerprint, load_or_create_key, sign
    from mentorflow.settings import Settings
    from store.integrity import verify_log

    async def take(pool: "asyncpg.Pool") -> str:
        async with pool.acquire() as conn:
            log = await verify_log(conn)
        if log.broken is not None:
            fail(f"the log is broken, no checkpoint: {log.broken.problem}")
        try:
            signing_key = load_or_create_key(key or Settings().data_dir / "audit-key.pem")
        except (UntrustedKey, OSError) as e:
            fail(str(e))
        taken = sign(signing_key, log.head_position, log.head_hash, datetime.now(UTC))
        # For the auditor to keep apart from the file: verify takes it as --public-key.
        print(
            f"signed with key {fingerprint(taken.public_key)} (public key {taken.public_key})",
            file=sys.stderr,
        )
        return taken.model_dump_json(indent=2)

    print(_with_store(take))


@audit_app.command("export")
def export(
    relationship_id: RelationshipArg,
    format_: Annotated[str, typer.Option("--format", help="json or html.")] = "html",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """A self-contained report of one relationship: timeline, state and verification."""
    from mentorflow.audit.report import export as run_export
    from mentorflow.audit.report import to_html
    from mentorflow.runtime import WORKFLOWS

    if format_ not in ("json", "html"):
        fail(f"--format {format_!r}: use json or html")
    report = _with_store(lambda pool: run_export(pool, WORKFLOWS, relationship_id, _sealer(pool)))
    text = report.model_dump_json(indent=2) if format_ == "json" else to_html(report)
    if output is None:
        print(text)
    else:
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output} ({'verified' if report.verification.ok else 'NOT verified'})")
