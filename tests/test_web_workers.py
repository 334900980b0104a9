"""`mentorflow web` with several processes: one socket, every process answering, one stop."""

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

from mentorflow.embedded import free_port
from tests.web_helpers import SECRET


def _children(pid: int) -> set[int]:
    found = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(pid):
            found.add(int(status.parent.name))
    return found


async def test_several_web_processes_share_one_port_and_stop_together(env, database_url, mail):
    """MENTORFLOW_WEB_WORKERS=2 serves from two processes on the one port; SIGTERM ends them."""
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "mentorflow"),
        "web",
        env={
            **os.environ,
            "MENTORFLOW_DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "MENTORFLOW_SECRET_KEY": SECRET,
            "MENTORFLOW_WEB_PORT": str(port),
            "MENTORFLOW_WEB_WORKERS": "2",
            "MENTORFLOW_SMTP_HOST": "127.0.0.1",
            "MENTORFLOW_SMTP_PORT": str(mail.config.port),
            "MENTORFLOW_SMTP_STARTTLS": "false",
            "MENTORFLOW_LOG_LEVEL": "WARNING",
        },
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            for _ in range(600):
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert (await client.get("/signin")).status_code == 200
        web_processes = [
            p
            for p in _children(server.pid)
            if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()
        ]
        assert len(web_processes) == 2
        server.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(server.wait(), 30) == 0
        assert not _children(server.pid)
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
