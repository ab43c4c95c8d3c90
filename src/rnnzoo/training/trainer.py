"""The trainer: BPTT on a task's seeded trial stream, evaluation on held-out trials, stop at a
performance threshold, checkpoints with exact resume, NaN detection, and the run directory.

Determinism: training batch k is ``task.generate(B, seed, split="train", index=k)``, evaluation
j is ``task.generate(B_eval, seed, split="validation", index=j)`` with network noise from its own
generator, and the training noise generator's state is saved in every checkpoint.  A resumed
run therefore produces the same weights, bit for bit, as an uninterrupted one (same device).

Floating-point operations are estimated as ``6 * M * B * N^2 * T`` per step: the recurrent
(B x N) @ (N x N) product, forward (2 B N^2 flops) plus backward (4 B N^2), per time step and
member.  Input/readout products and elementwise work are left out (small for N >> I, O).
"""

from __future__ import annotations

import json
import sys
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
from rnnzoo.training.build import (
    Method,
    build_method,
    build_network,
    build_task,
    check_fits,
    resolve_device,
    target_performance,
)
from rnnzoo.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rnnzoo.training.config import RunConfig
from rnnzoo.training.curriculum import Curriculum
from rnnzoo.training.evaluation import evaluate_network
from rnnzoo.training.losses import (
    activity_penalty,
    clip_grad_norm_per_member,
    masked_cross_entropy,
    masked_mse,
    member_grad_norms,
    weight_penalty,
)
from rnnzoo.training.progress import ProgressBar
from rnnzoo.training.protocol import needs_protocol, protocol_outputs
from rnnzoo.training.results import record_run


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
    seed: int = 0
    ensemble: int | None = None
    run_dir: str | None = None
    net: Network | None = field(default=None, repr=False)

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
        self.curriculum = Curriculum(config.train.curriculum, config.task, self.task)
        if net is None:
            if config.model.options.get("init") == "staged":
                raise InvalidParameterError(
                    "init=staged runs through rnnzoo.training.train (its stages build the network)"
                )
            net = build_network(config, self.task)
        else:
            check_fits(net, config, self.task)
        self.net = net.to(self.device)
        self.method = method if method is not None else build_method(config)
        if hasattr(self.method, "check"):
            self.method.check(self.net)  # e.g. CD/SCTT/DASC need a leaky network
        self.n_models = self.net.n_models
        self.target = target_performance(config, self.task)
        self.progress = sys.stderr.isatty() if progress is None else progress
        needs_states = self.tc.l1_activity > 0 or self.tc.l2_activity > 0
        if needs_states and self.method.name != "control":
            raise InvalidParameterError(
                f"'l1_activity'/'l2_activity' need the network's rates; method "
                f"'{self.method.name}' gives outputs only (use them with method 'control')"
            )
        if needs_states and needs_protocol(self.task):
            raise InvalidParameterError(
                "'l1_activity'/'l2_activity' are not available on tasks with images or a state "
                "penalty"
            )
        self.needs_states = needs_states
        self.optimizer = self._make_optimizer()
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
        self.snapshot: dict[str, Any] | None = None

    # --- building blocks ---------------------------------------------------------------
    def _make_optimizer(self) -> torch.optim.Optimizer:
        params = [p for p in self.net.parameters() if p.requires_grad]
        if not params:
            raise InvalidParameterError("the network has no trainable parameters")
        tc = self.tc
        if tc.optimizer == "adam":
            return torch.optim.Adam(params, lr=tc.lr, weight_decay=tc.weight_decay)
        if tc.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)
        return torch.optim.SGD(params, lr=tc.lr, momentum=tc.momentum, weight_decay=tc.weight_decay)

    def _tensors(self, batch: Any) -> tuple[Tensor, Tensor, Tensor]:
        def to(a: np.ndarray) -> Tensor:
            return torch.from_numpy(a).to(self.device)

        return to(batch.inputs), to(batch.targets), to(batch.weights)

    def _member_axis(self, x: Tensor) -> Tensor:
        return x if self.net.config.ensemble is not None else x.unsqueeze(1)

    def losses(self, batch: Any, progress: float) -> Tensor:
        """Per-member training loss (M,) on ``batch`` under the method's dynamics."""
        inputs, targets, weights = self._tensors(batch)
        tc = self.tc
        penalty = None
        if needs_protocol(self.current_task()):  # images and/or a state penalty (seed 004)
            outputs, penalty = protocol_outputs(
                self.net, self.current_task(), batch, self.device, self.noise
            )
            outputs = self._member_axis(outputs)
        elif self.needs_states:
            out = self.net(inputs, return_states=True, generator=self.noise)
            outputs = self._member_axis(out.outputs)
            states = self._member_axis(out.states)
            rates = self.net.rates(states.transpose(0, 1)).transpose(0, 1)
        else:
            outputs = self._member_axis(
                self.method.outputs(
                    self.net, inputs, progress, self.noise, conditions=batch.conditions
                )
            )
        if tc.loss == "mse":
            loss = masked_mse(outputs, targets, weights)
        else:
            softmax = getattr(self.net.options, "readout", "") == "softmax"
            loss = masked_cross_entropy(outputs, targets, weights, softmax)
        if tc.l1_weights or tc.l2_weights:
            loss = loss + weight_penalty(self.net, tc.l1_weights, tc.l2_weights, self.n_models)
        if self.needs_states:
            loss = loss + activity_penalty(rates, weights, tc.l1_activity, tc.l2_activity)
        if penalty is not None:
            loss = loss + penalty
        return loss

    def current_task(self) -> Any:
        """The task at the current step (the curriculum's, else the configured one)."""
        return self.curriculum.task(self.step, self.task)

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
        )

    def _flops(self, batch: Any) -> float:
        """Floating-point operations of one training step: 6 M B N^2 per recurrent update
        (forward 2, backward 4), counting the updates the method runs (CD: coarse steps)."""
        updates = batch.n_steps
        if hasattr(self.method, "recurrent_steps"):
            updates = self.method.recurrent_steps(batch.n_steps, self._progress_value())
        return updates * self.net.flops_per_time_step(batch.batch_size)

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
            "optimizer": self.optimizer.state_dict(),
            "noise_generator": self.noise.get_state(),
            "lr_scale": self.lr_scale,
            "rollbacks": self.rollbacks,
            "elapsed_s": self.elapsed_s,
            "flops": self.flops,
            "run_id": self.run_id,
            "criterion": json.dumps(self.criterion),
            "last_eval": json.dumps(self.last_eval),
        }

    def _take_snapshot(self) -> None:
        self.snapshot = {
            "weights": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            "state": _clone(self.state()),
        }

    def _restore(self, weights: dict[str, Tensor], state: dict[str, Any]) -> None:
        self.net.load_state_dict(weights)
        self.optimizer.load_state_dict(_clone(state["optimizer"]))
        self.noise.set_state(state["noise_generator"].cpu())
        self.step = int(state["step"])
        self.lr_scale = float(state["lr_scale"])
        self.rollbacks = int(state["rollbacks"])
        self.elapsed_s = float(state["elapsed_s"])
        self.flops = float(state["flops"])
        self.run_id = str(state["run_id"])
        self.criterion = json.loads(state["criterion"])
        self.last_eval = json.loads(state["last_eval"])

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
            old = RunConfig.from_yaml(saved).model_dump(mode="json")
            new = self.config.model_dump(mode="json")
            for cfg in (old, new):
                for key in ("max_steps", "device", "target_performance"):
                    cfg["train"].pop(key)
            if old != new:
                raise InvalidParameterError(
                    f"cannot resume '{self.out}': its config.yaml differs from this config "
                    "(only max_steps, target_performance and device may change)"
                )
        net, state = load_checkpoint(path, self.device)
        self._restore(net.state_dict(), state)
        self._take_snapshot()
        return True

    # --- the loop ------------------------------------------------------------------------
    def run(self, *, resume: bool = False) -> TrainResult:
        """Train until the target is reached, max_steps, divergence or Ctrl-C."""
        resumed = self.resume() if resume else False
        if self.out is not None:
            self.out.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.out / "config.yaml") as tmp:
                Path(tmp).write_text(self.config.to_yaml())
            self._trim_metrics(self.step if resumed else 0)
        if not resumed:
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
        bar = ProgressBar(self.tc.max_steps, self.step) if self.progress else None
        window: list[float] = []
        try:
            if self.criterion is not None and self.step > 0:
                status = "reached"
            while status != "reached" and self.step < self.tc.max_steps:
                task = self.current_task()
                batch = task.generate(self.tc.batch_size, self.tc.seed, index=self.step)
                loss = self.losses(batch, self._progress_value())
                total = loss.sum()
                bad = self._divergence(loss)
                if bad is None:
                    self.optimizer.zero_grad(set_to_none=True)
                    total.backward()
                    params = [p for p in self.net.parameters() if p.requires_grad]
                    if self.tc.clip_grad_norm is not None:
                        norms = clip_grad_norm_per_member(
                            params, self.tc.clip_grad_norm, self.n_models
                        )
                    else:
                        norms = member_grad_norms(params, self.n_models)
                    if not torch.isfinite(norms).all():
                        bad = {
                            "step": self.step,
                            "reason": "non-finite gradient",
                            "members": _bad_members(norms),
                        }
                if bad is not None:
                    divergence = bad
                    if (
                        self.tc.on_divergence == "rollback"
                        and self.rollbacks < self.tc.max_rollbacks
                    ):
                        self._rollback()
                        base_elapsed, start = self.elapsed_s, time.perf_counter()
                        window.clear()
                        continue
                    status = "diverged"
                    break
                updating = True
                self.optimizer.step()
                self.flops += self._flops(batch)
                self.step += 1
                updating = False
                self.elapsed_s = base_elapsed + time.perf_counter() - start
                self.last_loss = float(total.detach())
                window.append(self.last_loss)
                if self.step % self.tc.eval_every == 0 or self.step == self.tc.max_steps:
                    self._evaluate_and_log(window)
                    window = []
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

    def _divergence(self, loss: Tensor) -> dict[str, Any] | None:
        values = loss.detach().cpu()
        bad = ~torch.isfinite(values) | (values > self.tc.divergence_loss)
        if not bad.any():
            return None
        reason = (
            "non-finite loss" if not torch.isfinite(values).all() else "loss above divergence_loss"
        )
        return {"step": self.step, "reason": reason, "members": bad.nonzero().flatten().tolist()}

    def _rollback(self) -> None:
        assert self.snapshot is not None
        snap = self.snapshot
        self._restore(snap["weights"], snap["state"])
        self.rollbacks += 1
        self.lr_scale *= 0.5
        for group in self.optimizer.param_groups:
            group["lr"] = self.tc.lr * self.lr_scale
        self._trim_metrics(self.step)
        self._log({"event": "rollback", "step": self.step, "lr": self.tc.lr * self.lr_scale})

    def _evaluate_and_log(self, window: list[float]) -> None:
        self.last_eval = self.evaluate(self.step // self.tc.eval_every)
        record = {
            "step": self.step,
            "loss": float(np.mean(window)) if window else self.last_loss,
            "performance": self.last_eval["statistic"],
            "performance_members": self.last_eval["members"],
            "wall_clock_s": round(self.elapsed_s, 4),
            "flops": self.flops,
        }
        if self.curriculum.ramps:
            record["curriculum"] = self.curriculum.values(self.step)
        self._log(record)

    def _log(self, record: dict[str, Any]) -> None:
        if self.out is None:
            return
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def _trim_metrics(self, step: int) -> None:
        """Drop metric records after ``step`` (a resumed or rolled-back run redoes them)."""
        if self.out is None:
            return
        path = self.out / "metrics.jsonl"
        if not path.is_file():
            path.touch()
            return
        keep = [line for line in path.read_text().splitlines() if json.loads(line)["step"] <= step]
        with atomic_path(path) as tmp:
            Path(tmp).write_text("".join(line + "\n" for line in keep))

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
        db = Path(self.db) if self.db is not None else self.out.resolve().parent / "results.sqlite"
        record_run(db, row)

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
            wall_clock_to_criterion_s=crit.get("wall_clock_s"),
            flops=self.flops,
            flops_to_criterion=crit.get("flops"),
            final_loss=self.last_loss,
            divergence=divergence,
            rollbacks=self.rollbacks,
            ensemble=self.config.model.ensemble,
            net=self.net,
            **{k: v for k, v in self._identity().items() if k != "run_id"},
        )
        if self.out is not None:
            save_model(self.net, self.out / "model.safetensors")
            with atomic_path(self.out / "summary.json") as tmp:
                Path(tmp).write_text(json.dumps(result.summary(), indent=2) + "\n")
            self._record(result.summary())
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
) -> TrainResult:
    """Train the network of ``config`` on its task and return the result.

    With ``out`` the run is a directory (config.yaml, checkpoints/, metrics.jsonl,
    model.safetensors, summary.json) and one row in the SQLite table ``db`` (default
    ``<out>/../results.sqlite``); ``resume=True`` continues from its latest checkpoint.
    ``method`` overrides the configured method object (tests); ``callback`` gets
    {"step", "loss", "eval"} after every step.
    """
    from rnnzoo.training.staged import is_staged, train_staged

    if is_staged(config):  # seed 004's staged initialisation, then this run (training.staged)
        return train_staged(config, out, resume=resume, db=db, progress=progress, callback=callback)
    trainer = Trainer(config, out, method=method, db=db, progress=progress, callback=callback)
    return trainer.run(resume=resume)


def _clone(obj: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return {k: _clone(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_clone(v) for v in obj]
    return obj


def _bad_members(norms: Tensor) -> list[int]:
    return (~torch.isfinite(norms)).nonzero().flatten().tolist()


__all__ = ["TrainResult", "Trainer", "train"]
