"""Starting a programme by uploading its files, on a real Temporal dev server and PostgreSQL.

The files are read and checked as `mentorflow programme check` reads them: a bad programme file
or export shows every problem at its file, each naming its field or row, and nothing starts; a
good one starts the programme as `programme start` does, and the coordinator steers it.
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from mentorflow.runtime import build_worker
from store.staff import Role, StaffRegister
from tests.staff_helpers import sign_in_staff, staff_member
from tests.web_helpers import app_for, browser_client, csrf_of
from workflows import TASK_QUEUE
from workflows.messages import programme_workflow_id

ROOT = Path(__file__).parent.parent
EXAMPLE = ROOT / "examples" / "palkeet-pilot.yaml"


def future_programme(programme_id: str, email: str) -> dict:
    """The example programme moved to the future (matching today), run by ``email``."""
    data = yaml.safe_load(EXAMPLE.read_text())
    today = datetime.now(UTC).date()
    p = data["programme"]
    p.update(
        id=programme_id, starts_on=today + timedelta(days=2), ends_on=today + timedelta(days=400)
    )
    p["coordinator"]["email"] = email
    p["training"]["deadline"] = today - timedelta(days=1)
    p["matching"]["runs_on"] = today
    p["closing"]["event_on"] = today + timedelta(days=390)
    data.pop("behaviour")
    return data


async def upload(browser, page_text: str, programme: bytes, export: bytes | None = None):
    files = {"programme_file": ("programme.yaml", programme, "application/yaml")}
    if export is not None:
        files["participants_file"] = ("henkilosto.csv", export, "text/csv")
    return await browser.post("/staff/start", data={"csrf": csrf_of(page_text)}, files=files)


async def test_a_bad_upload_shows_its_problems_and_a_good_one_starts(dev_env, pool, mail):
    """Every problem at its file and field or row, nothing started; then the programme runs."""
    pid = f"up-{uuid.uuid4().hex[:8]}"
    email = f"pia-{uuid.uuid4().hex[:8]}@example.org"
    coordinator = await StaffRegister(pool).add(email, Role.COORDINATOR, (pid,))
    other = await staff_member(pool, Role.COORDINATOR, "other")
    auditor = await staff_member(pool, Role.AUDITOR)
    app, links = app_for(dev_env.client, pool, mail)
    good = future_programme(pid, email)
    bad = yaml.safe_load(yaml.safe_dump(good))
    bad["programme"]["starts_on"] = "20.11.2026"
    bad["programme"]["cadense"] = "P1M"
    export = (ROOT / "examples" / "henkilosto.csv").read_bytes()
    duplicate = "a6;Actor Six;a1@example.org;Aktori;suomi;it;boss4;;;;;vakituinen\r\n"
    without_people = {**good, "participants": []}
    async with (
        build_worker(dev_env.client, pool, mail.config, TASK_QUEUE),
        browser_client(app) as browser,
        browser_client(app) as other_browser,
        browser_client(app) as auditor_browser,
    ):
        await sign_in_staff(browser, links, coordinator)
        await sign_in_staff(other_browser, links, other)
        await sign_in_staff(auditor_browser, links, auditor)
        assert (await auditor_browser.get("/staff/start")).status_code == 403

        page = await browser.get("/staff/start")
        assert page.status_code == 200
        answer = await upload(browser, page.text, yaml.safe_dump(bad).encode())
        assert answer.status_code == 400
        assert 'id="programme_file-error"' in answer.text
        assert "<strong>programme.starts_on</strong>" in answer.text
        assert "2026-11-20" in answer.text  # the ISO form of the Finnish date
        assert "<strong>programme.cadense</strong>" in answer.text

        rows = export + duplicate.encode("cp1252")
        answer = await upload(browser, page.text, yaml.safe_dump(without_people).encode(), rows)
        assert answer.status_code == 400 and 'id="participants_file-error"' in answer.text
        assert "row 11" in answer.text and "a1@example.org" in answer.text
        assert not await pool.fetchval(
            "SELECT count(*) FROM programmes WHERE programme_id = $1", pid
        )

        other_page = await other_browser.get("/staff/start")
        refused = await upload(other_browser, other_page.text, yaml.safe_dump(good).encode())
        assert refused.status_code == 400
        assert f"{pid} is not one of your programmes" in refused.text
        assert not await pool.fetchval(
            "SELECT count(*) FROM programmes WHERE programme_id = $1", pid
        )

        started = await upload(browser, page.text, yaml.safe_dump(without_people).encode(), export)
        assert started.status_code == 200, started.text
        assert f'href="/staff/programmes/{pid}"' in started.text
        handle = dev_env.client.get_workflow_handle(programme_workflow_id(pid))
        for _ in range(150):  # real time: the matching runs as soon as the programme starts
            programme_page = await browser.get(f"/staff/programmes/{pid}")
            if programme_page.status_code == 200 and "approval" in programme_page.text:
                break
            await asyncio.sleep(0.2)
        assert "approval" in programme_page.text and "m1, m2" in programme_page.text
        finnish = await browser.get(f"/staff/programmes/{pid}", headers={"accept-language": "fi"})
        unmatched = finnish.text.split("Ilman ryhmää", 1)[1].split("</ul>", 1)[0]  # Not matched
        assert "mentorikoulutus ei ollut suoritettu" in unmatched and "(mentori)" in unmatched
        assert "not trained" not in unmatched  # the domain's English reason, worded again
        again = await upload(browser, page.text, yaml.safe_dump(without_people).encode(), export)
        assert again.status_code == 400 and "is already running" in again.text
        await handle.terminate("test done")
