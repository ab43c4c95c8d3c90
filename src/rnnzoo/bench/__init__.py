"""Layer 5: the benchmark runner — sweeps over task x model x method x seed.

    >>> sweep = load_sweep("examples/sweeps/seed002_cpu.yaml")
    >>> [job_cost(job) for job in expand(sweep)]             # rnnzoo bench plan
    >>> run_sweep(sweep, LocalExecutor(workers=2))           # rnnzoo bench run
    >>> write_report(read_runs(sweep.db_path, sweep=sweep.name), Path("out/report"), sweep.name)

Modules: `sweep` (file schema, expansion, ids), `cost` (estimates), `worker` (one job),
`executors` (local processes, Dask), `runner` (resumable sweep), `report` (tables, figures),
`stages` (stage sequences) and `persistence` (their report).
"""

from rnnzoo.bench.cost import JobCost, job_cost
from rnnzoo.bench.executors import DaskExecutor, LocalExecutor
from rnnzoo.bench.report import cell_stats, write_report
from rnnzoo.bench.runner import SweepOutcome, run_sweep
from rnnzoo.bench.sweep import Job, Run, Sweep, expand, load_sweep, sweep_from_dict

__all__ = [
    "DaskExecutor",
    "Job",
    "JobCost",
    "LocalExecutor",
    "Run",
    "Sweep",
    "SweepOutcome",
    "cell_stats",
    "expand",
    "job_cost",
    "load_sweep",
    "run_sweep",
    "sweep_from_dict",
    "write_report",
]
