"""Seed 004 Table 1's claim at CPU scale: staged initialisation against direct training from
random weights with the same budget (the control rule of appendix C.3, eq. 5), on
Fashion-MNIST; then the noise robustness of the staged network against its stage-1 CNN
(Fig. 3C-D).

Run by hand (not in CI), with nice on a shared machine::

    PYTHONPATH=src nice -n 10 .venv/bin/python benchmarks/bench_cordsnet_table1.py \
        [--out docs/benchmarks/cordsnet_table1] [--small | --quick] [--seed S]

``--small`` is the version that fits about 15 minutes of a shared 2-core CPU: the same network,
task and optimiser, fewer steps in every stage (``SMALL``), the first 1,000 test images and
noise robustness on the first 300; ``--quick`` is a smoke test of the script.

1. ``staged``: `rnnzoo.training.train` with ``init=staged`` (stages 1-4, then fine-tuning) in
   ``<runs>/staged`` (default out/bench/cordsnet_table1).
2. The control budget, eq. 5 in steps: (time of stage 1 + time of stage 2) / (time of one
   training step of the recurrent network, measured on stage 3 of the same run) + the steps
   of stages 3, 4 and the fine-tuning.
3. ``direct``: the same network, ``init=random``, trained for that many steps (same optimiser,
   learning rate and batch) in ``<runs>/direct``.
4. Both networks, and the stage-1 CNN, on the whole Fashion-MNIST test set (10,000 images);
   noise robustness on the first 1,000.  Results: ``<out>/table1.json``, ``<out>/table1.md``,
   ``<out>/robustness.png``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnzoo.training import train
from rnnzoo.training.config import run_config

TASK_PARAMS = {"image_size": 14, "dt_ms": 4.0, "test_size": 10000}
NETWORK = {
    "preset": "R2",
    "channels": [16, 16],
    "stem_kernel": 3,
    "stem_stride": 2,
    "stem_pool": False,
}
STAGES = {
    "stage1_steps": 2000,
    "stage1_lr": 0.05,
    "stage1_batch_size": 64,
    "stage2_steps": 500,
    "stage2_lr": 1e-2,
    "stage2_batch_size": 32,
    "stage3_steps": 150,
    "stage3_lr": 1e-3,
    "stage4_steps": 5,
    "stage4_lr": 1e-3,
}
TRAIN = {
    "loss": "cross_entropy",
    "optimizer": "adamw",
    "lr": 1e-3,
    "batch_size": 32,
    "eval_every": 50,
    "eval_batch_size": 256,
    "checkpoint_every": 100,
    "target_performance": 1.0,
    "clip_grad_norm": 1.0,
}
FINE_TUNE_STEPS = 200
# seed 004 Table 1, CordsNet-R2 on Fashion-MNIST (%): control R is a fully connected RNN,
# control C the CordsNet trained directly for the initialisation's time
SEED_TABLE1_R2_FMNIST = {
    "control_R_fully_connected": 74.17,
    "control_C_direct": 77.75,
    "initialisation": 85.60,
    "fine_tuned": 88.12,
    "cnn": 88.44,
}
QUICK = {"stage1_steps": 30, "stage2_steps": 10, "stage3_steps": 3, "stage4_steps": 1}
SMALL = {"stage1_steps": 200, "stage2_steps": 50, "stage3_steps": 10, "stage4_steps": 1}
SCALES = {  # stage overrides, fine-tuning steps, test images, robustness images, eval period
    "full": ({}, FINE_TUNE_STEPS, TASK_PARAMS["test_size"], 1000, TRAIN["eval_every"]),
    "small": (SMALL, 10, 1000, 300, 25),
    "quick": (QUICK, 2, 64, 64, 2),
}


def config(init: str, steps: int, scale: str, seed: int = 0) -> Any:
    overrides, _, test_size, _, eval_every = SCALES[scale]
    options = {**NETWORK, "init": init}
    if init == "staged":
        options.update({**STAGES, **overrides})
    params = {**TASK_PARAMS, "test_size": test_size}
    return run_config(
        {
            "task": {"task": "image_classification", "version": "vanilla", "params": params},
            "model": {"kind": "cordsnet", "options": options},
            "train": {**TRAIN, "max_steps": steps, "eval_every": eval_every, "seed": seed},
        }
    )


@torch.no_grad()
def test_accuracy(run_dir: Path, limit: int | None = None) -> float:
    """Accuracy of the run's network, without noise, on the task's test grid (its first
    ``limit`` trials when given)."""
    from rnnzoo.analysis.run import load_run
    from rnnzoo.training.protocol import network_kwargs

    _, net, task = load_run(run_dir)
    grid = task.generate_test()
    size = grid.batch_size if limit is None else min(limit, grid.batch_size)
    correct = []
    for start in range(0, size, 500):
        part = grid.select(np.arange(start, min(start + 500, size)))
        out = net(
            torch.from_numpy(part.inputs),
            noise=False,
            **network_kwargs(part, "cpu"),
        ).outputs
        correct.append(task.performance(out, part))
    return float(np.mean(np.concatenate(correct)))


@torch.no_grad()
def cnn_test_accuracy(run_dir: Path, limit: int | None = None) -> float:
    from rnnzoo.analysis.run import load_run
    from rnnzoo.models.cordsnet.cnn import matched_cnn

    _, net, task = load_run(run_dir)
    cnn = matched_cnn(net)
    cnn.load_state_dict(
        torch.load(run_dir / "stages" / "1_cnn" / "cnn.pt", weights_only=True)["cnn"]
    )
    cnn.eval()
    conditions = {key: value[:limit] for key, value in task.test_conditions().items()}
    images, labels = task.images_of(conditions)
    logits = cnn(torch.from_numpy(images[:, 0]))
    return float((logits.argmax(-1).numpy() == labels[:, 0]).mean())


def evaluate(runs: Path, out: Path, n_test: int, n_robustness: int, names: list[str]) -> None:
    """Test accuracies of whichever of the ``names`` runs have finished (and the staged
    run's CNN) on the first ``n_test`` test images -> ``<out>/evaluation_<names>.json``."""
    from rnnzoo.analysis.cordsnet_plots import plot_robustness
    from rnnzoo.analysis.robustness import noise_robustness

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"test_images": n_test}
    for name in names:
        if (runs / name / "model.safetensors").is_file():
            result[f"{name}_test_accuracy"] = test_accuracy(runs / name, n_test)
    if "staged_test_accuracy" in result:
        result["cnn_test_accuracy"] = cnn_test_accuracy(runs / "staged", n_test)
        if n_robustness:
            levels = (0.0, 0.5, 1.0, 2.0, 4.0)
            rows = noise_robustness(runs / "staged", levels, n_images=n_robustness)
            result["robustness"] = {"images": n_robustness, "rows": rows}
            plot_robustness(rows, out / "robustness.png")
    (out / f"evaluation_{'_'.join(names)}.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


def _seed(text: str) -> int:
    """argparse type: ``rnnzoo.tasks.seeding.check_seed``'s rule, refused in one line."""
    from rnnzoo.errors import InvalidParameterError
    from rnnzoo.tasks.seeding import check_seed

    try:
        return check_seed(int(text) if text.isdigit() else text)
    except InvalidParameterError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks/cordsnet_table1"))
    parser.add_argument(
        "--runs",
        type=Path,
        default=Path("out/bench/cordsnet_table1"),
        help="folder of the two run directories (not committed)",
    )
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument("--small", action="store_true", help="the ~15-minute CPU version")
    scale.add_argument("--quick", action="store_true", help="a smoke test of the script")
    parser.add_argument(
        "--seed",
        type=_seed,
        default=0,
        help="seed of both runs' weights, trials and noise (one Table 1 replicate per seed)",
    )
    parser.add_argument(
        "--evaluate",
        type=int,
        metavar="N",
        help="only score the finished runs in --runs on the first N test images (no training)",
    )
    parser.add_argument(
        "--robustness-images", type=int, default=0, help="with --evaluate: noise robustness"
    )
    parser.add_argument(
        "--score",
        choices=("staged", "direct"),
        nargs="+",
        default=["staged", "direct"],
        help="with --evaluate: the runs to score",
    )
    args = parser.parse_args()
    if args.evaluate is not None:
        evaluate(args.runs, args.out, args.evaluate, args.robustness_images, args.score)
        return
    scale_name = "quick" if args.quick else "small" if args.small else "full"
    overrides, fine_tune, test_size, robustness_images, _ = SCALES[scale_name]
    torch.set_num_threads(1)
    runs = args.runs
    args.out.mkdir(parents=True, exist_ok=True)
    if runs.exists():
        shutil.rmtree(runs)
    runs.mkdir(parents=True)
    tick = time.perf_counter()
    staged = train(
        config("staged", fine_tune, scale_name, args.seed), runs / "staged", progress=False
    )
    stages = json.loads((runs / "staged" / "stages" / "stages.json").read_text())["stages"]
    per_step = stages["3_linear"]["wall_clock_s"] / stages["3_linear"]["steps"]
    rnn_steps = sum(stages[s]["steps"] for s in ("3_linear", "4_anneal")) + staged.steps
    feedforward_s = stages["1_cnn"]["wall_clock_s"] + stages["2_steady_state"]["wall_clock_s"]
    control_steps = round(feedforward_s / per_step) + rnn_steps
    direct = train(
        config("random", control_steps, scale_name, args.seed), runs / "direct", progress=False
    )
    result = {
        "scale": scale_name,
        "seed": args.seed,
        "task": {**TASK_PARAMS, "test_size": test_size},
        "network": NETWORK,
        "stages": {**STAGES, **overrides},
        "train": TRAIN,
        "fine_tune_steps": fine_tune,
        "staged": {
            "test_accuracy": test_accuracy(runs / "staged"),
            "wall_clock_s": staged.wall_clock_s,
            "stages": stages,
            "recurrent_steps": rnn_steps,
            "cnn_test_accuracy": cnn_test_accuracy(runs / "staged"),
        },
        "control_rule": {
            "feedforward_s": feedforward_s,
            "seconds_per_recurrent_step": per_step,
            "control_steps": control_steps,
        },
        "direct": {
            "test_accuracy": test_accuracy(runs / "direct"),
            "wall_clock_s": direct.wall_clock_s,
            "steps": direct.steps,
        },
        "seed_table1_r2_fashion_mnist": SEED_TABLE1_R2_FMNIST,
    }
    (args.out / "table1.json").write_text(json.dumps(result, indent=2) + "\n")  # before robustness
    from rnnzoo.analysis.cordsnet_plots import plot_robustness
    from rnnzoo.analysis.robustness import noise_robustness

    levels = (0.0, 0.5, 1.0, 2.0, 4.0)
    result["robustness"] = noise_robustness(runs / "staged", levels, n_images=robustness_images)
    plot_robustness(result["robustness"], args.out / "robustness.png")
    result["benchmark_wall_clock_s"] = time.perf_counter() - tick
    (args.out / "table1.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "| | direct training | staged initialisation |",
        "|---|---|---|",
        f"| test accuracy (%, first {test_size} test images) | {100 * result['direct']['test_accuracy']:.2f} | "
        f"{100 * result['staged']['test_accuracy']:.2f} |",
        f"| recurrent training steps | {direct.steps} | {rnn_steps} (+ CNN and fit) |",
        f"| stage-1 CNN test accuracy (%) | | {100 * result['staged']['cnn_test_accuracy']:.2f} |",
        f"| wall-clock (s) | {direct.wall_clock_s:.0f} | {staged.wall_clock_s:.0f} |",
        "| seed 004 Table 1, R2 F-MNIST (%) | 77.75 (control C) | 88.12 (fine-tuned) |",
    ]
    (args.out / "table1.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
