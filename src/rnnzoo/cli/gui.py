"""`rnnzoo gui`: the local web GUI (NiceGUI) over a folder of training runs."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer

from rnnzoo.cli._common import one_line_errors
from rnnzoo.errors import InvalidParameterError, RnnzooError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def gui(
    host: Annotated[
        str,
        typer.Option(
            "--host", help="address to listen on; other than 127.0.0.1 only when you mean it"
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port to listen on")] = 8080,
    runs_dir: Annotated[
        Path,
        typer.Option("--runs-dir", help="folder of the runs and their results.sqlite (created)"),
    ] = Path("out"),
) -> None:
    """Serve the GUI: choose a task, a model and training options, watch the task preview,
    start, stop and resume runs, follow their curves and look at their results."""
    _serve(host=host, port=port, runs_dir=runs_dir)


def check_port_free(host: str, port: int) -> None:
    """Raise InvalidParameterError unless ``port`` is in 1..65535 and free on ``host``."""
    if not 1 <= port <= 65535:
        raise InvalidParameterError(f"'--port' must be >= 1 and <= 65535; got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise InvalidParameterError(f"'--host': cannot resolve {host!r}") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise InvalidParameterError(
                f"'--port': cannot listen on {host}:{port} ({exc.strerror}); choose another port"
            ) from None


@one_line_errors
def _serve(*, host: str, port: int, runs_dir: Path) -> None:
    if runs_dir.exists() and not runs_dir.is_dir():
        raise InvalidParameterError(f"'--runs-dir': '{runs_dir}' is a file, not a folder")
    check_port_free(host, port)
    try:
        import nicegui  # noqa: F401
    except ImportError:
        raise RnnzooError("the GUI needs NiceGUI: pip install 'rnnzoo[gui]'") from None
    import torch

    from rnnzoo.gui.app import serve

    torch.set_num_threads(1)
    runs_dir.mkdir(parents=True, exist_ok=True)
    if host not in LOCAL_HOSTS:
        typer.echo(
            f"warning: listening on {host}: other machines can reach this GUI and start runs",
            err=True,
        )
    typer.echo(
        f"rnnzoo GUI on http://{host}:{port} (runs in {runs_dir.resolve()}); Ctrl-C stops it"
    )
    serve(runs_dir, host, port)
