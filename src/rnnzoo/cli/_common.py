"""Helpers shared by the CLI commands: --set parsing, one-line errors, atomic figure writes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
import typer.core
from typer.core import TyperGroup

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError, RnnzooError

JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable JSON output")]

P = ParamSpec("P")
R = TypeVar("R")

_WORDS = {"true": True, "false": False, "none": None, "null": None}


def parse_value(text: str) -> Any:
    """A --set value: JSON (numbers, lists, objects, true/false/null), True/False/None, else text."""
    lowered = text.strip().lower()
    if lowered in _WORDS:
        return _WORDS[lowered]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """Turn ["a=1", "b=uniform(1, 2)"] into {"a": 1, "b": "uniform(1, 2)"}."""
    values: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise InvalidParameterError(f"--set expects PARAM=VALUE; got {item!r}")
        values[key.strip()] = parse_value(raw)
    return values


def fail(message: str) -> None:
    """Print a one-line error to stderr and exit with status 2."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn rnnzoo's own errors into a one-line message and exit status 2 (no traceback)."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except RnnzooError as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(code=130) from None
        raise AssertionError("unreachable")

    return wrapper


class OneLineUsageErrors(TyperGroup):
    """The `rnnzoo` command: a usage error (an unknown option, a value of the wrong type or out
    of an option's range) is one line ``error: ...`` and exit status 2, like rnnzoo's own."""

    def main(  # type: ignore[override]
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except _CLICK.ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # the help (rich prints it at once)
                if not (typer.core.HAS_RICH and self.rich_markup_mode is not None):
                    exc.show()
                sys.exit(exc.exit_code)
            typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
            sys.exit(exc.exit_code)
        except typer.Abort:
            typer.echo("error: aborted", err=True)
            sys.exit(1)
        sys.exit(result if isinstance(result, int) else 0)


_CLICK = sys.modules[typer.BadParameter.__module__]  # click's exceptions (typer may vendor click)


def check_output_path(path: Path, suffixes: tuple[str, ...], option: str = "--out") -> Path:
    """Validate an output file path before any work is done."""
    if path.suffix.lower() not in suffixes:
        raise InvalidParameterError(
            f"'{option}' must end with {' or '.join(suffixes)}; got '{path}'"
        )
    if not path.parent.is_dir():
        raise InvalidParameterError(f"'{option}': folder '{path.parent}' does not exist")
    if path.is_dir():
        raise InvalidParameterError(f"'{option}': '{path}' is a folder")
    return path


def save_figure(fig: Any, path: Path) -> None:
    """Save a matplotlib figure atomically (temporary file, then rename)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)


def print_json(data: Any) -> None:
    """Write JSON to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")
