"""Largest Lyapunov exponent (1/s, zero input) of every network of a study at its
initialisation (the untrained twin of the saved network: same config, same seed) next to the
trained one's (the results table's column).

    python examples/studies/initial_lyapunov.py out/studies/chaos_gain/results.sqlite
"""

import sys
from pathlib import Path

import numpy as np
import torch

from rnnzoo.analysis.state_space import lyapunov_exponent
from rnnzoo.models import from_config, load_model
from rnnzoo.training.results import read_runs

torch.set_num_threads(1)
for row in sorted(read_runs(sys.argv[1]), key=lambda r: (r["model_label"], r["seed"])):
    saved = load_model(Path(row["run_dir"]) / "model.safetensors")
    initial = from_config(saved.config)
    net = initial.member(row["member"]) if saved.config.ensemble is not None else initial
    u = np.zeros(net.config.n_inputs)
    value = lyapunov_exponent(net, None, u, seed=0)
    print(
        f"{row['model_label']} / seed {row['seed']}: initial {value:+.2f}, "
        f"trained {row['lyapunov_exponent_per_s']:+.2f}"
    )
