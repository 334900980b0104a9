"""``mentorflow mail``: what operators do about e-mail once a relay fault is fixed.

``resend`` takes up what the workflows could not deliver: deliveries held after a relay or
configuration fault outlasted the retry window, outbox rows no delivery ever took up (their
workflow was reset or terminated between the append and the delivery) and, with ``--failed``,
deliveries that failed for good. It sends them from this process, through the configured relay
(or the embedded Maildir server), with the same Message-IDs: a message that did go out before is
dropped by the receivers that de-duplicate.
"""

import asyncio
import json
from collections import Counter
from datetime import timedelta
from typing import Annotated
from uuid import UUID, uuid4

import asyncpg
import typer
from pydantic import BaseModel, ConfigDict

from activities.links import Links
from activities.mail.smtp import SmtpConfig
from mentorflow import embedded
from mentorflow.cli_common import JsonFlag, fail
from mentorflow.log_setup import configure_logging
from mentorflow.settings import Settings
from store.sealing import MasterKeys

mail_app = typer.Typer(no_args_is_help=True, help="E-mail: re-send what could not be delivered.")


class ResendResult(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    notifications: int
    """Outbox rows taken up."""
    sent: int
    """Messages sent now."""
    states: dict[str, int]
    """Deliveries of those notifications by state, afterwards."""
    relay_fault: str | None
    """The kind of relay fault that held messages again, if one did."""


async def resend(
    pool: asyncpg.Pool,
    config: SmtpConfig,
    programme_id: str | None,
    failed: bool,
    idle: timedelta,
    links: Links | None = None,
    master: MasterKeys | None = None,
) -> ResendResult:
    """Deliver what is held or left; ``master`` opens the texts letters quote."""
    from activities.mail.postman import DeliverInput, Postman
    from store.deliveries import DeliveryLog

    taken = await DeliveryLog(pool).to_resend(programme_id, failed, idle)
    programmes: dict[str, list[UUID]] = {}
    for programme, event_id in taken:
        programmes.setdefault(programme, []).append(event_id)
    postman, owner = Postman(pool, config, links=links, master=master), f"resend/{uuid4()}"
    sent, faults = 0, Counter[str]()
    for programme, ids in programmes.items():
        request = DeliverInput(programme_id=programme, event_ids=ids, final=True)
        report = await postman.deliver(request, owner)
        sent += report.sent
        if report.relay_fault:
            faults[report.relay_fault] += 1
    states = await DeliveryLog(pool).states_of([e for _, e in taken])
    fault = faults.most_common(1)[0][0] if faults else None
    return ResendResult(notifications=len(taken), sent=sent, states=states, relay_fault=fault)


@mail_app.command("resend")
def resend_command(
    failed: Annotated[
        bool, typer.Option("--failed", help="Also what failed for good (after fixing its cause).")
    ] = False,
    programme: Annotated[
        str | None, typer.Option("--programme", help="Only this programme's notifications.")
    ] = None,
    idle_minutes: Annotated[
        int,
        typer.Option(min=1, help="Take up undelivered notifications untouched for this long."),
    ] = 60,
    json_output: JsonFlag = False,
) -> None:
    """Re-send what could not be delivered: held after a relay fault, left behind by a stopped
    workflow, and with --failed what failed for good."""
    from mentorflow.database import database_url, open_database
    from mentorflow.runtime import links_of, mail_config

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)

    async def go() -> ResendResult:
        pool = await open_database(database_url(settings), settings.migrate)
        config, server = mail_config(settings)
        try:
            idle = timedelta(minutes=idle_minutes)
            links, master = links_of(settings), settings.master()
            return await resend(pool, config, programme, failed, idle, links, master)
        finally:
            await pool.close()
            if server is not None:
                server.stop()

    try:
        result = asyncio.run(go())
    except (embedded.StackError, OSError, asyncpg.PostgresError) as e:
        fail(f"mail resend failed: {e}")
    if json_output:
        print(result.model_dump_json())
        return
    print(
        f"{result.notifications} notifications taken up, {result.sent} messages sent;"
        f" deliveries now: {json.dumps(result.states)}"
    )
    if result.relay_fault:
        fail(f"the SMTP relay still fails ({result.relay_fault}): messages held again")
