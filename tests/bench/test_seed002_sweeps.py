"""Seed 002's Table 1 sweeps: the full-scale file is the paper's set-up, the CPU-scale file
differs from it only where its header says, and the GPU script refuses to run without CUDA."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import torch

from rnnzoo.bench.sweep import expand, load_sweep

ROOT = Path(__file__).resolve().parents[2]
FULL = ROOT / "examples/sweeps/seed002_table1.yaml"
CPU = ROOT / "examples/sweeps/seed002_table1_cpu.yaml"


def test_the_full_scale_sweep_is_table_1():
    sweep = load_sweep(FULL)
    jobs = expand(sweep)
    assert [(t.task, t.version, t.label) for t in sweep.tasks] == [
        ("delaygo", "soo2023", "dgo"),
        ("delayanti", "soo2023", "danti"),
    ]
    assert [m.label for m in sweep.methods] == [
        "Control",
        "CD_10",
        "SCTT_10",
        "SCTT_40",
        "DASC_10",
        "DASC_40",
    ]
    assert len(jobs) == 12 and all(len(job.runs) == 100 for job in jobs)
    config = jobs[0].config
    assert config.task["params"]["dt_ms"] == 5.0
    assert config.model.options["n_hidden"] == 50 and config.model.ensemble == 100
    tc = config.train
    assert (tc.batch_size, tc.max_steps, tc.anneal_steps, tc.device) == (20, 40000, 20000, "cuda")
    assert (tc.lr, tc.target_performance, tc.eval_every) == (0.002, 0.99, 10)


def test_the_cpu_sweep_differs_only_where_it_says():
    full, cpu = load_sweep(FULL), load_sweep(CPU)
    assert cpu.models == full.models and cpu.tasks == full.tasks[:1]
    assert [m.label for m in cpu.methods] == ["Control", "CD_10", "SCTT_40", "DASC_40"]
    assert {m.label: m for m in cpu.methods}.items() <= {m.label: m for m in full.methods}.items()
    changed = {k for k in full.train if full.train[k] != cpu.train.get(k)}
    assert changed == {"max_steps", "eval_every", "device"}
    assert cpu.train["max_steps"] == 13000 and len(cpu.seed_list()) == 5


@pytest.mark.skipif(torch.cuda.is_available(), reason="with CUDA the script would run the sweep")
def test_the_gpu_script_stops_without_cuda():
    proc = subprocess.run(
        ["bash", "scripts/seed002_table1_gpu.sh"], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "no CUDA device" in proc.stderr and not (ROOT / "out/bench/seed002_table1").exists()
