"""The Yang et al. suite as a first-class task: one name, the paper's one-rule batches and
sampling weights, balanced evaluation batches, and a batch that costs no more than its rules."""

import importlib
import json
import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.errors import UnknownNameError
from rnnzoo.tasks.yang2019 import RULES, suite

compose_module = importlib.import_module("rnnzoo.tasks.compose")


def test_the_suite_is_a_task_name_with_a_short_config():
    multi = tasks.make("yang2019")
    assert "yang2019" in tasks.task_names()
    assert multi.labels == RULES and multi.mode == "blocked" and multi.n_inputs == 85
    config = multi.config()
    assert config == {
        "task": "yang2019",
        "version": "vanilla",
        "params": {"rules": list(RULES), "mode": "blocked"},
    }
    again = tasks.from_config(json.loads(json.dumps(config)))
    assert again.generate(6, 3).equals(multi.generate(6, 3))
    soo = tasks.make("yang2019", "soo2023", rules=("fdgo", "dm1"), dt_ms=10)
    assert soo.dt_ms == 10 and all(t.version == "soo2023" for t in soo.tasks)
    assert soo.config()["params"] == {"dt_ms": 10.0, "rules": ["fdgo", "dm1"], "mode": "blocked"}


def test_suite_parameters_are_checked_with_the_suites_name():
    with pytest.raises(InvalidParameterError, match=r"^yang2019/vanilla: 'dt_ms' must be > 0"):
        tasks.make("yang2019", dt_ms=250)
    with pytest.raises(InvalidParameterError, match="'weights' names rules not in the suite"):
        tasks.make("yang2019", rules=("fdgo",), weights={"dm1": 2})
    with pytest.raises(InvalidParameterError, match="unknown parameter 'rule'; did you mean"):
        tasks.make("yang2019", rule=("fdgo",))


def test_every_batch_is_one_rule_drawn_with_the_papers_weights():
    multi = tasks.make("yang2019")
    drawn = []
    for index in range(600):
        batch = multi.generate(4, 5, index=index)
        owner = batch.conditions["task_index"]
        assert len(set(owner.tolist())) == 1
        rule = RULES[owner[0]]
        drawn.append(rule)
        if index < 20:  # the rule's own timing, shared by the batch's trials, no padding
            assert len(set(batch.lengths.tolist())) == 1
            assert batch.inputs[:, :, 65 + owner[0]].all()
    for rule in RULES:
        p = (5 if rule in ("contextdm1", "contextdm2") else 1) / 28
        assert abs(drawn.count(rule) - 600 * p) <= 4.5 * math.sqrt(600 * p * (1 - p)), rule


def test_balanced_batches_give_every_rule_an_equal_share():
    multi = tasks.make("yang2019", add_noise=False)
    batch = multi.generate_balanced(50, 0)
    counts = np.bincount(batch.conditions["task_index"], minlength=20)
    assert batch.batch_size == 60 and counts.tolist() == [3] * 20
    scores = multi.performance_by_task(batch.targets, batch)
    assert list(scores) == list(RULES) and all(v == 1.0 for v in scores.values())
    wrong = batch.targets.copy()
    rows = np.flatnonzero(batch.conditions["task_index"] == RULES.index("dm1"))
    wrong[:, rows, 0] = 1.0  # keep fixating on dm1 trials
    assert multi.performance_by_task(wrong, batch)["dm1"] == 0.0
    assert multi.performance_by_task(wrong, batch)["dm2"] == 1.0


def test_a_suite_batch_draws_as_much_as_its_rules(monkeypatch):
    """Input noise is drawn on each rule's own trials (once per batch element), and only the
    trials of the batch are built: no rule does work over the whole batch."""
    drawn, built = [], []
    real_noise = compose_module.input_noise

    def counting_noise(rng, shape, *args):
        drawn.append(int(np.prod(shape)))
        return real_noise(rng, shape, *args)

    monkeypatch.setattr(compose_module, "input_noise", counting_noise)
    for task in (mixed := suite(mode="interleave")).tasks:
        original = task.build
        monkeypatch.setattr(
            task, "build", lambda c, f=original: built.append(len(next(iter(c.values())))) or f(c)
        )
    batch = mixed.generate(64, 1)
    assert sum(built) == 64  # each trial is built once, by its own rule
    assert sum(drawn) == batch.n_steps * 64 * 85  # one batch's worth of noise, not 20
    drawn.clear()
    blocked = tasks.make("yang2019")
    one = blocked.generate(64, 1)
    assert drawn == [one.n_steps * 64 * 85]


def test_tasks_joined_by_plus_are_a_composition():
    pair = tasks.make("fdgo+fdanti")
    assert pair.labels == ("fdgo", "fdanti") and pair.channels == "shared"
    assert pair.n_inputs == 85 and not pair.rule_inputs
    other = tasks.make("flipflop+tmaze")
    assert other.channels == "separate" and other.input_names[-2:] == (
        "rule.flipflop",
        "rule.tmaze",
    )
    with pytest.raises(UnknownNameError, match="did you mean 'fdgo'"):
        tasks.make("fdg+fdanti")


def test_composition_metric_and_rebuild_from_conditions():
    multi = tasks.make("yang2019", rules=("fdgo", "dmsgo"), mode="interleave")
    assert multi.metric.criterion == 0.9 and multi.metric.name == "accuracy"
    batch = multi.generate(12, 4)
    noiseless = tasks.make("yang2019", rules=("fdgo", "dmsgo"), mode="interleave", add_noise=False)
    assert multi.from_conditions(batch.conditions).equals(noiseless.generate(12, 4))
