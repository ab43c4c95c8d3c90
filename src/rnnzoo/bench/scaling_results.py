"""Reading a learning-rate collapse study: success fractions over (N, lr), eta_max(N), the
fitted exponent beta with a bootstrap interval over seeds, and steps to criterion per arm.

Definitions (reference notes, sec. 1.4a):
- a run succeeds when it reached the target (status "reached") within its step budget; only
  finished runs count (an interrupted or crashed run is neither a success nor a failure);
- eta_max(N) is the largest grid rate whose success fraction is >= ``level`` (0.5; also 0.8),
  and ``interpolated`` the rate where the fraction crosses ``level`` between that rate and
  the next larger one (linear in log lr); None when no rate succeeds; ``censored`` when the
  largest rate of the grid still succeeds (eta_max is then a lower bound);
- beta: least squares of log10 eta_max = a - beta log10 N over N >= ``fit_min_n`` (the
  interpolated values); its interval is the 2.5-97.5 % range over ``n_boot`` resamples of the
  seeds with replacement (the same seeds for every cell of a resample).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from rnnzoo.bench.scaling import ScalingStudy, arm_of
from rnnzoo.bench.worker import FINISHED

_SIZE = re.compile(r"^(?P<label>.+)_N(?P<n>\d+)$")


@dataclass(frozen=True)
class RunRow:
    """One finished run of the study."""

    arm: str  # grid | lr_rescaled | param_rescaled
    model: str
    n_hidden: int
    lr: float
    seed: int
    reached: bool
    steps_to_criterion: int | None
    final_performance: float | None
    status: str


def study_rows(study: ScalingStudy, rows: list[dict[str, Any]], lr0: float | None) -> list[RunRow]:
    """The finished rows of ``study`` (results-table dicts; status in `FINISHED`) as
    `RunRow`s: its current sizes and grid rates only, the rescaling arms' only with their
    reference rate ``lr0``."""
    rates = study.rates()
    n0 = study.rescaling.reference_n if study.rescaling else None
    out = []
    for row in rows:
        sweep = row.get("sweep") or ""
        if not sweep.startswith(study.name + ".") or row["status"] not in FINISHED:
            continue
        match = _SIZE.match(row.get("model_label") or "")
        if match is None:
            continue
        n = int(match["n"])
        arm = arm_of(sweep, study)
        if n not in study.n_hidden or (arm != "grid" and lr0 is None):
            continue
        if arm == "grid":
            lr = float(sweep.rsplit(".lr", 1)[1])
            if not any(np.isclose(lr, rate, rtol=1e-5) for rate in rates):
                continue  # a rate no longer in the grid
        elif arm == "lr_rescaled":
            lr = lr0 * n0 / n
        else:
            lr = lr0
        out.append(
            RunRow(
                arm,
                match["label"],
                n,
                lr,
                int(row["seed"] or 0),
                row["status"] == "reached",
                row.get("steps_to_criterion"),
                row.get("final_performance"),
                row["status"],
            )
        )
    return out


def success_table(runs: list[RunRow], seeds: list[int] | None = None) -> dict:
    """{(model, N, lr): success fraction} over the grid runs (with ``seeds``, a multiset of
    seeds, each counted as often as it occurs)."""
    cells: dict[tuple[str, int, float], list[bool]] = {}
    by_seed: dict[tuple[str, int, float, int], bool] = {}
    for run in runs:
        if run.arm == "grid":
            by_seed[(run.model, run.n_hidden, run.lr, run.seed)] = run.reached
            cells.setdefault((run.model, run.n_hidden, run.lr), [])
    for key in cells:
        picks = (
            seeds
            if seeds is not None
            else sorted(s for (m, n, lr, s) in by_seed if (m, n, lr) == key)
        )
        cells[key] = [by_seed[(*key, s)] for s in picks if (*key, s) in by_seed]
    return {k: float(np.mean(v)) for k, v in cells.items() if v}


@dataclass(frozen=True)
class EtaMax:
    model: str
    n_hidden: int
    eta_max: float | None  # largest grid rate with success fraction >= level
    interpolated: float | None
    eta_max_80: float | None  # the same at level 0.8
    censored: bool


def eta_max(
    fractions: list[tuple[float, float]], level: float
) -> tuple[float | None, float | None, bool]:
    """(largest rate with fraction >= level, interpolated crossing, censored) from
    (lr, fraction) pairs."""
    pairs = sorted(fractions)
    ok = [i for i, (_, f) in enumerate(pairs) if f >= level]
    if not ok:
        return None, None, False
    i = ok[-1]
    if i == len(pairs) - 1:
        return pairs[i][0], pairs[i][0], True
    (lr_a, f_a), (lr_b, f_b) = pairs[i], pairs[i + 1]
    share = (f_a - level) / (f_a - f_b) if f_a > f_b else 0.0
    crossing = 10 ** (np.log10(lr_a) + share * (np.log10(lr_b) - np.log10(lr_a)))
    return lr_a, float(crossing), False


def eta_max_table(table: dict, level: float = 0.5) -> list[EtaMax]:
    """eta_max per (model, N) from a success table."""
    groups: dict[tuple[str, int], list[tuple[float, float]]] = {}
    for (model, n, lr), frac in table.items():
        groups.setdefault((model, n), []).append((lr, frac))
    out = []
    for (model, n), pairs in sorted(groups.items()):
        top, crossing, censored = eta_max(pairs, level)
        top80 = eta_max(pairs, 0.8)[0]
        out.append(EtaMax(model, n, top, crossing, top80, censored))
    return out


def fit_beta(points: list[tuple[int, float]], min_n: int) -> tuple[float, float] | None:
    """(beta, a) of log10 eta = a - beta log10 N over the points with N >= ``min_n`` (None
    with fewer than two)."""
    use = [(n, e) for n, e in points if n >= min_n and e is not None and e > 0]
    if len(use) < 2:
        return None
    x = np.log10([n for n, _ in use])
    y = np.log10([e for _, e in use])
    slope, intercept = np.polyfit(x, y, 1)
    return float(-slope), float(intercept)


@dataclass(frozen=True)
class BetaFit:
    model: str
    beta: float | None
    intercept: float | None
    ci_low: float | None
    ci_high: float | None
    n_sizes: int
    n_boot: int


def beta_fits(
    runs: list[RunRow], min_n: int, n_boot: int = 2000, seed: int = 0, level: float = 0.5
) -> list[BetaFit]:
    """beta per model with its bootstrap interval over seeds."""
    grid = [r for r in runs if r.arm == "grid"]
    seeds = sorted({r.seed for r in grid})
    rng = np.random.default_rng(seed)
    base = eta_max_table(success_table(grid), level)
    fits = []
    for model in sorted({e.model for e in base}):
        points = [(e.n_hidden, e.interpolated) for e in base if e.model == model]
        fit = fit_beta(points, min_n)
        mine = [r for r in grid if r.model == model]
        samples = []
        for _ in range(n_boot if fit else 0):
            picks = list(rng.choice(seeds, len(seeds), replace=True))
            table = eta_max_table(success_table(mine, picks), level)
            again = fit_beta([(e.n_hidden, e.interpolated) for e in table], min_n)
            if again is not None:
                samples.append(again[0])
        low, high = np.percentile(samples, [2.5, 97.5]) if samples else (None, None)
        fits.append(
            BetaFit(
                model,
                None if fit is None else fit[0],
                None if fit is None else fit[1],
                None if low is None else float(low),
                None if high is None else float(high),
                sum(1 for n, e in points if n >= min_n and e),
                len(samples),
            )
        )
    return fits


def fastest_rate(runs: list[RunRow], n_hidden: int) -> float | None:
    """The grid rate at size ``n_hidden`` whose runs (all models) reach the target in the
    fewest median steps, among rates where every run succeeded (else most successes)."""
    by_lr: dict[float, list[RunRow]] = {}
    for run in runs:
        if run.arm == "grid" and run.n_hidden == n_hidden:
            by_lr.setdefault(run.lr, []).append(run)
    if not by_lr:
        return None

    def key(lr: float) -> tuple[float, float]:
        group = by_lr[lr]
        frac = np.mean([r.reached for r in group])
        steps = [r.steps_to_criterion for r in group if r.reached]
        return (-frac, float(np.median(steps)) if steps else np.inf)

    best = min(by_lr, key=key)
    return best if any(r.reached for r in by_lr[best]) else None


@dataclass(frozen=True)
class StepsRow:
    arm: str
    model: str
    n_hidden: int
    lr: float
    runs: int
    reached: int
    median_steps: float | None
    q25: float | None
    q75: float | None


def steps_table(runs: list[RunRow], lr0: float | None) -> list[StepsRow]:
    """Steps to criterion per (arm, model, N): the grid at lr_0 ("fixed_lr") and the rescaling
    arms."""
    groups: dict[tuple[str, str, int, float], list[RunRow]] = {}
    for run in runs:
        if run.arm == "grid":
            if lr0 is None or not np.isclose(run.lr, lr0):
                continue
            arm = "fixed_lr"
        else:
            arm = run.arm
        groups.setdefault((arm, run.model, run.n_hidden, run.lr), []).append(run)
    out = []
    for (arm, model, n, lr), group in sorted(groups.items()):
        steps = [r.steps_to_criterion for r in group if r.reached]
        q = np.percentile(steps, [25, 50, 75]) if steps else (None, None, None)
        out.append(
            StepsRow(
                arm,
                model,
                n,
                lr,
                len(group),
                len(steps),
                None if q[1] is None else float(q[1]),
                None if q[0] is None else float(q[0]),
                None if q[2] is None else float(q[2]),
            )
        )
    return out


def as_dicts(items: list[Any]) -> list[dict[str, Any]]:
    return [asdict(x) for x in items]
