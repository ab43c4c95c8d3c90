"""A task of your own, as a plugin: Ready-Set-Go interval reproduction.

docs/writing_a_task.md walks through this file.  Load it into any rnnzoo command with
``rnnzoo --plugin examples/plugins/ready_set_go.py tasks show ready_set_go`` (or set
``RNNZOO_PLUGINS``, or ship it in a package with an ``rnnzoo.plugins`` entry point).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks import Metric, Task, TaskParams, TrialBatch, Uniform, Version, ms_field, register
from rnnzoo.tasks.timing import Duration


class ReadySetGoParams(TaskParams):
    """Parameters of Ready-Set-Go; see the task card."""

    fixation_ms: Duration = ms_field(Uniform(low_ms=200, high_ms=500), "wait before Ready")
    interval_ms: Duration = ms_field(
        Uniform(low_ms=494, high_ms=847), "sample interval t_s, Ready onset to Set onset"
    )
    pulse_ms: float = ms_field(50.0, "duration of the Ready and Set pulses")
    response_ms: float = ms_field(200.0, "the Go response: the output stays at 1 this long")
    tolerance: float = Field(
        0.15, gt=0, lt=1, description="a produced interval within t_s * (1 +- tolerance) is correct"
    )

    @model_validator(mode="after")
    def _pulses_fit_in_the_interval(self) -> ReadySetGoParams:
        if self.interval_ms.lowest_ms <= self.pulse_ms:
            raise ValueError(
                f"'interval_ms' must be longer than pulse_ms={self.pulse_ms:g}; got {self.interval_ms}"
            )
        return self


@register
class ReadySetGo(Task):
    name = "ready_set_go"
    aliases = ("rsg",)
    title = "Ready-Set-Go interval reproduction"
    summary = (
        "Interval timing: two pulses, Ready and Set, are t_s apart; the network must answer Go "
        "t_s after Set, reproducing the interval it measured."
    )
    source = (
        "Jazayeri M. & Shadlen M.N. (2010) Temporal context calibrates interval timing. Nature "
        "Neuroscience 13:1020-1026 (the paradigm; sample intervals of the short prior, 494-847 "
        "ms, and of the long prior, 847-1200 ms). rnnzoo's choices, where the paper is about "
        "monkeys and not networks: intervals drawn uniformly (the paper: a discrete set), pulses of "
        "50 ms, a 200 ms Go response scored as in Remington et al. 2018 (Neuron 98:1005) by the "
        "time the output crosses 0.5."
    )
    definition = (
        "Inputs ready, set; output go. Epochs: fixation (fixation_ms), ready (pulse_ms, input "
        "ready = 1), measure (to t_s after Ready onset, t_s drawn from interval_ms), set (pulse_ms, "
        "input set = 1), produce (to t_s after Set onset), go (response_ms). Target go = 1 during "
        "go, 0 before. Weights 1 on every step. Metric: a trial is correct iff the output stays "
        "below 0.5 until Set and first reaches 0.5 after Set within t_s * (1 +- tolerance) of "
        "Set onset. Conditions: fixation_steps, interval_steps. Test grid: 8 intervals evenly "
        "spaced over interval_ms's range, fixation at its expected value."
    )
    Params = ReadySetGoParams
    versions = {
        "vanilla": Version("the short prior, 494-847 ms, at 10 ms steps, mild white input noise"),
        "realistic": Version(
            "correlated (OU, 20 ms) input noise of std 0.1",
            {"noise_scale": 0.1, "noise_decay_ms": 20.0},
        ),
        "long": Version(
            "the long prior, 847-1200 ms", {"interval_ms": Uniform(low_ms=847, high_ms=1200)}
        ),
    }
    metric = Metric(
        "accuracy",
        "fraction of trials whose produced interval (Set onset to the output's first crossing of "
        "0.5) is within t_s * (1 +- tolerance), with no crossing before Set",
        criterion=0.8,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("ready", "set")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("go",)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        return {
            "fixation_steps": p.steps(p.fixation_ms.sample(rng, batch_size)),
            "interval_steps": p.steps(p.interval_ms.sample(rng, batch_size)),
        }

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        fixation = np.asarray(conditions["fixation_steps"], dtype=np.int64)
        interval = np.asarray(conditions["interval_steps"], dtype=np.int64)
        pulse, response = int(p.steps(p.pulse_ms)), int(p.steps(p.response_ms))
        ready, set_on = fixation, fixation + interval
        go = set_on + interval
        lengths = go + response
        t = np.arange(int(lengths.max()))[:, None]  # (T, 1)
        inputs = np.stack(
            [(t >= ready) & (t < ready + pulse), (t >= set_on) & (t < set_on + pulse)], axis=2
        )
        targets = ((t >= go) & (t < lengths))[:, :, None]
        epochs = {
            "fixation": np.stack([np.zeros_like(ready), ready], axis=1),
            "ready": np.stack([ready, ready + pulse], axis=1),
            "measure": np.stack([ready + pulse, set_on], axis=1),
            "set": np.stack([set_on, set_on + pulse], axis=1),
            "produce": np.stack([set_on + pulse, go], axis=1),
            "go": np.stack([go, lengths], axis=1),
        }
        weights = np.ones(targets.shape, dtype=np.float32)  # zeroed on padding by _batch
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        ms = np.linspace(p.interval_ms.lowest_ms, p.interval_ms.highest_ms, 8)
        return {
            "fixation_steps": np.full(8, int(p.steps(p.fixation_ms.expected_ms)), dtype=np.int64),
            "interval_steps": p.steps(ms).astype(np.int64),
        }

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        above = outputs[:, :, 0] >= 0.5  # (T, B)
        set_on = batch.epochs["set"][:, 0]
        t = np.arange(batch.n_steps)[:, None]
        early = (above & (t < set_on)).any(axis=0)
        after = above & (t >= set_on) & batch.valid
        crossed = after.any(axis=0)
        produced = np.where(crossed, after.argmax(axis=0) - set_on, -1)
        wanted = batch.conditions["interval_steps"]
        close = np.abs(produced - wanted) <= self.params.tolerance * wanted
        return (~early & crossed & close).astype(np.float64)
