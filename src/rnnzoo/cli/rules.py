"""`rnnzoo rules ...`: the learning rules, their cards and hyperparameters (`--set rule.KEY`)."""

from __future__ import annotations

import textwrap
from typing import Annotated

import typer

from rnnzoo.cli._common import JsonOpt, one_line_errors, print_json

app = typer.Typer(help="The learning rules: list them and show their cards.", no_args_is_help=True)


@app.command("list")
@one_line_errors
def list_rules(as_json: JsonOpt = False) -> None:
    """Every learning rule."""
    from rnnzoo.training.rules import describe_all_rules

    rows = describe_all_rules()
    if as_json:
        print_json(rows)
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        typer.echo(f"{r['name']:<{width}}  {r['title']}")


@app.command("show")
@one_line_errors
def show(
    name: Annotated[str, typer.Argument(help="rule name (see `rnnzoo rules list`)")],
    as_json: JsonOpt = False,
) -> None:
    """The card of a rule: source, equations, networks, what it trains, cost, hyperparameters."""
    from rnnzoo.training.rules import describe_rule

    card = describe_rule(name)
    if as_json:
        print_json(card)
        return
    typer.echo(f"{card['title']}  [{card['name']}]\n")
    for label, key in (
        ("Source", "source"),
        ("Update", "equations"),
        ("Trains", "trains"),
        ("Optimiser", "optimizer"),
        ("Ensembles", "ensemble"),
        ("Memory", "memory"),
        ("Checkpoints", "resume"),
        ("Notes", "notes"),
    ):
        if card[key]:
            typer.echo(
                f"{label}:\n"
                + textwrap.fill(card[key], 96, initial_indent="  ", subsequent_indent="  ")
                + "\n"
            )
    typer.echo(f"Networks: {', '.join(card['networks'])}\n")
    rows = card["hyperparameters"]
    if not rows:
        typer.echo("Hyperparameters: none (the training settings apply, see TrainConfig)")
        return
    typer.echo("Hyperparameters (--set rule.NAME=VALUE; default, unit, range):")
    for row in rows:
        details = ", ".join(x for x in (repr(row["default"]), row["unit"], row["range"]) if x)
        typer.echo(f"  {row['name']} ({details})\n      {row['description']}")
