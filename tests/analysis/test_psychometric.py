"""Psychometric curves from a task's test grid: a hand-built integrator on the perceptual
decision task chooses the sign of its summed input, computed here from the batch alone."""

import numpy as np
import pytest
import torch

from rnnzoo import tasks
from rnnzoo.analysis import psychometric_curve
from rnnzoo.analysis.psychometric import trial_choices
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import make_model


def _integrator(dt_ms):
    """Two ReLU neurons, one for each sign of the input, with tau = 1e6 s: output r1 - r2 =
    alpha * (sum of the input so far), alpha = dt / tau (the leak 1 - alpha rounds to 1)."""
    net = make_model("leaky_rate", 1, 1, dt_ms=dt_ms, n_hidden=2, tau_ms=1e9)
    with torch.no_grad():
        net.w_rec.zero_()
        net.w_in.copy_(torch.tensor([[[1.0], [-1.0]]]))
        net.w_out.copy_(torch.tensor([[[1.0, -1.0]]]))
        net.b_out.zero_()
    return net


def test_integrator_psychometric_curve_matches_the_sign_of_the_evidence():
    task = tasks.make("perceptual_decision_making", signal_noise_std=2.0)
    batch = task.generate_test()
    curve = psychometric_curve(_integrator(batch.dt_ms), task, "signal")
    # what an ideal integrator reports: its running sum, averaged over the scored steps
    running = np.cumsum(batch.inputs[:, :, 0].astype(np.float64), axis=0)
    scored = batch.weights[:, :, 0] > 0
    evidence = (running * scored).sum(axis=0) / scored.sum(axis=0)
    signals = batch.conditions["signal"]
    expected = [float((evidence[signals == v] > 0).mean()) for v in np.unique(signals)]
    np.testing.assert_allclose(curve.values, np.unique(signals))
    np.testing.assert_allclose(curve.choice_fraction[:, 0], expected)
    assert curve.choices == ("positive",)
    fractions = curve.choice_fraction[:, 0]
    assert fractions[0] < 0.5 < fractions[-1]  # strong signals are mostly followed
    assert ((fractions > 0) & (fractions < 1)).any()  # and noise makes errors
    assert curve.n_trials.sum() == batch.batch_size
    assert curve.summary()["condition"] == "signal"


def test_multi_channel_choices_are_argmaxes_over_scored_steps():
    task = tasks.make("perceptual_decision_making")
    batch = task.generate_test().select(np.arange(3))
    outputs = np.zeros((batch.n_steps, 3, 2))
    scored = batch.weights[..., 0] > 0
    outputs[..., 1] = np.where(scored, [1.0, -1.0, 2.0], 5.0)  # off-scored steps ignored
    choices = trial_choices(
        outputs,
        batch.__class__(
            **{
                **batch.__dict__,
                "targets": np.repeat(batch.targets, 2, axis=2),
                "weights": np.repeat(batch.weights, 2, axis=2),
                "output_names": ("a", "b"),
            }
        ),
    )
    np.testing.assert_array_equal(choices, [[0, 1], [1, 0], [0, 1]])


def test_unknown_condition_is_named():
    task = tasks.make("perceptual_decision_making")
    with pytest.raises(InvalidParameterError, match="'condition'"):
        psychometric_curve(_integrator(task.params.dt_ms), task, "coherence")


def test_ring_outputs_are_decoded_as_the_yang_metric_reads_them():
    from rnnzoo.analysis.psychometric import curve_from_outputs

    task = tasks.make("dm1")
    batch = task.generate_test()
    # a network that answers perfectly: its outputs are the targets (score 1.0 everywhere)
    outputs = batch.targets.astype(np.float64)
    assert task.performance(outputs, batch).mean() == 1.0
    curve = curve_from_outputs(outputs, task, batch, "stim1_mod1_strength")
    assert curve.choices == ("fixation", "stim1", "stim2", "other")
    strengths = batch.conditions["stim1_mod1_strength"]
    chose_first = [
        float((batch.conditions["choice"][strengths == v] == 1).mean()) for v in curve.values
    ]
    np.testing.assert_allclose(curve.choice_fraction[:, 1], chose_first)
    np.testing.assert_allclose(curve.choice_fraction[:, 0], 0.0)  # never "fixation" (was 70-100%)
    # a network that keeps fixating chooses fixation; one pointing half-way chooses "other"
    still = outputs.copy()
    still[:, :, 0] = 0.8
    assert (
        curve_from_outputs(still, task, batch, "stim1_mod1_strength").choice_fraction[:, 0].min()
        == 1.0
    )
    turned = np.zeros_like(outputs)
    from rnnzoo.tasks.yang2019.encoding import bump

    halfway = np.mod(batch.conditions["stim1_loc"] + np.pi / 2, 2 * np.pi)
    turned[:, :, 1:] = bump(halfway)[None]
    other = curve_from_outputs(turned, task, batch, "stim1_mod1_strength").choice_fraction
    np.testing.assert_allclose(other[:, 3], 1.0)
