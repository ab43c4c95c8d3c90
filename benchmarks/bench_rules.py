"""Each learning rule's own paper headline at CPU scale (docs/benchmarks/learning_rules.md).

Run by hand (not in CI), one experiment per call::

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/bench_rules.py force \
        [--seeds 5] [--out docs/benchmarks/learning_rules/headlines]

Experiments (the set-ups of the papers or the authors' code, as the reference notes give them;
every network is an rnnzoo network and every update the rule's learner, driven directly on
batches built here, one trial per batch as the papers do):

- ``force``: Sussillo & Abbott 2009, the authors' script: a 1000-unit current-form tanh
  network, g = 1.5, dt = tau / 10, output feedback w_f ~ U(-1, 1), RLS every 2 steps with
  alpha = 1, a sum of four sines (period 120 tau) learned for 1440 tau, then 1440 tau more with
  learning off.  A 2 ms pulse through random input weights starts the activity (the networks
  start at rest; the script starts from random states).  Train and test mean absolute error.
- ``full_force``: DePasquale et al. 2018's oscillation demo (demo_oscillation.m, trial_osc.m):
  300 units, tau = 10 ms, dt = 1 ms, a 50 ms input pulse, a 2 s chirp-like sine target,
  g = 1.5, P(0) = I, RLS every 2 steps; full-FORCE and FORCE on the same trials; test nMSE
  (mean squared error over the target's variance) on held-out trials without learning.
- ``rflo``: Murray 2019 Fig. 2: 30 rate units, tau = 10 steps, a 1-D periodic target of period
  20, 40 and 80 tau (a 10-step pulse sets the phase); RFLO with random feedback, with
  W_out^T, and BPTT, with the same optimiser and learning rate; final loss, untrained loss and
  the alignment cos(W_out, B) before and after.
- ``rflo_authors``: the same comparison in the set-up of the author's example notebook
  (murray-lab/rflo-learning): plain SGD (eta 0.03 on 0.5 x MSE), 10,000 one-period trials,
  g = 1.5, readout 0.1 U(-1, 1) / sqrt(N) without bias, feedback of std 1, W_in and b fixed,
  the target sin + 0.5 sin 2x + 0.25 sin 4x; ``--period-tau`` sets the period (default 20),
  ``--optimizer adam --lr LR`` swaps only the optimiser.
  ``benchmarks/murray_reference.py`` runs the notebook itself for comparison.
- ``eprop``: Bellec et al. 2020's pattern-generation tutorial in rate units: 100 current-form
  units, tau = 30 ms, dt = 1 ms, 100 frozen Poisson inputs at 50 Hz, a 1 s sum of four sines
  (periods 1000, 500, 333, 200 ms, random amplitudes and phases, scaled to [-1, 1]); e-prop
  with random and with symmetric feedback and BPTT after equal updates (``--optimizer sgd``
  with ``--lr 0.05``: the tutorial's plain gradient descent, lr 1e-4 on the summed error).
- ``node_perturbation``: Miconi 2017's delayed non-match-to-sample (dnms/net.cpp): 200 tanh
  units, G = 1.5, tau = 30 ms, dt = 1 ms, stimuli A/B at 0-200 and 400-600 ms, response
  +-0.98 read from neuron 0 over the last 200 ms, the paper's hyperparameters; trials to
  criterion (95 % of 100 consecutive trials correct: the sign of the mean response); stops
  when every network is there.

Seeds train as one ensemble (member i from stream i; the rules' own draws per member).  Each
experiment writes ``<out>/<name>.json`` (every number of the docs) and ``<out>/<name>.png``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from murray_reference import positive_int, target_of
from rnnzoo.models import make_model
from rnnzoo.models.base import seeded_generator
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.training.config import TrainConfig
from rnnzoo.training.methods import make_method
from rnnzoo.training.rules import LearnerContext, make_learner

OUT = Path("docs/benchmarks/learning_rules/headlines")


def network(
    kind: str, n_inputs: int, seeds: int, n_hidden: int, tau_ms: float, **options: Any
) -> Any:
    """An ensemble of ``seeds`` tanh networks with one output at dt = 1 ms (member i: stream i)."""
    return make_model(
        kind,
        n_inputs,
        1,
        dt_ms=1.0,
        ensemble=seeds,
        seed=0,
        n_hidden=n_hidden,
        tau_ms=tau_ms,
        activation="tanh",
        **options,
    )


def batch_of(
    inputs: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray,
    dt_ms: float,
    conditions: dict[str, np.ndarray] | None = None,
) -> TrialBatch:
    """A TrialBatch (T, B, ·) of hand-built trials (float32, full length)."""
    steps, batch = inputs.shape[:2]
    return TrialBatch(
        inputs=inputs.astype(np.float32),
        targets=targets.astype(np.float32),
        weights=weights.astype(np.float32),
        lengths=np.full(batch, steps),
        epochs={},
        conditions=conditions or {},
        input_names=tuple(f"u{i}" for i in range(inputs.shape[2])),
        output_names=tuple(f"z{i}" for i in range(targets.shape[2])),
        dt_ms=dt_ms,
    )


class _Trials:
    """The current task as a learner sees it (only node perturbation asks, for conditions)."""

    def __init__(self, make: Callable[[], TrialBatch]) -> None:
        self.make = make

    def generate(self, batch_size: int, seed: int) -> TrialBatch:
        return self.make()


def learner_for(
    net: Any, rule: str, hp: dict[str, Any], make: Callable[[], TrialBatch], **train: Any
) -> Any:
    context = LearnerContext(
        net,
        TrainConfig(**{"clip_grad_norm": None, **train}),
        make_method("control"),
        seeded_generator(0, 1),
        lambda: _Trials(make),
    )
    learn = make_learner(rule, hp, context)
    learn.begin()
    return learn


def step(learn: Any, batch: TrialBatch) -> np.ndarray:
    """One training step; the per-member loss (M,)."""
    loss = learn.losses(batch, 1.0).detach()
    bad = learn.prepare_update(0)
    if bad is not None:
        raise RuntimeError(f"diverged: {bad}")
    learn.apply_update()
    return loss.cpu().numpy()


def outputs_of(net: Any, batch: TrialBatch) -> np.ndarray:
    """The network's true-dynamics outputs (T, M, B, O) on ``batch`` (no learning)."""
    with torch.no_grad():
        out = net(torch.from_numpy(batch.inputs)).outputs
    return (out if net.config.ensemble else out.unsqueeze(1)).numpy()


def save(name: str, out: Path, result: dict[str, Any], fig: Any) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=110)
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, list | dict)}))


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# --- FORCE (Sussillo & Abbott 2009) --------------------------------------------------------------
def sussillo_target(steps: int, dt_tau: float) -> np.ndarray:
    """The authors' script: amp = 1.3, freq = 1/60 (per tau), four sines, / 1.5."""
    t = np.arange(steps) * dt_tau
    amp, freq = 1.3, 1 / 60
    f = (
        amp * np.sin(np.pi * freq * t)
        + amp / 2 * np.sin(2 * np.pi * freq * t)
        + amp / 6 * np.sin(3 * np.pi * freq * t)
        + amp / 3 * np.sin(4 * np.pi * freq * t)
    )
    return f / 1.5


def force(args: argparse.Namespace) -> None:
    n, train_tau, dt_tau = args.n_hidden, 1440.0, 0.1
    steps = int(train_tau / dt_tau)
    net = network("leaky_current", 1, args.seeds, n, 10.0, g=1.5)
    inputs = np.zeros((2 * steps, 1, 1))
    inputs[:20] = 1.0  # 2 ms (0.2 tau) pulse: starts the chaotic activity
    target = sussillo_target(2 * steps, dt_tau)[:, None, None]
    weights = np.zeros_like(target)
    weights[:steps] = 1.0  # learning on for 1440 tau, then off for 1440 tau
    batch = batch_of(inputs, target, weights, 1.0)
    learn = learner_for(
        net, "force", {"alpha": 1.0, "learn_every": 2, "feedback_scale": 1.0}, lambda: batch
    )
    start = time.perf_counter()
    step(learn, batch)
    seconds = time.perf_counter() - start
    z = learn.outputs[:, :, 0, 0].numpy()  # (T, M) as the rule ran it
    err = np.abs(z - target[:, 0, :1])
    train_mae, test_mae = err[:steps].mean(0), err[steps:].mean(0)
    result = {
        "experiment": "FORCE, Sussillo & Abbott 2009 (authors' script set-up)",
        "command": f"benchmarks/bench_rules.py force --seeds {args.seeds} --n-hidden {n}",
        "n_hidden": n,
        "g": 1.5,
        "seeds": args.seeds,
        "train_tau": train_tau,
        "train_mae": train_mae.tolist(),
        "test_mae": test_mae.tolist(),
        "median_train_mae": float(np.median(train_mae)),
        "seeds_test_mae_below_0.2": int((test_mae < 0.2).sum()),
        "seconds": round(seconds, 1),
    }
    plt = pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(9, 5), sharey=True)
    t = np.arange(2 * steps) * dt_tau
    best = int(np.argmin(test_mae))
    for ax, (lo, hi), title in zip(
        axes,
        ((steps - 2400, steps), (2 * steps - 2400, 2 * steps)),
        ("end of training (learning on)", "end of test (learning off)"),
        strict=True,
    ):
        ax.plot(t[lo:hi], target[lo:hi, 0, 0], "k", lw=2, label="target f")
        ax.plot(t[lo:hi], z[lo:hi, best], "C1", lw=1, label=f"output z (seed {best})")
        ax.set(title=title, xlabel="time (tau)")
        ax.legend(fontsize=8, loc="upper right")
    save("force", args.out, result, fig)


# --- full-FORCE vs FORCE (DePasquale et al. 2018) ------------------------------------------------
def depasquale_trial() -> tuple[np.ndarray, np.ndarray]:
    """trial_osc.m at dt = 1 ms: a 50 ms input pulse, then 1.95 s; fout = sin(2 pi freq)."""
    steps = 2000
    t = 0.1 * np.arange(1, steps + 1)  # in units of tau
    full = steps * 0.1
    freq = t / full * (6 * t / full + 3)
    half = steps // 2
    freq[half:] = -3 + t[half:] / full * (15 - 6 * t[half:] / full)
    fin = np.zeros(steps)
    fin[:50] = 1.0
    return fin, np.sin(2 * np.pi * freq)


def full_force(args: argparse.Namespace) -> None:
    fin, fout = depasquale_trial()
    inputs, target = fin[:, None, None], fout[:, None, None]
    train = batch_of(inputs, target, np.ones_like(target), 1.0)
    test = batch_of(inputs, target, np.zeros_like(target), 1.0)
    result: dict[str, Any] = {
        "experiment": "full-FORCE vs FORCE, DePasquale et al. 2018 oscillation demo",
        "command": f"benchmarks/bench_rules.py full_force --seeds {args.seeds} "
        f"--trials {args.trials} --n-hidden {args.n_hidden}",
        "n_hidden": args.n_hidden,
        "train_trials": args.trials,
        "test_trials": 1,
    }
    curves = {}
    for rule, hp in (("full_force", {"teacher_g": 1.5}), ("force", {})):
        net = network("leaky_current", 1, args.seeds, args.n_hidden, 10.0, g=1.5)
        with torch.no_grad():  # the demo's input weights, U(-1, 1)
            gen = torch.Generator().manual_seed(1)
            net.w_in.copy_(torch.rand(net.w_in.shape, generator=gen) * 2 - 1)
        learn = learner_for(net, rule, {"alpha": 1.0, "learn_every": 2, **hp}, lambda: train)
        start = time.perf_counter()
        losses = [step(learn, train) for _ in range(args.trials)]
        seconds = time.perf_counter() - start
        z = outputs_of(net, test)[:, :, 0, 0]  # held out: true dynamics, no learning
        nmse = ((z - fout[:, None]) ** 2).mean(0) / fout.var()
        result[rule] = {
            "test_nmse": nmse.tolist(),
            "median_test_nmse": float(np.median(nmse)),
            "seconds": round(seconds, 1),
        }
        curves[rule] = (np.array(losses), z)
    wins = int(
        (
            np.array(result["full_force"]["test_nmse"]) <= np.array(result["force"]["test_nmse"])
        ).sum()
    )
    result["seeds_full_force_at_most_force"] = wins
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for j, (rule, (losses, z)) in enumerate(curves.items()):
        axes[0].semilogy(np.median(losses, 1), color=f"C{j}", label=rule)
        axes[1].plot(z[:, 0], color=f"C{j}", lw=1, label=f"{rule} (seed 0)")
    axes[1].plot(fout, "k--", lw=1, label="target")
    axes[0].set(xlabel="training trial", ylabel="training MSE (median over seeds)")
    axes[1].set(xlabel="time (ms)", title="held-out trial, learning off")
    for ax in axes:
        ax.legend(fontsize=8)
    save("full_force", args.out, result, fig)


# --- RFLO (Murray 2019) --------------------------------------------------------------------------
def rflo(args: argparse.Namespace) -> None:
    tau_steps, n = 10, 30
    result: dict[str, Any] = {
        "experiment": "RFLO vs BPTT, Murray 2019 Fig. 2 set-up",
        "command": f"benchmarks/bench_rules.py rflo --seeds {args.seeds} --steps {args.steps} "
        f"--optimizer {args.optimizer} --lr {args.lr}",
        "n_hidden": n,
        "tau_steps": tau_steps,
        "updates": args.steps,
        "optimizer": args.optimizer,
        "lr": args.lr,
    }
    plt = pyplot()
    periods = (20, 40, 80)
    fig, axes = plt.subplots(1, len(periods), figsize=(13, 3.6), sharey=True)
    for ax, period in zip(axes, periods, strict=True):
        steps = 2 * period * tau_steps
        target = np.sin(2 * np.pi * np.arange(steps) / (period * tau_steps))[:, None, None]
        inputs = np.zeros((steps, 1, 1))
        inputs[:10] = 1.0
        batch = batch_of(inputs, target, np.ones_like(target), 1.0)
        row = {}
        for j, (name, rule, hp) in enumerate(
            (
                ("bptt", "bptt", {}),
                ("rflo_random", "rflo", {"feedback": "random"}),
                ("rflo_symmetric", "rflo", {"feedback": "symmetric"}),
            )
        ):
            net = network("leaky_rate", 1, args.seeds, n, float(tau_steps))
            learn = learner_for(
                net, rule, hp, lambda batch=batch: batch, optimizer=args.optimizer, lr=args.lr
            )
            feedback = getattr(learn, "feedback", None)
            align0 = _alignment(net, feedback)
            untrained = _mse(net, batch)
            start = time.perf_counter()
            losses = np.array([step(learn, batch) for _ in range(args.steps)])
            final = _mse(net, batch)
            row[name] = {
                "untrained_mse": untrained.tolist(),
                "final_mse": final.tolist(),
                "median_final_mse": float(np.median(final)),
                "median_untrained_mse": float(np.median(untrained)),
                "alignment_before": None if align0 is None else align0.tolist(),
                "alignment_after": None if feedback is None else _alignment(net, feedback).tolist(),
                "seconds": round(time.perf_counter() - start, 1),
            }
            ax.semilogy(np.median(losses, 1), color=f"C{j}", label=name)
        bptt = row["bptt"]["median_final_mse"]
        row["rflo_over_bptt"] = row["rflo_random"]["median_final_mse"] / bptt
        result[f"period_{period}_tau"] = row
        ax.set(title=f"period {period} tau", xlabel="update (one trial)", ylabel="MSE (median)")
        ax.legend(fontsize=8)
    save("rflo", args.out, result, fig)


def rflo_authors(args: argparse.Namespace) -> None:
    """Murray's own example (murray-lab/rflo-learning, RFLO_Example.ipynb) in rnnzoo's terms."""
    n, tau_steps = args.n_hidden, 10
    period = args.period_tau * tau_steps
    # the notebook's SGD at eta 0.03 on 0.5 * MSE is rnnzoo's at 0.015 on the MSE; --optimizer
    # adam (with --lr) changes only the optimiser, to see what the first set-up's Adam does here
    lr = 0.015 if args.optimizer == "sgd" else args.lr
    name = "rflo_authors" + ("" if args.period_tau == 20 else f"_{args.period_tau}tau")
    name += "" if args.optimizer == "sgd" else f"_{args.optimizer}"
    result: dict[str, Any] = {
        "experiment": "RFLO vs BPTT in the set-up of the author's example notebook",
        "command": f"benchmarks/bench_rules.py rflo_authors --seeds {args.seeds} "
        f"--trials {args.trials} --n-hidden {n} --period-tau {args.period_tau} "
        f"--optimizer {args.optimizer}" + ("" if args.optimizer == "sgd" else f" --lr {lr}"),
        "n_hidden": n,
        "tau_steps": tau_steps,
        "period_steps": period,
        "trials": args.trials,
        "optimizer": args.optimizer,
        "lr": lr,
        "loss": "0.5 * mean squared error over the trial (the notebook's)",
    }
    target = target_of(period)[:, None]
    inputs = np.zeros((period, 1, 1))
    inputs[:10] = 1.0
    batch = batch_of(inputs, target, np.ones_like(target), 1.0)
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for j, (arm, rule, hp) in enumerate(
        (
            ("bptt", "bptt", {}),
            ("rflo_random", "rflo", {"feedback": "random", "feedback_scale": n**0.5}),
        )
    ):
        net = network(
            "leaky_rate",
            1,
            args.seeds,
            n,
            float(tau_steps),
            g=1.5,
            train_input=False,
            train_bias=False,
        )
        with torch.no_grad():  # the notebook's readout: 0.1 U(-1, 1) / sqrt(N), no bias
            generator = torch.Generator().manual_seed(1)
            w_out = net.w_out
            w_out.copy_(0.1 * (2 * torch.rand(w_out.shape, generator=generator) - 1) / n**0.5)
        net.b_out.requires_grad_(False)
        learn = learner_for(net, rule, hp, lambda: batch, optimizer=args.optimizer, lr=lr)
        feedback = getattr(learn, "feedback", None)
        align0 = _alignment(net, feedback)
        untrained = 0.5 * _mse(net, batch)
        start = time.perf_counter()
        losses = 0.5 * np.array([step(learn, batch) for _ in range(args.trials)])
        final = 0.5 * _mse(net, batch)
        result[arm] = {
            "untrained_loss": untrained.tolist(),
            "final_loss": final.tolist(),
            "median_final_loss": float(np.median(final)),
            "median_loss_every_100": np.median(losses[::100], 1).tolist(),
            "alignment_before": None if align0 is None else align0.tolist(),
            "alignment_after": None if feedback is None else _alignment(net, feedback).tolist(),
            "seconds": round(time.perf_counter() - start, 1),
        }
        axes[0].loglog(np.median(losses, 1), color=f"C{j}", label=arm)
        z = outputs_of(net, batch)[:, :, 0, 0]
        axes[1].plot(z[:, 0], color=f"C{j}", label=f"{arm}, seed 0")
    result["rflo_over_bptt"] = (
        result["rflo_random"]["median_final_loss"] / result["bptt"]["median_final_loss"]
    )
    axes[0].set(xlabel="trial", ylabel="0.5 MSE (median over seeds)")
    axes[1].plot(target[:, 0, 0], "k--", label="target")
    axes[1].set(xlabel="time step", title="after training, learning off")
    for ax in axes:
        ax.legend(fontsize=8)
    save(name, args.out, result, fig)


def _mse(net: Any, batch: TrialBatch) -> np.ndarray:
    z = outputs_of(net, batch)
    return ((z - batch.targets[:, None]) ** 2).mean(axis=(0, 2, 3))


def _alignment(net: Any, feedback: Any) -> np.ndarray | None:
    """cos(W_out, B^T) per member (random feedback only)."""
    if feedback is None:
        return None
    w = net.output_weights().detach().flatten(1).double()
    b = feedback.transpose(1, 2).flatten(1).double()
    return (torch.nn.functional.cosine_similarity(w, b, dim=1)).numpy()


# --- e-prop (Bellec et al. 2020) -----------------------------------------------------------------
def eprop(args: argparse.Namespace) -> None:
    steps, n_in, n = 1000, 100, 100
    rng = np.random.default_rng(0)
    inputs = (rng.random((steps, 1, n_in)) < 0.05).astype(float)  # frozen 50 Hz Poisson, 1 ms
    t = np.arange(steps) / 1000
    target = sum(
        rng.uniform(0.5, 2) * np.sin(2 * np.pi * t / p + rng.uniform(0, 2 * np.pi))
        for p in (1.0, 0.5, 0.333, 0.2)
    )
    target = 2 * (target - target.min()) / (target.max() - target.min()) - 1
    batch = batch_of(inputs, target[:, None, None], np.ones((steps, 1, 1)), 1.0)
    result: dict[str, Any] = {
        "experiment": "e-prop vs BPTT, Bellec et al. 2020 pattern-generation tutorial (rate units)",
        "command": f"benchmarks/bench_rules.py eprop --seeds {args.seeds} --steps {args.steps} "
        f"--optimizer {args.optimizer} --lr {args.lr}",
        "n_hidden": n,
        "updates": args.steps,
        "optimizer": args.optimizer,
        "lr": args.lr,
    }
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    final_z = {}
    for j, (name, rule, hp) in enumerate(
        (
            ("bptt", "bptt", {}),
            ("eprop_random", "eprop", {"feedback": "random"}),
            ("eprop_symmetric", "eprop", {"feedback": "symmetric"}),
        )
    ):
        net = network("leaky_current", n_in, args.seeds, n, 30.0)
        learn = learner_for(net, rule, hp, lambda: batch, optimizer=args.optimizer, lr=args.lr)
        untrained = _mse(net, batch)
        start = time.perf_counter()
        losses = np.array([step(learn, batch) for _ in range(args.steps)])
        final = _mse(net, batch)
        result[name] = {
            "untrained_mse": untrained.tolist(),
            "final_mse": final.tolist(),
            "median_final_mse": float(np.median(final)),
            "seconds": round(time.perf_counter() - start, 1),
        }
        axes[0].semilogy(np.median(losses, 1), color=f"C{j}", label=name)
        final_z[name] = outputs_of(net, batch)[:, 0, 0, 0]
    for name in ("eprop_random", "eprop_symmetric"):
        result[f"{name}_over_bptt"] = (
            result[name]["median_final_mse"] / result["bptt"]["median_final_mse"]
        )
    axes[0].set(xlabel="update (one trial)", ylabel="MSE (median over seeds)")
    axes[1].plot(t * 1000, target, "k", lw=2, label="target")
    for j, (name, z) in enumerate(final_z.items()):
        axes[1].plot(t * 1000, z, color=f"C{j}", lw=1, label=f"{name} (seed 0)")
    axes[1].set(xlabel="time (ms)", title="after training")
    for ax in axes:
        ax.legend(fontsize=8)
    save("eprop", args.out, result, fig)


# --- node perturbation (Miconi 2017) -------------------------------------------------------------
def miconi_trial(kind: int) -> tuple[np.ndarray, np.ndarray]:
    """dnms/net.cpp: type 0 AA, 1 AB, 2 BA, 3 BB; target -0.98 (match) or +0.98."""
    steps = 1000
    inputs = np.zeros((steps, 2))
    first, second = (0, 0, 1, 1)[kind], (0, 1, 0, 1)[kind]
    inputs[1:201, first] = 1.0
    inputs[400:600, second] = 1.0
    target = np.full(steps, 0.98 if first != second else -0.98)
    return inputs, target


def node_perturbation(args: argparse.Namespace) -> None:
    n, steps = 200, 1000
    trials = [miconi_trial(k) for k in range(4)]

    def make(k: int) -> TrialBatch:
        inputs, target = trials[k]
        weights = np.zeros((steps, 1, 1))
        weights[-200:] = 1.0  # the error counts the last 200 ms
        return batch_of(
            inputs[:, None], target[:, None, None], weights, 1.0, {"type": np.array([k])}
        )

    net = network("leaky_current", 2, args.seeds, n, 30.0, g=1.5)
    with torch.no_grad():  # Miconi's read-out neuron 0 and input weights U(-1, 1)
        net.w_out.zero_()
        net.w_out[:, 0, 0] = 1.0
        net.b_out.zero_()
        gen = torch.Generator().manual_seed(2)
        net.w_in.copy_(torch.rand(net.w_in.shape, generator=gen) * 2 - 1)
    hp = {
        "eta": 0.1,
        "max_update": 3e-4,
        "perturbation_rate_hz": 3.0,
        "kick": 16 / 30,
        "baseline_by": ["type"],
        "warmup_trials": 100,
    }
    learn = learner_for(net, "node_perturbation", hp, lambda: make(0))
    correct, errors = [], []
    start = time.perf_counter()
    for trial in range(args.trials):
        if trial >= 100 and (np.array(correct[-100:]).mean(0) >= 0.95).all():
            break  # every network is at the criterion
        batch = make(trial % 4)
        step(learn, batch)
        z = learn.outputs[-200:, :, 0, 0].numpy().mean(0)  # (M,)
        correct.append(np.sign(z) == np.sign(batch.targets[-1, 0, 0]))
        errors.append(
            np.abs(learn.outputs[-200:, :, 0, 0].numpy() - batch.targets[-1, 0, 0]).mean(0)
        )
    seconds = time.perf_counter() - start
    correct_arr = np.array(correct, dtype=float)  # (trials, M)
    window = np.array([correct_arr[max(0, i - 99) : i + 1].mean(0) for i in range(len(correct))])
    reached = [
        int(np.argmax(window[99:, m] >= 0.95)) + 100 if (window[99:, m] >= 0.95).any() else None
        for m in range(args.seeds)
    ]
    hits = [r for r in reached if r is not None]
    result = {
        "experiment": "node perturbation (Miconi's rule), Miconi 2017 DNMS (dnms/net.cpp set-up)",
        "command": f"benchmarks/bench_rules.py node_perturbation --seeds {args.seeds} "
        f"--trials {args.trials}",
        "n_hidden": n,
        "seeds": args.seeds,
        "max_trials": args.trials,
        "trials_run": len(correct),
        "hyperparameters": hp,
        "trials_to_criterion": reached,
        "reached": len(hits),
        "median_trials_to_criterion": float(np.median(hits)) if len(hits) == args.seeds else None,
        "final_window_correct": window[-1].tolist(),
        "seconds": round(seconds, 1),
    }
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    for m in range(args.seeds):
        axes[0].plot(window[:, m], lw=1, label=f"seed {m}")
        axes[1].plot(np.convolve(np.array(errors)[:, m], np.ones(50) / 50, "valid"), lw=1)
    axes[0].axhline(0.95, color="k", ls=":")
    axes[0].set(xlabel="trial", ylabel="fraction correct (last 100 trials)")
    axes[1].set(xlabel="trial", ylabel="mean |z - target| (50-trial mean)")
    axes[0].legend(fontsize=8)
    save("node_perturbation", args.out, result, fig)


EXPERIMENTS = {
    "force": force,
    "full_force": full_force,
    "rflo": rflo,
    "rflo_authors": rflo_authors,
    "eprop": eprop,
    "node_perturbation": node_perturbation,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("experiment", choices=list(EXPERIMENTS))
    parser.add_argument("--seeds", type=int, default=5, help="networks (one ensemble)")
    parser.add_argument("--n-hidden", type=int, default=None, help="units (default: the paper's)")
    parser.add_argument("--trials", type=int, default=None, help="training trials")
    parser.add_argument("--steps", type=int, default=1000, help="updates (rflo, eprop)")
    parser.add_argument(
        "--optimizer",
        choices=("adam", "sgd"),
        default=None,
        help="optimiser (rflo, eprop: default adam; rflo_authors: default sgd, the notebook's)",
    )
    parser.add_argument("--lr", type=float, default=3e-3, help="learning rate (rflo, eprop)")
    parser.add_argument(
        "--period-tau", type=positive_int, default=20, help="target period in tau (rflo_authors)"
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    defaults = {
        "force": (1000, None),
        "full_force": (300, 200),
        "node_perturbation": (200, 2500),
        "rflo_authors": (30, 10000),
    }
    n_default, trials_default = defaults.get(args.experiment, (None, None))
    args.n_hidden = args.n_hidden or n_default
    args.trials = args.trials or trials_default
    args.optimizer = args.optimizer or ("sgd" if args.experiment == "rflo_authors" else "adam")
    EXPERIMENTS[args.experiment](args)


if __name__ == "__main__":
    main()
