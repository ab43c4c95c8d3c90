"""The settings of `rnnzoo analyze` / `analyze_run`: validated, with their defaults (the CLI has
one option per field).  A bad value is a one-line `InvalidParameterError` naming it."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rnnzoo.errors import InvalidParameterError, did_you_mean
from rnnzoo.tasks.params import parse_validation_error


class AnalysisSettings(BaseModel):
    """What `analyze_run` analyses and how (frozen; a misspelt name is an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_trials: int = Field(256, ge=1, description="trials of the task's test grid analysed")
    fp_input: str | None = Field(
        None,
        description="constant input of the fixed-point search: None = the task's resting input "
        "(its most frequent input vector); 'zeros'; I comma-separated numbers; or NAME=VALUE "
        "pairs for some input channels, the others 0 (e.g. 'fixation=1,rule_dm1=1')",
    )
    fp_starts: int = Field(256, ge=1, description="initial states of the fixed-point search")
    fp_noise: float | None = Field(
        None,
        ge=0,
        description="std of the jitter added to the starts; None = 2 spreads of the visited "
        "states (the field's noisy starts), 0 = starts on the trajectories",
    )
    fp_newton_steps: int = Field(20, ge=0, description="most Newton steps polishing each point")
    latent_nodes: int | None = Field(
        None,
        ge=1,
        description="nodes of the latent circuit; None = from the task: one per input channel "
        "used and per output channel, a ring (or population) counting ring_sectors",
    )
    ring_sectors: int = Field(
        4, ge=1, le=64, description="latent channels a ring's units are pooled into (sectors)"
    )
    latent_trials: int = Field(32, ge=1, description="trials the latent circuit is fitted to")
    latent_iters: int = Field(500, ge=1, description="Adam steps of each latent-circuit restart")
    latent_restarts: int = Field(4, ge=1, description="seeded restarts of the latent circuit")
    poor_fit_r2: float = Field(
        0.5,
        le=1,
        description="warn when the latent circuit explains less than this (embedding or "
        "output R^2)",
    )


def analysis_settings(values: dict[str, Any] | None = None) -> AnalysisSettings:
    """Build `AnalysisSettings` or raise `InvalidParameterError` naming the setting."""
    try:
        return AnalysisSettings(**(values or {}))
    except ValidationError as exc:
        raise InvalidParameterError(
            parse_validation_error("analyze", AnalysisSettings, exc)
        ) from None


def constant_input(spec: str | None, input_names: tuple[str, ...], rest: np.ndarray) -> np.ndarray:
    """The input vector (I,) that ``spec`` (see `AnalysisSettings.fp_input`) names."""
    n = len(input_names)
    if spec is None:
        return np.asarray(rest, dtype=np.float64)
    text = spec.strip()
    if text == "zeros":
        return np.zeros(n)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    named = all("=" in p for p in parts)
    pairs = [p.partition("=") for p in parts] if named else []
    for name, _, _ in pairs:
        if name.strip() not in input_names:
            hint = did_you_mean(name.strip(), input_names)
            raise InvalidParameterError(f"'fp_input': unknown input channel {name.strip()!r}{hint}")
    try:
        if named:
            vector = np.zeros(n)
            for name, _, value in pairs:
                vector[input_names.index(name.strip())] = float(value)
            return vector
        vector = np.array([float(p) for p in parts])
    except ValueError:
        raise InvalidParameterError(
            f"'fp_input' must be 'zeros', {n} comma-separated numbers or NAME=VALUE pairs; "
            f"got {spec!r}"
        ) from None
    if vector.shape != (n,):
        raise InvalidParameterError(
            f"'fp_input' must have {n} values (one per input channel); got {len(vector)}"
        )
    return vector
