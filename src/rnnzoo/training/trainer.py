"""The trainer: a learning rule (BPTT by default, `rnnzoo.training.rules`) on a task's seeded
trial stream, evaluation on held-out trials, stop at a performance threshold, checkpoints with
exact resume, NaN detection, and the run directory.

Ensembles: the loss each member trains on is its own; metrics.jsonl logs the mean over the
members (and each member's), per-member performance, members that stopped learning
(`rnnzoo.training.diagnostics`) and, for compositions, the performance on each task.  A member
that diverges stops alone (`rnnzoo.training.divergence`) while the others go on.

Determinism: training batch k is ``task.generate(B, seed, split="train", index=k)`` (with
``defer_noise=True`` under ``noise_on_device``: its input noise is drawn on the training device
from the batch's noise seed, `rnnzoo.training.device_noise`), evaluation
j is ``task.generate(B_eval, seed, split="validation", index=j)`` with network noise from its own
generator, and the training noise generator's state and the rule's state (optimiser, RLS
matrices, baselines, generators) are saved in every checkpoint.  A resumed run therefore
produces the same weights, bit for bit, as an uninterrupted one (same device).

Each step the rule runs the batch and computes its update (``learner.losses``), finishes it or
reports divergence (``prepare_update``), and commits it (``apply_update``).  Floating-point
operations are the rule's estimate (``learner.flops``): for BPTT ``6 * M * B * N^2 * T`` per
step, the recurrent (B x N) @ (N x N) product, forward (2 B N^2 flops) plus backward (4 B N^2),
per time step and member.  Input/readout products and elementwise work are left out.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network, save_model
from rnnzoo.models.base import seeded_generator
from rnnzoo.training.budget import check_run_fits
from rnnzoo.training.build import (
    Method,
    build_learner,
    build_method,
    build_network,
    build_task,
    check_fits,
    resolve_device,
    target_performance,
    task_view,
)
from rnnzoo.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rnnzoo.training.config import RunConfig
from rnnzoo.training.curriculum import Curriculum
from rnnzoo.training.device_noise import check_deferrable
from rnnzoo.training.diagnostics import stalled_members
from rnnzoo.training.divergence import MemberFreeze, bad_members, explain, loss_reason
from rnnzoo.training.evaluation import evaluate_network
from rnnzoo.training.lock import run_lock
from rnnzoo.training.losses import (
    divergence_limit,
)
from rnnzoo.training.metrics import METRICS_FILE, read_metrics, write_metrics
from rnnzoo.training.progress import progress_display
from rnnzoo.training.results import RESULTS_FILE, check_results_table, record_run
from rnnzoo.training.resume import check_resumable


@dataclass
class TrainResult:
    """What a run ended with (also written to summary.json)."""

    run_id: str
    status: str  # "reached" | "max_steps" | "interrupted" | "diverged"
    steps: int
    wall_clock_s: float
    final_performance: float | None
    member_performance: list[float] | None
    reached_criterion: bool
    target_performance: float
    statistic: str
    steps_to_criterion: int | None = None
    trials_to_criterion: int | None = None
    wall_clock_to_criterion_s: float | None = None
    flops: float = 0.0
    flops_to_criterion: float | None = None
    final_loss: float | None = None
    divergence: dict[str, Any] | None = None
    rollbacks: int = 0
    task: str = ""
    version: str = ""
    model: str = ""
    method: str = ""
    rule: str = ""
    seed: int = 0
    ensemble: int | None = None
    run_dir: str | None = None
    net: Network | None = field(default=None, repr=False)
    task_performance: dict[str, float] | None = None
    diverged_members: list[dict[str, Any]] = field(default_factory=list)
    stalled_members: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """JSON-serialisable summary (everything but the network)."""
        data = asdict(self)
        data.pop("net")
        return data


class Trainer:
    """One training run.  Use `train` unless you need the pieces."""

    def __init__(
        self,
        config: RunConfig,
        out: str | Path | None = None,
        *,
        method: Method | None = None,
        db: str | Path | None = None,
        progress: bool | None = None,
        callback: Callable[[dict[str, Any]], None] | None = None,
        net: Network | None = None,
    ) -> None:
        self.config = config
        self.tc = config.train
        self.out = None if out is None else Path(out)
        self.db = db
        self.callback = callback
        self.device = resolve_device(self.tc.device)
        self.task = build_task(config)
        self._views: dict[int, Any] = {}  # the task as the rule's network sees it (one entry)
        self.curriculum = Curriculum(config.train.curriculum, config.task, self.task)
        if net is None and config.model.options.get("init") == "staged":
            raise InvalidParameterError(
                "init=staged runs through rnnzoo.training.train (its stages build the network)"
            )
        check_run_fits(config, self.curriculum.extremes(self.task), self.device)
        self.fresh_network = net is None  # the rule initialises it (learner.begin)
        if net is None:
            net = build_network(config, self.view(self.task))
        else:
            check_fits(net, config, self.view(self.task))
        self.net = net.to(self.device)
        self.method = method if method is not None else build_method(config)
        if hasattr(self.method, "check_task"):
            self.method.check_task(self.task)  # e.g. skip points the trials cannot have
        if self.tc.noise_on_device:
            check_deferrable(self.view(self.task))
        self.n_models = self.net.n_models
        self.target = target_performance(config, self.task)
        self.progress = True if progress is None else progress
        self.diverged: list[dict[str, Any]] = []  # {"member", "step", "reason"} of stopped ones
        self.history: list[list[float | None]] = []  # per-member performance per evaluation
        self.noise = seeded_generator(self.tc.seed, 1, device=self.device)
        self.step = 0
        self.lr_scale = 1.0
        self.rollbacks = 0
        self.elapsed_s = 0.0
        self.flops = 0.0
        self.run_id = uuid.uuid4().hex[:12]
        self.criterion: dict[str, Any] | None = None
        self.last_eval: dict[str, Any] | None = None
        self.last_loss: float | None = None
        self.initial_loss: list[float] | None = None  # per member, at the first step
        # per-member training losses (None: a stopped member) since the last logged evaluation
        self.loss_window: list[list[float | None]] = []
        self.snapshot: dict[str, Any] | None = None
        self.learner = build_learner(
            config, self.net, self.method, self.noise, self.current_task, self.device
        )
        # diverged ensemble members stop alone: their weights are held (all of the network's)
        self.freeze = MemberFreeze(list(self.net.parameters()), self.n_models)
        self.learner.alive = self.freeze.alive

    # --- building blocks ---------------------------------------------------------------
    def losses(self, batch: Any, progress: float) -> Tensor:
        """Per-member training loss (M,) on ``batch`` as the rule runs it (the rule's update
        of this batch is computed too, not applied)."""
        return self.learner.losses(batch, progress)

    def _training_batch(self, task: Any) -> Any:
        """Training batch ``step`` of ``task`` (its noise deferred to the device when
        ``noise_on_device``)."""
        if self.tc.noise_on_device:
            return task.generate(
                self.tc.batch_size, self.tc.seed, index=self.step, defer_noise=True
            )
        return task.generate(self.tc.batch_size, self.tc.seed, index=self.step)

    def current_task(self) -> Any:
        """The task at the current step (the curriculum's, else the configured one), as the
        rule's network sees it."""
        return self.view(self.curriculum.task(self.step, self.task))

    def view(self, task: Any) -> Any:
        """``task`` as the rule's network sees it (`Learner.task_view`: ``a2c``'s policy)."""
        if id(task) not in self._views:
            self._views = {id(task): task_view(self.config, task)}
        return self._views[id(task)]

    def evaluate(self, index: int) -> dict[str, Any]:
        """Performance per member and its statistic on held-out batch ``index`` of the current
        task (with the curriculum's values at this step), true dynamics."""
        return evaluate_network(
            self.net,
            self.current_task(),
            self.tc.eval_batch_size,
            self.tc.seed,
            self.tc.statistic,
            index=index,
            skip=self.freeze.dead,
        )

    def _flops(self, batch: Any) -> float:
        """Floating-point operations of one training step, as the rule counts them (BPTT: 6 M B
        N^2 per recurrent update, counting the updates the method runs, CD: coarse steps)."""
        return self.learner.flops(batch, self._progress_value())

    def _progress_value(self) -> float:
        anneal = self.tc.anneal_steps
        if anneal is None:
            anneal = self.tc.max_steps // 2
        if anneal == 0:
            return 1.0
        return min(1.0, self.step / anneal)

    # --- state ---------------------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Everything besides the weights that a resumed run needs (tensors and plain data)."""
        return {
            "step": self.step,
            "learner": self.learner.state_dict(),
            "noise_generator": self.noise.get_state(),
            "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks,
            "elapsed_s": self.elapsed_s,
            "flops": self.flops,
            "run_id": self.run_id,
            "criterion": json.dumps(self.criterion),
            "last_eval": json.dumps(self.last_eval),
            "diverged": json.dumps(self.diverged),
            "initial_loss": json.dumps(self.initial_loss),
            "loss_window": json.dumps(self.loss_window),
        }

    def _take_snapshot(self) -> None:
        self.snapshot = {
            "weights": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            "state": _clone(self.state()),
        }

    def _restore(self, weights: dict[str, Tensor], state: dict[str, Any]) -> None:
        self.net.load_state_dict(weights)
        # checkpoints written before learning rules existed hold BPTT's optimiser alone
        learner = state["learner"] if "learner" in state else {"optimizer": state["optimizer"]}
        self.learner.load_state_dict(_clone(learner))
        self.noise.set_state(state["noise_generator"].cpu())
        self.step = int(state["step"])
        self.lr_scale = float(state["lr_scale"])
        self.rollbacks = int(state["rollbacks"])
        self.elapsed_s = float(state["elapsed_s"])
        self.flops = float(state["flops"])
        self.run_id = str(state["run_id"])
        self.criterion = json.loads(state["criterion"])
        self.last_eval = json.loads(state["last_eval"])
        self.diverged = json.loads(state.get("diverged", "[]"))
        self.freeze.reset([d["member"] for d in self.diverged])
        self.initial_loss = json.loads(state.get("initial_loss", "null"))
        self.loss_window = json.loads(state.get("loss_window", "[]"))  # older checkpoints: none

    def checkpoint(self) -> None:
        """Snapshot in memory (for rollback) and, with a run directory, on disk."""
        self._take_snapshot()
        if self.out is not None:
            save_checkpoint(self.out / "checkpoints", self.step, self.net, self.state())

    def resume(self) -> bool:
        """Load the latest checkpoint of the run directory; False when there is none."""
        if self.out is None:
            raise InvalidParameterError("'resume' needs a run directory ('out')")
        path = latest_checkpoint(self.out / "checkpoints")
        if path is None:
            return False
        saved = self.out / "config.yaml"
        if saved.is_file():
            check_resumable(RunConfig.from_yaml(saved), self.config, self.out)
        net, state = load_checkpoint(path, self.device)
        saved, built = net.config.model_dump(), self.net.config.model_dump()
        if saved != built:
            diff = [
                f"{k}: checkpoint {saved[k]!r}, run {built[k]!r}"
                for k in built
                if saved[k] != built[k]
            ]
            raise InvalidParameterError(
                f"checkpoint '{path}' does not fit this run's network ({'; '.join(diff)})"
            )
        self._restore(net.state_dict(), state)
        self._take_snapshot()
        return True

    # --- the loop ------------------------------------------------------------------------
    def run(self, *, resume: bool = False) -> TrainResult:
        """Train until the target is reached, max_steps, divergence or Ctrl-C.  A run
        directory is locked for the whole run (one writer; see `rnnzoo.training.lock`)."""
        if self.out is None:
            return self._run(resume)
        with run_lock(self.out):
            if not resume and latest_checkpoint(self.out / "checkpoints") is not None:
                raise InvalidParameterError(
                    f"'{self.out}' already holds a run; continue it with --resume (resume=True) "
                    "or choose a new folder"
                )
            if self._db_path().is_file():
                check_results_table(self._db_path())  # a damaged table fails before any write
            return self._run(resume)

    def _run(self, resume: bool) -> TrainResult:
        resumed = self.resume() if resume else False
        if self.out is not None:
            with atomic_path(self.out / "config.yaml") as tmp:
                Path(tmp).write_text(self.config.to_yaml())
            self._trim_metrics(self.step if resumed else 0)
            if resumed:
                self.history = [r["performance_members"] for r in self._eval_records()]
        if not resumed:
            if self.fresh_network:
                self.learner.begin()
            self.checkpoint()
        start_row = {**self._identity(), "status": "running", "steps": self.step}
        if not resumed:
            start_row["created"] = datetime.now(UTC).isoformat(timespec="seconds")
        self._record(start_row)
        status = "max_steps"
        divergence = None
        updating = False
        start = time.perf_counter()
        base_elapsed = self.elapsed_s
        bar = progress_display(self.tc.max_steps, self.step) if self.progress else None
        try:
            if self.criterion is not None and self.step > 0:
                status = "reached"
            while status != "reached" and self.step < self.tc.max_steps:
                task = self.current_task()
                batch = self._training_batch(task)
                loss = self.losses(batch, self._progress_value())
                if self.initial_loss is None:
                    self.initial_loss = loss.detach().cpu().double().tolist()
                limit = divergence_limit(self.tc.divergence_loss, self.initial_loss)
                flagged = bad_members(loss, limit)
                bad = self._diverging(flagged, loss_reason(loss, flagged))
                if bad is None:
                    report = self.learner.prepare_update(self.step)
                    if report is not None:
                        flagged = torch.zeros(self.n_models, dtype=torch.bool)
                        flagged[report["members"]] = True
                        bad = self._diverging(flagged, report["reason"])
                    self.freeze.mask_gradients()
                if bad is not None:
                    divergence = bad
                    if (
                        self.tc.on_divergence == "rollback"
                        and self.rollbacks < self.tc.max_rollbacks
                    ):
                        self._rollback()
                        base_elapsed, start = self.elapsed_s, time.perf_counter()
                        continue
                    status = "diverged"
                    break
                updating = True
                self.learner.apply_update()
                self.freeze.restore()
                self.flops += self._flops(batch)
                self.step += 1
                updating = False
                self.elapsed_s = base_elapsed + time.perf_counter() - start
                member_loss = [
                    float(v) if ok else None
                    for v, ok in zip(loss.detach().cpu().tolist(), self.freeze.alive, strict=True)
                ]
                self.last_loss = _mean(member_loss)
                self.loss_window.append(member_loss)
                if self.step % self.tc.eval_every == 0 or self.step == self.tc.max_steps:
                    self._evaluate_and_log()
                    if self.last_eval["statistic"] >= self.target:
                        self.criterion = {
                            "steps": self.step,
                            "wall_clock_s": self.elapsed_s,
                            "flops": self.flops,
                        }
                        status = "reached"
                if status == "reached" or self.step % self.tc.checkpoint_every == 0:
                    self.checkpoint()
                if bar is not None:
                    bar.update(self.step, self.last_loss, self.last_eval)
                if self.callback is not None:
                    self.callback(
                        {"step": self.step, "loss": self.last_loss, "eval": self.last_eval}
                    )
        except KeyboardInterrupt:
            status = "interrupted"
            if not updating:
                self.elapsed_s = base_elapsed + time.perf_counter() - start
                self.checkpoint()
        finally:
            if bar is not None:
                bar.close()
        if status == "max_steps" and self.step % self.tc.checkpoint_every:
            self.checkpoint()
        return self._finish(status, divergence)

    def _diverging(self, flagged: Tensor, reason: str) -> dict[str, Any] | None:
        """Members ``flagged`` (M,) diverged: in an ensemble with others still training they
        stop alone (frozen, logged) and None is returned; otherwise the divergence record that
        stops (or rolls back) the run."""
        flagged = flagged & self.freeze.alive
        if not flagged.any():
            return None
        members = flagged.nonzero().flatten().tolist()
        record = {"step": self.step, "reason": reason, "members": members}
        if bool((self.freeze.alive & ~flagged).any()):
            self.freeze.freeze(members)
            self.diverged += [{"member": m, "step": self.step, "reason": reason} for m in members]
            self._log({"event": "member_diverged", **record})
            return None
        record["message"] = explain(record, self.config)
        return record

    def _rollback(self) -> None:
        """Back to the last checkpoint with half the learning rate; the count of rollbacks
        and the rate's scale survive the restore (so that max_rollbacks ends the run)."""
        assert self.snapshot is not None
        rollbacks, lr_scale = self.rollbacks + 1, self.lr_scale * 0.5
        snap = self.snapshot
        self._restore(snap["weights"], snap["state"])
        self.rollbacks, self.lr_scale = rollbacks, lr_scale
        self.learner.set_lr_scale(self.lr_scale)
        self._trim_metrics(self.step)
        self._log({"event": "rollback", "step": self.step, "lr": self.tc.lr * self.lr_scale})

    def _evaluate_and_log(self) -> None:
        self.last_eval = self.evaluate(self.step // self.tc.eval_every)
        self.history.append(self.last_eval["members"])
        window, self.loss_window = self.loss_window, []
        member_loss = [_mean(list(column)) for column in zip(*window, strict=True)]
        record = {
            "step": self.step,
            "loss": _mean(member_loss) if window else self.last_loss,
            "loss_members": member_loss,
            "performance": self.last_eval["statistic"],
            "performance_members": self.last_eval["members"],
            "stalled_members": stalled_members(self.history, self.target),
            "wall_clock_s": round(self.elapsed_s, 4),
            "flops": self.flops,
        }
        if "tasks" in self.last_eval:
            record["performance_tasks"] = self.last_eval["tasks"]
            record["performance_tasks_members"] = self.last_eval["tasks_members"]
        if self.curriculum.ramps:
            record["curriculum"] = self.curriculum.values(self.step)
        self._log({**record, **self.learner.logged()})

    def _log(self, record: dict[str, Any]) -> None:
        if self.out is None:
            return
        with open(self.out / METRICS_FILE, "a") as f:
            f.write(json.dumps(record) + "\n")

    def _eval_records(self) -> list[dict[str, Any]]:
        """The evaluation records of metrics.jsonl (events left out)."""
        if self.out is None:
            return []
        return [r for r in read_metrics(self.out / METRICS_FILE) if "performance_members" in r]

    def _trim_metrics(self, step: int) -> None:
        """Drop metric records after ``step`` (a resumed or rolled-back run redoes them)."""
        if self.out is None:
            return
        path = self.out / METRICS_FILE
        write_metrics(path, [r for r in read_metrics(path) if r["step"] <= step])

    def _identity(self) -> dict[str, Any]:
        """The results-table columns that name this run."""
        return {
            "run_id": self.run_id,
            **self.config.identity(),
            "seed": self.tc.seed,
            "run_dir": None if self.out is None else str(self.out.resolve()),
        }

    def _record(self, row: dict[str, Any]) -> None:
        """Set the columns ``row`` names in this run's row of the results table (runs with a
        directory); ``created`` is written once, when the run starts."""
        if self.out is None:
            return
        record_run(self._db_path(), row)

    def _db_path(self) -> Path:
        assert self.out is not None
        return Path(self.db) if self.db is not None else self.out.resolve().parent / RESULTS_FILE

    def _finish(self, status: str, divergence: dict[str, Any] | None) -> TrainResult:
        perf = self.last_eval
        crit = self.criterion or {}
        result = TrainResult(
            run_id=self.run_id,
            status=status,
            steps=self.step,
            wall_clock_s=round(self.elapsed_s, 4),
            final_performance=None if perf is None else perf["statistic"],
            member_performance=None if perf is None else perf["members"],
            reached_criterion=self.criterion is not None,
            target_performance=self.target,
            statistic=self.tc.statistic,
            steps_to_criterion=crit.get("steps"),
            trials_to_criterion=None if not crit else crit["steps"] * self.tc.batch_size,
            wall_clock_to_criterion_s=crit.get("wall_clock_s"),
            flops=self.flops,
            flops_to_criterion=crit.get("flops"),
            final_loss=self.last_loss,
            divergence=divergence,
            rollbacks=self.rollbacks,
            ensemble=self.config.model.ensemble,
            net=self.net,
            task_performance=None if perf is None else perf.get("tasks"),
            diverged_members=list(self.diverged),
            stalled_members=stalled_members(self.history, self.target),
            **{k: v for k, v in self._identity().items() if k != "run_id"},
        )
        if self.out is not None:
            save_model(self.net, self.out / "model.safetensors")
            with atomic_path(self.out / "summary.json") as tmp:
                Path(tmp).write_text(json.dumps(result.summary(), indent=2) + "\n")
            row = result.summary()
            row["task_performance"] = json.dumps(row["task_performance"])
            self._record(row)
        return result


def train(
    config: RunConfig,
    out: str | Path | None = None,
    *,
    resume: bool = False,
    method: Method | None = None,
    db: str | Path | None = None,
    progress: bool | None = None,
    callback: Callable[[dict[str, Any]], None] | None = None,
    report: bool = True,
) -> TrainResult:
    """Train the network of ``config`` on its task and return the result.

    With ``out`` the run is a directory (config.yaml, checkpoints/, metrics.jsonl,
    model.safetensors, summary.json and, with ``report``, report.png, as `rnnzoo train`
    writes) and one row in the SQLite table ``db`` (default ``<out>/../results.sqlite``);
    ``resume=True`` continues from its latest checkpoint.  ``progress``: None or True shows
    a bar on a terminal and a line per evaluation otherwise, False nothing.  ``method``
    overrides the configured method object (tests); ``callback`` gets {"step", "loss",
    "eval"} after every step.
    """
    from rnnzoo.training.staged import is_staged, train_staged

    if is_staged(config):  # seed 004's staged initialisation, then this run (training.staged)
        return train_staged(config, out, resume=resume, db=db, progress=progress, callback=callback)
    trainer = Trainer(config, out, method=method, db=db, progress=progress, callback=callback)
    result = trainer.run(resume=resume)
    if report and out is not None and result.status in ("reached", "max_steps"):
        from rnnzoo.training.report import plot_report, report_data

        plot_report(report_data(out), Path(out) / "report.png")
    return result


def _clone(obj: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone(v) for v in obj]
    return obj


def _mean(values: list[float | None]) -> float | None:
    """Mean of the values that are not None (members still training)."""
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


__all__ = ["TrainResult", "Trainer", "train"]
