"""What every command group of the CLI shares: the one-line failure and common options."""

import sys
from typing import Annotated, NoReturn

import typer

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON (for machines).")]


def fail(message: str) -> NoReturn:
    """The one-line reason on stderr, exit code 1."""
    print(f"mentorflow: {' '.join(message.split())}", file=sys.stderr)
    raise typer.Exit(1)
