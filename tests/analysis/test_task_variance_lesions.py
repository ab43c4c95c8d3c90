"""Unit lesions (Yang et al.'s lesion_units) and task variance with unit clustering (their
Fig. 3) on hand-built networks whose answer is known."""

import numpy as np
import pytest
import torch

from rnnzoo import tasks
from rnnzoo.analysis import (
    cluster_lesions,
    lesion,
    lesion_performance,
    simulate,
    task_variance,
)
from rnnzoo.analysis.task_variance import kmeans, silhouette
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import make_model


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("leaky_rate", {}),
        ("leaky_current", {"rank": 2}),
        ("leaky_rate", {"dale": True}),
        ("vanilla", {}),
        ("gru", {}),
        ("lstm", {}),
    ],
)
def test_lesioned_units_no_longer_influence_any_other_unit_or_the_outputs(kind, options):
    net = make_model(kind, 3, 2, n_hidden=10, seed=1, **options).double()
    units = [2, 7]
    cut = lesion(net, units)
    inputs = torch.randn(30, 4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    start = torch.zeros(4, net.state_size, dtype=torch.float64)
    kicked = start.clone()
    kicked[:, units] = 1.5  # the lesioned units start elsewhere
    if kind == "lstm":
        kicked[:, [10 + u for u in units]] = -1.0  # their cell state too
    with torch.no_grad():
        a = cut(inputs, initial_state=start, return_states=True)
        b = cut(inputs, initial_state=kicked, return_states=True)
    others = [i for i in range(10) if i not in units]
    torch.testing.assert_close(a.states[..., others], b.states[..., others], rtol=0, atol=1e-12)
    torch.testing.assert_close(a.outputs, b.outputs, rtol=0, atol=1e-12)
    # the intact network is unchanged, and its lesioned units did matter
    with torch.no_grad():
        intact = net(inputs, initial_state=kicked).outputs
    assert not torch.allclose(intact, net(inputs, initial_state=start).outputs)


def test_lesion_performance_rescores_and_names_bad_units():
    task = tasks.make("flipflop", n_bits=1, trial_ms=300.0, input_end_ms=250.0)
    net = make_model("leaky_rate", 1, 1, n_hidden=8, seed=0)
    none = lesion_performance(net, task, [])
    assert none["before"] == none["after"] and none["change"] == 0
    every = lesion_performance(net, task, range(8))
    batch = task.generate_test()
    with torch.no_grad():  # every unit silenced: the outputs are the readout bias
        constant = np.broadcast_to(net.b_out.double().numpy()[0], batch.targets.shape)
    assert every["after"] == pytest.approx(float(np.mean(task.performance(constant, batch))))
    with pytest.raises(InvalidParameterError, match="'units' must be in \\[0, 8\\)"):
        lesion(net, [8])


def _ring_readers():
    """12 ReLU units without recurrence: units 0-5 read ring 1 (one unit each), units 6-11 read
    ring 2; DM 1 shows its stimuli on ring 1, DM 2 on ring 2."""
    net = make_model("leaky_rate", 85, 33, dt_ms=20, n_hidden=12, tau_ms=100.0)
    with torch.no_grad():
        net.w_rec.zero_()
        net.w_in.zero_()
        for k in range(6):
            net.w_in[0, k, 1 + 5 * k] = 1.0 + 0.1 * k  # ring 1 units 0, 5, ..., 25
            net.w_in[0, 6 + k, 33 + 5 * k] = 1.0  # ring 2
    return net


def test_task_variance_is_the_variance_across_trials_and_clusters_the_two_populations():
    net = _ring_readers()
    pair = {"dm1": tasks.make("dm1"), "dm2": tasks.make("dm2")}
    result = task_variance(net, pair)
    # the statistic itself, from the simulated rates of the DM 1 test grid
    batch = pair["dm1"].generate_test()
    rates = simulate(net, batch.inputs).rates
    after_fixation = batch.epochs["fix1"][0, 1]
    expected = rates[after_fixation:].var(axis=1).mean(axis=0)
    np.testing.assert_allclose(result.variance[:, 0], expected, rtol=1e-10)
    assert (result.variance[:6, 1] == 0).all() and (result.variance[6:, 0] == 0).all()
    # two populations, each selective for one task: 2 clusters, numbered by preferred task
    assert result.active.all() and result.n_clusters == 2
    assert result.cluster_units(0).tolist() == list(range(6))
    assert result.cluster_units(1).tolist() == list(range(6, 12))
    assert result.silhouette == pytest.approx(1.0)
    lesions = cluster_lesions(net, pair, result)
    assert lesions.shape == (3, 2)
    intact = [lesion_performance(net, t, [])["before"] for t in pair.values()]
    np.testing.assert_allclose(lesions[0], intact)
    summary = result.summary()
    assert summary["tasks"] == ["dm1", "dm2"] and summary["clusters"][1] == list(range(6, 12))


def test_kmeans_and_silhouette_on_separated_blobs():
    rng = np.random.default_rng(1)
    blobs = np.concatenate([rng.normal(c, 0.05, (20, 2)) for c in ((0, 0), (1, 0), (0, 1))])
    labels = kmeans(blobs, 3, seed=0)
    assert sorted(np.bincount(labels).tolist()) == [20, 20, 20]
    assert len({tuple(np.unique(labels[i : i + 20])) for i in (0, 20, 40)}) == 3
    assert silhouette(blobs, labels) > 0.9 > silhouette(blobs, rng.integers(0, 3, 60)) + 0.5


def test_analyze_a_suite_run_gives_task_variance_clusters_and_lesions(tmp_path):
    from rnnzoo.analysis import analyze_run
    from rnnzoo.tasks.yang2019 import suite
    from rnnzoo.training import RunConfig, train

    config = RunConfig(
        task=suite(rules=("fdgo", "dm1", "dm2")).config(),
        model={"kind": "leaky_rate", "options": {"n_hidden": 24}},
        train={"batch_size": 8, "max_steps": 2, "eval_every": 2, "eval_batch_size": 8},
    )
    train(config, tmp_path / "run", progress=False)
    summary = analyze_run(tmp_path / "run", settings={"max_trials": 16, "fp_starts": 16})
    result = summary["task_variance"]
    assert result["tasks"] == ["fdgo", "dm1", "dm2"]
    assert sum(len(c) for c in result["clusters"]) == result["n_active"] > 0
    assert len(result["lesion_performance"]) == result["n_clusters"] + 1
    assert (tmp_path / "run" / "analysis" / summary["figures"]["task_variance"]).is_file()
