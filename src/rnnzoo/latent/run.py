"""One latent expansion as a run directory: teacher -> latent system -> large network ->
Step I (SSL) -> Step II (readout) -> inference on held-out trials.

``OUT/`` ends as an ordinary rnnzoo run (``rnnzoo analyze OUT``, the GUI's runs view):
config.yaml (the large network's RunConfig), model.safetensors, metrics.jsonl (step, loss =
Step I's training loss, performance, ssl_loss, latent_r2 on held-out trials), summary.json,
and a row of ``OUT/../results.sqlite`` (method ``latent:<init>``).  It also holds latent.yaml
(the request), teacher.safetensors (the teacher as used, e.g. truncated) and
latent_checkpoints/ (the large network and Adam's state: ``resume=True`` continues Step I
bit-identically, since batch k is always train batch k of the seed).
"""

from __future__ import annotations

import json
import resource
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.latent.config import LatentConfig, latent_config
from rnnzoo.latent.constructions import expand
from rnnzoo.latent.inference import compare_fixed_points, evaluate, participation_ratio_of_rates
from rnnzoo.latent.memory import estimate_bytes
from rnnzoo.latent.readout import fit_readout, set_latent_readout
from rnnzoo.latent.ssl import free_running_loss, teacher_forced_loss, trainable
from rnnzoo.latent.system import LatentSystem, extract
from rnnzoo.models import Network, save_model
from rnnzoo.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rnnzoo.training.results import record_run

CHECKPOINTS = "latent_checkpoints"
CHECKPOINT_KEYS = ("step", "optimizer", "elapsed_s", "run_id", "crossings", "last_eval")
LOSS_LEVELS = (0.1, 0.05, 0.01)  # held-out SSL losses whose first crossing step is recorded


@dataclass
class Prepared:
    """A validated request: config, teacher, task and the memory estimate (nothing written)."""

    config: LatentConfig
    teacher: Network
    task: Any
    teacher_config: Any
    memory: dict[str, float]


def prepare(config: LatentConfig | dict[str, Any]) -> Prepared:
    """Validate a request before any work: the teacher exists and fits the task, the rank and
    sizes are allowed, and the memory estimate is within ``max_memory_gb``."""
    from rnnzoo.analysis.run import load_run
    from rnnzoo.latent.system import check_teacher
    from rnnzoo.tasks import from_config

    if isinstance(config, dict):
        config = latent_config(config)
    teacher_config, teacher, teacher_task = load_run(config.teacher)
    check_teacher(teacher)
    task = teacher_task if config.task is None else from_config(config.task)
    _check_task_fits(teacher, task)
    size = teacher.options.n_hidden
    rank = config.rank or teacher.options.rank or size
    if config.rank is not None and config.rank > size:
        raise InvalidParameterError(
            f"'rank' must be in [1, {size}] (the teacher's n_hidden); got {config.rank}"
        )
    if config.init == "resample" and config.n_hidden < size:
        raise InvalidParameterError(
            f"'n_hidden' must be >= {size} (the teacher's neurons) for init 'resample'; got "
            f"{config.n_hidden}"
        )
    if rank > config.n_hidden:
        raise InvalidParameterError(
            f"'rank' {rank} must be <= n_hidden ({config.n_hidden}): a rank-K network needs K "
            "neurons at least"
        )
    if config.init == "gmm" and config.components > size:
        raise InvalidParameterError(
            f"'components' must be in [1, {size}] (the teacher's neurons); got {config.components}"
        )
    batch = task.generate(1, config.seed)
    memory = estimate_bytes(
        n_hidden=config.n_hidden,
        rank=rank,
        n_inputs=task.n_inputs,
        n_outputs=task.n_outputs,
        steps=batch.n_steps,
        ssl_batch=config.ssl_batch_size,
        test_trials=config.test_trials,
        ridge_samples=config.ridge_samples
        if config.init == "ridge" or config.refit_encoding
        else 0,
        teacher_forced_samples=config.teacher_forced_samples if config.teacher_forced_steps else 0,
    )
    limit = config.max_memory_gb
    if limit is not None and memory["total"] > limit * 1e9:
        raise InvalidParameterError(
            f"'max_memory_gb': the latent expansion needs about {memory['total'] / 1e9:.2f} GB "
            f"(rnnzoo.latent.memory), more than the {limit:g} GB allowed"
        )
    return Prepared(config, teacher, task, teacher_config, memory)


def _check_task_fits(teacher: Network, task: Any) -> None:
    from rnnzoo.training.build import task_dt_ms

    have = (teacher.config.n_inputs, teacher.config.n_outputs, float(teacher.config.dt_ms))
    want = (task.n_inputs, task.n_outputs, task_dt_ms(task))
    if have != want:
        raise InvalidParameterError(
            f"'task': the teacher does not fit the task: teacher (inputs, outputs, dt_ms) = "
            f"{have}, task {want}"
        )


@dataclass
class _State:
    step: int = 0
    elapsed_s: float = 0.0
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    crossings: dict[str, int] = field(default_factory=dict)
    last_eval: dict[str, float] | None = None


def expand_run(
    config: LatentConfig | dict[str, Any],
    out: str | Path,
    *,
    resume: bool = False,
    db: str | Path | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Run the whole latent method into the run directory ``out`` (see the module docstring)
    and return its summary.  ``resume`` continues from the latest checkpoint (the request
    must be the same, except ``ssl_steps``).  ``progress`` (callable) receives each
    evaluation record."""
    prepared = prepare(config)
    cfg = prepared.config
    out = Path(out)
    db = Path(db) if db is not None else out.resolve().parent / "results.sqlite"
    if out.exists() and not out.is_dir():
        raise InvalidParameterError(f"'out': '{out}' is a file, not a folder")
    checkpoint = latest_checkpoint(out / CHECKPOINTS) if resume else None
    if resume:
        _check_same_request(out, cfg)
    elif (out / "latent.yaml").exists():
        raise InvalidParameterError(
            f"'out': '{out}' already holds a latent run; use --resume or another folder"
        )
    started = time.perf_counter()
    system = extract(prepared.teacher, prepared.task, cfg.rank, cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "latent.yaml") as tmp:
        Path(tmp).write_text(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False))
    save_model(system.teacher, out / "teacher.safetensors")
    state = _State()
    phases: dict[str, float] = {}
    if checkpoint is not None:
        net, saved = load_checkpoint(checkpoint, torch.device("cpu"), CHECKPOINT_KEYS)
        state = _State(
            int(saved["step"]),
            float(saved["elapsed_s"]),
            str(saved["run_id"]),
            json.loads(saved["crossings"]),
            json.loads(saved["last_eval"]),
        )
        optimiser_state = saved["optimizer"]
        phases = json.loads(saved["phases"])
        _trim_metrics(out, state.step)
    else:
        tick = time.perf_counter()
        net = expand(
            system,
            cfg.n_hidden,
            cfg.init,
            prepared.task,
            seed=cfg.seed,
            jitter=cfg.jitter,
            components=cfg.components,
            ridge=cfg.ridge,
            ridge_trials=cfg.ridge_trials,
            max_samples=cfg.ridge_samples,
            refit_encoding=cfg.refit_encoding,
        )
        phases["construction_s"] = time.perf_counter() - tick
        optimiser_state = None
        _trim_metrics(out, 0)
    _record(db, out, cfg, state, prepared, {"status": "running", "created": _now()}, resumed=resume)
    status = "max_steps"
    try:
        status = _step_one(net, system, prepared, out, state, optimiser_state, phases, progress)
    except KeyboardInterrupt:
        status = "interrupted"
    if status in ("interrupted", "diverged"):
        summary = _summary(cfg, state, status, phases, prepared, started, None, system)
        _finish(out, db, net, cfg, state, prepared, summary)
        if status == "interrupted":
            raise KeyboardInterrupt
        return summary
    tick = time.perf_counter()
    if cfg.step_two == "keep":
        readout = {}
    else:
        readout = fit_readout(
            net,
            prepared.task,
            cfg.seed,
            on=cfg.readout_on,
            method=cfg.step_two,
            trials=cfg.readout_trials,
            steps=cfg.readout_steps,
            lr=cfg.readout_lr,
        )
    phases["readout_s"] = time.perf_counter() - tick
    tick = time.perf_counter()
    test = _inference(net, system, prepared, cfg)
    test.update(readout)
    phases["inference_s"] = time.perf_counter() - tick
    reached = test["performance"] >= float(prepared.task.metric.criterion)
    status = "reached" if reached else "max_steps"
    summary = _summary(cfg, state, status, phases, prepared, started, test, system)
    _log(out, {"step": state.step, "loss": test["ssl_loss"], **_eval_fields(test), "phase": "test"})
    _finish(out, db, net, cfg, state, prepared, summary)
    return summary


def _step_one(net, system, prepared, out, state, optimiser_state, phases, progress) -> str:
    """Step I from ``state.step`` to ``ssl_steps`` (or the target loss); checkpoints; returns
    "max_steps", "reached" (target loss) or "diverged"; Ctrl-C checkpoints and propagates."""
    cfg, task = prepared.config, prepared.task
    params = trainable(net, cfg.ssl_train)
    optimiser = torch.optim.Adam(params, lr=cfg.ssl_lr)
    if optimiser_state is not None:
        optimiser.load_state_dict(optimiser_state)
    if state.step == 0 and optimiser_state is None:
        _checkpoint(out, net, optimiser, state, phases)
    window: list[float] = []
    base, start = state.elapsed_s, time.perf_counter()
    done = state.last_eval is not None and state.last_eval["ssl_loss"] < cfg.ssl_target_loss
    updating = False
    try:
        while not done and state.step < cfg.ssl_steps:
            batch = task.generate(cfg.ssl_batch_size, cfg.seed, split="train", index=state.step)
            data = system.latents(batch)
            if state.step < cfg.teacher_forced_steps:
                loss = teacher_forced_loss(
                    net, data, cfg.teacher_forced_samples, cfg.seed, state.step
                )
            else:
                loss = free_running_loss(net, data)
            if not torch.isfinite(loss):
                return "diverged"
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            updating = True
            optimiser.step()
            state.step += 1
            updating = False
            window.append(float(loss.detach()))
            state.elapsed_s = base + time.perf_counter() - start
            if state.step % cfg.eval_every == 0 or state.step == cfg.ssl_steps:
                record = _evaluate(net, system, prepared, state, window, out)
                window = []
                if progress is not None:
                    progress(record)
                done = record["ssl_loss"] < cfg.ssl_target_loss
            if done or state.step % cfg.checkpoint_every == 0 or state.step == cfg.ssl_steps:
                _checkpoint(out, net, optimiser, state, {**phases, "ssl_s": state.elapsed_s})
    except KeyboardInterrupt:
        if not updating:
            state.elapsed_s = base + time.perf_counter() - start
            _checkpoint(out, net, optimiser, state, {**phases, "ssl_s": state.elapsed_s})
        raise
    finally:
        for param in net.parameters():
            param.requires_grad_(False)
    phases["ssl_s"] = state.elapsed_s
    return "reached" if done else "max_steps"


def _evaluate(net, system, prepared, state: _State, window: list[float], out: Path):
    """Held-out evaluation during Step I (a resampled network keeps its copied readout of
    the rates; the others read the teacher's latent readout on the current kappa); logged."""
    cfg = prepared.config
    if cfg.init != "resample":
        set_latent_readout(net, system.readout, system.readout_bias)
    index = state.step // cfg.eval_every
    batch = prepared.task.generate(cfg.eval_trials, cfg.seed, split="validation", index=index)
    metrics = evaluate(net, system, prepared.task, system.latents(batch))
    for level in LOSS_LEVELS:
        if metrics["ssl_loss"] < level and str(level) not in state.crossings:
            state.crossings[str(level)] = state.step
    state.last_eval = metrics
    record = {
        "step": state.step,
        "loss": float(np.mean(window)) if window else metrics["ssl_loss"],
        **_eval_fields(metrics),
        "wall_clock_s": round(state.elapsed_s, 4),
        "phase": "ssl",
    }
    _log(out, record)
    return record


def _eval_fields(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("performance", "teacher_performance", "ssl_loss", "latent_r2")
    return {k: metrics[k] for k in keys if k in metrics}


def _inference(net, system: LatentSystem, prepared: Prepared, cfg: LatentConfig) -> dict:
    """Held-out test trials: performance, latent R^2, fixed points, participation ratio."""
    from rnnzoo.analysis.run import analysis_batch, resting_input

    batch = prepared.task.generate(cfg.test_trials, cfg.seed, split="test")
    data = system.latents(batch)
    tick = time.perf_counter()
    result: dict[str, Any] = evaluate(net, system, prepared.task, data)
    result["test_rollout_s"] = time.perf_counter() - tick
    result["participation_ratio"] = participation_ratio_of_rates(net, data, cfg.seed)
    result["twice_rank"] = 2 * system.rank
    if cfg.fixed_points:
        result["fixed_points"] = compare_fixed_points(
            net, system, data, resting_input(analysis_batch(prepared.task, cfg.seed)), cfg.seed
        )
    return result


def _log(out: Path, record: dict[str, Any]) -> None:
    with open(out / "metrics.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


def _trim_metrics(out: Path, step: int) -> None:
    """Keep the metric records up to ``step`` (a resumed run redoes the rest)."""
    path = out / "metrics.jsonl"
    if not path.is_file():
        return
    keep = [
        line
        for line in path.read_text().splitlines()
        if line.strip() and json.loads(line)["step"] <= step and json.loads(line)["phase"] == "ssl"
    ]
    with atomic_path(path) as tmp:
        Path(tmp).write_text("".join(line + "\n" for line in keep))


def _checkpoint(out: Path, net, optimiser, state: _State, phases: dict[str, float]) -> None:
    save_checkpoint(
        out / CHECKPOINTS,
        state.step,
        net,
        {
            "step": state.step,
            "optimizer": optimiser.state_dict(),
            "elapsed_s": state.elapsed_s,
            "run_id": state.run_id,
            "crossings": json.dumps(state.crossings),
            "last_eval": json.dumps(state.last_eval),
            "phases": json.dumps(phases),
        },
    )


def _check_same_request(out: Path, cfg: LatentConfig) -> None:
    path = out / "latent.yaml"
    if not path.is_file():
        raise InvalidParameterError(f"'resume': '{out}' has no latent.yaml to resume")
    old = latent_config(yaml.safe_load(path.read_text()), owner=str(path)).model_dump()
    new = cfg.model_dump()
    for data in (old, new):
        data.pop("ssl_steps")
    if old != new:
        changed = sorted(k for k in new if old.get(k) != new[k])
        raise InvalidParameterError(
            f"cannot resume '{out}': its latent.yaml differs in {', '.join(changed)} (only "
            "ssl_steps may change)"
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _identity(out: Path, cfg: LatentConfig, state: _State, prepared: Prepared) -> dict:
    task_config = prepared.task.config()
    return {
        "run_id": state.run_id,
        "task": task_config.get("task", "compose"),
        "version": str(task_config.get("version", "")),
        "model": "leaky_rate",
        "method": f"latent:{cfg.init}",
        "seed": cfg.seed,
        "run_dir": str(out.resolve()),
    }


def _record(db: Path, out, cfg, state, prepared, row: dict[str, Any], resumed: bool) -> None:
    if resumed:
        row = {k: v for k, v in row.items() if k != "created"}
    record_run(db, {**_identity(out, cfg, state, prepared), **row})


def _summary(cfg, state, status, phases, prepared, started, test, system) -> dict[str, Any]:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    criterion = float(prepared.task.metric.criterion)
    performance = None if test is None else test["performance"]
    return {
        "run_id": state.run_id,
        "status": status,
        "steps": state.step,
        "wall_clock_s": round(time.perf_counter() - started, 3),
        "final_performance": performance,
        "reached_criterion": performance is not None and performance >= criterion,
        "target_performance": criterion,
        "latent": {
            "init": cfg.init,
            "kind": system.kind,
            "rank": system.rank,
            "n_hidden": cfg.n_hidden,
            "n_teacher": system.n_teacher,
            "truncated_teacher_performance": system.teacher_performance,
            "ssl_steps_to_loss": state.crossings,
            "last_ssl_eval": state.last_eval,
            "phases_s": {k: round(v, 3) for k, v in phases.items()},
            "peak_rss_bytes": peak,
            "memory_estimate_bytes": prepared.memory,
            "test": test,
        },
    }


def _finish(out, db, net, cfg, state, prepared, summary) -> None:
    """Write the network, its RunConfig, summary.json and the results row."""
    from rnnzoo.training.config import run_config

    save_model(net, out / "model.safetensors")
    run = run_config(
        {
            "task": prepared.task.config(),
            "model": {"kind": "leaky_rate", "options": net.config.options},
            "method": {"name": "control"},
            "train": {"seed": cfg.seed},
        }
    )
    with atomic_path(out / "config.yaml") as tmp:
        Path(tmp).write_text(run.to_yaml())
    with atomic_path(out / "summary.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=2) + "\n")
    row = {
        k: summary[k]
        for k in (
            "status",
            "steps",
            "wall_clock_s",
            "final_performance",
            "reached_criterion",
            "target_performance",
        )
    }
    _record(db, out, cfg, state, prepared, row, resumed=True)
