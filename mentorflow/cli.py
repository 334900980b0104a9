"""The ``mentorflow`` command."""

import typer

app = typer.Typer(no_args_is_help=True, help="Mentoring programmes as durable workflows.")


def main() -> None:
    app()
