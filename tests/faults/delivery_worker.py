"""A worker process the kill test can SIGKILL: ``python -m tests.faults.delivery_worker
TEMPORAL_ADDRESS DATABASE_URL SMTP_PORT TASK_QUEUE``. Prints ``loaded`` once its imports are
done, waits for a line on its standard input, then prints ``ready`` once it polls: the test keeps
the next worker loaded while the current one sends, so that a kill costs no start-up time."""

import asyncio
import sys
from datetime import timedelta

from activities.mail.postman import RetryTiming
from activities.mail.smtp import SmtpConfig
from mentorflow import embedded
from store.pool import create_pool
from tests.mail_relay import PASSWORD, USERNAME
from worker import build_worker

TIMING = RetryTiming(
    first_retry=timedelta(milliseconds=200),
    max_retry=timedelta(seconds=1),
    give_up_after=timedelta(minutes=5),  # longer than every kill and restart of the test
)


async def main(address: str, database_url: str, smtp_port: int, task_queue: str) -> None:
    client = await embedded.connect(address, "default")
    pool = await create_pool(database_url)
    # A short SMTP timeout makes a short claim lease (twice the timeout): a killed sender's
    # claim can be taken over ten seconds later.
    config = SmtpConfig(
        host="127.0.0.1", port=smtp_port, username=USERNAME, password=PASSWORD, timeout=5
    )
    async with build_worker(client, pool, config, task_queue, delivery=TIMING):
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    address, url, port, queue = sys.argv[1:5]
    print("loaded", flush=True)
    sys.stdin.readline()
    asyncio.run(main(address, url, int(port), queue))
