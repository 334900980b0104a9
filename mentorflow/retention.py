"""The retention schedule: a Temporal Schedule that runs RetentionWorkflow daily.

Installed idempotently by every worker at start and by ``mentorflow privacy retention
--install``: created when missing, left as it is when it exists (described, not replaced, so
an operator's pause in the Temporal UI stays). It fires at 03:00 Europe/Helsinki; a run that is
late (the cluster was down) catches up once, never overlaps another.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
)

from activities.retention import DueErasures, due
from store.retention import programmes_and_people
from workflows import TASK_QUEUE
from workflows.retention import RETENTION_SCHEDULE, RetentionWorkflow

SCHEDULE_ZONE = "Europe/Helsinki"
SCHEDULE_HOUR = 3


@dataclass(frozen=True)
class Installed:
    schedule_id: str
    created: bool
    """False: it existed already and was left as it is."""
    next_runs: list[datetime]


def schedule(task_queue: str = TASK_QUEUE) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            RetentionWorkflow.run,
            id=RETENTION_SCHEDULE,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=6),
        ),
        spec=ScheduleSpec(
            calendars=[ScheduleCalendarSpec(hour=[ScheduleRange(SCHEDULE_HOUR)])],
            time_zone_name=SCHEDULE_ZONE,
        ),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=timedelta(days=1)),
    )


async def install(client: Client, task_queue: str = TASK_QUEUE) -> Installed:
    """Create the schedule unless it exists; what it is now."""
    created = True
    try:
        await client.create_schedule(RETENTION_SCHEDULE, schedule(task_queue))
    except ScheduleAlreadyRunningError:
        created = False
    described = await client.get_schedule_handle(RETENTION_SCHEDULE).describe()
    return Installed(RETENTION_SCHEDULE, created, list(described.info.next_action_times))


async def dry_run(pool: asyncpg.Pool, now: datetime) -> DueErasures:
    """Who the retention workflow would erase at ``now``, and who it would keep (and why)."""
    return due(await programmes_and_people(pool), now)
