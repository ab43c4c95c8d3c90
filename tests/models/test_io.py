"""Saving and loading networks as safetensors with their config."""

import pickle

import pytest
import torch
from safetensors.torch import save_file

from rnnzoo import InvalidParameterError
from rnnzoo.models import load_model, make_model, save_model
from rnnzoo.models.io import read_config


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("leaky_rate", {"dale": True, "connection_prob": 0.5}),
        ("leaky_current", {"rank": 2}),
        ("leaky_rate", {"g": [1.0, 2.0]}),
    ],
)
def test_round_trip_keeps_weights_masks_and_config(tmp_path, kind, options):
    ensemble = 2 if isinstance(options.get("g"), list) else None
    net = make_model(kind, 3, 2, dt_ms=5, n_hidden=12, seed=9, ensemble=ensemble, **options)
    with torch.no_grad():
        next(net.parameters()).add_(0.5)  # trained weights differ from the seed's
    path = save_model(net, tmp_path / "net.safetensors")
    loaded = load_model(path)
    assert loaded.config == net.config == read_config(path)
    inputs = torch.randn(6, 4, 3)
    torch.testing.assert_close(loaded(inputs).outputs, net(inputs).outputs, rtol=0, atol=0)


def test_mismatched_checkpoint_is_a_clear_error(tmp_path):
    net = make_model("leaky_rate", 3, 2, n_hidden=12)
    path = save_model(net, tmp_path / "net.safetensors")
    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    tensors["w_rec"] = torch.zeros(1, 10, 10)
    del tensors["bias"]
    metadata = {"format": "rnnzoo.model/1", "config": net.config.model_dump_json()}
    save_file(tensors, path, metadata=metadata)
    with pytest.raises(InvalidParameterError, match=r"missing \['bias'\].*'w_rec' \(1, 10, 10\)"):
        load_model(path)


def test_loading_never_unpickles(tmp_path):
    class Boom:
        def __reduce__(self):
            return (print, ("executed!",))

    path = tmp_path / "evil.safetensors"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(InvalidParameterError, match="is not a safetensors model file"):
        load_model(path)
    save_file({"x": torch.zeros(2)}, tmp_path / "plain.safetensors")
    with pytest.raises(InvalidParameterError, match="is not an rnnzoo model"):
        load_model(tmp_path / "plain.safetensors")
    with pytest.raises(InvalidParameterError, match="does not exist"):
        load_model(tmp_path / "missing.safetensors")


def test_failed_save_leaves_no_file(tmp_path):
    with pytest.raises(InvalidParameterError, match="does not exist"):
        save_model(make_model("leaky_rate", 1, 1, n_hidden=4), tmp_path / "no" / "net.safetensors")
    assert list(tmp_path.iterdir()) == []
