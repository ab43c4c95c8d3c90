"""Damaged run folders are explained in one line naming the file and what is wrong (a torn last
line of metrics.jsonl is recovered with a warning), and nothing half-made is left."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch
import yaml
from helpers import TINY_CLI, files_under, invoke, one_line_error

from rnnzoo.training.results import read_runs


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished tiny run (6 steps, checkpoints every 3) to damage copies of."""
    root = tmp_path_factory.mktemp("finished")
    args = ["--max-steps", "6", "--set", "checkpoint_every=3", *TINY_CLI]
    result = invoke("train", "--out", str(root / "run"), *args)
    assert result.exit_code == 0, result.output
    return root / "run"


def copy_of(finished, tmp_path):
    import shutil

    run = tmp_path / "runs" / "run"
    shutil.copytree(finished, run)
    return run


def resume(run, *extra):
    """`rnnzoo train --resume` with a larger budget (the run's own config file given too)."""
    config = str(run / "config.yaml")
    args = ["--resume", "--config", config, "--max-steps", "8", "--no-report", *extra]
    return invoke("train", "--out", str(run), *args)


def latest_state(run):
    pointer = json.loads((run / "checkpoints" / "latest.json").read_text())
    return run / "checkpoints" / pointer["dir"] / "state.pt"


def test_a_torn_last_metrics_line_is_recovered_with_a_warning(finished, tmp_path):
    run = copy_of(finished, tmp_path)
    with open(run / "metrics.jsonl", "a") as f:
        f.write('{"step": 7, "loss": 0.1, "perf')  # a crash while appending
    result = resume(run)
    assert result.exit_code == 0, result.output
    assert (
        "warning:" in result.stderr and "metrics.jsonl" in result.stderr and "torn" in result.stderr
    )
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6, 8]


def test_a_damaged_middle_line_names_the_file_and_line(finished, tmp_path):
    run = copy_of(finished, tmp_path)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join([lines[0], "garbage", *lines[1:]]) + "\n")
    line = one_line_error(resume(run))
    assert "metrics.jsonl' is damaged: line 2" in line


DAMAGE = {
    "empty state.pt": lambda run: latest_state(run).write_bytes(b""),
    "cut state.pt": lambda run: latest_state(run).write_bytes(latest_state(run).read_bytes()[:300]),
    "state.pt missing": lambda run: latest_state(run).unlink(),
    "incomplete state": lambda run: torch.save({"step": 3}, latest_state(run)),
    "latest.json names a missing folder": lambda run: (run / "checkpoints" / "latest.json").write_text(
        json.dumps({"step": 9, "dir": "step_00000009"})
    ),
    "latest.json escapes": lambda run: (run / "checkpoints" / "latest.json").write_text(
        json.dumps({"step": 9, "dir": "../../etc"})
    ),
    "latest.json garbage": lambda run: (run / "checkpoints" / "latest.json").write_bytes(b"\xff\x00"),
    "weights of another network": lambda run: _swap_weights(run),
}  # fmt: skip
WORDS = {
    "empty state.pt": "state.pt' cannot be read",
    "cut state.pt": "state.pt' cannot be read",
    "state.pt missing": "has no state.pt",
    "incomplete state": "is incomplete",
    "latest.json names a missing folder": "names checkpoint 'step_00000009', which does not exist",
    "latest.json escapes": "is damaged",
    "latest.json garbage": "is damaged",
    "weights of another network": "does not fit",
}


def _swap_weights(run):
    from rnnzoo.models import make_model, save_model

    folder = latest_state(run).parent
    save_model(make_model("leaky_rate", 3, 3, n_hidden=5), folder / "model.safetensors")


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_checkpoint_is_one_line_and_nothing_changes(finished, tmp_path, damage):
    run = copy_of(finished, tmp_path)
    DAMAGE[damage](run)
    before = {p: (run / p).read_bytes() for p in files_under(run) if (run / p).is_file()}
    line = one_line_error(resume(run))
    assert WORDS[damage] in line, line
    after = {p: (run / p).read_bytes() for p in files_under(run) if (run / p).is_file()}
    assert after == before  # config, metrics, checkpoints and weights untouched


def test_a_results_table_of_random_bytes_is_one_line(finished, tmp_path):
    run = copy_of(finished, tmp_path)
    table = tmp_path / "runs" / "results.sqlite"
    table.write_bytes(np.random.default_rng(0).bytes(8192))
    line = one_line_error(resume(run))
    assert "results.sqlite' is damaged or not an SQLite database" in line
    fresh = one_line_error(invoke("train", "--out", str(tmp_path / "runs" / "new"), *TINY_CLI))
    assert "not an SQLite database" in fresh and not (tmp_path / "runs" / "new").exists()
    table.unlink()  # moved aside: the run goes on
    assert resume(run).exit_code == 0
    assert [r["status"] for r in read_runs(table)] == ["max_steps"]


def _nan_weights(run):
    path = run / "model.safetensors"
    data = bytearray(path.read_bytes())
    size = struct.unpack("<Q", data[:8])[0]
    start, end = json.loads(data[8 : 8 + size])["w_rec"]["data_offsets"]
    data[8 + size + start : 8 + size + end] = np.full((end - start) // 4, np.nan, "<f4").tobytes()
    path.write_bytes(bytes(data))


def _overwritten_tensors(run):
    path = run / "model.safetensors"
    data = bytearray(path.read_bytes())
    size = struct.unpack("<Q", data[:8])[0]
    rng = np.random.default_rng(1)
    data[8 + size :] = rng.integers(0, 256, len(data) - 8 - size, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def _edit_task(run, **params):
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["task"]["params"].update(params)
    (run / "config.yaml").write_text(yaml.safe_dump(config))


ANALYZE_DAMAGE = {
    "NaN w_rec": (_nan_weights, "weight 'w_rec' holds NaN or infinite values"),
    "overwritten tensor bytes": (_overwritten_tensors, "NaN or infinite"),
    "a task that no longer fits": (lambda r: _edit_task(r, n_bits=5), "n_inputs: network 3"),
    "another dt": (lambda r: _edit_task(r, dt_ms=5.0), "dt_ms: network 10.0, task/config 5.0"),
    "no weights": (lambda r: (r / "model.safetensors").unlink(), "has no model.safetensors"),
    "weights not safetensors": (
        lambda r: (r / "model.safetensors").write_bytes(b"\x00" * 64),
        "is not a safetensors model file",
    ),
}


@pytest.mark.parametrize("damage", sorted(ANALYZE_DAMAGE))
def test_analyze_of_a_damaged_run_is_one_line_and_leaves_no_folder(finished, tmp_path, damage):
    run = copy_of(finished, tmp_path)
    make_damage, words = ANALYZE_DAMAGE[damage]
    make_damage(run)
    before = files_under(tmp_path)
    line = one_line_error(invoke("analyze", str(run)))
    assert words in line, line
    assert files_under(tmp_path) == before  # no empty analysis/ folder, no partial figures


def test_a_failed_analysis_keeps_the_previous_one(finished, tmp_path):
    run = copy_of(finished, tmp_path)
    assert invoke("analyze", str(run)).exit_code == 0
    analysis = run / "analysis"
    before = {p: (analysis / p).read_bytes() for p in files_under(analysis)}
    _nan_weights(run)
    one_line_error(invoke("analyze", str(run)))
    assert {p: (analysis / p).read_bytes() for p in files_under(analysis)} == before
    assert not [p for p in files_under(run) if "partial" in p]


class Payload:
    """Pickled, it would create ``marker`` when unpickled (code run by loading a file)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickled_payload_is_refused_without_running_it(finished, tmp_path):
    run = copy_of(finished, tmp_path)
    marker = tmp_path / "payload-ran"
    torch.save({**torch.load(latest_state(run)), "step": Payload(marker)}, latest_state(run))
    line = one_line_error(resume(run))
    assert "pickled Python objects" in line and "never loads" in line
    assert not marker.exists()
