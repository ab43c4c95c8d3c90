"""`rnnzoo models show cordsnet` and `rnnzoo train --model cordsnet` from the command line."""

import json

from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.models import make_model

runner = CliRunner()


def test_show_lists_the_presets_and_every_hard_coded_number_as_an_option():
    result = runner.invoke(app, ["models", "show", "cordsnet", "--json"])
    assert result.exit_code == 0
    options = {row["name"]: row for row in json.loads(result.stdout)["options"]}
    assert "one of b3, R2, R4, R6, R8" in options["preset"]["range"]
    for name in (
        "channels",
        "strides",
        "kernel_size",
        "input_size",
        "input_channels",
        "stem_kernel",
        "tau_ms",
        "activation",
        "pixel_noise",
        "recurrent_noise",
        "backend_hidden",
        "init",
        "memory",
        "engine",
    ):
        assert name in options
    assert options["tau_ms"]["default"] == 10.0 and options["tau_ms"]["unit"] == "ms"
    net = make_model("cordsnet", 1, 1, dt_ms=10)
    assert net.options.n_hidden == 125
    text = runner.invoke(app, ["models", "show", "cordsnet"]).stdout
    assert "CordsNet" in text and "preset" in text


def test_train_a_cordsnet_on_a_vector_task_and_reject_bad_options(tmp_path):
    args = [
        "train",
        "--task",
        "pdm",
        "--model",
        "cordsnet",
        "--max-steps",
        "2",
        "--set",
        "eval_every=2",
        "--set",
        "eval_batch_size=8",
        "--set",
        "batch_size=4",
        "--no-report",
    ]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "ok")])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "ok" / "summary.json").read_text())
    assert summary["model"] == "cordsnet" and summary["steps"] == 2
    bad = runner.invoke(app, [*args, "--set", "channels=[0]", "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == [
        "error: cordsnet: 'channels' [0] input should be greater than or equal to 1; got 0."
    ]
    assert not (tmp_path / "bad").exists()
