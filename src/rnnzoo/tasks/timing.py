"""Time in rnnzoo: durations in ms, discretised by the sampling period ``dt_ms``.

The rounding rules
------------------
A duration of ``d`` ms lasts ``steps(d, dt) = floor(d / dt + 1/2)`` steps (``"half_up"``, the
zoo's rule).  A task whose source converts durations otherwise declares its rule:
``"truncate"`` is ``floor(d / dt)``, the ``int(d / dt)`` of Yang et al.'s code (and the integer
draws of Soo et al.'s), under which a uniform law U(a, b) gives a/dt ... b/dt - 1 steps, each
with probability dt / (b - a).  Both rules forgive 1e-9 of floating-point error (0.6 / 0.2 is
3 steps, not 2).  Epochs are laid end to end in steps, so the error never accumulates across
epochs.  A positive duration that converts to zero steps is rejected when the parameters are
built; an epoch is empty only when its parameter explicitly allows 0 ms and the value is 0.

Durations that vary from trial to trial are typed distributions (`Fixed`, `Uniform`,
`Choice`, `TruncExp`), never callables, so that every configuration can be written to disk.
Each is drawn once per trial in ms and then converted by the task's rule; `step_distribution`
gives the exact law of the result, which the task cards state.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

_TOL = 1e-9

Rounding = Literal["half_up", "truncate"]
"""How a duration in ms becomes steps: floor(d/dt + 1/2) or floor(d/dt)."""
ROUNDINGS: tuple[str, ...] = ("half_up", "truncate")
_OFFSET = {"half_up": 0.5, "truncate": 0.0}


def steps(
    duration_ms: float | np.ndarray, dt_ms: float, rounding: Rounding = "half_up"
) -> np.ndarray:
    """Number of time steps for ``duration_ms`` at sampling period ``dt_ms``.

    Parameters
    ----------
    duration_ms : float or ndarray
        Durations in ms, >= 0.
    dt_ms : float
        Sampling period in ms, > 0.
    rounding : {"half_up", "truncate"}, default "half_up"
        floor(d/dt + 1/2), or floor(d/dt) (the original code of the Yang et al. suite).

    Returns
    -------
    ndarray of int64, same shape as ``duration_ms``.
    """
    if rounding not in _OFFSET:
        raise ValueError(f"'rounding' must be one of {', '.join(ROUNDINGS)}; got {rounding!r}")
    ratio = np.asarray(duration_ms, dtype=np.float64) / dt_ms
    return np.floor(ratio + _OFFSET[rounding] + _TOL).astype(np.int64)


def shortest_nonzero_ms(dt_ms: float, rounding: Rounding = "half_up") -> float:
    """The shortest duration that lasts one step: dt/2 (half up) or dt (truncate)."""
    return dt_ms * (1.0 - _OFFSET[rounding])


class _Distribution(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` durations in ms, float64 of shape (n,)."""
        raise NotImplementedError

    @property
    def lowest_ms(self) -> float:
        """Smallest possible duration in ms."""
        raise NotImplementedError

    @property
    def highest_ms(self) -> float:
        """Largest possible duration in ms."""
        raise NotImplementedError

    @property
    def expected_ms(self) -> float:
        """Expected duration in ms (used for the deterministic test grids)."""
        raise NotImplementedError

    def support_ms(self) -> tuple[float, ...]:
        """The values whose rounding must be checked: all values of a discrete law, else the ends."""
        return (self.lowest_ms, self.highest_ms)


class Fixed(_Distribution):
    """Always the same duration."""

    kind: Literal["fixed"] = "fixed"
    ms: Annotated[float, Field(ge=0)]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, self.ms)

    @property
    def lowest_ms(self) -> float:
        return self.ms

    highest_ms = lowest_ms
    expected_ms = lowest_ms

    def __str__(self) -> str:
        return f"{self.ms:g}"


class Uniform(_Distribution):
    """Uniform on [low_ms, high_ms]."""

    kind: Literal["uniform"] = "uniform"
    low_ms: Annotated[float, Field(ge=0)]
    high_ms: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high_ms < self.low_ms:
            raise ValueError(f"high_ms={self.high_ms:g} must be >= low_ms={self.low_ms:g}")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low_ms, self.high_ms, size=n)

    @property
    def lowest_ms(self) -> float:
        return self.low_ms

    @property
    def highest_ms(self) -> float:
        return self.high_ms

    @property
    def expected_ms(self) -> float:
        return 0.5 * (self.low_ms + self.high_ms)

    def cdf(self, ms: float) -> float:
        """P(duration <= ms) for ms in [low_ms, high_ms] (high_ms > low_ms)."""
        return (ms - self.low_ms) / (self.high_ms - self.low_ms)

    def __str__(self) -> str:
        return f"uniform({self.low_ms:g}, {self.high_ms:g})"


class Choice(_Distribution):
    """One of ``values_ms``, equally likely."""

    kind: Literal["choice"] = "choice"
    values_ms: Annotated[tuple[Annotated[float, Field(ge=0)], ...], Field(min_length=1)]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.asarray(self.values_ms, dtype=np.float64)[
            rng.integers(len(self.values_ms), size=n)
        ]

    @property
    def lowest_ms(self) -> float:
        return min(self.values_ms)

    @property
    def highest_ms(self) -> float:
        return max(self.values_ms)

    @property
    def expected_ms(self) -> float:
        return float(np.mean(self.values_ms))

    def support_ms(self) -> tuple[float, ...]:
        return tuple(self.values_ms)

    def __str__(self) -> str:
        return "choice(" + ", ".join(f"{v:g}" for v in self.values_ms) + ")"


class TruncExp(_Distribution):
    """Exponential with mean ``mean_ms`` (before truncation), truncated to [min_ms, max_ms].

    Drawn by inverting the CDF of the truncated law, so one uniform draw per trial.
    """

    kind: Literal["truncexp"] = "truncexp"
    mean_ms: Annotated[float, Field(gt=0)]
    min_ms: Annotated[float, Field(ge=0)]
    max_ms: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _ordered(self) -> TruncExp:
        if self.max_ms < self.min_ms:
            raise ValueError(f"max_ms={self.max_ms:g} must be >= min_ms={self.min_ms:g}")
        return self

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        u = rng.uniform(size=n)
        lo = 1.0 - math.exp(-self.min_ms / self.mean_ms)
        hi = 1.0 - math.exp(-self.max_ms / self.mean_ms)
        return -self.mean_ms * np.log1p(-(lo + u * (hi - lo)))

    def cdf(self, ms: float) -> float:
        """P(duration <= ms) for ms in [min_ms, max_ms] (max_ms > min_ms)."""
        za = math.exp(-self.min_ms / self.mean_ms)
        return (za - math.exp(-ms / self.mean_ms)) / (za - math.exp(-self.max_ms / self.mean_ms))

    @property
    def lowest_ms(self) -> float:
        return self.min_ms

    @property
    def highest_ms(self) -> float:
        return self.max_ms

    @property
    def expected_ms(self) -> float:
        a, b, m = self.min_ms, self.max_ms, self.mean_ms
        if b - a < _TOL:
            return a
        za, zb = math.exp(-a / m), math.exp(-b / m)
        return m + (a * za - b * zb) / (za - zb)

    def __str__(self) -> str:
        return f"truncexp({self.mean_ms:g}, {self.min_ms:g}, {self.max_ms:g})"


_SHORTHAND = re.compile(r"^\s*(fixed|uniform|choice|truncexp)\s*\((.*)\)\s*$", re.IGNORECASE)
_ARG_NAMES = {
    "fixed": ("ms",),
    "uniform": ("low_ms", "high_ms"),
    "truncexp": ("mean_ms", "min_ms", "max_ms"),
}


def _coerce_duration(value: Any) -> Any:
    """Accept 500, "500", "uniform(200, 800)", "choice(200,400)" or a dict with ``kind``."""
    if isinstance(value, bool):
        return value  # rejected by the union with a clear type error
    if isinstance(value, int | float):
        return {"kind": "fixed", "ms": value}
    if isinstance(value, str):
        text = value.strip()
        try:
            return {"kind": "fixed", "ms": float(text)}
        except ValueError:
            pass
        match = _SHORTHAND.match(text)
        if not match:
            raise ValueError(
                "cannot read this duration; write 500, uniform(200, 800), "
                "choice(200, 400) or truncexp(600, 300, 3000)"
            )
        kind = match.group(1).lower()
        try:
            numbers = [float(v) for v in match.group(2).split(",") if v.strip()]
        except ValueError as exc:
            raise ValueError("cannot read the numbers of this duration") from exc
        if kind == "choice":
            return {"kind": "choice", "values_ms": numbers}
        names = _ARG_NAMES[kind]
        if len(numbers) != len(names):
            raise ValueError(f"{kind}(...) takes {len(names)} numbers ({', '.join(names)})")
        return {"kind": kind, **dict(zip(names, numbers, strict=True))}
    return value


Duration = Annotated[
    Fixed | Uniform | Choice | TruncExp,
    BeforeValidator(_coerce_duration),
    Field(discriminator="kind"),
]
"""A duration in ms that may vary from trial to trial."""

DURATION_TYPES = (Fixed, Uniform, Choice, TruncExp)


def step_distribution(
    law: Fixed | Uniform | Choice | TruncExp, dt_ms: float, rounding: Rounding = "half_up"
) -> dict[int, float]:
    """Exact law of the steps of a duration law: {steps: probability}, ascending.

    Step k collects the durations d with k <= d/dt + offset < k + 1 (offset 1/2 half up, 0
    truncating), so for U(a, b) P(k) = |[(k - offset) dt, (k + 1 - offset) dt) & [a, b]| / (b - a);
    a discrete law adds the probabilities of its values that share a step.
    """
    if isinstance(law, Fixed | Choice):
        values = law.support_ms()
        out: dict[int, float] = {}
        for ms in values:
            k = int(steps(ms, dt_ms, rounding))
            out[k] = out.get(k, 0.0) + 1.0 / len(values)
        return dict(sorted(out.items()))
    low, high = law.lowest_ms, law.highest_ms
    first, last = int(steps(low, dt_ms, rounding)), int(steps(high, dt_ms, rounding))
    if high - low < _TOL:
        return {first: 1.0}
    offset = _OFFSET[rounding]
    out = {}
    for k in range(first, last + 1):
        lo = max(low, (k - offset) * dt_ms)
        hi = min(high, (k + 1 - offset) * dt_ms)
        p = law.cdf(hi) - law.cdf(lo) if hi > lo else 0.0
        if p > _TOL:
            out[k] = p
    return out


def describe_steps(distribution: dict[int, float], unit: str = "steps") -> str:
    """Text of a step law for the task cards, e.g. '15..34 steps, 1/20 each' or
    '15..35 steps: 15 and 35 1/40 each, the others 1/20' (``unit`` replaces 'steps')."""
    ks = list(distribution)
    ps = [_fraction(p) for p in distribution.values()]
    if len(ks) == 1:
        return f"{ks[0]} {unit}"
    long = ks == list(range(ks[0], ks[-1] + 1)) and len(ks) > 3
    span = f"{ks[0]}..{ks[-1]}" if long else ", ".join(map(str, ks))
    if len(set(ps)) == 1:
        return f"{span} {unit}, {ps[0]} each"
    if not long:
        return f"{span} {unit}: " + ", ".join(f"{k} {p}" for k, p in zip(ks, ps, strict=True))
    ends = f"{ks[0]} {ps[0]}, {ks[-1]} {ps[-1]}"
    if ps[0] == ps[-1]:
        ends = f"{ks[0]} and {ks[-1]} {ps[0]} each"
    if len(set(ps[1:-1])) == 1:
        return f"{span} {unit}: {ends}, the others {ps[1]} each"
    return f"{span} {unit}: {ends}, not equally likely in between"


def _fraction(p: float) -> str:
    """1/20 for 0.05; 4 significant digits when no fraction with a denominator up to 10^4 is
    within 1e-12."""
    frac = Fraction(p).limit_denominator(10_000)
    if abs(float(frac) - p) < 1e-12:
        return f"{frac.numerator}/{frac.denominator}" if frac.denominator > 1 else "1"
    return f"{p:.4g}"
