"""Composition: rule inputs, channels, sampling weights, silencing, parallel tasks."""

import json

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks


@pytest.fixture
def two_tasks():
    return [tasks.make("flipflop", n_bits=2, add_noise=False), tasks.make("tmaze", add_noise=False)]


def test_interleave_places_each_task_on_its_own_channels(two_tasks):
    multi = tasks.compose(two_tasks, weights=[1, 3])
    batch = multi.generate(64, 0)
    ff, tm = two_tasks
    assert (
        multi.n_inputs == ff.n_inputs + tm.n_inputs + 2
        and multi.n_outputs == ff.n_outputs + tm.n_outputs
    )
    for k, task in enumerate(two_tasks):
        rows, view = multi.sub_batch(batch, k)
        again = task.from_conditions(view.conditions)
        for name in ("inputs", "targets", "weights"):
            assert np.array_equal(getattr(view, name), getattr(again, name)), name
        rule = batch.inputs[:, rows, multi.n_inputs - 2 + k]
        assert np.array_equal(rule, batch.valid[:, rows].astype(np.float32))
        other = batch.inputs[:, rows, multi.n_inputs - 2 + (1 - k)]
        assert not other.any()


def test_sampling_weights_set_task_frequencies(two_tasks):
    owner = tasks.compose(two_tasks, weights=[1, 3]).generate(4000, 1).conditions["task_index"]
    assert abs((owner == 1).mean() - 0.75) < 4 * np.sqrt(0.75 * 0.25 / 4000)


def test_idle_outputs_are_trained_to_rest(two_tasks):
    multi = tasks.compose(two_tasks)
    batch = multi.generate(32, 2)
    rows, _ = multi.sub_batch(batch, 1)
    ff_out = slice(0, 2)
    assert not batch.targets[:, rows, ff_out].any()
    assert np.array_equal(
        batch.weights[:, rows, ff_out], np.repeat(batch.valid[:, rows, None], 2, axis=2)
    )


def test_performance_uses_each_tasks_metric(two_tasks):
    multi = tasks.compose(two_tasks)
    batch = multi.generate(32, 3)
    assert np.all(multi.performance(batch.targets, batch) == 1)
    wrong = batch.targets.copy()
    rows, _ = multi.sub_batch(batch, 1)
    wrong[:, rows, 2:] = wrong[:, rows, 2:][:, :, ::-1]
    score = multi.performance(wrong, batch)
    assert np.all(score[rows] == 0) and np.all(np.delete(score, rows) == 1)


def test_two_one_bit_flipflops_with_one_silenced():
    ff = tasks.make("flipflop", n_bits=1, noise_scale=0.1)
    multi = tasks.compose([ff, ff], mode="parallel", rule_inputs=False, silenced=["flipflop_1"])
    batch = multi.generate(16, 4)
    assert multi.input_names == ("flipflop_0.pulse_0", "flipflop_1.pulse_0")
    assert np.abs(batch.targets[:, :, 0]).max() == 1 and not batch.targets[:, :, 1].any()
    assert batch.weights[:, :, 1].sum() > 0  # the silenced bit is trained to stay at rest
    silent_in = batch.inputs[:, :, 1][batch.valid]
    assert abs(silent_in.std() - 0.1) < 0.01 and abs(silent_in.mean()) < 0.01  # noise only
    assert np.all(multi.performance(batch.targets, batch) == 1)


def test_shared_channels_need_equal_shapes(two_tasks):
    with pytest.raises(InvalidParameterError, match="channels='shared' needs every task"):
        tasks.compose(two_tasks, channels="shared")
    shared = tasks.compose(
        [tasks.make("flipflop"), tasks.make("flipflop", "long")], channels="shared"
    )
    assert shared.n_inputs == 3 + 2 and shared.output_names == ("state_0", "state_1", "state_2")
    batch = shared.generate(8, 0)
    assert batch.n_steps == 600  # the long version's 6 s at 10 ms


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"mode": "serial"}, "'mode'"),
        ({"channels": "mixed"}, "'channels'"),
        ({"weights": [1]}, "'weights'"),
        ({"weights": [-1, 2]}, "'weights'"),
        ({"silenced": ["nope"]}, "'silenced'"),
        ({"mode": "parallel"}, "parallel"),
        ({"labels": ["a", "a"]}, "'labels'"),
    ],
)
def test_bad_options_are_named(two_tasks, options, fragment):
    with pytest.raises(InvalidParameterError, match=fragment):
        tasks.compose(two_tasks, **options)


def test_config_round_trip_and_determinism(two_tasks):
    multi = tasks.compose(two_tasks, weights=[2, 1], silenced=["tmaze"])
    again = tasks.from_config(json.loads(json.dumps(multi.config())))
    assert again.generate(16, 5).equals(multi.generate(16, 5))
    assert not multi.generate(16, 5).equals(multi.generate(16, 6))


def test_test_grid_stacks_every_tasks_grid(two_tasks):
    multi = tasks.compose(two_tasks)
    grid = multi.generate_test()
    sizes = [t.generate_test().batch_size for t in two_tasks]
    assert grid.batch_size == sum(sizes)
    assert np.all(multi.performance(grid.targets, grid) == 1)
