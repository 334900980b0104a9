"""`--help` of every command reads as people write commands: `FILE`, not `{file}`; no `<bool>`
after a flag, which takes no value."""

import re

import typer
from typer.testing import CliRunner

from mentorflow.cli import app


def commands(group=None, path=()):
    group = group or typer.main.get_command(app)
    for name, command in getattr(group, "commands", {}).items():
        yield (*path, name)
        yield from commands(command, (*path, name))


def test_every_help_names_arguments_in_capitals_and_flags_without_a_type():
    runner = CliRunner()
    seen = 0
    for path in commands():
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "160"})
        assert result.exit_code == 0, (path, result.output)
        usage = next(line for line in result.output.splitlines() if "Usage:" in line)
        assert not re.search(r"[{}]", usage) and not re.search(r"\[\[", usage), usage
        assert "<bool>" not in result.output, (path, result.output)
        seen += 1
    assert seen > 15
    start = runner.invoke(app, ["programme", "start", "--help"], env={"COLUMNS": "160"})
    assert "programme start [OPTIONS] FILE " in start.output
