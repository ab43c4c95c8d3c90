"""Run the author's own RFLO example (Murray 2019) beside ours: the reference numbers of
docs/benchmarks/learning_rules.md's RFLO section.

The notebook is not part of rnnzoo; bring it with the `fetch` tool or ``git clone
https://github.com/murray-lab/rflo-learning`` and pass its path.  Its first code cell (the
``RNN`` class: weights, RFLO / BPTT / RTRL updates) is executed unchanged; this script only
chooses what the notebook's second cell chooses (sizes, target, learning rates, trials) and
the seeds, and writes the losses as JSON::

    python benchmarks/murray_reference.py /path/to/RFLO_Example.ipynb --n-rec 30 \
        --period 200 --trials 10000 --seeds 0-8 --out /tmp/murray_reference.json

Every seed seeds NumPy's global generator (the notebook draws from it) before the network is
built; BPTT and RFLO get the same initial weights.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from rnnzoo._atomic import atomic_path


def notebook_rnn_class(path: Path) -> type:
    """The ``RNN`` class of the notebook's first code cell (IPython magics dropped)."""
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    source = "".join(cells[0]["source"])
    source = "\n".join(line for line in source.splitlines() if not line.startswith("%"))
    namespace: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # the notebook compares strings with `is`
        exec(compile(source, str(path), "exec"), namespace)
    return namespace["RNN"]


def target_of(period: int) -> np.ndarray:
    """The notebook's target: sin + 0.5 sin(2x) + 0.25 sin(4x) over one period (steps, 1)."""
    phase = 2 * np.pi * np.arange(period) / period
    return (np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(4 * phase))[:, None]


def run_seed(rnn: type, args: argparse.Namespace, seed: int) -> dict[str, Any]:
    x = np.zeros((args.period, 1))
    y = target_of(args.period)
    row: dict[str, Any] = {"seed": seed}
    for rule in ("bptt", "rflo"):
        np.random.seed(seed)
        net = rnn(1, args.n_rec, 1, 0.1 * np.ones(args.n_rec), tau_m=args.tau)
        untrained = 0.5 * float(np.mean((y - net.run_trial(x, y, learning=None)[0]) ** 2))
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            _, losses, alignment = net.run_session(
                args.trials, x, y, eta=[0.0, args.eta, args.eta], learning=rule
            )
        final = 0.5 * float(np.mean((y - net.run_trial(x, y, learning=None)[0]) ** 2))
        row[rule] = {
            "untrained_loss": untrained,
            "final_loss": final,
            "loss_every_100": [float(v) for v in losses[::100]],
            "alignment_first_last": [float(alignment[0]), float(alignment[-1])],
            "seconds": round(time.perf_counter() - start, 1),
        }
    return row


def positive_int(text: str) -> int:
    """An argparse type: an integer >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return int(text)


def _seed_range(text: str) -> tuple[int, int]:
    """ "A-B" -> (A, B) with 0 <= A <= B."""
    parts = text.split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > int(parts[1]):
        raise argparse.ArgumentTypeError(f"--seeds must be A-B with 0 <= A <= B, got {text!r}")
    return int(parts[0]), int(parts[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=Path, help="path of rflo-learning's RFLO_Example.ipynb")
    parser.add_argument(
        "--n-rec", type=positive_int, default=30, help="recurrent units (paper Fig. 2: 30)"
    )
    parser.add_argument(
        "--period", type=positive_int, default=200, help="steps per period = per trial"
    )
    parser.add_argument("--tau", type=float, default=10.0, help="time constant in steps")
    parser.add_argument(
        "--trials", type=positive_int, default=10000, help="training trials (notebook)"
    )
    parser.add_argument("--eta", type=float, default=0.03, help="learning rate of w_rec, w_out")
    parser.add_argument("--seeds", type=_seed_range, default="0-8", help="A-B: seeds A to B")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    args = parser.parse_args()
    first, last = args.seeds
    rnn = notebook_rnn_class(args.notebook)
    rows = []
    for seed in range(first, last + 1):
        rows.append(run_seed(rnn, args, seed))
        summary = {k: rows[-1][k]["final_loss"] for k in ("bptt", "rflo")}
        print(json.dumps({"seed": seed, **summary}), flush=True)
        result = {
            "source": "murray-lab/rflo-learning RFLO_Example.ipynb, first code cell unchanged",
            "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "loss": "0.5 * mean squared error over the trial (the notebook's)",
            "median_final_loss": {
                rule: float(np.median([r[rule]["final_loss"] for r in rows]))
                for rule in ("bptt", "rflo")
            },
            "seeds": rows,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(args.out) as tmp:  # rewritten after every seed, never half-written
            Path(tmp).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
