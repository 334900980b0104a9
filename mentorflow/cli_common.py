"""What every command group of the CLI shares: the one-line failure and common options."""

import sys
from typing import Annotated, NoReturn

import typer
from typer.core import TyperArgument, TyperOption

JsonFlag = Annotated[bool, typer.Option("--json", help="Print the result as JSON (for machines).")]


def fail(message: str) -> NoReturn:
    """The one-line reason on stderr, exit code 1."""
    print(f"mentorflow: {' '.join(message.split())}", file=sys.stderr)
    raise typer.Exit(1)


def _argument_name(self: TyperArgument) -> str:
    return str(self.metavar or (self.name or "").upper())


def _usage_name(self: TyperArgument) -> str:
    name = _argument_name(self) if self.required else f"[{_argument_name(self)}]"
    return name + ("..." if self.nargs != 1 else "")


def _flag_type(self: TyperOption, ctx: typer.Context) -> str | None:
    if self.is_flag:
        return None
    return _option_type(self, ctx)


# Readable --help: typer writes a required argument as `{file}` in the usage line and `<bool>`
# after every flag; people read `FILE`, and a flag takes no value to describe.
_option_type = TyperOption.display_type_rich
TyperArgument._usage_display_name = _usage_name  # type: ignore[method-assign]
TyperArgument.display_name_raw = property(_argument_name)  # type: ignore[assignment,method-assign]
TyperOption.display_type_rich = _flag_type  # type: ignore[method-assign,assignment]
