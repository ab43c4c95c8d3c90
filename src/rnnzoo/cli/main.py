"""Entry point of the `rnnzoo` command."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnzoo import __version__
from rnnzoo.cli import bench, latent, models, rules, tasks
from rnnzoo.cli._common import OneLineUsageErrors, one_line_errors
from rnnzoo.cli.analyze import analyze
from rnnzoo.cli.gui import gui
from rnnzoo.cli.train import settings_help, train

app = typer.Typer(
    cls=OneLineUsageErrors,
    help="rnnzoo: standardized cognitive tasks and recurrent networks for neuroscience.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(tasks.app, name="tasks")
app.add_typer(models.app, name="models")
app.add_typer(bench.app, name="bench")
app.add_typer(rules.app, name="rules")
app.add_typer(latent.app, name="latent")
app.command("train", epilog=settings_help())(train)
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
    plugin: Annotated[
        list[str] | None,
        typer.Option(
            "--plugin",
            help="a module or .py file that registers your own tasks or networks (repeatable; "
            "also RNNZOO_PLUGINS and the 'rnnzoo.plugins' entry points): rnnzoo --plugin "
            "my_tasks.py tasks list",
        ),
    ] = None,
) -> None:
    """rnnzoo command line."""
    if plugin:
        _add_plugins(plugin)


@one_line_errors
def _add_plugins(specs: list[str]) -> None:
    from rnnzoo.plugins import add_plugins

    add_plugins(specs)


if __name__ == "__main__":
    app()
