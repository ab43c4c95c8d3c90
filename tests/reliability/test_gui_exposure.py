"""GUI exposure: the project's own file names cannot be run names, figures are read from
inside a run's folder only, and the server answers only requests addressed to the host it
was asked to bind (no DNS rebinding, no socket.io for other origins)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import env, invoke, one_line_error

from rnnzoo.errors import InvalidParameterError
from rnnzoo.gui.analysis import read_analysis
from rnnzoo.gui.runs import RunManager

RESERVED = ["results.sqlite", "results.sqlite-wal", "results.sqlite-shm", "results.sqlite-journal"]


@pytest.mark.parametrize("name", [*RESERVED, "Results.SQLite"])
def test_the_results_table_names_are_reserved(tmp_path, name):
    with pytest.raises(InvalidParameterError, match="reserved"):
        RunManager(tmp_path).run_dir(name)
    line = one_line_error(invoke("train", "--out", str(tmp_path / name.lower())))
    assert "results table" in line and not (tmp_path / name.lower()).exists()


def test_figures_are_read_from_the_run_folder_only(tmp_path):
    run = tmp_path / "runs" / "a"
    analysis = run / "analysis"
    analysis.mkdir(parents=True)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    secret = tmp_path / "secret.png"
    secret.write_bytes(png)
    (analysis / "trials.png").write_bytes(png)
    (analysis / "link.png").symlink_to(secret)
    (analysis / "notes.txt").write_text("not a figure")
    figures = {
        "trials": "trials.png",
        "pca": str(secret),  # absolute
        "fixed_points": "../../../secret.png",  # climbs out
        "spectrum": "link.png",  # a link that leads out
        "connectivity": "notes.txt",  # not a PNG
        "latent_circuit": {"path": "trials.png"},  # not a name
    }
    (analysis / "summary.json").write_text(json.dumps({"figures": figures}))
    found = read_analysis(run)
    assert found is not None and found.figures == {"trials": (analysis / "trials.png").resolve()}


def test_allowed_hosts_follow_the_bind_address():
    from rnnzoo.gui.exposure import allowed_hosts, request_host

    assert allowed_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert allowed_hosts("192.0.2.7") == {"192.0.2.7"}
    assert {"localhost", socket.gethostname().lower()} <= allowed_hosts("0.0.0.0")
    assert request_host("127.0.0.1:8080") == "127.0.0.1" and request_host("[::1]:80") == "::1"
    assert request_host("http://Evil.example:8080") == "evil.example"
    assert request_host("null") == "null" and request_host("") is None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fetch(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}


def test_the_gui_listens_on_loopback_unless_told_and_warns_then(tmp_path, monkeypatch):
    import rnnzoo.gui.app

    served = []
    monkeypatch.setattr(rnnzoo.gui.app, "serve", lambda *args: served.append(args[1]))
    warning = "warning: listening on 0.0.0.0: other machines can reach this GUI"
    for host in ([], ["--host", "0.0.0.0"]):
        result = invoke("gui", *host, "--port", str(free_port()), "--runs-dir", str(tmp_path))
        assert result.exit_code == 0, result.output
        assert (warning in result.stderr) == bool(host), result.stderr
    assert served == ["127.0.0.1", "0.0.0.0"]


@pytest.mark.slow
def test_server_answers_only_its_own_host_and_origin(tmp_path):
    port = free_port()
    variables = {k: v for k, v in env().items() if not k.startswith(("PYTEST_", "NICEGUI_"))}
    command = [sys.executable, "-m", "rnnzoo.cli.main", "gui", "--port", str(port)]
    with open(tmp_path / "gui.log", "wb") as log:
        server = subprocess.Popen(
            [*command, "--runs-dir", str(tmp_path / "runs")],
            env=variables, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    own = {"Host": f"127.0.0.1:{port}"}
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (tmp_path / "gui.log").read_text()
            try:
                if fetch(base + "/", own)[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the GUI server did not start"
            time.sleep(0.5)
        assert fetch(base + "/", {"Host": f"localhost:{port}"})[0] == 200
        assert fetch(base + "/", {"Host": f"rebound.example:{port}"})[0] == 403
        poll = base + "/_nicegui_ws/socket.io/?EIO=4&transport=polling"
        status, headers = fetch(poll, {**own, "Origin": "http://evil.example"})
        assert status == 403 and "access-control-allow-origin" not in headers
        status, headers = fetch(poll, {**own, "Origin": f"http://127.0.0.1:{port}"})
        assert (
            status == 200 and headers["access-control-allow-origin"] == f"http://127.0.0.1:{port}"
        )
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
    assert Path(tmp_path / "runs").is_dir()
