"""Same run, same bytes: model.safetensors is written in one order (its metadata keys came in
random order), two identical runs' state.pt files differ only by the run id and the wall-clock
times, and the training-loss window is part of the checkpoint (so the first loss logged after
a resume is the uninterrupted run's)."""

from __future__ import annotations

import hashlib
import json

import torch
from helpers import small

from rnnzoo.models import load_model, make_model, save_model
from rnnzoo.training import train
from rnnzoo.training.methods import make_method


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_same_network_gives_the_same_file(tmp_path):
    net = make_model("leaky_rate", 3, 2, n_hidden=8, ensemble=2, g=[0.5, 1.5], seed=4)
    paths = [save_model(net, tmp_path / f"m{i}.safetensors") for i in range(12)]
    assert len({digest(p) for p in paths}) == 1
    loaded = load_model(paths[0])
    assert all((loaded.state_dict()[k] == v).all() for k, v in net.state_dict().items())


def test_two_identical_runs_write_identical_weights(tmp_path):
    control = make_method("control")
    for name in ("a", "b"):
        train(small(max_steps=6), tmp_path / name, method=control)
    assert digest(tmp_path / "a" / "model.safetensors") == digest(
        tmp_path / "b" / "model.safetensors"
    )
    for step in ("step_00000005", "step_00000006"):
        a, b = (tmp_path / n / "checkpoints" / step / "model.safetensors" for n in "ab")
        assert digest(a) == digest(b)
        a, b = (without_identity(tmp_path / n / "checkpoints" / step / "state.pt") for n in "ab")
        assert same_contents(a, b), step


def without_identity(path) -> dict:
    """state.pt's contents less the run id and the wall-clock times (JSON entries decoded)."""
    state = torch.load(path, weights_only=True)
    del state["run_id"], state["elapsed_s"]
    return drop_times({k: json.loads(v) if isinstance(v, str) else v for k, v in state.items()})


def drop_times(value):
    if isinstance(value, dict):
        return {k: drop_times(v) for k, v in value.items() if not str(k).startswith("wall_clock")}
    if isinstance(value, list):
        return [drop_times(v) for v in value]
    return value


def same_contents(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(same_contents(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same_contents(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def test_the_loss_window_survives_a_resume(tmp_path):
    control = make_method("control")
    config = small(max_steps=12, eval_every=4, checkpoint_every=5)
    train(config, tmp_path / "full", method=control)

    def interrupt(info):
        if info["step"] == 7:  # between evaluations: the window holds the losses of steps 5-7
            raise KeyboardInterrupt

    assert train(config, tmp_path / "part", method=control, callback=interrupt).steps == 7
    train(config, tmp_path / "part", method=control, resume=True)

    def losses(name):
        lines = (tmp_path / name / "metrics.jsonl").read_text().splitlines()
        return [(r["step"], r["loss"]) for r in map(json.loads, lines)]

    assert losses("part") == losses("full") and len(losses("full")) == 3
