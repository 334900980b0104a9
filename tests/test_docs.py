"""The coordinator's and the participant's guides stay true: linked from the README, every
command they show exists, and every e-mail they quote is one Mentorflow writes."""

import asyncio
import re
from pathlib import Path

from typer.testing import CliRunner

from mentorflow.cli import app
from tests.test_letter_language import letters

ROOT = Path(__file__).parent.parent
GUIDE = (ROOT / "docs" / "coordinator.md").read_text()


def test_the_readme_links_both_guides_after_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    for guide in ("docs/coordinator.md", "docs/participant.md"):
        assert f"]({guide})" in readme and (ROOT / guide).exists()
        assert readme.index(guide) > readme.index("make test")  # the two commands come first
    assert "(participant.md)" in GUIDE


def test_every_command_in_the_coordinators_guide_exists_with_its_options():
    runner = CliRunner()
    shown = re.findall(r"`(mentorflow [^`]+)`", GUIDE)
    assert len(shown) >= 5
    for command in shown:
        words = command.split()[1:]
        path = [w for w in words if re.fullmatch(r"[a-z][a-z-]*", w)][:2]
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, command
        for option in re.findall(r"--[a-z-]+", command):
            assert option in result.output, f"{option} of {command}"


def test_every_e_mail_the_guide_quotes_is_one_mentorflow_writes():
    written = [f"{w.subject}\n{w.body}" for _, _, w in letters("en")]
    quoted = re.findall(r'\*"(.+?)"\*', GUIDE)
    assert len(quoted) >= 10
    for quote in quoted:
        pieces = [p.strip(" :") for p in re.split(r"…|\bN\b", quote) if len(p.strip(" :")) > 3]
        assert any(all(p in text for p in pieces) for text in written), quote


def guide_steps() -> list[list[str]]:
    """The commands of the guide's walk-through, in order, optional parts left out."""
    steps = []
    for command in re.findall(r"`(mentorflow programme [^`]+)`", GUIDE):
        words = re.sub(r"\[[^\]]*\]", "", command).split()[1:]
        if words not in steps:
            steps.append(words)
    return steps


async def test_the_coordinators_walk_through_runs_as_written(
    mail, dev_env, pool, database_url, tmp_path, monkeypatch
):
    """Check, start, follow, approve, follow: each command as the guide writes it, its output
    as the guide describes it (real Temporal dev server, a worker on the event store)."""
    from mentorflow.deployment import worker_identity
    from store.identity import store_id
    from tests.test_programme_cli import future_programme, mentorflow
    from worker import build_worker
    from workflows import TASK_QUEUE
    from workflows.messages import programme_workflow_id, workflow_id

    steps = guide_steps()
    assert [s[:2] for s in steps[:4]] == [
        ["programme", "check"],
        ["programme", "start"],
        ["programme", "status"],
        ["programme", "approve-matching"],
    ]
    monkeypatch.setenv("MENTORFLOW_DATABASE_URL", database_url)
    address = dev_env.client.service_client.config.target_host
    pid = f"guide-{id(tmp_path) % 100_000}"
    file = future_programme(tmp_path, pid)

    def run(step: list[str]):
        argv = [str(file) if w == "programme.yaml" else pid if w == "ID" else w for w in step]
        return mentorflow(address, *argv)

    identity = worker_identity(await store_id(pool))
    async with build_worker(dev_env.client, pool, mail.config, TASK_QUEUE, identity=identity):
        check, start, status, approve = steps[:4]
        code, out, err = await run(check)
        assert code == 0 and out.endswith("- OK\n"), err
        code, out, err = await run(start)
        assert code == 0 and out.startswith(f"started programme:{pid}; event store "), err
        for _ in range(150):  # the matching runs at once: its day is today
            code, out, err = await run(status)
            if "proposal:" in out:
                break
            await asyncio.sleep(0.2)
        assert code == 0, err
        assert "(times in Europe/Helsinki)" in out and "ahead:" in out
        assert "(score: 10 points for each mentee goal" in out and "Heidi Mentor (m1)" in out
        assert f"approve with `mentorflow programme approve-matching {pid}`" in out
        code, out, err = await run(approve)
        assert (code, out) == (0, f"approved: 1 groups of {pid} are starting\n"), err
        for _ in range(50):
            code, out, err = await run(status)
            if f"group 1 ({pid}:1): running" in out:
                break
            await asyncio.sleep(0.2)
        assert f"group 1 ({pid}:1): running" in out, out
        for wid in (workflow_id(f"{pid}:1"), programme_workflow_id(pid)):
            await dev_env.client.get_workflow_handle(wid).terminate("test done")
