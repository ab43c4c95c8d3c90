"""Sine-wave generator: a static input level selects the frequency (Sussillo & Barak 2013)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.tasks._build import canvas, lay_out, window
from rnnzoo.tasks._metrics import weighted_r2
from rnnzoo.tasks.base import Metric, Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.params import TaskParams, ms_field
from rnnzoo.tasks.registry import register

_CUE_OFFSET = 0.25
"""Cue level of the lowest frequency (Sussillo & Barak's j / n + 0.25)."""


class SineGeneratorParams(TaskParams):
    """Parameters of the sine-wave generator; see the task card."""

    n_frequencies: int = Field(
        11,
        ge=1,
        le=1000,
        description="number of frequencies on the grid",
        json_schema_extra={"unit": "frequencies"},
    )
    freq_min_hz: float = Field(
        1.0,
        gt=0,
        le=1000,
        description="lowest frequency of the grid",
        json_schema_extra={"unit": "Hz"},
    )
    freq_max_hz: float = Field(
        5.0,
        gt=0,
        le=1000,
        description="highest frequency of the grid",
        json_schema_extra={"unit": "Hz"},
    )
    interpolate: bool = Field(
        False,
        description="draw the frequency uniformly on [freq_min_hz, "
        "freq_max_hz] instead of from the grid (cue by the same linear map)",
    )
    amplitude: float = Field(
        1.0,
        gt=0,
        le=100,
        description="amplitude of the target sine wave",
        json_schema_extra={"unit": "a.u."},
    )
    input_start_ms: float = ms_field(
        0.0, "onset of the frequency cue (phase 0 of the sine)", allow_zero=True
    )
    settle_ms: float = ms_field(
        0.0, "unscored time after the cue onset (weight 0, target 0)", allow_zero=True
    )
    trial_ms: float = ms_field(2000.0, "trial duration")

    @model_validator(mode="after")
    def _consistent(self) -> SineGeneratorParams:
        if self.n_frequencies == 1 and self.freq_max_hz != self.freq_min_hz:
            raise ValueError(
                f"'freq_max_hz' must equal freq_min_hz={self.freq_min_hz:g} when "
                f"n_frequencies = 1; got {self.freq_max_hz:g}"
            )
        if self.n_frequencies > 1 and self.freq_max_hz <= self.freq_min_hz:
            raise ValueError(
                f"'freq_max_hz' must be > freq_min_hz={self.freq_min_hz:g}; "
                f"got {self.freq_max_hz:g}"
            )
        nyquist = 500.0 / self.dt_ms
        if self.freq_max_hz >= nyquist:
            raise ValueError(
                f"'freq_max_hz' must be below the Nyquist frequency {nyquist:g} Hz of dt_ms="
                f"{self.dt_ms:g}; got {self.freq_max_hz:g}"
            )
        unscored = self.steps(self.input_start_ms) + self.steps(self.settle_ms)
        if unscored >= self.steps(self.trial_ms):
            raise ValueError(
                f"'trial_ms' must leave scored steps after input_start_ms + settle_ms = "
                f"{self.input_start_ms + self.settle_ms:g} ms at dt_ms={self.dt_ms:g}; "
                f"got {self.trial_ms:g}"
            )
        return self


@register
class SineGenerator(Task):
    name = "sine_generator"
    aliases = ("sine_wave_generator",)
    title = "Sine-wave generator"
    summary = (
        "Pattern generation: a static input level tells the network which frequency to produce, "
        "and it must generate that sine wave autonomously for the rest of the trial. Trained "
        "networks show an input-dependent limit cycle around an unstable fixed point."
    )
    source = (
        "Sussillo D. & Barak O. (2013) Opening the black box: low-dimensional dynamics in "
        "high-dimensional recurrent neural networks. Neural Computation 25(3):626-649 (the "
        "sine-wave generator: a static input j/n + 0.25 selects frequency j of n, 51 in the "
        "original)."
    )
    definition = (
        "Input frequency_cue; output sine. Frequencies f_j = freq_min_hz + j * (freq_max_hz - "
        "freq_min_hz) / (n_frequencies - 1), j = 0..n_frequencies-1 (f_0 = freq_min_hz when "
        "n_frequencies = 1). Each trial draws j uniformly (or, with interpolate=True, f uniformly "
        "on [freq_min_hz, freq_max_hz]). The cue is 0 before input_start_ms and from then to the "
        "end of the trial (trial_ms) a static level c = 0.25 + (f - freq_min_hz) * "
        "(n_frequencies - 1) / (n_frequencies * (freq_max_hz - freq_min_hz)), i.e. j / "
        "n_frequencies + 0.25 on the grid (Sussillo & Barak's encoding; c = 0.25 when "
        "n_frequencies = 1) and the same linear map between and beyond the grid points. With "
        "onset = the step of input_start_ms, the target at step k from onset + settle_ms to the "
        "trial end is amplitude * sin(2 pi f (k - onset) dt_ms / 1000) (phase 0 at the cue "
        "onset), and 0 before. Weights are 1 from onset + settle_ms to the trial end and 0 "
        "before (durations rounded to steps by round half up). Epochs: baseline, settle, "
        "generate. No go cue (continuous task). Metric r2: per-trial weighted coefficient of "
        "determination (criterion 0.9). Conditions: frequency_hz (B,). Test grid: every grid "
        "frequency once, in increasing order."
    )
    Params = SineGeneratorParams
    versions: ClassVar[dict[str, Version]] = {
        "vanilla": Version("11 frequencies from 1 to 5 Hz in 2 s trials, mild white input noise"),
        "realistic": Version(
            "frequency drawn continuously in [1, 5] Hz (interpolation), correlated (OU, 20 ms) "
            "input noise of std 0.1",
            {"interpolate": True, "noise_scale": 0.1, "noise_decay_ms": 20.0},
        ),
        "long": Version(
            "slow waves (0.5 to 2 Hz) generated for 6 s",
            {"trial_ms": 6000.0, "freq_min_hz": 0.5, "freq_max_hz": 2.0},
        ),
    }
    metric = Metric(
        "r2",
        "per-trial coefficient of determination of the sine output over the scored steps",
        criterion=0.9,
    )

    @property
    def input_names(self) -> tuple[str, ...]:
        return ("frequency_cue",)

    @property
    def output_names(self) -> tuple[str, ...]:
        return ("sine",)

    def frequencies_hz(self) -> np.ndarray:
        """The frequency grid f_j (n_frequencies,)."""
        p = self.params
        return np.linspace(p.freq_min_hz, p.freq_max_hz, p.n_frequencies)

    def cue_level(self, frequency_hz: np.ndarray) -> np.ndarray:
        """Cue level of each frequency: j / n_frequencies + 0.25 on the grid, linear in f."""
        p = self.params
        n = p.n_frequencies
        slope = (n - 1) / (n * (p.freq_max_hz - p.freq_min_hz)) if n > 1 else 0.0
        return _CUE_OFFSET + slope * (np.asarray(frequency_hz, dtype=np.float64) - p.freq_min_hz)

    def sample_conditions(self, rng: np.random.Generator, batch_size: int) -> dict[str, np.ndarray]:
        p = self.params
        if p.interpolate:
            frequency = rng.uniform(p.freq_min_hz, p.freq_max_hz, size=batch_size)
        else:
            frequency = self.frequencies_hz()[rng.integers(p.n_frequencies, size=batch_size)]
        return {"frequency_hz": frequency}

    def build(self, conditions: dict[str, np.ndarray]) -> TrialBatch:
        p = self.params
        frequency = np.asarray(conditions["frequency_hz"], dtype=np.float64)
        batch_size = frequency.shape[0]
        onset, settle = int(p.steps(p.input_start_ms)), int(p.steps(p.settle_ms))
        total = int(p.steps(p.trial_ms))

        def fixed(n: int) -> np.ndarray:
            return np.full(batch_size, n, dtype=np.int64)

        epochs, lengths = lay_out(
            {
                "baseline": fixed(onset),
                "settle": fixed(settle),
                "generate": fixed(total - onset - settle),
            }
        )
        cue_on = window(total, fixed(onset), lengths)
        scored = window(total, *epochs["generate"].T)
        seconds = (np.arange(total) - onset)[:, None] * (p.dt_ms / 1000.0)

        inputs = canvas(total, batch_size, self.n_inputs)
        inputs[:, :, 0] = cue_on * self.cue_level(frequency)[None, :]
        targets = canvas(total, batch_size, self.n_outputs)
        targets[:, :, 0] = scored * p.amplitude * np.sin(2 * np.pi * frequency[None, :] * seconds)
        weights = scored[:, :, None].astype(np.float32)
        return self._batch(inputs, targets, weights, lengths, epochs, conditions)

    def test_conditions(self) -> dict[str, np.ndarray]:
        return {"frequency_hz": self.frequencies_hz()}

    def _score(self, outputs: np.ndarray, batch: TrialBatch) -> np.ndarray:
        return weighted_r2(outputs, batch.targets, batch.weights)
