"""Cost estimate of a sweep before it runs: floating-point operations and seconds per job.

FLOPs are counted as the trainer counts them (`rnnzoo.training.trainer`): ``6 M B N^2 T`` per
training step (the recurrent product forward and backward, per member and time step) plus
``2 M B_eval N^2 T`` per evaluation, times the step budget (``max_steps``; a run that reaches
its target stops earlier).  T is the mean length of the first three training batches.

Seconds use two constants measured on the 2-core development machine (one torch thread per
worker, leaky_rate networks, control method): a matmul rate and a fixed cost per time step
(Python and autograd work, which dominates small networks).  SCTT and DASC cost about 1.3x per
step (docs/benchmarks/methods.md); the learning rules beyond BPTT run their own loop per time
step and cost the factors of ``RULE_FACTOR`` (their time per training step over BPTT's in the
learning_rules sweep, same machine and run, docs/benchmarks/learning_rules.md); their FLOPs are
planned as BPTT's (the run records each rule's own count).  Treat the result as the order of
magnitude; the report gives the measured wall-clock.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from rnnzoo.bench.sweep import Job

FLOP_RATE = 1.5e10  # flop/s of the recurrent products, one thread
SECONDS_PER_TIME_STEP = 6e-5  # fixed cost per time step of a training step (fwd + bwd)
METHOD_FACTOR = {"control": 1.0, "cd": 1.0, "sctt": 1.3, "dasc": 1.3}
RULE_FACTOR = {  # measured: median over the 8 jobs of each rule in the learning_rules sweep
    "bptt": 1.0,
    "rflo": 2.0,
    "eprop": 2.2,
    "force": 2.0,
    "full_force": 4.9,
    "node_perturbation": 1.9,
}
TRIALS_FOR_LENGTH = 3


@dataclass(frozen=True)
class JobCost:
    """Estimated cost of one job at its full step budget."""

    job_id: str
    members: int
    n_hidden: int
    time_steps: float
    flops_per_step: float
    flops: float
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mean_trial_steps(job: Job) -> float:
    """Mean padded length T (steps) of the job's first training batches."""
    from rnnzoo.tasks import from_config

    task = from_config(job.config.task)
    tc = job.config.train
    lengths = [
        task.generate(tc.batch_size, tc.seed, index=k).n_steps for k in range(TRIALS_FOR_LENGTH)
    ]
    return sum(lengths) / len(lengths)


def n_hidden(job: Job) -> int:
    """Neurons per network (the option's default when not set)."""
    from rnnzoo.models import get_model_class

    cls = get_model_class(job.config.model.kind)
    options = {k: v for k, v in job.config.model.options.items() if k != "member"}
    return int(cls.Options(**options).n_hidden)


def job_cost(job: Job) -> JobCost:
    """FLOPs and seconds of ``job`` if it runs its whole step budget (a stage sequence: every
    stage's, each costed as the first)."""
    tc = job.config.train
    members = job.config.model.ensemble or 1
    n = n_hidden(job)
    t = mean_trial_steps(job)
    per_step = 6.0 * members * tc.batch_size * n**2 * t
    per_eval = 2.0 * members * tc.eval_batch_size * n**2 * t
    evals = tc.max_steps // tc.eval_every
    flops = tc.max_steps * per_step + evals * per_eval
    factor = METHOD_FACTOR.get(job.config.method.name, 1.0)
    factor *= RULE_FACTOR.get(job.config.rule.name, 1.0)
    step_seconds = factor * (
        per_step / FLOP_RATE + t * SECONDS_PER_TIME_STEP * _members_cost(members)
    )
    eval_seconds = per_eval / FLOP_RATE + t * SECONDS_PER_TIME_STEP / 3
    seconds = tc.max_steps * step_seconds + evals * eval_seconds
    stages = max(1, len(job.stages))
    return JobCost(job.job_id, members, n, t, per_step, stages * flops, stages * seconds)


def _members_cost(members: int) -> float:
    """Per-time-step overhead grows slowly with the ensemble size (one batched pass)."""
    return 1.0 + 0.1 * (members - 1)


def total_seconds(costs: list[JobCost], workers: int) -> float:
    """Wall-clock of the sweep on ``workers`` parallel workers: the longest job, or the total
    divided among the workers, whichever is larger."""
    if not costs:
        return 0.0
    return max(max(c.seconds for c in costs), sum(c.seconds for c in costs) / workers)
