"""kill -9 at random points of a checkpoint write: the run folder always names a complete,
loadable checkpoint, the next write cleans up after the killed one, and a run killed again
and again and resumed each time ends with the weights of an uninterrupted run, bit for bit."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest
import torch
from helpers import TINY_CLI, env, rnnzoo_process

from rnnzoo.models import load_model
from rnnzoo.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint

pytestmark = pytest.mark.slow
WAIT_S = 180

WRITER = """
import sys, torch
torch.set_num_threads(1)
from pathlib import Path
from rnnzoo.models import make_model
from rnnzoo.training.checkpoint import latest_checkpoint, save_checkpoint
folder = Path(sys.argv[1])
net = make_model("leaky_rate", 3, 3, n_hidden=256, seed=0)
latest = latest_checkpoint(folder)
step = 0 if latest is None else int(torch.load(latest / "state.pt")["step"])
print("ready", flush=True)
while True:  # nothing but checkpoint writes, each of a state that names its step
    step += 1
    with torch.no_grad():
        net.w_rec.fill_(float(step))
    state = {"step": step, "optimizer": {}, "noise_generator": torch.Generator().get_state(),
             "lr_scale": 1.0, "rollbacks": 0, "elapsed_s": 0.0,
             "tensor": torch.full((64, 256), float(step))}
    for _ in range(2):  # a step written twice, as a resumed or interrupted run does
        save_checkpoint(folder, step, net, state)
"""


def wait_ready(process: subprocess.Popen) -> None:
    line = process.stdout.readline()
    assert line.strip() == "ready", process.communicate()


def test_kill9_during_checkpoint_writes_leaves_a_complete_checkpoint(tmp_path):
    folder = tmp_path / "checkpoints"
    rng = random.Random(15)
    mid_write, last = 0, 0
    for _ in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env(),
        )  # fmt: skip
        wait_ready(writer)
        time.sleep(rng.uniform(0.05, 0.6))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        pointer = folder / "latest.json"
        step = int(json.loads(pointer.read_text())["step"]) if pointer.is_file() else 0
        leftovers = list(folder.glob(".step_*.partial")) + list(folder.glob(".latest.json.*"))
        renamed_only = [d for d in folder.glob("step_*") if int(d.name[5:13]) > step]
        mid_write += bool(leftovers or renamed_only)  # killed inside save_checkpoint
        path = latest_checkpoint(folder)
        if path is None:  # killed before the first checkpoint was complete
            assert step == 0 and not list(folder.glob("step_*"))
            continue
        net, state = load_checkpoint(path, torch.device("cpu"))
        assert state["step"] == step >= last  # the pointer names what was written, in order
        assert torch.equal(net.w_rec, torch.full_like(net.w_rec, float(step)))
        assert torch.equal(state["tensor"], torch.full((64, 256), float(step)))
        last = step
    assert last > 0 and mid_write >= 1  # some kills did land inside a write
    save_checkpoint(folder, last + 1, net, state)  # the next write clears the leftovers
    assert not list(folder.glob(".step_*")) and not list(folder.glob(".latest.json.*"))
    assert latest_checkpoint(folder).name.startswith(f"step_{last + 1:08d}")


def test_a_run_killed_at_random_and_resumed_equals_an_uninterrupted_one(tmp_path):
    steps = 40
    common = ["--max-steps", str(steps), "--seed", "4", "--set", "checkpoint_every=1", *TINY_CLI]
    straight = rnnzoo_process("train", "--out", str(tmp_path / "straight"), *common)
    run = tmp_path / "killed"
    rng = random.Random(9)
    kills = 0
    for attempt in range(4):
        args = ["train", "--out", str(run), *(["--resume"] if attempt else []), *common]
        process = rnnzoo_process(*args)
        pointer = run / "checkpoints" / "latest.json"
        deadline = time.monotonic() + WAIT_S
        start = json.loads(pointer.read_text())["step"] if pointer.is_file() else -1
        while process.poll() is None and (
            not pointer.is_file() or json.loads(pointer.read_text())["step"] <= start
        ):
            assert time.monotonic() < deadline, "training did not start"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.3))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.communicate()
    finish = rnnzoo_process("train", "--out", str(run), "--resume", *common)
    for process in (finish, straight):
        _, stderr = process.communicate(timeout=WAIT_S)
        assert process.returncode == 0, stderr
        assert "Traceback" not in stderr
    assert kills >= 2
    a = load_model(run / "model.safetensors").state_dict()
    b = load_model(tmp_path / "straight" / "model.safetensors").state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    metrics = [(tmp_path / n / "metrics.jsonl").read_text() for n in ("killed", "straight")]
    steps_of = [[json.loads(x)["step"] for x in m.splitlines()] for m in metrics]
    assert steps_of[0] == steps_of[1]
