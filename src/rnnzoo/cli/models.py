"""`rnnzoo models ...`: the network kinds and their options (the names `--set` uses)."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnzoo.cli._common import JsonOpt, one_line_errors, print_json

app = typer.Typer(help="The network zoo: list kinds and show their options.", no_args_is_help=True)


@app.command("list")
@one_line_errors
def list_models(as_json: JsonOpt = False) -> None:
    """Every network kind."""
    from rnnzoo.models import describe_all

    rows = describe_all()
    if as_json:
        print_json(rows)
        return
    width = max(len(r["kind"]) for r in rows)
    for r in rows:
        typer.echo(f"{r['kind']:<{width}}  {r['title']}")


@app.command("show")
@one_line_errors
def show(
    kind: Annotated[str, typer.Argument(help="network kind (see `rnnzoo models list`)")],
    as_json: JsonOpt = False,
) -> None:
    """Options of a network kind with defaults, units and allowed values."""
    from rnnzoo.models import describe_kind

    info = describe_kind(kind)
    if as_json:
        print_json(info)
        return
    typer.echo(f"{info['kind']}: {info['title']}\n{info['description']}\n")
    typer.echo("option (default, unit, range; * = one value or one per ensemble member)")
    for row in info["options"]:
        details = ", ".join(x for x in (repr(row["default"]), row["unit"], row["range"]) if x)
        star = " *" if row["per_member"] else ""
        typer.echo(f"  {row['name']}{star} ({details})\n      {row['description']}")
