"""`rnnzoo models list/show`: kinds and options with the names `--set` uses."""

import json

from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.models import make_model, model_kinds

runner = CliRunner()


def test_list_json_has_every_kind_leaky_first():
    result = runner.invoke(app, ["models", "list", "--json"])
    assert result.exit_code == 0
    kinds = [row["kind"] for row in json.loads(result.stdout)]
    assert kinds == model_kinds() and kinds[:2] == ["leaky_rate", "leaky_current"]
    assert {"vanilla", "gru", "lstm"} <= set(kinds)


def test_show_json_options_build_the_model():
    result = runner.invoke(app, ["models", "show", "leaky_current", "--json"])
    info = json.loads(result.stdout)
    options = {row["name"]: row for row in info["options"]}
    assert options["tau_ms"]["unit"] == "ms" and options["tau_ms"]["per_member"]
    assert options["activation"]["default"] == "relu"
    assert "one of relu, tanh" in options["activation"]["range"]
    # the defaults shown are the defaults used
    net = make_model("leaky_current", 2, 2, **{"n_hidden": options["n_hidden"]["default"]})
    assert net.options.n_hidden == 128


def test_show_unknown_kind_is_one_line_error():
    result = runner.invoke(app, ["models", "show", "lstmm"])
    assert result.exit_code == 2
    assert "unknown model kind 'lstmm'; did you mean 'lstm'?" in result.output
