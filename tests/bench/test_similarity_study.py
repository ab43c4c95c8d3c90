"""The architecture-similarity study of a sweep (seed 004 Table S2): Procrustes distances of
each architecture's trained networks to the reference architecture's."""

import numpy as np
import pytest
from bench_helpers import cli, tiny_sweep, write_sweep

from rnnzoo import InvalidParameterError
from rnnzoo.analysis.network import simulate
from rnnzoo.analysis.similarity import shape_distance
from rnnzoo.bench.executors import LocalExecutor
from rnnzoo.bench.runner import run_sweep
from rnnzoo.bench.similarity import _networks, architecture_distances
from rnnzoo.bench.sweep import sweep_from_dict
from rnnzoo.tasks import make

pytestmark = pytest.mark.slow


def test_distances_to_the_reference_architecture(tmp_path):
    data = tiny_sweep(
        tmp_path / "res",
        name="b3tiny",
        tasks=[{"task": "pdm", "params": {"input_duration_ms": 100}, "label": "PDM"}],
        models=[
            {
                "kind": "leaky_rate",
                "label": "fully_connected/relu",
                "options": {"n_hidden": 9, "tau_ms": 100},
            },
            {
                "kind": "cordsnet",
                "label": "cordsnet/relu",
                "options": {"channels": [1], "grid_size": 3, "kernel_size": 2, "tau_ms": 100},
            },
        ],
        methods=[{"name": "control"}],
        seeds=[0, 1],
    )
    data["train"]["max_steps"] = 4
    sweep = sweep_from_dict(data)
    with pytest.raises(InvalidParameterError, match="no trained networks yet"):
        architecture_distances(sweep, "fully_connected")
    assert not run_sweep(sweep, LocalExecutor(workers=2)).failed
    rows = architecture_distances(sweep, "fully_connected")
    cells = {(r["model"], r["state"]): r for r in rows}
    assert set(cells) == {
        (m, s) for m in ("fully_connected", "cordsnet") for s in ("trained", "untrained")
    }
    assert (
        cells[("cordsnet", "trained")]["n"] == 2 and cells[("fully_connected", "trained")]["n"] == 2
    )
    # recompute one cell by hand: each CordsNet's mean distance to the two FC networks
    nets = [n for n in _networks(sweep) if n["activation"] == "relu"]
    batch = make("pdm", input_duration_ms=100).generate_test()
    batch = batch.select(np.arange(min(64, batch.batch_size)))

    def acts(item):
        return simulate(item["trained"], batch.inputs).rates[batch.valid]

    fc = [acts(n) for n in nets if n["model"] == "fully_connected"]
    mine = [
        np.mean([shape_distance(acts(n), f) for f in fc]) for n in nets if n["model"] == "cordsnet"
    ]
    assert np.isclose(cells[("cordsnet", "trained")]["mean"], np.mean(mine))
    assert 0 < np.mean(mine) < np.pi / 2
    with pytest.raises(InvalidParameterError, match="'reference' must be one of"):
        architecture_distances(sweep, "lowrank")
    path = write_sweep(tmp_path / "sweep.yaml", data)
    out = cli(
        "bench",
        "similarity",
        str(path),
        "--reference",
        "fully_connected",
        "--out",
        str(tmp_path / "table"),
        cwd=tmp_path,
    )
    assert "distances.md" in out.stdout
    table = (tmp_path / "table" / "distances.md").read_text()
    assert "| PDM |" in table and "cordsnet" in table
