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


@pytest.mark.parametrize(
    ("ms", "dt", "expected"),
    [(100, 10, 10), (109.99, 10, 10), (19.9, 20, 0), (20, 20, 1), (0.6, 0.2, 3), (699.9, 20, 34)],
)
def test_truncate(ms, dt, expected):
    assert int(steps(ms, dt, "truncate")) == expected


def test_unknown_rounding_is_an_error():
    with pytest.raises(ValueError, match="'rounding' must be one of half_up, truncate"):
        steps(10, 1, "nearest")


@pytest.mark.parametrize("rounding", ["half_up", "truncate"])
@pytest.mark.parametrize(
    "law",
    [
        Uniform(low_ms=300, high_ms=700),
        Uniform(low_ms=95, high_ms=333),
        TruncExp(mean_ms=400, min_ms=150, max_ms=1200),
        Choice(values_ms=(200, 210, 400)),
        Fixed(ms=55),
    ],
)
def test_step_distribution_matches_a_dense_grid(law, rounding):
    """The exact law against the empirical law of the rule applied to a million draws."""
    from rnnzoo.tasks.timing import step_distribution

    dist = step_distribution(law, 20.0, rounding)
    assert abs(sum(dist.values()) - 1) < 1e-12
    drawn = steps(law.sample(np.random.default_rng(0), 1_000_000), 20.0, rounding)
    values, counts = np.unique(drawn, return_counts=True)
    assert values.tolist() == list(dist)
    for k, c in zip(values, counts, strict=True):
        p = dist[int(k)]
        assert abs(c - 1e6 * p) <= 5 * np.sqrt(1e6 * p * (1 - p)) + 1


def test_describe_steps():
    from rnnzoo.tasks.timing import describe_steps, step_distribution

    def text(law, dt, rounding):
        return describe_steps(step_distribution(law, dt, rounding))

    assert text(Uniform(low_ms=300, high_ms=700), 20, "truncate") == "15..34 steps, 1/20 each"
    assert text(Uniform(low_ms=300, high_ms=700), 20, "half_up") == (
        "15..35 steps: 15 and 35 1/40 each, the others 1/20 each"
    )
    assert text(Choice(values_ms=(200, 210, 400)), 20, "truncate") == "10, 20 steps: 10 2/3, 20 1/3"
    assert text(Fixed(ms=500), 20, "truncate") == "25 steps"
