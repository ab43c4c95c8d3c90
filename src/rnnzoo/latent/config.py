"""`LatentConfig`: the validated request of one latent expansion (``latent.yaml`` in its run
directory)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.params import parse_validation_error


class LatentConfig(BaseModel):
    """A teacher, the large network to build from it, Step I (SSL), Step II (readout) and the
    held-out inference.  Frozen; a misspelt name is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    teacher: str = Field(description="run directory of the trained teacher (config.yaml, model)")
    n_hidden: int = Field(ge=1, le=10_000_000, description="neurons N of the large network")
    init: Literal["resample", "gmm", "ridge", "random"] = Field(
        "ridge", description="construction (see rnnzoo.latent.constructions)"
    )
    rank: int | None = Field(
        None, ge=1, description="latent dimension K (truncated SVD); None = the teacher's"
    )
    jitter: float | None = Field(
        None, ge=0, description="heterogeneity of copied loadings; None = 0 (resample), 0.5 (ridge)"
    )
    components: int = Field(4, ge=1, description="Gaussian mixture components (init gmm)")
    ridge: float = Field(1e-3, gt=0, description="ridge penalty relative to trace(Gram)/S")
    ridge_trials: int = Field(32, ge=1, description="teacher trials of the ridge fit")
    ridge_samples: int = Field(3200, ge=1, le=50_000, description="time points of the ridge fit")
    refit_encoding: bool = Field(False, description="ridge-fit the encoding after resample/gmm")
    task: dict[str, Any] | None = Field(
        None, description="task config {task, version, params}; None = the teacher's task"
    )
    seed: int = Field(0, ge=0, description="seed of the construction, trials and SSL")
    ssl_steps: int = Field(0, ge=0, description="Step I: Adam steps on the latent loss")
    ssl_lr: float = Field(1e-2, gt=0, le=10, description="Step I learning rate (any N)")
    ssl_batch_size: int = Field(32, ge=1, le=100_000, description="Step I trials per step")
    ssl_train: tuple[Literal["m", "n", "w_in", "bias"], ...] = Field(
        ("m", "n", "w_in", "bias"), min_length=1, description="parameters Step I trains"
    )
    teacher_forced_steps: int = Field(
        0, ge=0, description="first Step I steps on the teacher-forced one-step loss"
    )
    teacher_forced_samples: int = Field(1024, ge=1, description="(t, b) samples per such step")
    ssl_target_loss: float = Field(
        0.01, gt=0, description="stop Step I when the held-out normalised loss is below this"
    )
    eval_every: int = Field(25, ge=1, description="Step I steps between held-out evaluations")
    eval_trials: int = Field(64, ge=1, description="held-out trials per Step I evaluation")
    checkpoint_every: int = Field(100, ge=1, description="Step I steps between checkpoints")
    readout_on: Literal["kappa", "rates"] = Field("kappa", description="Step II reads kappa or r")
    readout_method: Literal["auto", "lstsq", "adam", "keep"] = Field(
        "auto",
        description="Step II fit; keep = the construction's readout (resample: the teacher's, "
        "copied; else the teacher's latent readout on kappa); auto = keep for resample "
        "without Step I, else lstsq",
    )
    readout_trials: int = Field(64, ge=1, description="Step II trials")
    readout_steps: int = Field(200, ge=1, description="Step II Adam steps")
    readout_lr: float = Field(1e-2, gt=0, description="Step II Adam learning rate")
    test_trials: int = Field(256, ge=1, description="held-out test trials of the inference")
    fixed_points: bool = Field(True, description="compare the latent fields' fixed points")
    max_memory_gb: float | None = Field(
        None, gt=0, description="refuse when the memory estimate exceeds this (GB)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> LatentConfig:
        if self.init == "random" and self.ssl_steps == 0:
            raise ValueError("'init' random needs Step I: set ssl_steps >= 1")
        if self.teacher_forced_steps > self.ssl_steps:
            raise ValueError(
                f"'teacher_forced_steps' must be <= ssl_steps ({self.ssl_steps}); got "
                f"{self.teacher_forced_steps}"
            )
        return self

    @property
    def step_two(self) -> str:
        """The Step II fit that runs: keep, lstsq or adam."""
        if self.readout_method != "auto":
            return self.readout_method
        return "keep" if self.init == "resample" and self.ssl_steps == 0 else "lstsq"


def latent_config(values: Any, owner: str = "latent") -> LatentConfig:
    """Build a `LatentConfig` from plain data or raise a one-line `InvalidParameterError`."""
    if not isinstance(values, dict):
        raise InvalidParameterError(f"{owner}: expected a mapping; got {type(values).__name__}")
    try:
        return LatentConfig(**values)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(owner, LatentConfig, exc)) from None
