"""Options of the `cordsnet` kind: every number the authors' code hard-codes, validated.

Presets set the architecture fields a user leaves unset (explicit values win):

- ``b3``: seed 004 appendix B.3's single area against which other RNNs are compared: 5
  channels on a 5 x 5 grid, recurrent kernel 4 (125 units, 400 recurrent weights, Table S1),
  driven by the vector inputs of any task;
- ``R2``, ``R4``, ``R6``, ``R8``: CordsNet-RX of Table S3 (2-8 areas of 64, 64, 128, 128, 256,
  256, 512, 512 channels, input strides 1, 1, 2, 1, 2, 1, 2, 1, 3x3 kernels, a 7x7 stride-2
  stem and a 3x3 stride-2 average pool); on 224x224 images the areas are 56, 56, 28, ... 7
  pixels wide, as in the paper.

Memory (for estimates such as the trainer's budget check): a network holds
``n_hidden`` units per member (all areas, plus the back-end's ``backend_hidden``); one trial
step stores about 5 * n_hidden floats per member for the gradient with memory="store", and
``memory="recompute"`` keeps only n_hidden floats per chunk boundary plus one chunk of
``checkpoint_steps`` steps (`rnnzoo.models.cordsnet.memory_estimate` gives the bytes).
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, model_validator

from rnnzoo.models.cordsnet.architecture import Architecture, derive
from rnnzoo.models.options import MAX_UNITS, Gain, NetworkOptions, NoiseLevel, TimeConstant, _field

LearningRate = Annotated[float, Field(gt=0, le=10)]
MAX_STEPS = 1_000_000_000  # steps of a stage (as a run's, rnnzoo.training.config)
MAX_BATCH = 100_000  # images per step of a stage (as a run's trials per step)

PRESET_NAMES = ("b3", "R2", "R4", "R6", "R8")
_R_CHANNELS = (64, 64, 128, 128, 256, 256, 512, 512)
_R_STRIDES = (1, 1, 2, 1, 2, 1, 2, 1)
PRESETS: dict[str, dict[str, Any]] = {
    "b3": {"areas": 1, "channels": [5], "strides": [1], "kernel_size": 4, "grid_size": 5},
    **{
        f"R{n}": {
            "areas": n,
            "channels": list(_R_CHANNELS[:n]),
            "strides": list(_R_STRIDES[:n]),
            "kernel_size": 3,
            "grid_size": 56,
        }
        for n in (2, 4, 6, 8)
    },
}
_ARCHITECTURE = ("areas", "channels", "strides", "kernel_size", "grid_size")


class CordsNetOptions(NetworkOptions):
    """CordsNet (Soo et al. 2024): areas of convolutional continuous-time rate units,
    r_l <- (1 - alpha) r_l + alpha f(ConvRec_l(r_l) + B_l + ConvIn_l(h_l)), with ResNet-18's
    residual wiring, per-pixel biases B_l, weight normalisation, average pooling and a readout
    of pooled activity; optionally a leaky back-end (multi-area network)."""

    owner: ClassVar[str] = "cordsnet"

    n_hidden: int | None = _field(
        None,
        "total recurrent units (all areas plus the back-end): derived from the architecture; "
        "leave unset (a value must match)",
        "neurons",
        ge=1,
        le=MAX_UNITS,
    )
    preset: Literal["b3", "R2", "R4", "R6", "R8"] = _field(
        "b3", "architecture preset for the fields left unset (b3: one 5x5x5 area; RX: Table S3)"
    )
    areas: int | None = _field(
        None, "number of recurrent areas (None = the preset's)", "", ge=1, le=16
    )
    channels: list[Annotated[int, Field(ge=1, le=2048)]] | None = _field(
        None, "channels of each area (None = the preset's)", "channels"
    )
    strides: list[Annotated[int, Field(ge=1, le=8)]] | None = _field(
        None, "stride of each area's input convolution (None = the preset's)", "pixels"
    )
    kernel_size: int | None = _field(
        None,
        "recurrent kernel side (None = the preset's: 4 for b3, 3 for RX)",
        "pixels",
        ge=1,
        le=15,
    )
    input_kernel: int = _field(
        3, "kernel side of the area-to-area convolutions", "pixels", ge=1, le=15
    )
    residual: bool = _field(True, "ResNet-18's residual sums between areas (else a plain chain)")
    grid_size: int | None = _field(
        None, "vector inputs: side of area 0's grid (None = the preset's)", "pixels", ge=1, le=512
    )
    input_size: int | None = _field(
        None,
        "image inputs: side of the images (8 digits, 28 Fashion-MNIST, 32, 224); None = vector "
        "inputs (set from the task by the trainer)",
        "pixels",
        ge=4,
        le=1024,
    )
    input_channels: int = _field(1, "image channels (1 grey, 3 colour)", "channels", ge=1, le=16)
    n_stimuli: int = _field(
        1,
        "image inputs: images per trial (set from the task); the first n_stimuli inputs are "
        "their presentation",
        "images",
        ge=1,
        le=1000,
    )
    stem_channels: int | None = _field(
        None, "channels of the image stem (None = channels of area 0)", "channels", ge=1, le=2048
    )
    stem_kernel: int = _field(7, "kernel side of the image stem convolution", "pixels", ge=1, le=15)
    stem_stride: int = _field(2, "stride of the image stem convolution", "pixels", ge=1, le=8)
    stem_pool: bool = _field(True, "3x3 stride-2 average pool after the stem (never max pool)")
    tau_ms: TimeConstant = _field(10.0, "time constant of every unit (seed 004: 10 ms)", "ms")
    activation: Literal["relu", "tanh", "softplus", "prelu", "identity"] = _field(
        "relu", "activation f inside each area (identity = the linear network)"
    )
    activation_slope: float = _field(
        0.25, "prelu only: slope for negative input (1 = linear, 0 = ReLU)", ge=0, le=1
    )
    feedforward_activation: Literal["relu", "identity"] = _field(
        "relu", "activation g of an area's rates where they feed the next area and the readout"
    )
    weight_norm: bool = _field(True, "weight normalisation (gain and direction) of every conv")
    gain: Gain | list[Gain] = _field(
        1.0,
        "gain of the random recurrent kernels: N(0, gain^2 / (channels kernel^2))",
        "",
        True,
    )
    readout_from: Literal["auto", "pooled", "units"] = _field(
        "auto",
        "readout of the last area: average-pooled channels (images) or every unit "
        "(vectors); auto picks by the input",
    )
    backend_hidden: int | None = _field(
        None,
        "multi-area: units of a leaky back-end reading the pooled front-end (None = none)",
        "neurons",
        ge=1,
        le=100_000,
    )
    backend_tau_ms: TimeConstant = _field(100.0, "time constant of the back-end", "ms")
    backend_activation: Literal["relu", "tanh", "softplus"] = _field(
        "relu", "activation of the back-end"
    )
    train_front_end: bool = _field(True, "train the CordsNet front-end (False freezes it)")
    input_noise: NoiseLevel | list[NoiseLevel] = _field(
        0.0, "vector-input noise sigma_in (per-step std sigma_in * sqrt(2/alpha))", "a.u.", True
    )
    pixel_noise: NoiseLevel | list[NoiseLevel] = _field(
        0.0,
        "std of white noise added to the pixels at every step an image is shown",
        "a.u.",
        True,
    )
    recurrent_noise: NoiseLevel | list[NoiseLevel] = _field(
        0.0, "recurrent noise sigma_rec (per-step std sigma_rec * sqrt(2/alpha))", "a.u.", True
    )
    engine: Literal["auto", "conv", "dense"] = _field(
        "auto",
        "how the recurrence runs: grouped convolutions, or (one area with vector inputs, "
        "no back-end, units readout) its dense matrix in the fused leaky core; auto = dense "
        "when possible and n_hidden <= 4096",
    )
    memory: Literal["store", "recompute"] = _field(
        "store", "gradient memory: store every step, or recompute chunks in backward"
    )
    checkpoint_steps: int = _field(
        50, "steps per chunk (recompute; and noise draws)", "steps", ge=1, le=MAX_STEPS
    )
    init: Literal["random", "staged"] = _field(
        "random",
        "initialisation: random weights, or seed 004's staged initialisation (train "
        "runs stages 1-4 first; see rnnzoo.training.staged)",
    )
    stage1_steps: int = _field(2000, "staged: CNN training steps", "steps", ge=0, le=MAX_STEPS)
    stage1_lr: LearningRate = _field(0.05, "staged: CNN SGD learning rate (momentum 0.9)")
    stage1_batch_size: int = _field(64, "staged: CNN images per step", "images", ge=1, le=MAX_BATCH)
    stage2_steps: int = _field(1000, "staged: steady-state fit steps", "steps", ge=0, le=MAX_STEPS)
    stage2_lr: LearningRate = _field(1e-2, "staged: steady-state fit AdamW learning rate")
    stage2_batch_size: int = _field(
        32, "staged: steady-state fit images per step", "images", ge=1, le=MAX_BATCH
    )
    stage3_steps: int = _field(
        200, "staged: linear network training steps", "steps", ge=0, le=MAX_STEPS
    )
    stage3_lr: LearningRate = _field(1e-4, "staged: linear network AdamW learning rate")
    stage4_steps: int = _field(
        20,
        "staged: PReLU annealing steps at each slope 0.95, 0.90, ..., 0.05 (0 = skip)",
        "steps",
        ge=0,
        le=MAX_STEPS,
    )
    stage4_lr: LearningRate = _field(1e-4, "staged: AdamW learning rate while annealing")

    @model_validator(mode="after")
    def _architecture_is_consistent(self) -> CordsNetOptions:
        arch = self.architecture()  # raises ValueError naming the option
        units = arch.units + (self.backend_hidden or 0)
        given = self.n_hidden if "n_hidden" in self.model_fields_set else None
        if given is not None and given != units:
            raise ValueError(
                f"'n_hidden' is derived ({units} units for these areas); got {given} (leave it "
                "unset)"
            )
        object.__setattr__(self, "n_hidden", units)
        if self.activation != "prelu" and not self.is_default("activation_slope"):
            raise ValueError("'activation_slope' applies to activation='prelu' only")
        if self.input_size is None and not self.is_default("n_stimuli"):
            raise ValueError("'n_stimuli' applies to image inputs only (set input_size)")
        if self.engine == "dense" and not self.dense_possible(arch):
            raise ValueError(
                "'engine'='dense' needs one area, vector inputs, no back-end and the units "
                "readout (readout_from auto or units)"
            )
        if not self.train_front_end and self.backend_hidden is None:
            raise ValueError("'train_front_end'=false needs a back-end (backend_hidden)")
        return self

    def dense_possible(self, arch: Architecture) -> bool:
        """True when the recurrence is one area's matrix (see the ``engine`` option)."""
        return (
            len(arch.areas) == 1
            and not arch.image
            and self.backend_hidden is None
            and not arch.readout_pooled
        )

    def uses_dense(self) -> bool:
        """Whether the network runs its recurrence as a dense matrix."""
        arch = self.architecture()
        if self.engine == "auto":
            return self.dense_possible(arch) and arch.units <= 4096
        return self.engine == "dense"

    def resolved(self, name: str) -> Any:
        """An architecture field: its value, else the preset's (channels and strides cut to
        the number of areas, which is given, else the length of channels, else the preset's)."""
        value = getattr(self, name)
        if value is not None:
            return value
        if name == "areas" and self.channels is not None:
            return len(self.channels)
        preset = PRESETS[self.preset]
        if name in ("channels", "strides"):
            areas = self.resolved("areas")
            if areas > len(preset[name]):
                raise ValueError(
                    f"'{name}' must be given for {areas} areas (preset {self.preset} has "
                    f"{len(preset[name])})"
                )
            return preset[name][:areas]
        return preset[name]

    def architecture(self) -> Architecture:
        """The shapes these options describe (see `architecture.derive`)."""
        areas = self.resolved("areas")
        channels, strides = self.resolved("channels"), self.resolved("strides")
        for name, values, low, high in (
            ("channels", channels, 1, 2048),
            ("strides", strides, 1, 8),
        ):
            if len(values) != areas:
                raise ValueError(f"'{name}' must have {areas} entries (one per area); got {values}")
            if any(not isinstance(v, int) or not low <= v <= high for v in values):
                raise ValueError(
                    f"'{name}' entries must be integers in [{low}, {high}]; got {values}"
                )
        return derive(
            channels=list(channels),
            strides=list(strides),
            kernel=self.resolved("kernel_size"),
            input_kernel=self.input_kernel,
            residual=self.residual,
            input_size=self.input_size,
            input_channels=self.input_channels,
            grid_size=self.resolved("grid_size"),
            stem_channels=self.stem_channels,
            stem_kernel=self.stem_kernel,
            stem_stride=self.stem_stride,
            stem_pool=self.stem_pool,
            readout_from=self.readout_from,
        )


__all__ = ["PRESETS", "PRESET_NAMES", "CordsNetOptions"]
