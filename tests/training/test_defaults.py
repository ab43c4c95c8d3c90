"""One set of defaults for every entry point, the target from the task's criterion, a task's
recommended set-up with one switch, and what the command line says about its settings."""

import json

import pytest
from typer.testing import CliRunner

from rnnzoo import tasks
from rnnzoo.bench.sweep import run_configs, sweep_from_dict
from rnnzoo.cli.main import app
from rnnzoo.cli.train import build_config
from rnnzoo.errors import InvalidParameterError, did_you_mean
from rnnzoo.models import describe_kind
from rnnzoo.training import RunConfig, TrainConfig, recommended_config, train
from rnnzoo.training.build import build_network, build_task, target_performance
from rnnzoo.training.config import run_config

runner = CliRunner()


def cli_config(*sets, **options):
    """The config `rnnzoo train` builds from ``--set`` items and its other options."""
    return build_config(sets=list(sets), **options)


def test_command_line_python_config_file_and_bench_share_the_defaults(tmp_path):
    cli = cli_config(task="dm1")
    python = RunConfig(task={"task": "dm1", "version": "vanilla", "params": {}})
    assert cli.train == python.train == TrainConfig()
    assert cli.model == python.model
    path = tmp_path / "c.yaml"
    path.write_text("task: {task: dm1}\n")
    from_file = RunConfig.from_yaml(path)
    assert cli_config(config_file=path).train == from_file.train == TrainConfig()
    sweep = sweep_from_dict({"name": "s", "results": str(tmp_path), "tasks": ["dm1"]})
    bench = run_configs(sweep)[0].config
    defaults = TrainConfig().model_dump()
    assert {k: v for k, v in bench.train.model_dump().items() if k != "statistic"} == {
        k: v for k, v in defaults.items() if k != "statistic"
    }  # the runner judges each seed on its own (statistic min)
    # the network the defaults build is the one `rnnzoo models show` describes
    net = build_network(cli, build_task(cli))
    shown = {row["name"]: row["default"] for row in describe_kind("leaky_rate")["options"]}
    assert net.options.n_hidden == shown["n_hidden"] and net.options.tau_ms == shown["tau_ms"]


def test_the_target_defaults_to_the_tasks_criterion():
    for name, criterion in (("dm1", 0.9), ("flipflop", 0.95), ("yang2019", 0.9)):
        config = cli_config(task=name)
        assert config.train.target_performance is None
        assert target_performance(config, build_task(config)) == criterion
    assert cli_config("target_performance=0.5", task="dm1").train.target_performance == 0.5


def test_recommended_takes_the_yang_setup_and_set_goes_over_it():
    notes = []
    config = cli_config("lr=0.01", task="dm1", recommended=True, notes=notes)
    assert config.model.kind == "leaky_rate"
    assert config.model.options == {
        "n_hidden": 256,
        "tau_ms": 100.0,
        "activation": "relu",
        "recurrent_noise": 0.05,
        "readout": "sigmoid",
    }
    assert (config.train.lr, config.train.batch_size) == (0.01, 64)  # --set wins over it
    assert "Yang et al. (2019)" in notes[0] and "n_hidden=256" in notes[0]
    assert recommended_config("dm1").train.lr == 1e-3
    soo = recommended_config("yang2019", "soo2023")
    assert (soo.train.target_performance, soo.train.statistic) == (0.99, "mean_10_90")
    assert recommended_config("fdgo+fdanti").model.options["n_hidden"] == 256


def test_recommended_with_another_kind_keeps_the_options_it_has():
    notes = []
    config = cli_config(task="dm1", model="gru", recommended=True, notes=notes)
    assert config.model.kind == "gru"
    assert config.model.options == {"n_hidden": 256, "readout": "sigmoid"}
    assert "left out" in notes[1] and "tau_ms" in notes[1]


def test_recommended_without_a_source_setup_is_a_one_line_error(tmp_path):
    with pytest.raises(InvalidParameterError, match="'flipflop/vanilla' has no recommended"):
        recommended_config("flipflop")
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "r"), "--recommended"])
    assert result.exit_code == 2 and "has no recommended set-up" in result.stderr
    assert not (tmp_path / "r").exists()


def test_bench_sweeps_can_start_from_the_recommended_setup(tmp_path):
    sweep = sweep_from_dict(
        {
            "name": "s",
            "results": str(tmp_path),
            "tasks": ["dm1"],
            "models": [{"options": {"n_hidden": 16}}],
            "train": {"lr": 0.05},
            "recommended": True,
        }
    )
    config = run_configs(sweep)[0].config
    assert config.model.options["n_hidden"] == 16 and config.model.options["readout"] == "sigmoid"
    assert (config.train.lr, config.train.batch_size, config.train.statistic) == (0.05, 64, "min")
    with pytest.raises(InvalidParameterError, match=r"tasks\[0\].*no recommended"):
        sweep_from_dict(
            {"name": "s", "results": str(tmp_path), "tasks": ["flipflop"], "recommended": True}
        )


def test_the_card_shows_the_recommended_setup():
    card = tasks.make("dm1").card().to_dict()
    assert card["recommended"]["options"]["n_hidden"] == 256
    assert tasks.make("flipflop").card().to_dict()["recommended"] is None
    result = runner.invoke(app, ["tasks", "show", "yang2019"])
    assert result.exit_code == 0 and "rnnzoo train --recommended" in result.stdout


def test_train_help_lists_every_training_setting_with_its_default():
    result = runner.invoke(app, ["train", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for name, info in TrainConfig.model_fields.items():
        default = info.get_default(call_default_factory=True)
        if name != "target_performance":
            assert f"{name} = {default}" in result.stdout, name
    assert "target_performance = the task's criterion" in result.stdout
    assert "--recommended" in result.stdout


def test_a_set_name_of_model_and_task_says_where_it_went():
    notes = []
    config = cli_config("tau_ms=50", task="dm1", notes=notes)
    assert config.model.options["tau_ms"] == 50 and "tau_ms" not in config.task["params"]
    assert notes == [
        "--set tau_ms went to the model setting; task.tau_ms has the same name and was left "
        "unchanged (set it with --set task.tau_ms=...)"
    ]
    both = cli_config("model.tau_ms=50", "task.tau_ms=50", task="dm1", notes=(quiet := []))
    assert both.task["params"]["tau_ms"] == 50 and not quiet


def test_did_you_mean_prefers_the_closest_name(tmp_path):
    from rnnzoo.tasks import registry

    assert did_you_mean("dm", [*registry._TASKS, *registry._ALIASES]) == "; did you mean 'dm1'?"
    result = runner.invoke(app, ["train", "--out", str(tmp_path / "r"), "--task", "dm"])
    assert result.exit_code == 2 and "did you mean 'dm1'?" in result.stderr


def test_tasks_list_shows_aliases():
    result = runner.invoke(app, ["tasks", "list"])
    line = next(x for x in result.stdout.splitlines() if x.startswith("perceptual_decision_making"))
    assert "(also pdm)" in line


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path):
    args = ["train", "--out", str(tmp_path / "r"), "--max-steps", "4", "--no-report"]
    sets = ["n_hidden=8", "trial_ms=300", "input_end_ms=250", "batch_size=4", "eval_every=2"]
    args += [x for s in [*sets, "eval_batch_size=8"] for x in ("--set", s)]
    result = runner.invoke(app, args)  # its stderr is a plain stream, not a terminal
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stderr.splitlines() if x.startswith("training: step")]
    assert lines[0] == "training: step 0/4"
    assert [x.split()[2] for x in lines[1:]] == ["2/4", "4/4"]
    assert all(" loss " in x and " perf " in x for x in lines[1:])


def test_python_train_writes_the_report_like_the_command_line(tmp_path):
    config = run_config(
        {
            "task": {"task": "flipflop", "params": {"trial_ms": 300, "input_end_ms": 250}},
            "model": {"options": {"n_hidden": 8}},
            "train": {"max_steps": 2, "batch_size": 4, "eval_every": 1, "eval_batch_size": 8},
        }
    )
    train(config, tmp_path / "a", progress=False)
    assert (tmp_path / "a" / "report.png").stat().st_size > 1000
    train(config, tmp_path / "b", progress=False, report=False)
    assert not (tmp_path / "b" / "report.png").exists()
    summary = json.loads((tmp_path / "a" / "summary.json").read_text())
    assert summary["status"] == "max_steps"
