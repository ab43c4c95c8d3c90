"""`NeurogymTask`: a neurogym ``TrialEnv`` as an rnnzoo task.

Trials come from the environment's own trial generator (``env.new_trial()``), one at a time,
each from its own seed:

- ``conditions["trial_seed"]`` (B,) is drawn from the batch's generator; before trial b the
  bridge reseeds, in place, every random generator the environment holds (``env.rng``, the
  timing objects' generators, any other ``RandomState`` or ``Generator`` attribute) from that
  seed, and clears the previous trial's periods.  neurogym itself keeps one ``RandomState``
  per environment, seeded once (``env.seed``), so its trial k depends on every trial before
  it, and its ``Dataset`` seeds from the operating system's entropy; here the same seed gives
  the same batch, trial b depends on its own seed only, and the global NumPy state is never
  read or written.
- The environment's state is restored before every batch (its attributes from a snapshot
  taken when the task was built; the object itself and its ``rng`` stay the same, because
  neurogym's timing functions are closures over the environment, ``lambda: self.rng...``), so
  state a trial leaves behind (counters, block schedules) never leaks into the next batch.
- Scalar trial information (``ground_truth``, ``coh``...) is recorded in ``conditions``;
  `from_conditions` can set it (psychometric batches) when the environment's ``new_trial``
  accepts it as a keyword, and says so when it does not.

Layout: observations are the inputs (T, B, I); a ``Discrete(n)`` action space gives n outputs
(one per action, action 0 = fixate) with one-hot targets of the ground truth, a ``Box`` action
space gives the ground truth itself; weights are 1 on every step of a trial (the ground truth
is defined everywhere) times ``response_weight`` where the ground truth is not the fixation
action; the environment's periods are the epochs.  The metric is decision accuracy: the
argmax of the outputs' mean over the ``decision`` period (or, without one, the steps whose
ground truth is not fixation) against the ground truth there.  Continuous actions are scored
by R^2.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import sys
import types
from typing import Any, ClassVar

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks._metrics import mean_in_window, weighted_r2
from rnnzoo.tasks.base import Task
from rnnzoo.tasks.batch import TrialBatch

N_TEST_TRIALS = 128
"""Trials of the test set: trial seeds 0..127 (neurogym declares no condition grid)."""

SEED_LIMIT = 2**32  # RandomState seeds


def _mix(seed: int, k: int) -> int:
    """A second seed derived from ``seed`` (for generators other than env.rng)."""
    return (seed * 2654435761 + 97 * k + 1) % SEED_LIMIT


def generator_slots(env: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(timing entries with a generator, attributes holding a generator) of ``env``, besides
    ``env.rng``: what `reseed` reseeds."""
    timing = tuple(
        name
        for name, value in getattr(env, "timing", {}).items()
        if isinstance(getattr(value, "rng", None), np.random.RandomState)
        or callable(getattr(value, "seed", None))
    )
    attributes = tuple(
        name
        for name, value in vars(env).items()
        if name != "rng" and isinstance(value, np.random.RandomState | np.random.Generator)
    )
    return timing, attributes


def reseed(env: Any, seed: int, slots: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    """Reseed every generator of ``env`` (``env.rng`` and ``slots``) in place from ``seed`` and
    clear the previous trial's periods."""
    env.rng.seed(seed)  # in place: closures that captured env.rng draw from the new stream
    k = 1
    for name in slots[0]:
        value = env.timing[name]
        own = getattr(value, "rng", None)
        if isinstance(own, np.random.RandomState):  # ngym_random.TruncExp: reseed in place
            own.seed(_mix(seed, k))
        else:
            value.seed(_mix(seed, k))
        k += 1
    for name in slots[1]:
        value = getattr(env, name)
        if isinstance(value, np.random.RandomState):
            value.seed(_mix(seed, k))
        else:
            setattr(env, name, np.random.default_rng(_mix(seed, k)))
        k += 1
    for table in ("start_t", "end_t", "start_ind", "end_ind", "_duration"):
        getattr(env, table, {}).clear()


class _SeededRandom:
    """``numpy.random`` whose unseeded ``RandomState()`` / ``default_rng()`` get ``seed``."""

    def __init__(self, random: Any, seed: int) -> None:
        self._random, self._seed = random, seed

    def RandomState(self, seed: Any = None) -> np.random.RandomState:  # noqa: N802
        return self._random.RandomState(self._seed if seed is None else seed)

    def default_rng(self, seed: Any = None) -> np.random.Generator:
        return self._random.default_rng(self._seed if seed is None else seed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._random, name)


class _SeededNumpy:
    """The ``numpy`` module as neurogym's modules see it while an environment is built."""

    def __init__(self, seed: int) -> None:
        self.random = _SeededRandom(np.random, seed)

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


@contextlib.contextmanager
def seeded_construction(env_class: type, seed: int = 0):
    """Build a neurogym environment with seeded generators.

    neurogym creates its generators unseeded (``np.random.RandomState()`` in ``BaseEnv`` and
    the timing objects), and some environments draw from them in ``__init__`` (the first
    block of HierarchicalReasoning), so two instances with the same arguments differ.  While
    this context is open, the name ``np`` in neurogym's core, its random helpers and the
    environment's module refers to a view of NumPy whose unseeded generators get ``seed``.
    NumPy's global random state is neither read nor written.
    """
    names = {"neurogym.core", "neurogym.utils.ngym_random", env_class.__module__}
    modules = [sys.modules[n] for n in names if n in sys.modules and hasattr(sys.modules[n], "np")]
    saved = [module.np for module in modules]
    try:
        for module in modules:
            module.np = _SeededNumpy(seed)
        yield
    finally:
        for module, original in zip(modules, saved, strict=True):
            module.np = original


def scale_timing(spec: Any, scale: float) -> Any:
    """A neurogym timing entry with every duration multiplied by ``scale``."""
    if scale == 1:
        return spec
    if isinstance(spec, int | float) and not isinstance(spec, bool):
        return spec * scale
    if hasattr(spec, "vmean") and hasattr(spec, "vmin"):  # ngym_random.TruncExp
        scaled = copy.deepcopy(spec)
        scaled.vmean, scaled.vmin, scaled.vmax = (
            spec.vmean * scale,
            spec.vmin * scale,
            spec.vmax * scale,
        )
        return scaled
    if isinstance(spec, list | tuple) and spec and all(isinstance(v, int | float) for v in spec):
        return [v * scale for v in spec]
    if isinstance(spec, list | tuple) and len(spec) == 2 and isinstance(spec[0], str):
        dist, args = spec
        if isinstance(args, int | float):
            return (dist, args * scale)
        return (dist, [a * scale for a in args])
    raise InvalidParameterError(f"cannot scale the neurogym timing entry {spec!r}")


def copy_env(env: Any) -> Any:
    """A deep copy of ``env`` whose timing functions are closures over the copy.

    neurogym's timing entries are often ``lambda: self.rng.uniform(...)``; ``deepcopy`` keeps
    function objects, so in a plain copy they would still draw from the original environment.
    """
    clone = copy.deepcopy(env)
    for name, value in getattr(clone, "timing", {}).items():
        cells = getattr(value, "__closure__", None)
        if isinstance(value, types.FunctionType) and cells:
            rebound = tuple(
                types.CellType(clone if cell.cell_contents is env else cell.cell_contents)
                for cell in cells
            )
            clone.timing[name] = types.FunctionType(
                value.__code__, value.__globals__, value.__name__, value.__defaults__, rebound
            )
    return clone


def channel_names(space: Any, prefix: str) -> tuple[str, ...]:
    """Names of the dimensions of a 1-D space from neurogym's ``space.name`` dict."""
    size = int(space.n) if hasattr(space, "n") else int(np.prod(space.shape))
    names = [f"{prefix}_{i}" for i in range(size)]
    table = getattr(space, "name", None) or {}
    for label, where in table.items():
        if isinstance(where, int | np.integer):
            if 0 <= where < size:
                names[int(where)] = str(label)
        else:
            for j, index in enumerate(where):
                if 0 <= int(index) < size:
                    names[int(index)] = f"{label}_{j}"
    if len(set(names)) != len(names):  # overlapping names in the env's table
        names = [f"{prefix}_{i}" for i in range(size)]
    return tuple(names)


def _new_trial_keywords(env: Any) -> set[str] | None:
    """Names ``_new_trial`` accepts as keywords (None = any, it takes **kwargs)."""
    parameters = inspect.signature(env._new_trial).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters}


def _is_scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | np.integer | np.floating | np.bool_)


class NeurogymTask(Task):
    """Base of the generated classes (one per environment; see `registration`)."""

    env_class: ClassVar[type]
    env_id: ClassVar[str]
    discrete: ClassVar[bool]

    def __init__(self, params: Any = None, *, version: str = "vanilla", env: Any = None) -> None:
        super().__init__(params, version=version)
        self._env = env if env is not None else self._make_env()
        self._apply_timing_scale()
        self._keywords = _new_trial_keywords(self._env)
        self._input_names = channel_names(self._env.observation_space, "ob")
        self._output_names = channel_names(self._env.action_space, "action")
        self._snapshot = copy.deepcopy(vars(self._env))
        self._slots = generator_slots(self._env)
        probe = self._trials(np.arange(8), {}, check=False)
        infos = [trial["info"] for trial in probe]
        self._info_keys = tuple(
            sorted(k for k in infos[0] if all(k in i and _is_scalar(i[k]) for i in infos))
        )
        periods = list(getattr(self._env, "timing", {}))
        for trial in probe:
            periods += [p for p in trial["periods"] if p not in periods]
        self._periods = tuple(periods)

    # ---- the environment ------------------------------------------------------------------
    def _make_env(self) -> Any:
        from rnnzoo.interop.neurogym.params import env_kwargs

        kwargs = env_kwargs(self.params)
        try:
            with seeded_construction(self.env_class):
                return self.env_class(**kwargs)
        except Exception as exc:  # the env's own checks, in its own words
            raise InvalidParameterError(
                f"{self.name}/{self.version}: neurogym's {self.env_class.__name__} rejected "
                f"its arguments {kwargs}: {type(exc).__name__}: {exc}"
            ) from None

    def _apply_timing_scale(self) -> None:
        scale = float(self.params.timing_scale)
        timing = getattr(self._env, "timing", None)
        if scale != 1 and timing:
            self._env.timing = {k: scale_timing(v, scale) for k, v in timing.items()}

    def _run_trial(self, env: Any, seed: int, overrides: dict[str, Any]) -> dict[str, Any]:
        reseed(env, seed, self._slots)
        env.new_trial(**overrides)
        if getattr(env, "ob", None) is None or getattr(env, "gt", None) is None:
            raise InvalidParameterError(
                f"{self.name}: neurogym's {self.env_class.__name__} builds no observation or "
                "no ground-truth array in new_trial (it is played step by step, for reward only)"
            )
        info = dict(env.trial or {})
        periods = {p: (int(env.start_ind[p]), int(env.end_ind[p])) for p in env.start_ind}
        return {
            "ob": np.asarray(env.ob),
            "gt": np.asarray(env.gt),
            "info": info,
            "periods": periods,
        }

    # ---- the Task interface -----------------------------------------------------------------
    @property
    def input_names(self) -> tuple[str, ...]:
        return self._input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        return self._output_names

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        seeds = rng.integers(0, SEED_LIMIT, size=batch_size, dtype=np.int64)
        return self._conditions_of(self._trials(seeds, {}), seeds)

    def test_conditions(self) -> dict[str, np.ndarray]:
        seeds = np.arange(N_TEST_TRIALS, dtype=np.int64)
        return self._conditions_of(self._trials(seeds, {}), seeds)

    def generate(
        self,
        batch_size: int,
        seed: Any,
        *,
        split: str = "train",
        index: int = 0,
        defer_noise: bool = False,
    ):
        """As `Task.generate`; each trial runs once (its conditions are read from the run)."""
        from rnnzoo.tasks.seeding import check_batch_size, generators

        batch_size = check_batch_size(batch_size)
        draws, noise = generators(seed, split, index)
        seeds = draws.integers(0, SEED_LIMIT, size=batch_size, dtype=np.int64)
        trials = self._trials(seeds, {})
        batch = self._assemble(trials, self._conditions_of(trials, seeds))
        return self._with_noise(batch, noise, defer_noise)

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        seeds = np.asarray(conditions["trial_seed"], dtype=np.int64)
        if seeds.min(initial=0) < 0 or seeds.max(initial=0) >= SEED_LIMIT:
            raise InvalidParameterError(
                f"{self.name}: 'trial_seed' must be in [0, {SEED_LIMIT - 1}]; got {seeds}"
            )
        given = {k: np.asarray(conditions[k]) for k in self._info_keys}
        trials = self._trials(seeds, given)
        return self._assemble(trials, self._conditions_of(trials, seeds))

    def _restored_env(self) -> Any:
        """The environment as it was built (same object, same ``rng`` object)."""
        env, rng = self._env, self._env.rng
        vars(env).clear()
        vars(env).update(copy.deepcopy(self._snapshot))
        env.rng = rng
        return env

    def _trials(
        self, seeds: np.ndarray, given: dict[str, np.ndarray], check: bool = True
    ) -> list[dict[str, Any]]:
        env = self._restored_env()
        trials = []
        for b, seed in enumerate(seeds.tolist()):
            trial = self._run_trial(env, seed, {})
            wanted = {k: v[b].item() for k, v in given.items()}
            differ = {k: v for k, v in wanted.items() if trial["info"].get(k) != v}
            if differ:
                trial = self._run_trial(env, seed, self._settable(differ))
                still = sorted(k for k, v in differ.items() if trial["info"].get(k) != v)
                if still:
                    raise InvalidParameterError(
                        f"{self.name}: the environment did not produce the conditions "
                        f"{ {k: differ[k] for k in still} } for trial_seed {seed}"
                    )
            trials.append(trial)
        if check and self.discrete:
            self._check_ground_truth(np.concatenate([t["gt"].ravel() for t in trials]))
        return trials

    def _check_ground_truth(self, gt: np.ndarray) -> None:
        n = self.n_outputs
        if gt.size and (np.any(gt != np.round(gt)) or gt.min() < 0 or gt.max() >= n):
            raise InvalidParameterError(
                f"{self.name}: the ground truth is not an action index in [0, {n - 1}] (values "
                f"{np.unique(gt)[:5]}...): this environment is not supervised by its actions"
            )

    def _settable(self, values: dict[str, Any]) -> dict[str, Any]:
        if self._keywords is None:
            return values
        refused = sorted(set(values) - self._keywords)
        if refused:
            raise InvalidParameterError(
                f"{self.name}: neurogym's {self.env_class.__name__}.new_trial cannot set "
                f"{refused} (it accepts {sorted(self._keywords)}); only 'trial_seed' chooses "
                "its trials"
            )
        return values

    def _conditions_of(self, trials: list[dict[str, Any]], seeds: np.ndarray) -> dict[str, Any]:
        conditions = {"trial_seed": np.asarray(seeds, dtype=np.int64)}
        for key in self._info_keys:
            conditions[key] = np.asarray([t["info"][key] for t in trials])
        return conditions

    def _assemble(self, trials: list[dict[str, Any]], conditions: dict[str, Any]) -> TrialBatch:
        lengths = np.asarray([t["ob"].shape[0] for t in trials], dtype=np.int64)
        if lengths.min() < 1:
            raise InvalidParameterError(
                f"{self.name}: a trial has no steps at dt_ms={self.params.dt_ms:g} "
                "(neurogym truncates every period to whole steps)"
            )
        n_steps, batch_size = int(lengths.max()), len(trials)
        inputs = np.zeros((n_steps, batch_size, self.n_inputs), dtype=np.float32)
        n_out = self.n_outputs
        targets = np.zeros((n_steps, batch_size, n_out), dtype=np.float32)
        weights = np.zeros((n_steps, batch_size, n_out), dtype=np.float32)
        epochs = {p: np.full((batch_size, 2), -1, dtype=np.int64) for p in self._periods}
        for b, trial in enumerate(trials):
            length = lengths[b]
            inputs[:length, b] = trial["ob"].reshape(length, -1)
            gt = trial["gt"]
            if self.discrete:
                gt = gt.reshape(length).astype(np.int64)
                targets[np.arange(length), b, gt] = 1.0
                step_w = np.where(gt != 0, self.params.response_weight, 1.0)
            else:
                targets[:length, b] = gt.reshape(length, -1)
                step_w = np.ones(length)
            weights[:length, b] = step_w[:, None]
            for p, bounds in trial["periods"].items():
                if p in epochs:
                    epochs[p][b] = bounds
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        if not self.discrete:
            return weighted_r2(outputs, batch.targets, batch.weights)
        window = decision_window(batch)
        truth = mean_in_window(batch.targets.astype(np.float64), window).argmax(axis=1)
        choice = mean_in_window(outputs, window).argmax(axis=1)
        return (choice == truth).astype(np.float64)


def decision_window(batch: TrialBatch) -> np.ndarray:
    """Steps (T, B) scored for a decision: the ``decision`` period where a trial has one, else
    the steps whose ground truth (one-hot target) is not the fixation action, else its last
    step."""
    valid = batch.valid
    window = batch.epoch_mask("decision") if "decision" in batch.epochs else np.zeros_like(valid)
    respond = (batch.targets[:, :, 1:].sum(axis=-1) > 0) & valid
    empty = ~window.any(axis=0)
    window[:, empty] = respond[:, empty]
    last = ~window.any(axis=0)
    window[batch.lengths[last] - 1, np.flatnonzero(last)] = True
    return window
