"""Seed 002's long-dependency training methods as training-time dynamics (Soo, Goudar & Wang,
NeurIPS 2023): coarsened discretization (CD), skip connections through time (SCTT) and
dynamics-aligned skip connections (DASC).

A method only changes how a leaky network is simulated in *training* steps; the weights are
those of the plain network, and evaluation always runs the true dynamics ``net(inputs)``.  The
trainer calls ``method.outputs(net, inputs, progress, generator)`` where ``progress`` in [0, 1]
is the fraction of the annealing schedule done; once the schedule reaches its last stage the
method *is* the true dynamics (the network's own fused forward is used).

Notation (sec. 3).  One Euler step of the true dynamics (eq. 5) from state h_t with input u_t:

    h_{t+1} = h_t + D(h_t, t),   D(h, t) = alpha * (f(W h + W_in u_t + b + eta_t) - h)   (rate)
                                 D(h, t) = alpha * (W f(h) + W_in u_t + b + eta_t - h)   (current)

with alpha = dt / tau per neuron and eta the network's recurrent noise (input noise is added
to u).  Output index t reads out h_{t+1}, as the networks do.

CD (sec. 3.1, eq. 7).  Steps theta times larger on a grid of ceil(T / theta) coarse steps:
``H_{j+1} = H_j + theta * D(H_j, j theta)`` (alpha_eff = theta * alpha) with the input
sampled at the coarse step's first fine step (eq. 7 evaluates dr/dt at t; ``inputs="mean"``
averages the theta inputs instead) and noise of a network at dt * theta.  Outputs come back on
the task's grid: the Euler step is a straight line, so fine step j theta + s (s = 1..theta)
reads out ``H_j + (s / theta) theta D(H_j)``; s = theta is H_{j+1}.  theta * alpha must stay
<= 1 (sec. 3.4, appendix E: CD is unstable beyond the time constant).

SCTT (sec. 3.2, eq. 8) and DASC (sec. 3.3, eq. 9).  Skip connections join consecutive skip
points p < q (by default every theta steps: 0, theta, 2 theta, ...).  The state runs the true
dynamics between them, and on landing at q

    h_q = (1 - beta) a_p + beta h_q^base,   a_p = h_p (SCTT)  or  h_p + (q - p) D(h_p, p) (DASC)

where h_q^base is the true dynamics run from h_p (eq. 6): SCTT mixes in the state at the
skip's start (a zeroth-order estimate), DASC a CD step over the skip (first order).  beta = 1
is the true dynamics.  The original code's DASC extrapolates with the previous step's
derivative; here D is taken at h_p as eq. 9 states.

Strategic skip connections (sec. 4.1).  ``skip_steps`` places skip points at given steps
instead of every theta: a list of steps, or the name of a per-trial condition of the batch
(e.g. the rule-reversal task's ``"trial_start_steps"``, (B, K)), passed in as
``outputs(..., conditions=batch.conditions)``.  ``also_periodic=True`` keeps the theta grid
as well (the paper's "additional" strategic skips of Table 2).

Annealing (sec. 4, "step count" n; stages as in the authors' scripts, tasks-anchors 6.2).  The
schedule has n + 1 equal stages; stage k = min(floor(progress (n + 1)), n):

    SCTT, DASC:  beta_k  = beta_0 + (1 - beta_0) k / n          (beta_n = 1)
    CD:          theta_k = max(1, round(theta_0 (n - k) / n))   (theta_n = 1)

e.g. n = 5, beta_0 = 0.5: 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 (sec. 4's example); n = 5,
theta_0 = 10: 10, 8, 6, 4, 2, 1.  Defaults follow sec. 4 and Table 1: CD theta_0 = 10, SCTT and
DASC theta = 40 (twice the 20-step time constant there), beta_0 = 0.5, n = 5.  The paper anneals
over the first 20,000 of at most 40,000 training steps; the trainer maps its steps to progress.

The modified dynamics are simulated by a plain autograd loop over the network's effective
weights (``input_weights()``, ``recurrent_weights()``, ``bias``, ``alpha``, ``readout()``) and
its noise (``sample_noise``), batched over the ensemble axis M.  It stores every step (the
``memory="recompute"`` option of the networks does not apply to it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from torch import Tensor

from rnnzoo.errors import InvalidParameterError, did_you_mean
from rnnzoo.models.activations import activate
from rnnzoo.models.base import Network
from rnnzoo.tasks.params import parse_validation_error

__all__ = ["LEAKY_KINDS", "METHOD_NAMES", "Method", "make_method"]

METHOD_NAMES = ("control", "cd", "sctt", "dasc")
LEAKY_KINDS = ("leaky_rate", "leaky_current")
MAX_SKIP_STEP = 10_000_000


# --- hyperparameters ------------------------------------------------------------------------
class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ControlParams(_Params):
    """Control (the true dynamics) has no hyperparameters."""


def _step_count_field() -> Any:
    return Field(
        5, ge=1, le=10_000, description="step count n: annealing updates over the schedule"
    )


class CDParams(_Params):
    """Coarsened discretization (sec. 3.1)."""

    theta: int = Field(10, ge=1, le=10_000, description="initial discretization factor theta_0")
    step_count: int = _step_count_field()
    inputs: Literal["sample", "mean"] = Field(
        "sample", description="coarse-step input: the first fine input (eq. 7) or the mean"
    )


class SkipParams(_Params):
    """Skip connections through time (sec. 3.2) and their dynamics-aligned form (sec. 3.3)."""

    theta: int = Field(40, ge=1, le=100_000, description="skip length theta (steps)")
    initial_ratio: float = Field(0.5, ge=0, le=1, description="initial mixing ratio beta_0")
    step_count: int = _step_count_field()
    skip_steps: list[int] | str | None = Field(
        None,
        description="skip points instead of every theta steps: a list of steps, or the name of "
        "a per-trial condition (B, K) such as 'trial_start_steps' (sec. 4.1)",
    )
    also_periodic: bool = Field(False, description="keep the every-theta skips with skip_steps")

    @model_validator(mode="after")
    def _check_skip_steps(self) -> SkipParams:
        steps = self.skip_steps
        if isinstance(steps, list) and (
            len(steps) < 2 or min(steps) < 0 or max(steps) > MAX_SKIP_STEP
        ):
            raise ValueError(
                f"'skip_steps' must list at least 2 steps >= 0 and <= {MAX_SKIP_STEP} (a skip "
                f"joins two); got {steps}"
            )
        if isinstance(steps, str) and not steps:
            raise ValueError("'skip_steps' must name a condition; got ''")
        if self.also_periodic and steps is None:
            raise ValueError("'also_periodic' applies only with 'skip_steps'; got skip_steps=None")
        return self


# --- schedules ------------------------------------------------------------------------------
def _check_progress(progress: float) -> float:
    if isinstance(progress, bool) or not isinstance(progress, Real):
        raise InvalidParameterError(f"'progress' must be a number in [0, 1]; got {progress!r}")
    if not 0 <= progress <= 1:  # also rejects NaN
        raise InvalidParameterError(f"'progress' must be in [0, 1]; got {progress!r}")
    return float(progress)


def _stage(progress: float, step_count: int) -> int:
    """Stage k in 0..n of a schedule with n + 1 equal stages."""
    return min(int(_check_progress(progress) * (step_count + 1)), step_count)


# --- the modified dynamics ------------------------------------------------------------------
class _Euler:
    """Euler increments D(h, t) of a leaky network with its effective weights (one forward)."""

    def __init__(self, net: Network) -> None:
        self.rate_form = net.form == "rate"
        self.activation = net.options.activation
        self.slope = net.slope
        weights = net.recurrent_weights()
        if len(weights) == 2:  # W = m n^T / N, never formed
            m, n = weights
            self.low_rank = (n, m.transpose(1, 2) / net.options.n_hidden)
        else:
            self.low_rank = None
            self.w_t = weights[0].transpose(1, 2)

    def recurrent(self, rates: Tensor) -> Tensor:
        """(M, B, N) rates -> (M, B, N) recurrent input W r (as r W^T)."""
        if self.low_rank is not None:
            n, m_t = self.low_rank
            return torch.bmm(torch.bmm(rates, n), m_t)
        return torch.bmm(rates, self.w_t)

    def increment(self, state: Tensor, drive: Tensor, alpha: Tensor) -> Tensor:
        """D = alpha (target - h); drive = W_in u + b + eta (M, B, N); alpha (M, 1, N)."""
        if self.rate_form:
            target = activate(self.activation, self.recurrent(state) + drive, self.slope)
        else:
            target = self.recurrent(activate(self.activation, state, self.slope)) + drive
        return alpha * (target - state)


def _drives(net: Network, inputs: Tensor, noise: Tensor | None) -> tuple[Tensor, ...]:
    """Per-step drives W_in u_t + b (+ eta_t), each (M, B, N), from inputs (T, [M,] B, I) and
    recurrent noise (M, T, B, N) or None."""
    x = inputs.unsqueeze(1) if inputs.dim() == 3 else inputs
    drive = torch.matmul(x, net.input_weights().transpose(1, 2)) + net.bias.unsqueeze(1)
    if noise is not None:
        drive = drive + noise.transpose(0, 1)
    return drive.unbind(0)


def _outputs(net: Network, states: Tensor) -> Tensor:
    """Outputs (T, [M,] B, O) from states (T, M, B, N)."""
    outputs = net.readout(states.transpose(0, 1)).transpose(0, 1)
    return outputs.squeeze(1) if net.config.ensemble is None else outputs


def _prepared(net: Network, inputs: Tensor) -> Tensor:
    """Checked inputs as the network takes them: (T, B, I) shared or (T, M, B, I)."""
    x = net._check_inputs(inputs)
    return (x[:, 0] if x.shape[1] == 1 else x).to(net.w_in.dtype)


class Method:
    """A training method: the dynamics a network runs in training steps.

    ``params`` holds the validated hyperparameters; ``config()`` returns what `make_method`
    takes to rebuild it.
    """

    name: ClassVar[str]
    Params: ClassVar[type[_Params]]

    def __init__(self, params: _Params) -> None:
        self.params = params

    def outputs(
        self,
        net: Network,
        inputs: Tensor,
        progress: float,
        generator: torch.Generator | None = None,
        *,
        conditions: Mapping[str, Any] | None = None,
    ) -> Tensor:
        """Outputs (T, [M,] B, O) of ``net`` on ``inputs`` (T, B, I) or (T, M, B, I) under
        this method's training-time dynamics; ``progress`` in [0, 1] is the fraction of the
        annealing schedule done (1 = true dynamics).  ``generator`` draws the network noise
        (the network's own stream when None); ``conditions`` are the batch's per-trial
        conditions (needed when ``skip_steps`` names one)."""
        raise NotImplementedError

    def schedule(self, progress: float) -> dict[str, float]:
        """The annealed hyperparameters at ``progress`` (e.g. {"beta": 0.6, "theta": 40})."""
        _check_progress(progress)
        return {}

    def recurrent_steps(self, n_steps: int, progress: float) -> int:
        """Recurrent updates one training trial of ``n_steps`` task steps costs at
        ``progress`` (the trainer's flop count: 6 M B N^2 per update)."""
        _check_progress(progress)
        return n_steps

    def check(self, net: Network) -> None:
        """Raise `InvalidParameterError` when this method cannot train ``net``."""
        if self.name != "control" and getattr(net, "kind", None) not in LEAKY_KINDS:
            raise InvalidParameterError(
                f"method '{self.name}' trains leaky networks ({', '.join(LEAKY_KINDS)}); got "
                f"kind '{getattr(net, 'kind', type(net).__name__)}' (use method 'control')"
            )

    def config(self) -> dict[str, Any]:
        """{"name": ..., **hyperparameters}: ``make_method(**config)`` rebuilds this method."""
        return {"name": self.name, **self.params.model_dump()}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.model_dump().items())
        return f"{type(self).__name__}({args})"


class Control(Method):
    """The true dynamics: ``net(inputs).outputs``."""

    name = "control"
    Params = ControlParams

    def outputs(self, net, inputs, progress, generator=None, *, conditions=None):
        _check_progress(progress)
        return net(inputs, generator=generator).outputs


class CoarsenedDiscretization(Method):
    """CD (sec. 3.1): Euler steps theta times larger, theta annealed from theta_0 to 1."""

    name = "cd"
    Params = CDParams
    params: CDParams

    def theta(self, progress: float) -> int:
        """theta_k = max(1, round(theta_0 (n - k) / n)) at stage k of progress."""
        p = self.params
        k = _stage(progress, p.step_count)
        return max(1, math.floor(p.theta * (p.step_count - k) / p.step_count + 0.5))

    def schedule(self, progress: float) -> dict[str, float]:
        return {"theta": self.theta(progress)}

    def recurrent_steps(self, n_steps: int, progress: float) -> int:
        """ceil(n_steps / theta): CD runs one update per coarse step."""
        return -(-n_steps // self.theta(progress))

    def outputs(self, net, inputs, progress, generator=None, *, conditions=None):
        theta = self.theta(progress)
        self.check(net)
        if theta == 1:
            return net(inputs, generator=generator).outputs
        alpha = theta * net.alpha
        if theta * net.max_alpha > 1:
            raise InvalidParameterError(
                f"cd: 'theta' = {theta} times alpha = dt/tau = {net.max_alpha:g} "
                f"exceeds 1 (a coarse step longer than the time constant is unstable, seed 002 "
                f"sec. 3.4); use theta <= {math.floor(1 / net.max_alpha)}"
            )
        x = _prepared(net, inputs)
        steps = x.shape[0]
        if self.params.inputs == "sample":
            coarse = x[::theta]
        else:
            coarse = torch.stack([block.mean(0) for block in x.split(theta)])
        coarse, noise = net.sample_noise(coarse, generator, dt_factor=theta)
        euler = _Euler(net)
        state = x.new_zeros(net.n_models, x.shape[-2], net.options.n_hidden)
        starts, increments = [], []
        for drive in _drives(net, coarse, noise):
            delta = euler.increment(state, drive, alpha)
            starts.append(state)
            increments.append(delta)
            state = state + delta
        # fine step j theta + s reads out H_j + (s / theta) theta D(H_j): (T_c, theta, M, B, N)
        fraction = torch.arange(1, theta + 1, dtype=x.dtype, device=x.device) / theta
        fine = torch.stack(starts).unsqueeze(1) + fraction.view(1, theta, 1, 1, 1) * torch.stack(
            increments
        ).unsqueeze(1)
        fine = fine.flatten(0, 1)[:steps]
        return _outputs(net, fine)


class _SkipConnections(Method):
    aligned: ClassVar[bool]
    Params = SkipParams
    params: SkipParams

    def beta(self, progress: float) -> float:
        """beta_k = beta_0 + (1 - beta_0) k / n at stage k of progress."""
        p = self.params
        k = _stage(progress, p.step_count)
        if k == p.step_count:
            return 1.0
        return p.initial_ratio + (1 - p.initial_ratio) * k / p.step_count

    def schedule(self, progress: float) -> dict[str, float]:
        return {"beta": self.beta(progress), "theta": self.params.theta}

    def skip_points(
        self, steps: int, batch: int, conditions: Mapping[str, Any] | None = None
    ) -> np.ndarray:
        """Skip points (T + 1, B) bool over state indices h_0..h_T of a batch of B trials."""
        p = self.params
        points = np.zeros((steps + 1, batch), dtype=bool)
        if p.skip_steps is None or p.also_periodic:
            points[:: p.theta] = True
        if p.skip_steps is None:
            return points
        if isinstance(p.skip_steps, str):
            if conditions is None or p.skip_steps not in conditions:
                names = [] if conditions is None else list(conditions)
                raise InvalidParameterError(
                    f"{self.name}: 'skip_steps' names condition '{p.skip_steps}', which the "
                    f"batch does not have{did_you_mean(p.skip_steps, names)} (pass "
                    f"conditions=batch.conditions)"
                )
            listed = np.asarray(conditions[p.skip_steps])
            listed = listed.reshape(len(listed), -1) if listed.ndim else listed.reshape(1, 1)
            if listed.shape[0] != batch:
                raise InvalidParameterError(
                    f"{self.name}: 'skip_steps' condition '{p.skip_steps}' has "
                    f"{listed.shape[0]} rows for a batch of {batch} trials"
                )
        else:
            listed = np.broadcast_to(np.asarray(p.skip_steps), (batch, len(p.skip_steps)))
        if not np.issubdtype(listed.dtype, np.integer) or listed.min() < 0 or listed.max() > steps:
            raise InvalidParameterError(
                f"{self.name}: 'skip_steps' must be integer steps in [0, {steps}] (T = {steps}); "
                f"got values in [{listed.min()}, {listed.max()}]"
            )
        points[listed, np.arange(batch)[:, None]] = True
        return points

    def check_task(self, task: Any) -> None:
        """Raise before training when the skip points cannot be placed on ``task``'s trials (a
        condition it lacks, steps beyond a trial), checked on a small held-out batch."""
        if self.params.skip_steps is not None:
            batch = task.generate(2, 0, split="validation")
            self.skip_points(batch.n_steps, batch.batch_size, batch.conditions)

    def outputs(self, net, inputs, progress, generator=None, *, conditions=None):
        beta = self.beta(progress)
        self.check(net)
        if beta == 1:
            return net(inputs, generator=generator).outputs
        x = _prepared(net, inputs)
        steps, batch = x.shape[0], x.shape[-2]
        starts, lands = _plan(self.skip_points(steps, batch, conditions), self.aligned, x)
        x, noise = net.sample_noise(x, generator)
        euler = _Euler(net)
        state = x.new_zeros(net.n_models, batch, net.options.n_hidden)
        anchor = state
        states = []
        for t, drive in enumerate(_drives(net, x, noise)):
            delta = euler.increment(state, drive, net.alpha)
            if starts[t] is not None:
                mask, span = starts[t]
                start = state + span * delta if self.aligned else state
                anchor = start if mask is True else torch.where(mask, start, anchor)
            state = state + delta
            mask = lands[t + 1]
            if mask is not None:
                mixed = (1 - beta) * anchor + beta * state
                state = mixed if mask is True else torch.where(mask, mixed, state)
            states.append(state)
        return _outputs(net, torch.stack(states))


def _plan(
    points: np.ndarray, aligned: bool, like: Tensor
) -> tuple[list[tuple[Any, Any] | None], list[Any]]:
    """Per state index: where skips start (mask, span) and where they land (mask); a mask is
    True for every trial or a (1, B, 1) bool tensor; None where nothing happens."""
    steps_1, batch = points.shape
    start = np.zeros_like(points)
    land = np.zeros_like(points)
    span = np.zeros(points.shape)
    for b in range(batch):
        idx = np.flatnonzero(points[:, b])
        start[idx[:-1], b] = True
        land[idx[1:], b] = True
        span[idx[:-1], b] = np.diff(idx)

    def mask(row: np.ndarray) -> Any:
        if not row.any():
            return None
        if row.all():
            return True
        return torch.from_numpy(row).to(like.device).view(1, batch, 1)

    starts: list[tuple[Any, Any] | None] = []
    for t in range(steps_1):
        where = mask(start[t])
        if where is None:
            starts.append(None)
            continue
        lengths = span[t][start[t]]
        if not aligned or (lengths == lengths[0]).all():
            starts.append((where, float(lengths[0])))
        else:
            span_t = torch.tensor(span[t], dtype=like.dtype, device=like.device)
            starts.append((where, span_t.view(1, batch, 1)))
    return starts, [mask(land[t]) for t in range(steps_1)]


class SkipConnectionsThroughTime(_SkipConnections):
    """SCTT (sec. 3.2): h_q = (1 - beta) h_p + beta h_q^base, beta annealed to 1."""

    name = "sctt"
    aligned = False


class DynamicsAlignedSkipConnections(_SkipConnections):
    """DASC (sec. 3.3): h_q = (1 - beta) (h_p + (q - p) D(h_p)) + beta h_q^base."""

    name = "dasc"
    aligned = True


_METHODS: dict[str, type[Method]] = {
    cls.name: cls
    for cls in (
        Control,
        CoarsenedDiscretization,
        SkipConnectionsThroughTime,
        DynamicsAlignedSkipConnections,
    )
}


def make_method(name: str, **hyperparameters: Any) -> Method:
    """Build training method ``name`` ("control", "cd", "sctt", "dasc") with validated
    ``hyperparameters`` (see the module docstring); `InvalidParameterError` names a bad one."""
    if name not in _METHODS:
        raise InvalidParameterError(
            f"'method' must be one of {', '.join(METHOD_NAMES)}; got {name!r}"
            f"{did_you_mean(str(name), METHOD_NAMES)}"
        )
    cls = _METHODS[name]
    try:
        params = cls.Params(**hyperparameters)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(name, cls.Params, exc)) from None
    return cls(params)
