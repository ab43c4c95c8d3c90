"""What every network kind shares: its config, the ensemble axis, seeding, outputs, members.

Shapes (time-major, like `TrialBatch`): a standalone network maps inputs (T, B, I) to outputs
(T, B, O); an ensemble of M networks maps (T, B, I) (the same trials for every member) or
(T, M, B, I) to (T, M, B, O).  States, when asked for, are (T, B, S) or (T, M, B, S).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.options import NetworkOptions
from rnnzoo.tasks.seeding import MAX_SEED


class ModelConfig(BaseModel):
    """Everything needed to rebuild a network (saved with its weights)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    n_inputs: int = Field(ge=1, le=1_000_000, description="input dimension")
    n_outputs: int = Field(ge=1, le=1_000_000, description="output dimension")
    dt_ms: float = Field(gt=0, le=1e3, description="time step of the task (ms)")
    ensemble: int | None = Field(
        None, ge=1, le=100_000, description="members M (None = standalone network)"
    )
    seed: int = Field(0, ge=0, le=MAX_SEED, description="seed of the initial weights")
    member: int = Field(
        0,
        ge=0,
        le=MAX_SEED,
        description="index of the first member's initial-weight stream for this seed",
    )
    options: dict[str, Any] = Field(default_factory=dict, description="options of the kind")


class NetworkOutput(NamedTuple):
    """Outputs (T, [M,] B, O) after the readout activation; states (T, [M,] B, S) or None."""

    outputs: Tensor
    states: Tensor | None


def seeded_generator(seed: int, *key: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A torch generator on ``device`` for stream ``key`` of ``seed`` (NumPy's SeedSequence
    spawn keys)."""
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(2, dtype=np.uint32)
    return torch.Generator(device=device).manual_seed(int(state[0]) << 32 | int(state[1]))


def member_generator(config: ModelConfig, index: int) -> torch.Generator:
    """The generator that initialises member ``index`` of a network with ``config``: stream
    ``config.member + index`` of ``config.seed``.  Member i of an ensemble is initialised
    exactly as the standalone network with member=i, so an ensemble is exactly M independent
    networks, and an extracted member's config rebuilds its initial weights."""
    return seeded_generator(config.seed, 0, config.member + index)


class Network(nn.Module):
    """Base class: subclasses build parameters with a leading model axis M and implement
    `_forward(inputs (T, M, B, I), initial (M, B, S) | None, generator, return_states, noise)
    -> (outputs, states)` and `step(state, inputs)`."""

    kind: ClassVar[str]
    title: ClassVar[str]
    menu_rank: ClassVar[int] = 0  # order in `rnnzoo models list` (leaky networks first)
    Options: ClassVar[type[NetworkOptions]]
    # sizes for the memory estimate made before a network is built (rnnzoo.training.budget):
    weight_blocks: ClassVar[int] = 1  # N x N recurrent matrices per member (gates)
    activation_bytes: ClassVar[int] = 36  # kept per unit, trial and step (forward + backward)
    accepts_stimuli: ClassVar[bool] = False  # takes images (TrialBatch.stimuli) in forward

    @classmethod
    def recurrent_weight_count(cls, options: NetworkOptions) -> int:
        """Recurrent weights of one member for the memory estimate: ``weight_blocks`` N x N
        matrices, or 2 N R each at rank R."""
        units, rank = int(options.n_hidden), getattr(options, "rank", None)
        return cls.weight_blocks * (2 * units * rank if rank else units * units)

    def __init__(self, config: ModelConfig, options: NetworkOptions) -> None:
        super().__init__()
        self.config = config
        self.options = options
        self.n_models = config.ensemble or 1

    # --- subclass interface -------------------------------------------------------------
    @classmethod
    def options_for_task(
        cls, options: dict[str, Any], stimulus_shape: tuple[int, ...] | None
    ) -> dict[str, Any]:
        """The options to build for a task whose trials hold images of ``stimulus_shape``
        (K, C, H, W), or None for vector inputs.  Kinds that do not see images refuse image
        tasks; kinds that do fill in the image geometry."""
        if stimulus_shape is not None:
            raise InvalidParameterError(
                f"model kind '{cls.kind}' does not see images and this task shows images "
                "(stimuli): use a kind that does, e.g. --model cordsnet"
            )
        return dict(options)

    @property
    def state_size(self) -> int:
        """S: size of the dynamical state (N, or 2N for the LSTM's [h, c])."""
        return self.options.n_hidden

    def _forward(
        self,
        inputs: Tensor,
        initial: Tensor | None,
        generator: torch.Generator | None,
        return_states: bool,
        noise: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        raise NotImplementedError

    def step(self, state: Tensor, inputs: Tensor) -> Tensor:
        """One step of the true dynamics: state (M, B, S), inputs (M, B, I) -> next state."""
        raise NotImplementedError

    def rates(self, states: Tensor) -> Tensor:
        """The activity the readout sees, from states (M, ..., S) -> (M, ..., N)."""
        raise NotImplementedError

    def flops_per_time_step(self, batch_size: int) -> float:
        """Training FLOPs of one time step for ``batch_size`` trials: 6 M B N^2 (the recurrent
        product, forward 2 B N^2 plus backward 4 B N^2, per member)."""
        return 6.0 * self.n_models * batch_size * self.options.n_hidden**2

    def readout(self, states: Tensor) -> Tensor:
        """Outputs after the readout activation from states (M, ..., S) -> (M, ..., O)."""
        raise NotImplementedError

    # --- shared behaviour --------------------------------------------------------------
    def forward(
        self,
        inputs: Tensor,
        *,
        initial_state: Tensor | None = None,
        return_states: bool = False,
        generator: torch.Generator | None = None,
        noise: bool | None = None,
        stimuli: Tensor | None = None,
    ) -> NetworkOutput:
        """Run the network over a batch of trials.

        inputs: (T, B, I), or (T, M, B, I) for an ensemble.  initial_state: (B, S) or
        (M, B, S); zeros when None.  generator: draws the network noise (reproducible).
        noise: add the network's input and recurrent noise; None follows the module's mode as
        torch does for dropout (on after ``net.train()``, the default; off after
        ``net.eval()``).
        stimuli: images (B, K, C, H, W) of image tasks, for kinds that see images only.
        """
        if stimuli is not None:
            raise InvalidParameterError(
                f"model kind '{self.kind}' does not see images; this task shows images "
                "(stimuli): use a kind that does, e.g. --model cordsnet"
            )
        x = self._check_inputs(inputs)
        initial = None if initial_state is None else self._check_state(initial_state, x.shape[2])
        with_noise = self.training if noise is None else bool(noise)
        outputs, states = self._forward(x, initial, generator, return_states, with_noise)
        if self.config.ensemble is None:
            outputs = outputs.squeeze(1)
            states = None if states is None else states.squeeze(1)
        return NetworkOutput(outputs, states if return_states else None)

    def member(self, index: int) -> Network:
        """Member ``index`` of an ensemble as a standalone network (weights copied)."""
        if not 0 <= index < self.n_models:
            raise InvalidParameterError(
                f"member index must be in [0, {self.n_models}); got {index}"
            )
        config = self.config.model_copy(
            update={
                "ensemble": None,
                "member": self.config.member + index,
                "options": self._member_options(index),
            }
        )
        single = type(self)(config, type(self.options)(**config.options))
        state = {k: v[index : index + 1].clone() for k, v in self.state_dict().items()}
        single.load_state_dict(state, assign=True)  # keeps this network's dtype and device
        return single

    def _member_options(self, index: int) -> dict[str, Any]:
        from rnnzoo.models.registry import per_member_options

        options = dict(self.config.options)
        for name in per_member_options(type(self.options)):
            if isinstance(options.get(name), list):
                options[name] = options[name][index]
        return options

    def _check_inputs(self, inputs: Tensor) -> Tensor:
        if not isinstance(inputs, Tensor):
            raise InvalidParameterError(
                f"inputs must be a torch.Tensor (T, B, I); got {type(inputs).__name__}"
            )
        n_in, m = self.config.n_inputs, self.n_models
        if inputs.dim() in (3, 4) and (inputs.shape[0] == 0 or inputs.shape[-2] == 0):
            raise InvalidParameterError(
                f"inputs must have at least one time step and one trial; got {tuple(inputs.shape)}"
            )
        if inputs.dim() == 3 and inputs.shape[-1] == n_in:
            return inputs.unsqueeze(1)
        if inputs.dim() == 4 and inputs.shape[1] == m and inputs.shape[-1] == n_in:
            return inputs
        shapes = "(T, B, I)" + (f" or (T, {m}, B, I)" if self.config.ensemble else "")
        raise InvalidParameterError(
            f"inputs must have shape {shapes} with I = {n_in}; got {tuple(inputs.shape)}"
        )

    def _check_state(self, state: Tensor, batch: int) -> Tensor:
        s, m = self.state_size, self.n_models
        if state.dim() == 2 and state.shape == (batch, s):
            return state.unsqueeze(0).expand(m, batch, s)
        if state.dim() == 3 and state.shape == (m, batch, s):
            return state
        raise InvalidParameterError(
            f"initial_state must have shape ({batch}, {s}) or ({m}, {batch}, {s}); "
            f"got {tuple(state.shape)}"
        )

    def readout_activation(self, linear: Tensor) -> Tensor:
        """Apply the readout activation to the linear readout (..., O)."""
        if self.options.readout == "sigmoid":
            return torch.sigmoid(linear)
        if self.options.readout == "softmax":
            return torch.softmax(linear, dim=-1)
        return linear

    def extra_repr(self) -> str:
        m = f", ensemble={self.config.ensemble}" if self.config.ensemble else ""
        return f"kind={self.kind}, N={self.options.n_hidden}{m}"
