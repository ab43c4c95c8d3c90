"""Entry point of the `rnnzoo` command."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnzoo import __version__
from rnnzoo.cli import bench, latent, models, tasks
from rnnzoo.cli.analyze import analyze
from rnnzoo.cli.gui import gui
from rnnzoo.cli.train import train

app = typer.Typer(
    help="rnnzoo: standardized cognitive tasks and recurrent networks for neuroscience.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tasks.app, name="tasks")
app.add_typer(models.app, name="models")
app.add_typer(bench.app, name="bench")
app.add_typer(latent.app, name="latent")
app.command("train")(train)
app.command("analyze")(analyze)
app.command("gui")(gui)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rnnzoo {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """rnnzoo command line."""


if __name__ == "__main__":
    app()
