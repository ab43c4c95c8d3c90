"""Learning rules in the trainer: exact resume, ensembles, run directories and results rows,
hyperparameters and impossible combinations rejected before training."""

from __future__ import annotations

import json
import re
from typing import Literal, get_args, get_origin

import pytest
import torch
from tests.training.test_trainer import assert_identical, weights
from typer.testing import CliRunner

from rnnzoo.cli.main import app
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import load_model
from rnnzoo.training import RunConfig, train
from rnnzoo.training.results import read_runs
from rnnzoo.training.rules import describe_rule, get_rule_class, rule_names, rule_params

TASK = {"task": "flipflop", "params": {"trial_ms": 300.0, "input_end_ms": 250.0}}
# a model each rule trains; noise on, so that the noise generator's state matters
MODELS = {
    "bptt": ("leaky_rate", {}),
    "force": ("leaky_current", {"g": 1.5}),
    "full_force": ("leaky_current", {}),
    "rflo": ("leaky_rate", {"activation": "tanh"}),
    "eprop": ("leaky_current", {}),
    "node_perturbation": ("leaky_current", {"g": 1.5}),
    "a2c": ("leaky_rate", {}),
}
# a2c plays episodes: a task with a decision (a response window a sampled policy can hit)
TASKS = {"a2c": {"task": "perceptual_decision_making", "params": {"dt_ms": 50, "decision_ms": 200}}}
HYPER = {"node_perturbation": {"warmup_trials": 4, "eta": 5.0, "perturbation_rate_hz": 20.0}}


def config(rule, ensemble=None, **train_settings):
    kind, options = MODELS[rule]
    base = {
        "batch_size": 4,
        "max_steps": 10,
        "eval_every": 3,
        "eval_batch_size": 8,
        "checkpoint_every": 4,
        "target_performance": 1.0,
    }
    return RunConfig(
        task=TASKS.get(rule, TASK),
        model={
            "kind": kind,
            "ensemble": ensemble,
            "options": {"n_hidden": 12, "recurrent_noise": 0.05, **options},
        },
        train={**base, **train_settings},
        rule={"name": rule, "hyperparameters": HYPER.get(rule, {})},
    )


@pytest.mark.parametrize("rule", rule_names())
def test_resume_equals_uninterrupted_for_every_rule(tmp_path, rule):
    cfg = config(rule, ensemble=2)
    full = train(cfg, tmp_path / "full")

    def interrupt(info):
        if info["step"] == 6:
            raise KeyboardInterrupt

    part = train(cfg, tmp_path / "part", callback=interrupt)
    assert part.status == "interrupted" and part.steps == 6
    done = train(cfg, tmp_path / "part", resume=True)
    assert done.steps == full.steps == 10
    before = weights(part.net)
    assert_identical(weights(full.net), weights(done.net))
    assert any(not torch.equal(before[k], full.net.state_dict()[k]) for k in before)  # it learns
    assert metrics(tmp_path / "part") == metrics(tmp_path / "full")


def metrics(run_dir):
    """Steps, losses and member performances of metrics.jsonl (not the wall-clock)."""
    lines = (run_dir / "metrics.jsonl").read_text().splitlines()
    keys = ("step", "loss", "performance_members")
    return [[json.loads(line)[k] for k in keys] for line in lines]


def test_checkpoints_written_before_rules_resume(tmp_path):
    """A checkpoint of BPTT from before the learner interface holds 'optimizer' at the top."""
    cfg = config("bptt")
    full = train(cfg, tmp_path / "full")

    def interrupt(info):
        if info["step"] == 5:
            raise KeyboardInterrupt

    train(cfg, tmp_path / "old", callback=interrupt)
    for state_file in (tmp_path / "old" / "checkpoints").glob("step_*/state.pt"):
        state = torch.load(state_file, weights_only=True)
        state["optimizer"] = state.pop("learner")["optimizer"]
        torch.save(state, state_file)
    done = train(cfg, tmp_path / "old", resume=True)
    assert_identical(weights(full.net), weights(done.net))


@pytest.mark.parametrize("rule", ["force", "full_force", "rflo", "eprop", "node_perturbation"])
def test_ensemble_member_equals_the_standalone_network(rule):
    """Member i of an ensemble learns exactly what the standalone network member=i learns: the
    rules' random draws (feedback, teacher, kicks) come from per-member streams."""
    cfg = config(rule, ensemble=3, max_steps=4)
    data = cfg.model_dump(mode="json")
    data["model"]["options"]["recurrent_noise"] = 0.0  # noise is drawn for the whole ensemble
    ens = train(RunConfig(**data))
    data["model"] = {**data["model"], "ensemble": None}
    data["model"]["options"] = {**data["model"]["options"], "member": 2}
    single = train(RunConfig(**data))
    got, want = weights(ens.net.member(2)), weights(single.net)
    for k in want:
        if "noise" not in k:
            torch.testing.assert_close(got[k], want[k], rtol=1e-5, atol=1e-6)


def test_run_directory_summary_and_results_carry_the_rule(tmp_path):
    result = train(config("force"), tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["rule"] == "force" and summary["method"] == "control"
    assert RunConfig.from_yaml(tmp_path / "run" / "config.yaml").rule.name == "force"
    (row,) = read_runs(tmp_path / "results.sqlite")
    assert row["rule"] == "force" and row["status"] == result.status
    reached = train(config("force", target_performance=0.5), tmp_path / "easy")
    assert reached.status == "reached"
    assert reached.trials_to_criterion == reached.steps_to_criterion * 4
    saved = load_model(tmp_path / "easy" / "model.safetensors")
    assert_identical(weights(saved), weights(reached.net))


def _invalid_values(info):
    """Values that break a field's declared constraint (numbers, choices, lists)."""
    values = []
    for meta in info.metadata:
        for attr, shift in (("gt", 0), ("ge", -1), ("lt", 0), ("le", 1)):
            bound = getattr(meta, attr, None)
            if bound is not None:
                sign = -1 if attr in ("gt", "ge") else 1
                values.append(bound + sign * max(abs(shift), 1e-3 * max(abs(bound), 1)))
    if get_origin(info.annotation) is Literal:
        values.append("not_" + str(get_args(info.annotation)[0]))
    if info.annotation == list[str]:
        values.append(5)
    return values


@pytest.mark.parametrize("rule", rule_names())
def test_bad_hyperparameters_are_rejected_with_their_name(rule):
    fields = get_rule_class(rule).Params.model_fields
    checked = 0
    for name, info in fields.items():
        for value in _invalid_values(info):
            with pytest.raises(InvalidParameterError, match=f"^{rule}: '{name}'"):
                rule_params(rule, **{name: value})
            checked += 1
    assert checked >= len(fields) or rule == "bptt"
    with pytest.raises(InvalidParameterError, match="unknown parameter 'learning_rat'"):
        rule_params(rule, learning_rat=1)
    assert describe_rule(rule)["hyperparameters"] == [] or checked


def test_a_bad_baseline_condition_names_the_conditions_the_task_has():
    cfg = config("node_perturbation").model_dump(mode="json")
    cfg["rule"]["hyperparameters"] = {"baseline_by": ["trial_kind"]}
    with pytest.raises(InvalidParameterError, match=r"'trial_kind'.*they have"):
        train(RunConfig(**cfg))


IMPOSSIBLE = [
    (["--rule", "force", "--set", "dale=true"], "rule 'force'.*dale=true"),
    (["--rule", "full_force", "--set", "rank=2"], "rule 'full_force'.*rank=2"),
    (["--rule", "force", "--set", "connection_prob=0.5"], "rule 'force'.*connection_prob"),
    (["--rule", "force", "--set", "train_output=false"], "rule 'force'.*train_output=false"),
    (["--rule", "full_force", "--set", "train_recurrent=false"], "train_recurrent=false"),
    (["--rule", "node_perturbation", "--set", "train_recurrent=false"], "train_recurrent=false"),
    (["--rule", "rflo", "--set", "readout=sigmoid"], "rule 'rflo'.*readout 'sigmoid'"),
    (["--rule", "eprop", "--model", "lstm"], "rule 'eprop'.*model 'lstm'"),
    (["--rule", "rflo", "--method", "dasc"], "rule 'rflo'.*method 'dasc'"),
    (["--rule", "force", "--set", "on_divergence=rollback"], "rule 'force'.*on_divergence=stop"),
    (["--rule", "rflo", "--set", "loss=cross_entropy"], "rule 'rflo'.*loss=mse"),
    (["--rule", "eprop", "--set", "l2_weights=0.1"], "rule 'eprop'.*l2_weights"),
    (
        [
            "--rule",
            "node_perturbation",
            "--set",
            "dt_ms=20",
            "--set",
            "rule.perturbation_rate_hz=60",
        ],
        "'perturbation_rate_hz' times dt_ms",
    ),
    (["--rule", "force", "--set", "rule.alpha=0"], r"force: 'alpha' must be > 0"),
    (["--rule", "forse"], "did you mean 'force'"),
    (["--rule", "a2c"], "rule 'a2c' needs a task with a decision: flipflop.*no response epoch"),
    (["--rule", "a2c", "--task", "pdm", "--model", "gru"], "rule 'a2c' trains the leaky"),
    (["--rule", "a2c", "--task", "pdm", "--method", "cd"], "rule 'a2c'.*method 'cd'"),
    (["--rule", "a2c", "--task", "pdm", "--set", "l2_activity=1"], "rule 'a2c'.*activity"),
    (["--rule", "a2c", "--task", "pdm", "--set", "rule.gamma=2"], r"a2c: 'gamma' must be"),
]


@pytest.mark.parametrize(("args", "message"), IMPOSSIBLE)
def test_impossible_combinations_fail_in_one_line_before_training(tmp_path, args, message):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "--out", str(out), *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and re.search(message, lines[0]), result.output
    assert not out.exists() and not (tmp_path / "results.sqlite").exists()


def test_rule_hyperparameters_from_the_command_line(tmp_path):
    out = tmp_path / "run"
    args = [
        "train",
        "--out",
        str(out),
        "--task",
        "and_memory",
        "--rule",
        "node_perturbation",
        "--max-steps",
        "2",
        "--set",
        "n_hidden=8",
        "--set",
        "rule.eta=0.3",
        "--set",
        'rule.baseline_by=["a"]',
        "--no-report",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    saved = RunConfig.from_yaml(out / "config.yaml")
    assert saved.rule.name == "node_perturbation"
    assert saved.rule.hyperparameters == {"eta": 0.3, "baseline_by": ["a"]}
    shown = CliRunner().invoke(app, ["rules", "show", "node_perturbation", "--json"])
    card = json.loads(shown.output)
    assert card["name"] == "node_perturbation" and not card["uses_optimizer"]
    assert {r["name"] for r in card["hyperparameters"]} >= {"eta", "kick", "baseline_by"}
    listed = json.loads(CliRunner().invoke(app, ["rules", "list", "--json"]).output)
    assert [r["name"] for r in listed] == rule_names()
