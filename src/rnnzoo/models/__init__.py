"""Recurrent networks (PyTorch): leaky firing-rate and current RNNs with the field's options,
discrete-time baselines, ensembles of M networks trained in one pass, and safe save/load.

    >>> net = make_model("leaky_rate", n_inputs=3, n_outputs=3, dt_ms=10, n_hidden=64)
    >>> out = net(torch.zeros(100, 8, 3), return_states=True)   # outputs (100, 8, 3)
"""

from rnnzoo.models.base import ModelConfig, Network, NetworkOutput
from rnnzoo.models.io import load_model, save_model
from rnnzoo.models.registry import (
    describe_all,
    describe_kind,
    from_config,
    get_model_class,
    make_model,
    model_kinds,
)

__all__ = [
    "ModelConfig",
    "Network",
    "NetworkOutput",
    "describe_all",
    "describe_kind",
    "from_config",
    "get_model_class",
    "load_model",
    "make_model",
    "model_kinds",
    "save_model",
]
