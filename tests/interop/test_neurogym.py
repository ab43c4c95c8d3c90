"""neurogym environments as rnnzoo tasks, against the real neurogym package."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

neurogym = pytest.importorskip("neurogym")  # CI installs it (scripts/setup.sh, rnnzoo[neurogym])

from rnnzoo import tasks  # noqa: E402
from rnnzoo.errors import InvalidParameterError, UnknownNameError  # noqa: E402
from rnnzoo.interop.neurogym import neurogym_task, neurogym_task_names  # noqa: E402
from rnnzoo.tasks.check import check_task  # noqa: E402

warnings.filterwarnings("ignore", module="gymnasium")

# Every environment of the installed neurogym that does not convert, with the reason (the
# error it gives must say so; a newly convertible or newly broken env fails the test).
NOT_CONVERTIBLE = {
    "neurogym/AnnubesEnv": "missing 2 required positional arguments",  # no defaults to build
    "neurogym/Bandit": "builds no observation or no ground-truth array",  # reward-only
    "neurogym/DawTwoStep": "builds no observation or no ground-truth array",
    "neurogym/EconomicDecisionMaking": "builds no observation or no ground-truth array",
    "neurogym/Null": "builds no observation or no ground-truth array",
    "neurogym/Reaching1D": "is not an action index",  # ground truth is an angle
    "neurogym/Reaching1DWithSelfDistraction": "is not an action index",
}

PDM = "neurogym/PerceptualDecisionMaking"


def test_every_registered_env_is_listed():
    from neurogym.envs.registration import all_envs

    names = neurogym_task_names()
    assert len(names) == len(all_envs()) >= 25
    assert set(NOT_CONVERTIBLE) <= set(names)
    assert set(names) <= set(tasks.task_names(interop=True))
    assert not set(names) & set(tasks.task_names())  # the zoo alone stays the zoo


@pytest.mark.parametrize("name", neurogym_task_names())
def test_env_converts_and_passes_check_task_or_says_why(name):
    if name in NOT_CONVERTIBLE:
        with pytest.raises(InvalidParameterError, match=NOT_CONVERTIBLE[name]):
            check_task(tasks.make(name), batch_size=8)
        return
    task = tasks.make(name)
    check_task(task, batch_size=8)  # determinism, streams, layout, conditions, metric, globals
    card = task.card().to_dict()
    assert card["name"] == name and "neurogym" in card["source"]
    assert {p["name"] for p in card["parameters"]} >= {"dt_ms", "timing_scale"}


def test_trials_are_neurogyms_own_seeded_trials():
    """Trial b is exactly what neurogym's env makes after env.seed(trial_seed[b])."""
    from neurogym.envs.native.perceptualdecisionmaking import PerceptualDecisionMaking

    task = tasks.make(PDM, dt_ms=20, sigma=0.5)
    batch = task.generate(6, seed=3)
    env = PerceptualDecisionMaking(dt=20, sigma=0.5)
    for b, seed in enumerate(batch.conditions["trial_seed"]):
        env.seed(int(seed))
        trial = env.new_trial()
        n = batch.lengths[b]
        assert n == env.ob.shape[0]
        np.testing.assert_array_equal(batch.inputs[:n, b], env.ob)
        np.testing.assert_array_equal(batch.targets[:n, b].argmax(-1), env.gt)
        assert batch.conditions["coh"][b] == trial["coh"]
        assert batch.conditions["ground_truth"][b] == trial["ground_truth"]
        for period in ("fixation", "stimulus", "decision"):
            assert tuple(batch.epochs[period][b]) == (env.start_ind[period], env.end_ind[period])
    assert batch.inputs.dtype == np.float32 and (batch.weights[batch.lengths[0] :, 0] == 0).all()


def test_same_seed_same_batch_across_instances_and_no_global_state():
    # HierarchicalReasoning draws its first block in __init__: built twice, it must agree
    state = np.random.get_state()
    a = tasks.make("neurogym/HierarchicalReasoning").generate(12, seed=5)
    b = tasks.make("neurogym/HierarchicalReasoning").generate(12, seed=5)
    assert a.equals(b)
    assert not a.equals(tasks.make("neurogym/HierarchicalReasoning").generate(12, seed=6))
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_trial_depends_on_its_own_seed_only():
    task = tasks.make(PDM)
    batch = task.generate(8, seed=1)
    one = task.from_conditions({k: v[5:6] for k, v in batch.conditions.items()})
    assert one.equals(batch.select([5]))


def test_loss_weights_and_metric():
    task = tasks.make(PDM, response_weight=5.0)
    batch = task.generate(32, seed=0)
    gt = batch.targets.argmax(-1)
    valid = batch.valid
    np.testing.assert_array_equal(batch.weights[..., 0][valid], np.where(gt[valid] != 0, 5.0, 1.0))
    assert task.performance(batch.targets, batch).tolist() == [1.0] * 32
    wrong = batch.targets.copy()
    wrong[..., 1], wrong[..., 2] = batch.targets[..., 2], batch.targets[..., 1]
    assert task.performance(wrong, batch).sum() == 0
    fixate = np.zeros_like(batch.targets)
    fixate[..., 0] = 1
    assert task.performance(fixate, batch).sum() == 0


def test_psychometric_conditions_set_through_new_trial():
    task = tasks.make(PDM)
    batch = task.generate(10, seed=2)
    conditions = dict(batch.conditions, coh=np.full(10, 51.2), ground_truth=np.ones(10, int))
    strong = task.from_conditions(conditions)
    assert (strong.conditions["coh"] == 51.2).all() and (
        strong.conditions["ground_truth"] == 1
    ).all()
    assert (strong.targets.argmax(-1)[strong.epoch_mask("decision")] == 2).all()


def test_condition_an_env_cannot_set_is_an_error():
    task = tasks.make("neurogym/SpatialSuppressMotion")  # _new_trial(diameter, contrast, direction)
    batch = task.generate(2, seed=0)
    bad = {k: v.copy() for k, v in batch.conditions.items()}
    bad["diameter"] = bad["diameter"] + 1000.0
    with pytest.raises(InvalidParameterError, match="did not produce the conditions"):
        task.from_conditions(bad)


def test_versions_params_and_config_round_trip():
    vanilla = tasks.make(PDM, dt_ms=20)
    long = tasks.make(PDM, "long", dt_ms=20)
    assert long.generate(4, 0).lengths.tolist() == (3 * vanilla.generate(4, 0).lengths).tolist()
    realistic = tasks.make(PDM, "realistic")
    assert realistic.params.add_noise and not vanilla.params.add_noise
    task = tasks.make(PDM, dt_ms=20, cohs=[51.2], timing={"stimulus": 400})
    again = tasks.from_config(json.loads(json.dumps(task.config())))
    assert again.generate(5, 9).equals(task.generate(5, 9))
    assert (task.generate(8, 0).conditions["coh"] == 51.2).all()
    assert tasks.make("neurogym/PerceptualDecisionMaking-v0").name == PDM  # the id is an alias


def test_bad_input_is_one_line_naming_the_parameter():
    with pytest.raises(
        InvalidParameterError, match=r"no period 'stimuls'; did you mean 'stimulus'"
    ):
        tasks.make(PDM, timing={"stimuls": 300})
    with pytest.raises(InvalidParameterError, match="unknown parameter 'sigmaa'"):
        tasks.make(PDM, sigmaa=1.0)
    with pytest.raises(InvalidParameterError, match=r"'dt_ms' must be > 0 and <= 100"):
        tasks.make(PDM, dt_ms=500)
    with pytest.raises(InvalidParameterError, match=r"\[stimulus\] must be ms"):
        tasks.make(PDM, timing={"stimulus": "long"})
    with pytest.raises(UnknownNameError, match="did you mean 'neurogym/PerceptualDecisionMaking'"):
        tasks.make("neurogym/PerceptualDecisionMakng")
    with pytest.raises(InvalidParameterError, match="rejected its arguments"):
        tasks.make(PDM, dim_ring=-3)


def test_an_env_instance_becomes_a_task():
    from neurogym.envs.native.gonogo import GoNogo

    env = GoNogo(dt=20)
    timing = dict(env.timing)
    task = neurogym_task(env, timing_scale=2.0)
    assert task.params.dt_ms == 20 and env.timing == timing  # the instance is not changed
    batch = task.generate(4, seed=0)
    check_task(task, batch_size=4)
    assert task.performance(batch.targets, batch).min() == 1
    assert neurogym_task("GoNogo", dt_ms=20).name == "neurogym/GoNogo"
    from neurogym.envs.native.intervaldiscrimination import IntervalDiscrimination

    mine = IntervalDiscrimination(dt=20)  # timing entries are lambdas over the env itself
    before = mine.rng.get_state()[1].copy()
    a, b = neurogym_task(mine).generate(6, seed=2), neurogym_task(mine).generate(6, seed=2)
    assert a.equals(b) and np.array_equal(mine.rng.get_state()[1], before)
    with pytest.raises(InvalidParameterError, match="expected a neurogym TrialEnv"):
        neurogym_task(object())
