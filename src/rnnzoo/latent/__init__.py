"""The latent method (poster seed 000, "SSL framework" and "LPU framework"): transfer a small
trained network's latent dynamics to a large low-rank network (N up to 10^6) without BPTT
through N-dimensional trajectories.

    >>> from rnnzoo import latent
    >>> system = latent.extract(teacher, task)               # E, M, latents z = E r
    >>> big = latent.expand(system, 50_000, "ridge", task)    # W = m n^T / N, never formed
    >>> latent.expand_run({"teacher": "out/train", "n_hidden": 50_000}, "out/big")

`rnnzoo latent expand` runs the whole method into a run directory that `rnnzoo analyze` and
the GUI read.
"""

from rnnzoo.latent.config import LatentConfig, latent_config
from rnnzoo.latent.constructions import INITS, expand
from rnnzoo.latent.inference import compare_fixed_points, evaluate, normalised_latent_loss
from rnnzoo.latent.memory import estimate_bytes
from rnnzoo.latent.readout import fit_readout
from rnnzoo.latent.run import expand_run, prepare
from rnnzoo.latent.ssl import free_running_loss, teacher_forced_loss
from rnnzoo.latent.system import LatentData, LatentSystem, extract

__all__ = [
    "INITS",
    "LatentConfig",
    "LatentData",
    "LatentSystem",
    "compare_fixed_points",
    "estimate_bytes",
    "evaluate",
    "expand",
    "expand_run",
    "extract",
    "fit_readout",
    "free_running_loss",
    "latent_config",
    "normalised_latent_loss",
    "prepare",
    "teacher_forced_loss",
]
