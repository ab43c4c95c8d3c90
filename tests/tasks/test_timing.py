"""The rounding rule and the duration laws."""

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks
from rnnzoo.tasks.timing import Choice, Fixed, TruncExp, Uniform, steps


@pytest.mark.parametrize(
    ("ms", "dt", "expected"),
    [
        (100, 10, 10),
        (104.9, 10, 10),
        (105, 10, 11),
        (5, 10, 1),
        (4.99, 10, 0),
        (15, 10, 2),
        (25, 10, 3),
        (0, 10, 0),
        (340, 1, 340),
        (0.3, 0.2, 2),
        (0.1 + 0.2, 0.1, 3),
    ],
)
def test_round_half_up(ms, dt, expected):
    assert int(steps(ms, dt)) == expected


def test_rounding_is_per_epoch_not_cumulative():
    task = tasks.make("flipflop", dt_ms=3.0, trial_ms=1000.0, input_end_ms=900.0)
    assert task.generate(2, 0).n_steps == int(np.floor(1000 / 3 + 0.5))


def test_uniform_statistics():
    rng = np.random.default_rng(0)
    x = Uniform(low_ms=200, high_ms=800).sample(rng, 200_000)
    assert x.min() >= 200 and x.max() <= 800
    assert abs(x.mean() - 500) < 3 * 600 / np.sqrt(12) / np.sqrt(len(x))


def test_truncexp_bounds_and_mean():
    law = TruncExp(mean_ms=600, min_ms=300, max_ms=3000)
    x = law.sample(np.random.default_rng(1), 200_000)
    assert x.min() >= 300 and x.max() <= 3000
    assert abs(x.mean() - law.expected_ms) < 4 * x.std() / np.sqrt(len(x))


def test_choice_is_uniform_over_values():
    x = Choice(values_ms=(200, 400, 800)).sample(np.random.default_rng(2), 90_000)
    counts = np.array([(x == v).sum() for v in (200, 400, 800)])
    assert set(np.unique(x)) == {200, 400, 800}
    assert np.all(np.abs(counts - 30_000) < 4 * np.sqrt(90_000 * (1 / 3) * (2 / 3)))


@pytest.mark.parametrize(
    ("text", "law"),
    [
        ("500", Fixed(ms=500)),
        ("uniform(200, 800)", Uniform(low_ms=200, high_ms=800)),
        ("choice(100,200)", Choice(values_ms=(100, 200))),
        ("TruncExp(600, 300, 3000)", TruncExp(mean_ms=600, min_ms=300, max_ms=3000)),
    ],
)
def test_duration_shorthand(text, law):
    task = tasks.make("flipflop", interval_ms=text, input_duration_ms=50)
    assert task.params.interval_ms == law


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("uniform(1, 2, 3)", "takes 2 numbers"),
        ("often", "cannot read this duration"),
        ("uniform(900, 800)", "must be >= low_ms"),
        ("uniform(60, 2)", "must be >= low_ms"),
    ],
)
def test_bad_durations_name_the_parameter(value, fragment):
    with pytest.raises(InvalidParameterError, match="'interval_ms'") as err:
        tasks.make("flipflop", interval_ms=value)
    assert fragment in str(err.value)


def test_duration_rounding_to_zero_steps_is_an_error():
    with pytest.raises(
        InvalidParameterError, match=r"'input_duration_ms' = 4\.0 ms rounds to 0 steps at dt_ms=10"
    ):
        tasks.make("flipflop", input_duration_ms=4.0)
    with pytest.raises(InvalidParameterError, match=r"'input_start_ms'.*rounds to 0 steps"):
        tasks.make("flipflop", input_start_ms="uniform(2, 300)")
    # the same duration is fine at a finer sampling period
    assert tasks.make("flipflop", input_duration_ms=4.0, dt_ms=1.0).params.input_duration_ms == 4.0


def test_zero_only_where_allowed():
    assert tasks.make("flipflop", blind_ms=0).params.blind_ms == 0
    with pytest.raises(InvalidParameterError, match="'input_duration_ms' must be > 0 ms"):
        tasks.make("flipflop", input_duration_ms=0)
