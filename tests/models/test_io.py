"""Saving and loading networks as safetensors with their config."""

import json
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


def test_saved_config_writes_every_option_and_old_files_keep_their_defaults(tmp_path):
    from safetensors import safe_open

    from rnnzoo.models import get_model_class

    net = make_model("leaky_current", 3, 2, n_hidden=8, seed=1)
    path = save_model(net, tmp_path / "net.safetensors")
    with safe_open(str(path), framework="pt") as f:
        stored = json.loads(f.metadata()["config"])["options"]
    # default-valued options are written too: a later default change cannot alter this network
    assert set(stored) == set(get_model_class("leaky_current").Options.model_fields)
    assert stored["activation"] == "relu" and stored["tau_ms"] == 100.0
    # a format-1 file left defaults out; it loads with the defaults of its time (tanh)
    old = net.config.model_copy(update={"options": {"n_hidden": 8}})
    tensors = {k: v.contiguous() for k, v in net.state_dict().items()}
    metadata = {"format": "rnnzoo.model/1", "config": old.model_dump_json()}
    save_file(tensors, tmp_path / "old.safetensors", metadata=metadata)
    assert load_model(tmp_path / "old.safetensors").options.activation == "tanh"


def test_complete_config_of_a_masked_low_rank_or_prelu_network_loads(tmp_path):
    for options in (
        {"rank": 2},
        {"activation": "prelu", "activation_slope": 0.5},
        {"recurrent_mask": [[1.0] * 4, [0.0] * 4, [1.0] * 4, [1.0, 0.0, 1.0, 0.0]]},
    ):
        net = make_model("leaky_rate", 2, 1, n_hidden=4, ensemble=2, **options)
        path = save_model(net, tmp_path / "net.safetensors")
        loaded = load_model(path)
        assert loaded.config == net.config
        assert loaded.member(1).config.options == {**net.config.options}
