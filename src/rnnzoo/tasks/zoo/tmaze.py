"""T-maze with a road sign at the start (Bakker 2002), in a supervised, timed form."""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, fill_epoch, lay_out, window
from rnnzoo.tasks._metrics import choice_correct
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register

SIGN_CODES = np.array([[0, 1, 1], [1, 1, 0]], dtype=np.float32)
"""Road-sign observation at the start position, row = goal side (0 = left/up, 1 = right/down)."""
CORRIDOR_CODE = np.array([1, 0, 1], dtype=np.float32)
"""Observation at every corridor position."""
JUNCTION_CODE = np.array([0, 1, 0], dtype=np.float32)
"""Observation at the T-junction (the go cue)."""


class TMazeParams(TaskParams):
    """Parameters of the T-maze; see the task card."""

    corridor_length: int = Field(
        10,
        ge=1,
        le=1000,
        description="mean number N of corridor positions",
        json_schema_extra={"unit": "positions"},
    )
    corridor_length_jitter: int = Field(
        0,
        ge=0,
        le=999,
        description="half-width j: the length is drawn uniformly from the integers N-j..N+j",
        json_schema_extra={"unit": "positions"},
    )
    input_duration_ms: float = ms_field(100.0, "time at the start position (road sign shown)")
    position_ms: float = ms_field(100.0, "time spent at each corridor position")
    response_ms: float = ms_field(
        500.0, "time at the T-junction (junction observation, choice reported)"
    )
    response_grace_ms: float = ms_field(
        100.0, "first part of the junction epoch left unscored (weight 0)", allow_zero=True
    )

    @model_validator(mode="after")
    def _consistent(self) -> TMazeParams:
        if self.corridor_length_jitter >= self.corridor_length:
            raise ValueError(
                f"'corridor_length_jitter' must be < corridor_length={self.corridor_length} (at "
                f"least one corridor position); got {self.corridor_length_jitter}"
            )
        self.check_grace_leaves_scored_steps()
        return self


@register
class TMaze(Task):
    name = "tmaze"
    aliases = ("t_maze",)
    title = "T-maze with a road sign"
    summary = (
        "Spatial working memory over a long corridor: a road sign seen only at the start says "
        "whether the goal lies left or right; after N identical-looking corridor positions the "
        "agent reaches the T-junction and must turn to the cued side. A classic long-term "
        "dependency benchmark for recurrent networks, after the rodent T-maze."
    )
    source = (
        "Bakker B. (2002) Reinforcement learning with long short-term memory. Advances in Neural "
        "Information Processing Systems 14:1475-1482 (T-maze, observation code), itself after the "
        "rodent T-maze tests of spatial working memory (review: Dudchenko P.A. (2004) An overview "
        "of the tasks used to test working memory in rodents. Neuroscience & Biobehavioral Reviews "
        "28(7):699-709)."
    )
    definition = (
        "Supervised, timed version of Bakker's T-maze with his 3-bit observations. Inputs obs_0, "
        "obs_1, obs_2 carry the bits of the current observation. Epochs, laid end to end: start "
        "(input_duration_ms; road sign 011 if the goal is left/up, 110 if right/down), corridor "
        "(L positions of position_ms each, every one showing 101; it lasts L * steps(position_ms) "
        "steps), response (response_ms; the agent at the T-junction sees 010). Durations are "
        "rounded to steps by round half up. Draws per trial: side ~ Bernoulli(0.5) (0 = left, "
        "1 = right); L uniform on the integers corridor_length - corridor_length_jitter .. "
        "corridor_length + corridor_length_jitter. Deviation from the zoo's decision convention: "
        "there is no fixation channel; the junction observation 010 (shown only during the "
        "response epoch) plays the go-cue role. Outputs: left, right. Targets are 0 before the "
        "response epoch (no turning in the corridor, scored) and one-hot (value 1) on the cued "
        "side during it. Weights are 1 on every trial step except the first response_grace_ms of "
        "the response epoch (0). Metric accuracy: argmax over outputs of their mean over the "
        "scored response steps equals the cued side (criterion 0.9). Conditions: side, "
        "corridor_length (positions). Test grid: every (side, L) pair with L in {N - j, N, N + j} "
        "(side-major), i.e. both sides at N when j = 0."
    )
    Params = TMazeParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version(
            "corridor of 10 positions of 100 ms, 500 ms at the junction, mild white input noise"
        ),
        "realistic": Version(
            "corridor length 7..13 positions (uniform), correlated (OU, 20 ms) "
            "input noise of std 0.1",
            {"corridor_length_jitter": 3, "noise_scale": 0.1, "noise_decay_ms": 20.0},
        ),
        "long": Version(
            "Bakker's long corridor: 50 positions (5 s between sign and junction)",
            {"corridor_length": 50},
        ),
    }
    metric = Metric(
        "accuracy",
        "fraction of trials whose junction-epoch outputs, averaged over the scored steps, are "
        "largest on the cued side",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("obs_0", "obs_1", "obs_2")

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("left", "right")

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        side = (rng.uniform(size=batch_size) < 0.5).astype(np.int64)
        n, j = p.corridor_length, p.corridor_length_jitter
        length = rng.integers(n - j, n + j + 1, size=batch_size)
        return {"side": side, "corridor_length": length}

    def longest_conditions(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        p = self.params
        longest = p.corridor_length + p.corridor_length_jitter
        return {**self.sample_conditions(rng, 1), "corridor_length": np.array([longest])}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        side = np.asarray(conditions["side"], dtype=np.int64)
        batch_size = side.shape[0]
        corridor = np.asarray(conditions["corridor_length"], dtype=np.int64) * int(
            p.steps(p.position_ms)
        )
        epochs, lengths = lay_out(
            {
                "start": np.full(batch_size, int(p.steps(p.input_duration_ms)), dtype=np.int64),
                "corridor": corridor,
                "response": np.full(batch_size, int(p.steps(p.response_ms)), dtype=np.int64),
            }
        )
        n_steps = int(lengths.max())

        inputs = canvas(n_steps, batch_size, self.n_inputs)
        codes = (
            SIGN_CODES[side],
            np.tile(CORRIDOR_CODE, (batch_size, 1)),
            np.tile(JUNCTION_CODE, (batch_size, 1)),
        )
        for epoch, code in zip(("start", "corridor", "response"), codes, strict=True):
            fill_epoch(inputs, *epochs[epoch].T, code)

        response_start = epochs["response"][:, 0]
        correct = np.eye(self.n_outputs, dtype=np.float32)[side]
        targets = window(n_steps, *epochs["response"].T)[:, :, None] * correct[None, :, :]
        grace = window(n_steps, response_start, response_start + int(p.steps(p.response_grace_ms)))
        weights = np.broadcast_to(~grace[:, :, None], targets.shape)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        p = self.params
        n, j = p.corridor_length, p.corridor_length_jitter
        grid = np.array(list(itertools.product((0, 1), sorted({n - j, n, n + j}))), dtype=np.int64)
        return {"side": grid[:, 0], "corridor_length": grid[:, 1]}

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        scored = batch.epoch_mask("response") & (batch.weights[:, :, 0] > 0)
        return choice_correct(outputs, scored, np.asarray(batch.conditions["side"], dtype=np.int64))
