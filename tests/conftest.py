"""Test-wide settings: one torch thread (2 shared cores), headless matplotlib."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # the tasks layer is tested without torch too
    pass
