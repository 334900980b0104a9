"""The coordinator's and the participant's guides stay true: linked from the README, every
command they show exists, and every e-mail they quote is one Mentorflow writes."""

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
