"""Seed 004's staged initialisation of a CordsNet as one resumable run
(``rnnzoo train --model cordsnet --set init=staged ...``; section 3, appendix C, Table S4).

Stages, each a part of the run with its own folder ``OUT/stages/<stage>/`` (metrics.jsonl,
checkpoints, done.json when complete), skipped on ``--resume`` once done:

1. ``1_cnn``: the structurally matched CNN with batch norm (`rnnzoo.models.cordsnet.cnn`)
   trained feed-forward on the task's training images (SGD, momentum 0.9, weight decay 1e-4,
   ``stage1_lr`` divided by 10 after each third of ``stage1_steps``, as the seed's 1e-1, 1e-2,
   1e-3), then batch norm folded into the convolutions (folded == unfolded is checked and
   recorded);
2. ``2_steady_state``: the folded feed-forward weights are copied into the CordsNet; each
   area's recurrent conv W and bias B are fitted so that the linear network's steady state
   (I - W)^-1 (B + u), as the truncated Neumann series r_3 = (I + W + W^2 + W^3)(B + u), equals
   the CNN's pre-activation z = Rec'(u + A) + R for the drive u = In'(h) of the CNN's
   activations; loss mean (z - r_3)^2 + 10 mean (W^3 (B + u))^2 (the stability penalty),
   AdamW (``stage2_lr``, clip 1e-3);
3. ``3_linear``: the linear network (activation identity) trained on the task with the full
   time course (the trainer, AdamW ``stage3_lr``);
4. ``4_anneal``: PReLU with its slope set to 0.95, 0.90, ..., 0.00 for ``stage4_steps`` steps
   each (AdamW ``stage4_lr``); slope 0 is ReLU;

then the run itself (``OUT``: the usual run directory) fine-tunes the ReLU network with the
run's training settings.  Its wall-clock and FLOPs start at the stages' totals, so the
summary's ``wall_clock_s`` is the whole initialisation plus fine-tuning (the budget of seed 004
eq. 5's control); ``OUT/stages/stages.json`` lists each stage's time and result.  Direct
training from random weights (``init=random``) is the control.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rnnzoo._atomic import atomic_path
from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import Network, load_model
from rnnzoo.models.cordsnet.cnn import (
    FoldedCNN,
    MatchedCNN,
    fold_batch_norm,
    load_feedforward_weights,
    matched_cnn,
)
from rnnzoo.models.cordsnet.layers import conv_same
from rnnzoo.training.build import build_network, build_task
from rnnzoo.training.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from rnnzoo.training.config import RunConfig

STAGES = ("1_cnn", "2_steady_state", "3_linear", "4_anneal")
SLOPES = tuple(round(0.95 - 0.05 * k, 2) for k in range(20))  # 0.95 ... 0.00
STABILITY_WEIGHT = 10.0
FIT_STATE_KEYS = ("step", "elapsed_s")  # stage 2's own loop: no trainer noise, lr scale, rollback
NEUMANN_TERMS = 3
INITIAL_RECURRENT_SCALE = 0.1  # stage 2 starts from the random kernels scaled down
FINAL_EVALUATION_IMAGES = 512  # validation images of each stage's final numbers


def is_staged(config: RunConfig) -> bool:
    """True for a cordsnet run with ``init=staged``."""
    return config.model.kind == "cordsnet" and config.model.options.get("init") == "staged"


def _images(
    task: Any, batch_size: int, seed: int, *, split: str = "train", index: int = 0
) -> tuple[Tensor, Tensor]:
    """The first image of each trial of the task's batch (B, C, H, W) and its label (B,)."""
    if not hasattr(task, "sample_images"):
        raise InvalidParameterError(
            f"init=staged needs an image-classification task; '{task.name}' has no labelled images"
        )
    images, labels = task.sample_images(batch_size, seed, split=split, index=index)
    return torch.from_numpy(images[:, 0]), torch.from_numpy(labels[:, 0])


class _Stage:
    """A stage folder: done.json, metrics.jsonl, a resumable checkpoint."""

    def __init__(self, root: Path, name: str) -> None:
        self.dir = root / name
        self.name = name

    @property
    def done(self) -> dict[str, Any] | None:
        path = self.dir / "done.json"
        return json.loads(path.read_text()) if path.is_file() else None

    def finish(self, summary: dict[str, Any]) -> dict[str, Any]:
        with atomic_path(self.dir / "done.json") as tmp:
            Path(tmp).write_text(json.dumps(summary, indent=2) + "\n")
        return summary

    def log(self, record: dict[str, Any], *, trim: int | None = None) -> None:
        path = self.dir / "metrics.jsonl"
        if trim is not None:  # a resumed stage redoes the records after its checkpoint
            lines = path.read_text().splitlines() if path.is_file() else []
            keep = [x for x in lines if json.loads(x)["step"] <= trim]
            with atomic_path(path) as tmp:
                Path(tmp).write_text("".join(x + "\n" for x in keep))
            return
        with open(path, "a") as f:
            f.write(json.dumps(record) + "\n")


# --- stage 1: the CNN --------------------------------------------------------------------
def _train_cnn(stage: _Stage, net: Network, task: Any, config: RunConfig) -> MatchedCNN:
    opts, tc = net.options, config.train
    cnn = matched_cnn(net).to(torch.get_default_dtype())
    optimizer = torch.optim.SGD(
        cnn.parameters(), lr=opts.stage1_lr, momentum=0.9, weight_decay=1e-4
    )
    step, elapsed = 0, 0.0
    state_path = stage.dir / "state.pt"
    if state_path.is_file():
        saved = torch.load(state_path, map_location="cpu", weights_only=True)
        cnn.load_state_dict(saved["cnn"])
        optimizer.load_state_dict(saved["optimizer"])
        step, elapsed = int(saved["step"]), float(saved["elapsed_s"])
    stage.dir.mkdir(parents=True, exist_ok=True)
    stage.log({}, trim=step)
    total = opts.stage1_steps
    start = time.perf_counter()
    window: list[float] = []
    while step < total:
        for group in optimizer.param_groups:  # 1e-1, 1e-2, 1e-3 in thirds, as the seed
            group["lr"] = opts.stage1_lr * 0.1 ** min(2, 3 * step // max(total, 1))
        cnn.train()
        images, labels = _images(task, opts.stage1_batch_size, tc.seed, index=step)
        loss = torch.nn.functional.cross_entropy(cnn(images), labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        window.append(float(loss.detach()))
        if step % tc.eval_every == 0 or step == total:
            record = {
                "step": step,
                "loss": float(np.mean(window)),
                "performance": _cnn_accuracy(cnn, task, tc, step // tc.eval_every),
                "wall_clock_s": round(elapsed + time.perf_counter() - start, 4),
            }
            stage.log(record)
            window = []
        if step % tc.checkpoint_every == 0 or step == total:
            _save_state(
                state_path,
                {
                    "cnn": cnn.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "step": step,
                    "elapsed_s": elapsed + time.perf_counter() - start,
                },
            )
    cnn.eval()
    return cnn


@torch.no_grad()
def _cnn_accuracy(
    cnn: MatchedCNN, task: Any, tc: Any, index: int, size: int | None = None
) -> float:
    """Accuracy on validation batch ``index`` (``size`` images, default eval_batch_size)."""
    was = cnn.training
    cnn.eval()
    images, labels = _images(
        task, size or tc.eval_batch_size, tc.seed, split="validation", index=index
    )
    accuracy = float((cnn(images).argmax(-1) == labels).double().mean())
    cnn.train(was)
    return accuracy


def _save_state(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


# --- stage 2: the steady-state fit --------------------------------------------------------
def steady_state_terms(
    net: Network, folded: FoldedCNN, images: Tensor
) -> tuple[Tensor, Tensor, list[float]]:
    """Stage 2's fit error and stability penalty (each averaged over the areas) for a batch of
    images, and each area's relative error |z - r_3| / |z|."""
    with torch.no_grad():
        _, acts = folded.forward(images)
    errors, penalties, relative = [], [], []
    for i in range(len(net.arch.areas)):
        weight = net.recurrent[i].effective()[0]
        bias = net.biases[i][0]
        drive = acts["drive"][i] + bias
        series, power = drive, drive
        for _ in range(NEUMANN_TERMS):
            series = conv_same(series, weight, 1, 1) + drive
            power = conv_same(power, weight, 1, 1)
        target = acts["pre"][i]
        errors.append((target - series).square().mean())
        penalties.append(power.square().mean())
        gap = (target - series).detach().norm() / target.detach().norm().clamp_min(1e-12)
        relative.append(float(gap))
    return torch.stack(errors).mean(), torch.stack(penalties).mean(), relative


def _fit_steady_state(
    stage: _Stage, net: Network, folded: FoldedCNN, task: Any, config: RunConfig
) -> Network:
    opts, tc = net.options, config.train
    for conv in net.recurrent:  # start near W = 0, where the series is B + u
        conv.assign(conv.effective().detach() * INITIAL_RECURRENT_SCALE)
    params = [p for conv in net.recurrent for p in conv.parameters()] + list(net.biases)
    optimizer = torch.optim.AdamW(params, lr=opts.stage2_lr)
    folder = stage.dir / "checkpoints"
    step, elapsed = 0, 0.0
    path = latest_checkpoint(folder)
    if path is not None:
        saved_net, state = load_checkpoint(path, torch.device("cpu"), FIT_STATE_KEYS)
        net.load_state_dict(saved_net.state_dict())
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed = int(state["step"]), float(state["elapsed_s"])
    stage.dir.mkdir(parents=True, exist_ok=True)
    stage.log({}, trim=step)
    start = time.perf_counter()
    window: list[float] = []
    while step < opts.stage2_steps:
        images, _ = _images(task, opts.stage2_batch_size, tc.seed, index=step)
        error, penalty, _ = steady_state_terms(net, folded, images)
        loss = error + STABILITY_WEIGHT * penalty
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1e-3)  # the seed's clip (AdamW: scale-free)
        optimizer.step()
        step += 1
        window.append(float(loss.detach()))
        if step % tc.eval_every == 0 or step == opts.stage2_steps:
            images, _ = _images(
                task, tc.eval_batch_size, tc.seed, split="validation", index=step // tc.eval_every
            )
            with torch.no_grad():
                error, penalty, relative = steady_state_terms(net, folded, images)
            stage.log(
                {
                    "step": step,
                    "loss": float(np.mean(window)),
                    "fit_error": float(error),
                    "stability_penalty": float(penalty),
                    "relative_error": relative,
                    "wall_clock_s": round(elapsed + time.perf_counter() - start, 4),
                }
            )
            window = []
        if step % tc.checkpoint_every == 0 or step == opts.stage2_steps:
            save_checkpoint(
                folder,
                step,
                net,
                {
                    "optimizer": optimizer.state_dict(),
                    "step": step,
                    "elapsed_s": elapsed + time.perf_counter() - start,
                },
            )
    return net


# --- stages 3 and 4, and the run: the trainer ------------------------------------------------
def _variant(config: RunConfig, activation: str, steps: int, lr: float) -> RunConfig:
    """The run config of a trainer stage: the network with ``activation``, AdamW at ``lr``
    for ``steps`` steps (no early stop)."""
    data = config.model_dump(mode="json")
    data["model"]["options"] = {
        **data["model"]["options"],
        "activation": activation,
        "init": "random",
    }
    data["model"]["options"].pop("activation_slope", None)
    data["train"].update(
        {"max_steps": max(steps, 1), "lr": lr, "optimizer": "adamw", "target_performance": 1.0}
    )
    return RunConfig(**data)


def _trainer_stage(stage: _Stage, config: RunConfig, net: Network, slopes: bool, db: Path):
    from rnnzoo.training.trainer import Trainer

    class _Annealing(Trainer):
        """PReLU slope set from the step before every training step: SLOPES[step // n]."""

        def losses(self, batch, progress):  # type: ignore[override]
            per = max(1, self.tc.max_steps // len(SLOPES))
            self.net.set_activation_slope(SLOPES[min(self.step // per, len(SLOPES) - 1)])
            return super().losses(batch, progress)

    cls = _Annealing if slopes else Trainer
    trainer = cls(config, stage.dir, net=net, db=db, progress=False)
    resume = latest_checkpoint(stage.dir / "checkpoints") is not None
    return trainer.run(resume=resume)


def _copy_weights(source: Network, config: RunConfig, task: Any, slope: float | None) -> Network:
    target = build_network(config, task)
    state = source.state_dict()
    state["activation_slope"] = target.state_dict()["activation_slope"]
    target.load_state_dict(state)
    if slope is not None:
        target.set_activation_slope(slope)
    return target


def train_staged(
    config: RunConfig,
    out: str | Path,
    *,
    resume: bool = False,
    db: str | Path | None = None,
    progress: bool | None = None,
    callback: Any = None,
):
    """Run stages 1-4 (or what is left of them) and then the fine-tuning run in ``out``;
    returns the run's `TrainResult`."""
    from rnnzoo.training.trainer import Trainer

    if out is None:
        raise InvalidParameterError("init=staged needs a run directory ('out')")
    out = Path(out)
    root = out / "stages"
    if not resume and root.exists():
        raise InvalidParameterError(
            f"'{out}' already holds a staged run; continue it with --resume or choose a new folder"
        )
    task = build_task(config)
    net = build_network(config, task)
    if net.config.ensemble is not None:
        raise InvalidParameterError("init=staged trains one network; leave 'ensemble' unset")
    if not net.arch.image:
        raise InvalidParameterError("init=staged needs an image task (the CNN sees images)")
    if net.options.activation != "relu":
        raise InvalidParameterError("init=staged ends in a ReLU network: activation must be relu")
    opts = net.options
    root.mkdir(parents=True, exist_ok=True)
    stage_db = root / "stages.sqlite"
    timings: dict[str, Any] = {}

    stage = _Stage(root, STAGES[0])
    cnn_path = stage.dir / "cnn.pt"
    if stage.done is None:
        cnn = _train_cnn(stage, net, task, config)
        _save_state(cnn_path, {"cnn": cnn.state_dict()})
        folded = fold_batch_norm(cnn)
        images, _ = _images(task, 64, config.train.seed, split="validation")
        with torch.no_grad():
            gap = float((cnn(images) - folded.forward(images)[0]).abs().max())
        saved = torch.load(stage.dir / "state.pt", map_location="cpu", weights_only=True)
        stage.finish(
            {
                "steps": opts.stage1_steps,
                "wall_clock_s": float(saved["elapsed_s"]),
                "validation_accuracy": _cnn_accuracy(
                    cnn, task, config.train, 10**6, FINAL_EVALUATION_IMAGES
                ),
                "folded_minus_cnn_max_abs": gap,
            }
        )
    cnn = matched_cnn(net)
    cnn.load_state_dict(torch.load(cnn_path, map_location="cpu", weights_only=True)["cnn"])
    cnn.eval()
    folded = fold_batch_norm(cnn)
    timings[STAGES[0]] = stage.done

    stage = _Stage(root, STAGES[1])
    load_feedforward_weights(net, folded)
    if stage.done is None:
        net = _fit_steady_state(stage, net, folded, task, config)
        path = latest_checkpoint(stage.dir / "checkpoints")
        cpu = torch.device("cpu")
        state = load_checkpoint(path, cpu, FIT_STATE_KEYS)[1] if path else {"elapsed_s": 0.0}
        images, _ = _images(task, FINAL_EVALUATION_IMAGES, config.train.seed, split="validation")
        with torch.no_grad():
            error, penalty, relative = steady_state_terms(net, folded, images)
        stage.finish(
            {
                "steps": opts.stage2_steps,
                "wall_clock_s": float(state["elapsed_s"]),
                "fit_error": float(error),
                "stability_penalty": float(penalty),
                "relative_error": relative,
            }
        )
    else:
        path = latest_checkpoint(stage.dir / "checkpoints")
        net = load_checkpoint(path, torch.device("cpu"), FIT_STATE_KEYS)[0]
    timings[STAGES[1]] = stage.done

    linear_config = _variant(config, "identity", opts.stage3_steps, opts.stage3_lr)
    anneal_config = _variant(config, "prelu", opts.stage4_steps * len(SLOPES), opts.stage4_lr)
    for name, stage_config, slopes, steps in (
        (STAGES[2], linear_config, False, opts.stage3_steps),
        (STAGES[3], anneal_config, True, opts.stage4_steps),
    ):
        stage = _Stage(root, name)
        net = _copy_weights(net, stage_config, task, SLOPES[0] if slopes else None)
        if steps > 0 and stage.done is None:
            result = _trainer_stage(stage, stage_config, net, slopes, stage_db)
            net = result.net
            stage.finish(
                {
                    "steps": result.steps,
                    "wall_clock_s": result.wall_clock_s,
                    "performance": result.final_performance,
                    "status": result.status,
                }
            )
        elif steps > 0:
            net = load_model(stage.dir / "model.safetensors")
        else:
            stage.dir.mkdir(parents=True, exist_ok=True)
            stage.finish({"steps": 0, "wall_clock_s": 0.0, "skipped": True})
        timings[name] = stage.done

    total = sum(float(t["wall_clock_s"]) for t in timings.values())
    with atomic_path(root / "stages.json") as tmp:
        Path(tmp).write_text(json.dumps({"stages": timings, "wall_clock_s": total}, indent=2))
    final = _copy_weights(net, config, task, None)
    trainer = Trainer(config, out, net=final, db=db, progress=progress, callback=callback)
    if latest_checkpoint(out / "checkpoints") is None:
        trainer.elapsed_s = total  # the run's clock includes the initialisation
    return trainer.run(resume=resume)


__all__ = ["SLOPES", "STAGES", "is_staged", "steady_state_terms", "train_staged"]
