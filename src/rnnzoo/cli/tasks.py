"""`rnnzoo tasks ...`: list, show, preview and export tasks."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Annotated

import typer

from rnnzoo.cli._common import (
    JsonOpt,
    check_output_path,
    one_line_errors,
    parse_sets,
    print_json,
    save_figure,
)
from rnnzoo.tasks.seeding import MAX_SEED

app = typer.Typer(help="The task zoo: list, show, preview and export tasks.", no_args_is_help=True)

VersionOpt = Annotated[str, typer.Option("--version", "-v", help="task version")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--set", "-s", help="PARAM=VALUE (repeatable); durations: 500, uniform(200,800), ..."
    ),
]


@app.command("list")
@one_line_errors
def list_tasks(as_json: JsonOpt = False) -> None:
    """Every registered task with its versions (and the installed neurogym environments)."""
    from rnnzoo.tasks import describe_all

    rows = describe_all(interop=True)
    if as_json:
        print_json(rows)
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        if "error" not in r:
            aliases = f"  (also {', '.join(r['aliases'])})" if r.get("aliases") else ""
            typer.echo(
                f"{r['name']:<{width}}  {', '.join(r['versions']):<40}  {r['title']}{aliases}"
            )
    failed = [r for r in rows if "error" in r]
    if failed:
        typer.echo("\nneurogym environments that do not convert:")
        for r in failed:
            typer.echo(f"  {r['error']}")


@app.command("show")
@one_line_errors
def show(
    name: Annotated[str, typer.Argument(help="task name or alias")],
    version: VersionOpt = "vanilla",
    sets: SetOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The task card: what it models, its source, its definition and every parameter."""
    from rnnzoo.tasks import make

    card = make(name, version, **parse_sets(sets)).card()
    if as_json:
        print_json(card.to_dict())
        return
    wrap = textwrap.TextWrapper(width=96, initial_indent="  ", subsequent_indent="  ")
    typer.echo(f"{card.title}  [{card.name} / {card.version}]\n")
    for heading, text in (
        ("What it models", card.summary),
        ("Source", card.source),
        ("Definition", card.definition),
    ):
        typer.echo(f"{heading}:\n{wrap.fill(text)}\n")
    typer.echo(f"Inputs ({len(card.inputs)}): {', '.join(card.inputs)}")
    typer.echo(f"Outputs ({len(card.outputs)}): {', '.join(card.outputs)}")
    typer.echo(
        f"Metric: {card.metric['name']} (criterion {card.metric['criterion']}): "
        f"{card.metric['description']}\n"
    )
    typer.echo("Versions:")
    for vname, text in card.versions.items():
        typer.echo(f"  {'*' if vname == card.version else ' '} {vname}: {text}")
    if card.recommended is not None:
        rec = card.recommended
        settings = {**rec["options"], **rec["train"]}
        typer.echo(
            f"\nRecommended set-up (rnnzoo train --recommended): {rec['model']}, "
            + ", ".join(f"{k}={v}" for k, v in settings.items())
        )
        typer.echo(f"  {wrap.fill(rec['source']).strip()}")
    typer.echo("\nParameters (value [default] unit; allowed):")
    for p in card.parameters:
        default = "" if p["value"] == p["default"] else f" [default {p['default']}]"
        unit = f" {p['unit']}" if p["unit"] else ""
        allowed = f"; {p['allowed']}" if p["allowed"] else ""
        typer.echo(f"  {p['name']} = {p['value']}{default}{unit}{allowed}")
        typer.echo(f"      {p['description']}")
        if "steps" in p:
            typer.echo(f"      in steps: {p['steps']}")


@app.command("preview")
@one_line_errors
def preview(
    name: Annotated[str, typer.Argument(help="task name or alias")],
    out: Annotated[Path, typer.Option("--out", "-o", help="figure file (.png, .pdf or .svg)")],
    version: VersionOpt = "vanilla",
    sets: SetOpt = None,
    trials: Annotated[int, typer.Option(min=1, max=8, help="number of trials to draw")] = 3,
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="random seed")] = 0,
) -> None:
    """A figure of a few trials: inputs, targets and loss weights."""
    from rnnzoo.tasks import make
    from rnnzoo.tasks.plot import plot_trials

    check_output_path(out, (".png", ".pdf", ".svg"))
    task = make(name, version, **parse_sets(sets))
    batch = task.generate(trials, seed)
    fig = plot_trials(batch, n_trials=trials, title=f"{task.title} ({task.version}, seed {seed})")
    save_figure(fig, out)
    typer.echo(
        f"wrote {out} ({trials} trials of {task.name}/{task.version}, {batch.n_steps} steps "
        f"of {batch.dt_ms:g} ms)"
    )


@app.command("export")
@one_line_errors
def export(
    name: Annotated[str, typer.Argument(help="task name or alias")],
    out: Annotated[Path, typer.Option("--out", "-o", help="HDF5 file (.h5)")],
    batch_size: Annotated[
        int, typer.Option("--batch-size", "-b", min=1, max=1_000_000, help="trials")
    ],
    seed: Annotated[int, typer.Option(min=0, max=MAX_SEED, help="random seed")],
    version: VersionOpt = "vanilla",
    sets: SetOpt = None,
    split: Annotated[str, typer.Option(help="train, validation or test stream")] = "train",
) -> None:
    """Generate a batch and write it to HDF5 with the full configuration in its attributes."""
    from rnnzoo.datasets.hdf5 import export_task
    from rnnzoo.tasks import make

    check_output_path(out, (".h5", ".hdf5"))
    task = make(name, version, **parse_sets(sets))
    path = export_task(task, out, batch_size=batch_size, seed=seed, split=split)
    typer.echo(
        f"wrote {path} ({batch_size} trials of {task.name}/{task.version}, seed {seed}, {split})"
    )
