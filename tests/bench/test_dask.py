"""The Dask executor on a real distributed cluster bound to 127.0.0.1: a LocalCluster the
runner starts, and an existing scheduler the test starts (--scheduler ADDRESS); both give the
same rows and weights as the local executor."""

from __future__ import annotations

import pytest
from bench_helpers import cli, tiny_sweep, write_sweep
from safetensors.torch import load_file

from rnnzoo.bench import DaskExecutor, LocalExecutor, expand, run_sweep, sweep_from_dict
from rnnzoo.bench.sweep import DaskSettings
from rnnzoo.training.results import read_runs

distributed = pytest.importorskip("distributed")

KEYS = ("run_id", "status", "steps", "steps_to_criterion", "final_performance", "member")


def _table(sweep):
    return sorted(tuple(r[k] for k in KEYS) for r in read_runs(sweep.db_path))


def _weights(sweep):
    return {
        job.job_id: load_file(job.run_dir(sweep) / "model.safetensors") for job in expand(sweep)
    }


def _same_weights(a, b):
    assert a.keys() == b.keys()
    for job_id in a:
        assert a[job_id].keys() == b[job_id].keys()
        for name in a[job_id]:
            assert a[job_id][name].equal(b[job_id][name]), (job_id, name)


@pytest.mark.slow
def test_dask_cluster_and_scheduler_address_match_local(tmp_path):
    local = sweep_from_dict(tiny_sweep(tmp_path / "local"))
    run_sweep(local, LocalExecutor(workers=2))

    started = sweep_from_dict(tiny_sweep(tmp_path / "dask"))
    outcome = run_sweep(started, DaskExecutor(workers=2))  # the runner starts a LocalCluster
    assert not outcome.failed and len(outcome.results) == 2
    assert _table(started) == _table(local)
    _same_weights(_weights(started), _weights(local))

    sweep_path = write_sweep(tmp_path / "sched.yaml", tiny_sweep(tmp_path / "sched"))
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        result = cli("bench", "run", str(sweep_path), "--executor", "dask", "--scheduler", address)
        assert "2 jobs, 0 skipped" in result.stdout
    sched = sweep_from_dict(tiny_sweep(tmp_path / "sched"))
    assert _table(sched) == _table(local)
    _same_weights(_weights(sched), _weights(local))


def test_unreachable_scheduler_is_a_one_line_error(sweep_file):
    result = cli(
        "bench",
        "run",
        str(sweep_file),
        "--executor",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:9",
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: '--scheduler': cannot reach 'tcp://127.0.0.1:9'")


def test_slurm_cluster_is_built_from_the_sweep_file():
    pytest.importorskip("dask_jobqueue")
    from rnnzoo.bench.executors import slurm_cluster

    settings = DaskSettings(
        cluster="slurm",
        slurm={
            "cores": 2,
            "processes": 2,
            "memory": "4GB",
            "walltime": "01:00:00",
            "queue": "cpu",
            "scheduler_options": {"host": "127.0.0.1"},
        },
    )
    with slurm_cluster(settings) as cluster:
        script = cluster.job_script()
    assert "#SBATCH -p cpu" in script and "#SBATCH -t 01:00:00" in script
    assert "--nworkers 2" in script and "--nthreads 1" in script
