"""Yang et al. 2019 suite: epoch durations (laws, rounding, sharing), layout and windows.

The expected laws are written here from the reference table (tasks-anchors section 2.2), not
read from the implementation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnzoo import InvalidParameterError, tasks

U, C = "uniform", "choice"
GO = {"fix1": (U, 300, 700), "stim1": (U, 500, 1500), "go1": (C, 500)}
REACT = {"fix1": (U, 500, 2500), "hold": (C, 0), "go1": (C, 500)}
DELAY = {
    "fix1": (C, 300, 500, 700),
    "stim1": (C, 200, 400, 600),
    "delay1": (C, 200, 400, 800, 1600),
    "go1": (C, 500),
}
DM = {"fix1": (U, 100, 400), "stim1": (C, 400, 800, 1600), "go1": (C, 500)}
DELAY_DM = {
    "fix1": (C, 200, 400, 600),
    "stim1": (C, 200, 400, 600),
    "delay1": (C, 200, 400, 800, 1600),
    "stim2": (C, 200, 400, 600),
    "delay2": (U, 100, 300),
    "go1": (C, 500),
}
DMS = {
    "fix1": (C, 200, 400, 600),
    "stim1": (C, 200, 400, 600),
    "delay1": (C, 200, 400, 800, 1600),
    "stim2": (C, 0),
    "go1": (C, 500),
}
DMC = {**DMS, "go1": (C, 200, 400, 600)}
LAWS = {
    "fdgo": GO,
    "fdanti": GO,
    "reactgo": REACT,
    "reactanti": REACT,
    "delaygo": DELAY,
    "delayanti": DELAY,
    **{r: DM for r in ("dm1", "dm2", "contextdm1", "contextdm2", "multidm")},
    **{
        r: DELAY_DM
        for r in ("delaydm1", "delaydm2", "contextdelaydm1", "contextdelaydm2", "multidelaydm")
    },
    "dmsgo": DMS,
    "dmsnogo": DMS,
    "dmcgo": DMC,
    "dmcnogo": DMC,
}
BATCH_MODALITY = ["fdgo", "fdanti", "reactgo", "reactanti", "delaygo", "delayanti"]


def _step_probabilities(law: tuple, dt: float) -> dict[int, float]:
    """P(steps = k) of a law after the original's int(ms / dt): step k collects [k dt, (k+1) dt)."""
    kind, *values = law
    if kind == C:
        out: dict[int, float] = {}
        for v in values:
            k = int(v / dt)
            out[k] = out.get(k, 0) + 1 / len(values)
        return out
    lo, hi = values
    out = {}
    for k in range(int(lo / dt), int(hi / dt) + 1):
        overlap = min(hi, (k + 1) * dt) - max(lo, k * dt)
        if overlap > 0:
            out[k] = overlap / (hi - lo)
    return out


def _assert_follows(samples: np.ndarray, law: tuple, dt: float, label: str) -> None:
    expected = _step_probabilities(law, dt)
    values, counts = np.unique(samples, return_counts=True)
    assert set(values.tolist()) <= set(expected), (label, values, expected)
    n = len(samples)
    for k, p in expected.items():
        observed = counts[values == k].sum()
        assert abs(observed - n * p) <= 4.5 * math.sqrt(n * p * (1 - p)) + 1, (
            label,
            k,
            observed,
            n * p,
        )


@pytest.mark.parametrize("rule", sorted(LAWS))
def test_every_epoch_follows_its_law_per_trial(rule: str) -> None:
    task = tasks.make(rule, shared_timing=False)
    cond = task.sample_conditions(np.random.default_rng(7), 6000)
    laws = LAWS[rule]
    assert sorted(k for k in cond if k.endswith("_steps")) == sorted(f"{e}_steps" for e in laws)
    for epoch, law in laws.items():
        _assert_follows(cond[f"{epoch}_steps"], law, 20.0, f"{rule}.{epoch}")
    if rule in BATCH_MODALITY:
        ones = int((cond["stim_mod"] == 1).sum())
        assert set(np.unique(cond["stim_mod"])) == {1, 2}
        assert abs(ones - 3000) <= 4.5 * math.sqrt(6000 / 4)


@pytest.mark.parametrize("rule", sorted(LAWS))
def test_timing_is_shared_within_a_batch_and_drawn_per_batch(rule: str) -> None:
    task = tasks.make(rule)
    rng = np.random.default_rng(11)
    per_batch = {f"{e}_steps": [] for e in LAWS[rule]}
    modality = []
    for _ in range(400):
        cond = task.sample_conditions(rng, 5)
        for key, values in per_batch.items():
            assert np.all(cond[key] == cond[key][0]), key
            values.append(cond[key][0])
        for key in ("stim_mod", "stim1_mod", "stim2_mod"):
            if key in cond:
                assert np.all(cond[key] == cond[key][0]), key
                modality.append(cond[key][0])
    for epoch, law in LAWS[rule].items():
        _assert_follows(np.array(per_batch[f"{epoch}_steps"]), law, 20.0, f"{rule}.{epoch}")
    if modality:
        n = len(modality)
        assert abs(sum(m == 1 for m in modality) - n / 2) <= 4.5 * math.sqrt(n / 4)


def test_rounding_at_another_dt() -> None:
    # dt 7 ms, the original's int(d/dt): 300 -> 42.86 -> 42, 500 -> 71.4 -> 71, 700 -> 100
    task = tasks.make("delaygo", dt_ms=7.0, shared_timing=False)
    cond = task.sample_conditions(np.random.default_rng(0), 3000)
    assert set(np.unique(cond["fix1_steps"]).tolist()) == {42, 71, 100}
    assert set(np.unique(cond["delay1_steps"]).tolist()) == {28, 57, 114, 228}
    assert set(np.unique(cond["go1_steps"]).tolist()) == {71}
    # the zoo's round half up on request: 300 -> 43, 200 -> 29, 1600 -> 229
    half_up = tasks.make("delaygo", dt_ms=7.0, shared_timing=False, duration_rounding="half_up")
    cond = half_up.sample_conditions(np.random.default_rng(0), 3000)
    assert set(np.unique(cond["fix1_steps"]).tolist()) == {43, 71, 100}
    assert set(np.unique(cond["delay1_steps"]).tolist()) == {29, 57, 114, 229}


# The original's support and end-value probabilities of every uniform law, at dt 20 ms
# (vanilla) and 5 ms (soo2023): int(U(a, b) / dt) takes a/dt .. b/dt - 1, each dt / (b - a).
UNIFORM_LAWS = [
    ("fdgo", "vanilla", "input_start_ms", "fix1", 15, 34, 1 / 20),
    ("fdgo", "vanilla", "input_duration_ms", "stim1", 25, 74, 1 / 50),
    ("fdanti", "vanilla", "input_duration_ms", "stim1", 25, 74, 1 / 50),
    ("reactgo", "vanilla", "input_start_ms", "fix1", 25, 124, 1 / 100),
    ("reactanti", "vanilla", "input_start_ms", "fix1", 25, 124, 1 / 100),
    *[
        (r, "vanilla", "input_start_ms", "fix1", 5, 19, 1 / 15)
        for r in ("dm1", "dm2", "contextdm1", "contextdm2", "multidm")
    ],
    *[
        (r, "vanilla", "delay2_ms", "delay2", 5, 14, 1 / 10)
        for r in ("delaydm1", "delaydm2", "contextdelaydm1", "contextdelaydm2", "multidelaydm")
    ],
    # Soo et al.: tf.random.uniform(minval=T -+ jitter, maxval excluded), 500 +- 100 ms and
    # 1000 +- 100 ms at dt 5 ms
    ("fdgo", "soo2023", "input_start_ms", "fix1", 80, 119, 1 / 40),
    ("delaygo", "soo2023", "delay_ms", "delay1", 180, 219, 1 / 40),
    ("dmsgo", "soo2023", "test_ms", "stim2", 80, 119, 1 / 40),
]


@pytest.mark.parametrize(("rule", "version", "field", "epoch", "first", "last", "p"), UNIFORM_LAWS)
def test_uniform_laws_have_the_originals_support_and_end_probabilities(
    rule, version, field, epoch, first, last, p
) -> None:
    task = tasks.make(rule, version)
    # 1. the card states it (derived from the law, written out here by hand)
    entry = next(e for e in task.card().parameters if e["name"] == field)
    dt = task.params.dt_ms
    fraction = f"1/{round(1 / p)}"
    assert entry["steps"] == f"{first}..{last} steps of {dt:g} ms, {fraction} each (truncate)"
    # 2. the original's expression on a dense grid of the law gives the same support and ends
    law = getattr(task.params, field)
    grid = np.linspace(law.low_ms, law.high_ms, 400_001)[:-1]  # [a, b): U(a, b) never gives b
    originals = np.array([int(u / dt) for u in grid[::1000]])
    assert originals.min() == first and originals.max() == last
    dense = np.floor(grid / dt).astype(int)
    assert dense.min() == first and dense.max() == last
    for end in (first, last):
        assert abs((dense == end).mean() - p) < 1e-5
    # 3. the generator's per-batch draws have exactly this support, ends at p each
    per_batch = np.array(
        [
            task.sample_conditions(np.random.default_rng(k), 2)[f"{epoch}_steps"][0]
            for k in range(3000)
        ]
    )
    assert per_batch.min() == first and per_batch.max() == last
    n = len(per_batch)
    for end in (first, last):
        assert abs((per_batch == end).sum() - n * p) <= 4.5 * math.sqrt(n * p * (1 - p)) + 1
    # the same uniform draws converted by the original's int(u / dt)
    same = np.random.default_rng(3).uniform(law.low_ms, law.high_ms, size=2000)
    np.testing.assert_array_equal(task.params.steps(same), [int(u / dt) for u in same])


def test_half_up_keeps_the_previous_numbers_on_request() -> None:
    task = tasks.make("fdgo", duration_rounding="half_up")
    entry = next(e for e in task.card().parameters if e["name"] == "input_start_ms")
    assert entry["steps"] == (
        "15..35 steps of 20 ms: 15 and 35 1/40 each, the others 1/20 each (half_up)"
    )
    with pytest.raises(InvalidParameterError, match="duration_rounding"):
        tasks.make("fdgo", duration_rounding="nearest")


def test_truncation_rejects_durations_shorter_than_a_step() -> None:
    with pytest.raises(InvalidParameterError, match="use at least 20 ms"):
        tasks.make("fdgo", response_grace_ms=0.0, response_ms=15.0)
    assert tasks.make("fdgo", response_grace_ms=0.0, response_ms=20.0, duration_rounding="truncate")


@pytest.mark.parametrize("rule", sorted(LAWS))
def test_epochs_are_laid_end_to_end_and_the_go_cue_starts_go1(rule: str) -> None:
    task = tasks.make(rule, shared_timing=False, add_noise=False)
    batch = task.generate(12, seed=5)
    start = np.zeros(12, dtype=np.int64)
    assert list(batch.epochs) == ["warmup", *LAWS[rule]]
    np.testing.assert_array_equal(batch.epochs["warmup"], 0)
    for epoch in LAWS[rule]:
        np.testing.assert_array_equal(batch.epochs[epoch][:, 0], start)
        start = start + batch.conditions[f"{epoch}_steps"]
        np.testing.assert_array_equal(batch.epochs[epoch][:, 1], start)
    np.testing.assert_array_equal(batch.lengths, start)


def _inputs(rule: str, version: str = "vanilla", **overrides):
    task = tasks.make(rule, version, add_noise=False, shared_timing=False, **overrides)
    return task.generate(10, seed=2)


def _on(batch, columns: slice) -> np.ndarray:
    """(T, B) True where any of the columns is non-zero."""
    return np.abs(batch.inputs[:, :, columns]).max(axis=2) > 1e-6


def _window(batch, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    t = np.arange(batch.n_steps)[:, None]
    return (t >= start[None, :]) & (t < stop[None, :])


RINGS = slice(1, 65)


@pytest.mark.parametrize("rule", ["fdgo", "fdanti"])
def test_go_stimulus_stays_on_to_the_end_and_fixation_input_stops_at_go(rule: str) -> None:
    batch = _inputs(rule)
    go = batch.epochs["go1"][:, 0]
    np.testing.assert_array_equal(batch.inputs[:, :, 0], _window(batch, 0 * go, go))
    np.testing.assert_array_equal(
        _on(batch, RINGS), _window(batch, batch.epochs["stim1"][:, 0], batch.lengths)
    )
    soo = _inputs(rule, stimulus_off_at_go=True)
    np.testing.assert_array_equal(_on(soo, RINGS), _window(soo, *soo.epochs["stim1"].T))


@pytest.mark.parametrize("rule", ["reactgo", "reactanti"])
def test_react_stimulus_onset_is_the_go_cue_and_fixation_input_never_stops(rule: str) -> None:
    batch = _inputs(rule)
    np.testing.assert_array_equal(batch.inputs[:, :, 0], batch.valid)
    np.testing.assert_array_equal(_on(batch, RINGS), _window(batch, *batch.epochs["go1"].T))


@pytest.mark.parametrize("rule", ["delaygo", "delayanti", "dm1", "contextdm2", "multidm"])
def test_stimuli_only_in_their_epoch(rule: str) -> None:
    batch = _inputs(rule)
    go = batch.epochs["go1"][:, 0]
    np.testing.assert_array_equal(batch.inputs[:, :, 0], _window(batch, 0 * go, go))
    np.testing.assert_array_equal(_on(batch, RINGS), _window(batch, *batch.epochs["stim1"].T))


@pytest.mark.parametrize("rule", ["delaydm1", "contextdelaydm1", "multidelaydm"])
def test_delayed_decision_shows_the_stimuli_in_sequence(rule: str) -> None:
    batch = _inputs(rule)
    both = _window(batch, *batch.epochs["stim1"].T) | _window(batch, *batch.epochs["stim2"].T)
    np.testing.assert_array_equal(_on(batch, RINGS), both)
    for b in range(batch.batch_size):  # stimulus k at its own location during its epoch
        for k in (1, 2):
            t = batch.epochs[f"stim{k}"][b, 0]
            ring = batch.inputs[t, b, 1:33] + batch.inputs[t, b, 33:65]
            expected = 2 * np.pi * np.argmax(ring) / 32
            d = abs((expected - batch.conditions[f"stim{k}_loc"][b] + np.pi) % (2 * np.pi) - np.pi)
            assert d <= np.pi / 32 + 1e-9


@pytest.mark.parametrize("rule", ["dmsgo", "dmsnogo", "dmcgo", "dmcnogo"])
def test_matching_test_onset_is_the_go_cue_in_yang_and_fixation_is_off_at_go_in_soo(rule) -> None:
    batch = _inputs(rule)
    np.testing.assert_array_equal(batch.inputs[:, :, 0], batch.valid)
    sample = _window(batch, *batch.epochs["stim1"].T)
    test = _window(batch, batch.epochs["go1"][:, 0], batch.lengths)
    np.testing.assert_array_equal(_on(batch, RINGS), sample | test)
    soo = _inputs(rule, "soo2023")
    go = soo.epochs["go1"][:, 0]
    start = soo.epochs["warmup"][:, 1]
    np.testing.assert_array_equal(soo.inputs[:, :, 0], _window(soo, start, go))
    shown = _window(soo, *soo.epochs["stim1"].T) | _window(soo, *soo.epochs["stim2"].T)
    np.testing.assert_array_equal(_on(soo, RINGS), shown)


SOO = {
    "A": [
        "fdgo",
        "fdanti",
        "reactgo",
        "reactanti",
        "dm1",
        "dm2",
        "contextdm1",
        "contextdm2",
        "multidm",
    ],
    "B": ["delaygo", "delayanti"],
    "C": [
        "delaydm1",
        "delaydm2",
        "contextdelaydm1",
        "contextdelaydm2",
        "multidelaydm",
        "dmsgo",
        "dmsnogo",
        "dmcgo",
        "dmcnogo",
    ],
}
SOO_EPOCHS = {
    "A": ["fix1", "stim1", "go1"],
    "B": ["fix1", "stim1", "delay1", "go1"],
    "C": ["fix1", "stim1", "delay1", "stim2", "go1"],
}


@pytest.mark.parametrize(("structure", "rule"), [(s, r) for s, rules in SOO.items() for r in rules])
def test_soo2023_structures(structure: str, rule: str) -> None:
    task = tasks.make(rule, "soo2023")
    p = task.params
    assert (p.dt_ms, p.tau_ms, p.fixation_target, p.add_noise) == (5.0, 100.0, 0.85, False)
    batch = task.generate(4, seed=0)
    assert batch.dt_ms == 5.0
    np.testing.assert_array_equal(batch.epochs["warmup"][:, 1], 200)  # 1000 ms of 5 ms
    nonempty = [e for e in batch.epochs if e != "warmup" and np.all(np.diff(batch.epochs[e]) > 0)]
    empty = [e for e in batch.epochs if e != "warmup" and e not in nonempty]
    if rule.startswith("react"):  # the stimulus slot is the (empty-handed) hold epoch
        assert nonempty == ["fix1", "hold", "go1"]
    else:
        assert nonempty == SOO_EPOCHS[structure]
    assert all(np.all(np.diff(batch.epochs[e]) == 0) for e in empty)
    # 500 +- 100 ms epochs: 80..119 steps; delay 1000 +- 100: 180..219 (truncated, as Soo et
    # al.'s integer draws); response 100 steps
    cond = tasks.make(rule, "soo2023", shared_timing=False).sample_conditions(
        np.random.default_rng(1), 4000
    )
    for epoch in nonempty:
        steps = cond[f"{epoch}_steps"]
        if epoch == "go1":
            assert set(np.unique(steps).tolist()) == {100}
        elif epoch == "delay1":
            assert steps.min() == 180 and steps.max() == 219
        else:
            assert steps.min() == 80 and steps.max() == 119
            assert abs(steps.mean() - 99.5) < 4.5 * (40 / math.sqrt(12)) / math.sqrt(4000)
    # the warm-up shows the rule unit only
    warm = batch.inputs[:200]
    rule_unit = 65 + tasks.make(rule).input_names[65:].index(f"rule_{task.name}")
    assert not np.delete(warm, rule_unit, axis=2).any()
    np.testing.assert_array_equal(warm[:, :, rule_unit], 1.0)
    assert not batch.weights[:200].any()


@pytest.mark.parametrize(
    ("rule", "field", "epoch", "support"),
    [
        ("fdgo", "input_duration_ms", "stim1", (100, 299)),
        ("reactgo", "input_start_ms", "fix1", (100, 499)),
        ("delaygo", "delay_ms", "delay1", (40, 80, 160, 320)),
        ("dm1", "input_duration_ms", "stim1", (80, 160, 320)),
        ("delaydm1", "delay_ms", "delay1", (40, 80, 160, 320)),
        ("dmsgo", "delay_ms", "delay1", (40, 80, 160, 320)),
        ("dmcnogo", "delay_ms", "delay1", (40, 80, 160, 320)),
    ],
)
def test_long_versions_stretch_the_main_interval_four_times(rule, field, epoch, support) -> None:
    cond = tasks.make(rule, "long", shared_timing=False).sample_conditions(
        np.random.default_rng(2), 3000
    )
    steps = cond[f"{epoch}_steps"]
    if len(support) == 2:
        assert steps.min() == support[0] and steps.max() == support[1]
    else:
        assert set(np.unique(steps).tolist()) == set(support)
    realistic = tasks.make(rule, "realistic")
    assert realistic.params.shared_timing is False and realistic.params.noise_decay_ms == 20.0
