"""How ``recon COMMAND --help`` reads: sentences that wrap to the terminal, and after an option
the kind of value it takes (DIR, FILE, YYYY-MM-DD) or nothing for a flag — never a Python type
such as ``<bool>`` or ``<list[Path]>``, which newer typer versions print by default."""

from __future__ import annotations

import inspect
import re
from typing import Any

import typer.core

_LINE_BREAK = re.compile(r"(?<!\n)\n(?!\n)")


def one_line_paragraphs(text: str | None) -> str | None:
    """A docstring's paragraphs each on one line, so the help wraps them to the terminal's width
    instead of breaking a sentence where the source line ended."""
    if not text:
        return text
    return _LINE_BREAK.sub(" ", inspect.cleandoc(text))


class _Argument(typer.core.TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        """No type column: the argument's name (DATA_DIR, RUN_JSON, REVIEWED) says what to give."""
        return None


def plain_params(params: list[Any]) -> list[Any]:
    """Arguments without a type column; flags without one; options that take a value show their
    metavar (each recon option declares one, e.g. DIR or YYYY-MM-DD)."""
    for param in params:
        if type(param) is typer.core.TyperArgument:
            param.__class__ = _Argument
        elif isinstance(param, typer.core.TyperOption) and param.metavar is None:
            takes_value = not (param.is_flag or param.count)
            param.metavar = param.name.upper() if takes_value and param.name else ""
    return params


class _PlainHelp:
    """Help described above for a typer command or group: paragraphs on one line each, options
    with the kind of value they take."""

    help: str | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = one_line_paragraphs(self.help)

    def get_params(self, ctx: Any) -> list[Any]:
        return plain_params(super().get_params(ctx))  # type: ignore[misc]


class HelpCommand(_PlainHelp, typer.core.TyperCommand):
    """A recon command (``app.command(cls=HelpCommand)``) with the help described above."""


class HelpGroup(_PlainHelp, typer.core.TyperGroup):
    """The ``recon`` group and its sub-groups (``typer.Typer(cls=HelpGroup)``)."""
