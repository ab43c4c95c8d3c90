"""Yang et al. 2019 suite: stimulus laws, strengths and coherences, and the response logic."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import tasks

N = 20_000
TWO_PI = 2 * math.pi


def _conditions(rule: str, n: int = N, seed: int = 0, **overrides) -> dict[str, np.ndarray]:
    task = tasks.make(rule, shared_timing=False, **overrides)
    return task.sample_conditions(np.random.default_rng(seed), n)


def _binomial_ok(count: int, n: int, p: float) -> bool:
    return abs(count - n * p) <= 4.5 * math.sqrt(n * p * (1 - p))


def _uniform_ok(x: np.ndarray, lo: float, hi: float, bins: int = 10) -> bool:
    """Inside [lo, hi] and each of ``bins`` equal bins holds 1/bins of the samples."""
    if x.min() < lo or x.max() > hi:
        return False
    counts = np.histogram(x, bins=bins, range=(lo, hi))[0]
    return all(_binomial_ok(int(c), len(x), 1 / bins) for c in counts)


def _wrap(x: np.ndarray) -> np.ndarray:
    return np.mod(x, TWO_PI)


@pytest.mark.parametrize("rule", ["fdgo", "reactanti", "delaygo"])
def test_reach_location_and_response(rule: str) -> None:
    c = _conditions(rule)
    assert _uniform_ok(c["stim_loc"], 0, TWO_PI)
    shift = math.pi if "anti" in rule else 0.0
    np.testing.assert_allclose(c["response_loc"], _wrap(c["stim_loc"] + shift))


@pytest.mark.parametrize("rule", ["dm1", "contextdm1", "multidm", "delaydm2", "multidelaydm"])
def test_decision_locations(rule: str) -> None:
    c = _conditions(rule)
    assert _uniform_ok(c["stim1_loc"], 0, TWO_PI)
    offset = _wrap(c["stim2_loc"] - c["stim1_loc"])  # U(pi/2, 3pi/2) * (+-1) wraps onto itself
    assert _uniform_ok(offset, 0.5 * math.pi, 1.5 * math.pi)


def _pair_law(s1: np.ndarray, s2: np.ndarray, coherences: tuple[float, ...]) -> None:
    """(s1, s2) = (m + c s, m - c s), m ~ U(0.8, 1.2), c uniform on ``coherences``, s = +-1."""
    mean, half_diff = (s1 + s2) / 2, (s1 - s2) / 2
    assert _uniform_ok(mean, 0.8, 1.2)
    c = np.abs(half_diff)
    support = np.array(coherences)
    nearest = support[np.argmin(np.abs(c[:, None] - support[None, :]), axis=1)]
    np.testing.assert_allclose(c, nearest, atol=1e-12)
    for value in support:
        assert _binomial_ok(int(np.sum(nearest == value)), len(c), 1 / len(support))
    assert _binomial_ok(int(np.sum(half_diff > 0)), len(c), 0.5)


@pytest.mark.parametrize(
    ("rule", "coherences"),
    [("dm1", (0.01, 0.02, 0.04, 0.08)), ("delaydm1", (0.08, 0.16, 0.32))],
)
def test_one_ring_strengths(rule: str, coherences) -> None:
    c = _conditions(rule)
    _pair_law(c["stim1_mod1_strength"], c["stim2_mod1_strength"], coherences)
    assert not c["stim1_mod2_strength"].any() and not c["stim2_mod2_strength"].any()
    c2 = _conditions(rule.replace("1", "2"))
    _pair_law(c2["stim1_mod2_strength"], c2["stim2_mod2_strength"], coherences)
    assert not c2["stim1_mod1_strength"].any() and not c2["stim2_mod1_strength"].any()


@pytest.mark.parametrize("rule", ["contextdm1", "contextdelaydm2"])
def test_context_rings_are_independent_pairs(rule: str) -> None:
    c = _conditions(rule)
    coherences = (0.01, 0.02, 0.04, 0.08) if "delay" not in rule else (0.08, 0.16, 0.32)
    _pair_law(c["stim1_mod1_strength"], c["stim2_mod1_strength"], coherences)
    _pair_law(c["stim1_mod2_strength"], c["stim2_mod2_strength"], coherences)
    sign1 = c["stim1_mod1_strength"] > c["stim2_mod1_strength"]
    sign2 = c["stim1_mod2_strength"] > c["stim2_mod2_strength"]
    assert _binomial_ok(int(np.sum(sign1 == sign2)), N, 0.5)  # the rings disagree half the time


@pytest.mark.parametrize("rule", ["multidm", "multidelaydm"])
def test_multisensory_split(rule: str) -> None:
    c = _conditions(rule)
    coherences = (0.01, 0.02, 0.04, 0.08) if rule == "multidm" else (0.08, 0.16, 0.32)
    totals = []
    for k in (1, 2):
        ring1, ring2 = c[f"stim{k}_mod1_strength"], c[f"stim{k}_mod2_strength"]
        total = ring1 + ring2
        totals.append(total / 2)  # the split keeps the drawn strength g: ring1 + ring2 = 2 g
        fraction = (ring1 - ring2) / (total / 2)  # d / g, d = g * U(0.2, 0.8) * (+-1)
        assert _uniform_ok(np.abs(fraction), 0.2, 0.8)
        assert _binomial_ok(int(np.sum(fraction > 0)), N, 0.5)
    _pair_law(*totals, coherences)


def test_choice_follows_the_attended_strengths() -> None:
    base = {"stim1_loc": 1.0, "stim2_loc": 4.0}
    cases = [
        ("dm1", {"stim1_mod1_strength": 1.0, "stim2_mod1_strength": 0.9}, 1),
        ("dm2", {"stim1_mod2_strength": 0.9, "stim2_mod2_strength": 1.0}, 2),
        # context: ring 1 says 1, ring 2 says 2
        ("contextdm1", {"stim1_mod1_strength": 1.1, "stim2_mod1_strength": 0.9,
                        "stim1_mod2_strength": 0.8, "stim2_mod2_strength": 1.2}, 1),
        ("contextdm2", {"stim1_mod1_strength": 1.1, "stim2_mod1_strength": 0.9,
                        "stim1_mod2_strength": 0.8, "stim2_mod2_strength": 1.2}, 2),
        # multi: sums 1.9 vs 2.1 although ring 1 favours stimulus 1
        ("multidm", {"stim1_mod1_strength": 1.1, "stim2_mod1_strength": 0.9,
                     "stim1_mod2_strength": 0.8, "stim2_mod2_strength": 1.2}, 2),
        ("multidelaydm", {"stim1_mod1_strength": 1.3, "stim2_mod1_strength": 0.9,
                          "stim1_mod2_strength": 0.8, "stim2_mod2_strength": 1.0}, 1),
        ("dm1", {"stim1_mod1_strength": 1.0, "stim2_mod1_strength": 1.0}, 2),  # tie: stimulus 2
    ]  # fmt: skip
    for rule, strengths, choice in cases:
        task = tasks.make(rule)
        c = task.psychometric_conditions(**base, **strengths)
        assert c["choice"][0] == choice, rule
        assert c["response_loc"][0] == (1.0 if choice == 1 else 4.0)
        batch = task.from_conditions(c)
        assert batch.conditions["choice"][0] == choice


def test_random_choice_is_the_stronger_stimulus() -> None:
    c = _conditions("contextdm2", n=2000)
    stronger = np.where(c["stim1_mod2_strength"] > c["stim2_mod2_strength"], 1, 2)
    np.testing.assert_array_equal(c["choice"], stronger)
    np.testing.assert_array_equal(
        c["response_loc"], np.where(stronger == 1, c["stim1_loc"], c["stim2_loc"])
    )


@pytest.mark.parametrize("rule", ["dmsgo", "dmsnogo"])
def test_dms_draws_and_logic(rule: str) -> None:
    c = _conditions(rule)
    assert _uniform_ok(c["stim1_loc"], 0, TWO_PI)
    match = c["match"]
    assert _binomial_ok(int(match.sum()), N, 0.5)
    np.testing.assert_allclose(c["stim2_loc"][match], c["stim1_loc"][match])
    offset = _wrap(c["stim2_loc"] - c["stim1_loc"])[~match]
    assert _uniform_ok(offset, math.pi / 9, 17 * math.pi / 9)
    respond = match if rule == "dmsgo" else ~match
    np.testing.assert_array_equal(c["response_loc"][respond], c["stim2_loc"][respond])
    assert np.isnan(c["response_loc"][~respond]).all()
    for key in ("stim1_mod", "stim2_mod"):
        assert _binomial_ok(int(np.sum(c[key] == 1)), N, 0.5)
    assert _binomial_ok(int(np.sum(c["stim1_mod"] == c["stim2_mod"])), N, 0.5)


def test_dms_match_is_within_five_degrees() -> None:
    task = tasks.make("dmsgo")
    d = np.radians([0.0, 4.9, 5.1, 20.0, -4.9, 180.0])
    c = task.psychometric_conditions(stim1_loc=0.1, stim2_loc=_wrap(0.1 + d))
    np.testing.assert_array_equal(c["match"], [True, True, False, False, True, False])


@pytest.mark.parametrize("rule", ["dmcgo", "dmcnogo"])
def test_dmc_draws_and_logic(rule: str) -> None:
    c = _conditions(rule)
    support = np.pi * np.array([0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9])
    for key in ("stim1_loc", "stim2_loc"):
        values, counts = np.unique(c[key], return_counts=True)
        np.testing.assert_allclose(values, support)
        assert all(_binomial_ok(int(k), N, 0.1) for k in counts)
    same = (c["stim1_loc"] < np.pi) == (c["stim2_loc"] < np.pi)
    np.testing.assert_array_equal(c["match"], same)
    assert _binomial_ok(int(same.sum()), N, 0.5)
    respond = same if rule == "dmcgo" else ~same
    np.testing.assert_array_equal(c["response_loc"][respond], c["stim2_loc"][respond])
    assert np.isnan(c["response_loc"][~respond]).all()


def test_seeded_draws_only() -> None:
    state = np.random.get_state()
    a = tasks.make("multidm").generate(16, seed=4)
    b = tasks.make("multidm").generate(16, seed=4)
    assert a.equals(b)  # the original draws the multi-sensory split from the global generator
    assert all(
        np.array_equal(x, y) for x, y in zip(state[1:2], np.random.get_state()[1:2], strict=True)
    )
