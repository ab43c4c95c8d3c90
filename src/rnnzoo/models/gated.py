"""Discrete-time baselines: vanilla RNN, GRU and LSTM, with PyTorch's equations and gate order.

Symbols: T steps, M members, B trials, I inputs, N hidden units, O outputs, G gates per unit
(1 vanilla, 3 GRU, 4 LSTM).  Parameters carry the leading model axis M:

- ``w_in`` (M, G*N, I) and ``bias`` (M, G*N): input side (PyTorch's ``weight_ih``, ``bias_ih``);
- ``w_rec`` (M, G*N, N) and, GRU and LSTM only, ``bias_hidden`` (M, G*N): hidden side
  (``weight_hh``, ``bias_hh``), so member weights copy one to one into ``torch.nn.GRU``/``LSTM``;
- ``w_out`` (M, O, N), ``b_out`` (M, O): readout y = w_out h + b_out, then the readout activation.

Member i is drawn (in float64) from `member_generator(config, i)` alone, so an ensemble of M is
exactly M independent networks.  The input projection is one batched matmul over all T steps
before the loop and the readout one after it; the GRU and LSTM loops are one autograd node each
(`rnnzoo.models.gated_core`: one matmul and one fused pass of gate work per step).  The vanilla
RNN runs the fused leaky core at alpha = 1.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.base import ModelConfig, Network, member_generator
from rnnzoo.models.core import RecurrenceSpec, leaky_network
from rnnzoo.models.gated_core import gru_sequence, lstm_sequence
from rnnzoo.models.options import GRUOptions, LSTMOptions, NetworkOptions, VanillaOptions
from rnnzoo.models.registry import register

_TRAIN_FLAG = {
    "w_in": "train_input",
    "w_rec": "train_recurrent",
    "bias": "train_bias",
    "bias_hidden": "train_bias",
    "w_out": "train_output",
    "b_out": "train_output",
}


def _uniform(generator: torch.Generator, shape: tuple[int, ...], bound: float) -> Tensor:
    """U(-bound, bound) samples of ``shape`` (float64)."""
    return (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * bound


class _DiscreteNetwork(Network):
    """Shared machinery: parameters per member, input projection, readout, `step`."""

    def __init__(self, config: ModelConfig, options: NetworkOptions) -> None:
        super().__init__(config, options)
        members = [self._draw(member_generator(config, i)) for i in range(self.n_models)]
        dtype = torch.get_default_dtype()
        for name in members[0]:
            weight = torch.stack([member[name] for member in members]).to(dtype)
            self.register_parameter(
                name, nn.Parameter(weight, requires_grad=getattr(options, _TRAIN_FLAG[name]))
            )

    # --- subclass interface ------------------------------------------------------------
    def _draw(self, generator: torch.Generator) -> dict[str, Tensor]:
        """One member's initial parameters (no model axis), drawn in a fixed order."""
        raise NotImplementedError

    def _input_bias(self) -> Tensor:
        """(M, G*N): the bias added with the input projection."""
        return self.bias

    def _run(
        self, drive: Tensor, initial: Tensor, keep_states: bool
    ) -> tuple[Tensor, Tensor | None]:
        """Iterate the dynamics: drive (M, T, B, G*N), initial (M, B, S) -> hidden h
        (M, T, B, N) and, if ``keep_states``, the full states (M, T, B, S)."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------
    def _readout_init(self, generator: torch.Generator) -> dict[str, Tensor]:
        """w_out (O, N) and b_out (O,) ~ U(-1/sqrt(N), 1/sqrt(N)), as torch.nn.Linear."""
        n_out, size = self.config.n_outputs, self.options.n_hidden
        bound = 1 / math.sqrt(size)
        return {
            "w_out": _uniform(generator, (n_out, size), bound),
            "b_out": _uniform(generator, (n_out,), bound),
        }

    def _project(self, inputs: Tensor) -> Tensor:
        """w_in u + bias for all steps at once: inputs (T, 1 or M, B, I) -> (M, T, B, G*N).

        Member-major, so each step is one strided (M, B, G*N) view; inputs shared by all
        members are broadcast, not copied."""
        steps, members, batch, n_in = inputs.shape
        per_member = inputs.transpose(0, 1).reshape(members, steps * batch, n_in)
        drive = torch.baddbmm(
            self._input_bias().unsqueeze(1),
            per_member.expand(self.n_models, -1, -1),
            self.w_in.transpose(1, 2),
        )
        return drive.view(self.n_models, steps, batch, -1)

    def _linear_readout(self, hidden: Tensor) -> Tensor:
        """w_out h + b_out: hidden (M, ..., N) -> (M, ..., O)."""
        flat = hidden.reshape(self.n_models, -1, hidden.shape[-1])
        # computed as (M, O, K): autograd then forms w_out's gradient in the fast orientation
        linear = torch.baddbmm(self.b_out.unsqueeze(2), self.w_out, flat.transpose(1, 2))
        return linear.transpose(1, 2).reshape(*hidden.shape[:-1], -1)

    def rates(self, states: Tensor) -> Tensor:
        """The hidden activity h from states (..., S) -> (..., N)."""
        return states[..., : self.options.n_hidden]

    def readout(self, states: Tensor) -> Tensor:
        """Outputs (after the readout activation) from states (M, ..., S) -> (M, ..., O)."""
        return self.readout_activation(self._linear_readout(self.rates(states)))

    def _forward(
        self,
        inputs: Tensor,
        initial: Tensor | None,
        generator: torch.Generator | None,
        return_states: bool,
        noise: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        """inputs (T, 1 or M, B, I) -> outputs (T, M, B, O), states (T, M, B, S) or None.

        ``generator`` and ``noise`` are unused: these baselines have no noise."""
        dtype = self.w_in.dtype
        batch = inputs.shape[2]
        if initial is None:
            initial = self.w_in.new_zeros(self.n_models, batch, self.state_size)
        hidden, states = self._run(
            self._project(inputs.to(dtype)), initial.to(dtype), return_states
        )
        outputs = self.readout_activation(self._linear_readout(hidden).transpose(0, 1))
        return outputs, None if states is None else states.transpose(0, 1)

    def step(self, state: Tensor, inputs: Tensor) -> Tensor:
        """One step of the dynamics: state (M, B, S), inputs (M, B, I) -> next state (M, B, S)."""
        m, s, n_in = self.n_models, self.state_size, self.config.n_inputs
        if state.dim() != 3 or state.shape[0] != m or state.shape[2] != s:
            raise InvalidParameterError(
                f"state must have shape ({m}, B, {s}); got {tuple(state.shape)}"
            )
        if inputs.shape != (m, state.shape[1], n_in):
            raise InvalidParameterError(
                f"inputs must have shape ({m}, {state.shape[1]}, {n_in}); got {tuple(inputs.shape)}"
            )
        _, states = self._run(self._project(inputs.unsqueeze(0)), state, True)
        return states[:, 0]


@register
class VanillaRNN(_DiscreteNetwork):
    r"""Discrete-time vanilla RNN (Elman network; ``torch.nn.RNN`` with one bias).

    .. math::
        h_t = f(W h_{t-1} + W_{in} u_t + b), \qquad y_t = W_{out} h_t + b_{out}

    .. note::
        Initialisation: W ~ N(0, g^2/N) (g = 1: the edge of chaos for tanh), W_in ~
        U(-1/sqrt(I), 1/sqrt(I)), b = 0, W_out and b_out ~ U(-1/sqrt(N), 1/sqrt(N)).
    """

    kind = "vanilla"
    title = "Discrete-time vanilla RNN"
    menu_rank = 10
    Options = VanillaOptions

    def _forward(
        self,
        inputs: Tensor,
        initial: Tensor | None,
        generator: torch.Generator | None,
        return_states: bool,
        noise: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        """The fused leaky core at alpha = 1: h = f(W h + W_in u + b) is the rate form there."""
        x = (inputs[:, 0] if inputs.shape[1] == 1 else inputs).to(self.w_in.dtype)
        size, batch = self.options.n_hidden, inputs.shape[2]
        h0 = self.w_in.new_zeros(self.n_models, batch, size) if initial is None else initial
        alpha = self.w_in.new_ones(self.n_models, 1, size)
        spec = RecurrenceSpec("rate", self.options.activation)
        linear, states = leaky_network(
            spec,
            x,
            None,
            h0.to(self.w_in.dtype),
            alpha,
            self.w_in,
            self.bias,
            self.w_out,
            self.b_out,
            (self.w_rec,),
        )
        outputs = self.readout_activation(linear.permute(1, 0, 2, 3))
        return outputs, states.permute(1, 0, 2, 3) if return_states else None

    def _draw(self, generator: torch.Generator) -> dict[str, Tensor]:
        size, n_in, g = self.options.n_hidden, self.config.n_inputs, self.options.g
        w_rec = torch.randn((size, size), generator=generator, dtype=torch.float64)
        return {
            "w_in": _uniform(generator, (size, n_in), 1 / math.sqrt(n_in)),
            "w_rec": w_rec * (g / math.sqrt(size)),
            "bias": torch.zeros(size, dtype=torch.float64),
            **self._readout_init(generator),
        }

    def _run(
        self, drive: Tensor, initial: Tensor, keep_states: bool
    ) -> tuple[Tensor, Tensor | None]:
        activation = torch.tanh if self.options.activation == "tanh" else torch.relu
        w_rec_t = self.w_rec.transpose(1, 2)
        h, hidden = initial, []
        for drive_t in drive.unbind(1):
            h = activation(torch.baddbmm(drive_t, h, w_rec_t))
            hidden.append(h)
        stacked = torch.stack(hidden, 1)
        return stacked, stacked if keep_states else None


def _gated_init(generator: torch.Generator, gates: int, size: int, n_in: int) -> dict[str, Tensor]:
    """PyTorch's default for GRU/LSTM: every weight and bias ~ U(-1/sqrt(N), 1/sqrt(N))."""
    bound = 1 / math.sqrt(size)
    return {
        "w_in": _uniform(generator, (gates * size, n_in), bound),
        "w_rec": _uniform(generator, (gates * size, size), bound),
        "bias": _uniform(generator, (gates * size,), bound),
        "bias_hidden": _uniform(generator, (gates * size,), bound),
    }


@register
class GRU(_DiscreteNetwork):
    r"""Gated recurrent unit (Cho et al. 2014) with the equations of ``torch.nn.GRU``.

    Gates in the order r, z, n along the G*N = 3N axis of ``w_in``, ``w_rec`` and both biases:

    .. math::
        r_t = \sigma(W_{ir} u_t + b_{ir} + W_{hr} h_{t-1} + b_{hr}) \\
        z_t = \sigma(W_{iz} u_t + b_{iz} + W_{hz} h_{t-1} + b_{hz}) \\
        n_t = \tanh(W_{in} u_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn})) \\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}

    .. note::
        Initialisation as PyTorch's: every weight and bias ~ U(-1/sqrt(N), 1/sqrt(N)); the
        readout as ``torch.nn.Linear``'s.
    """

    kind = "gru"
    weight_blocks = 3
    activation_bytes = 76  # above the measured peak per unit, trial and step (see budget)
    title = "Gated recurrent unit (GRU)"
    menu_rank = 11
    Options = GRUOptions

    def _draw(self, generator: torch.Generator) -> dict[str, Tensor]:
        gated = _gated_init(generator, 3, self.options.n_hidden, self.config.n_inputs)
        return {**gated, **self._readout_init(generator)}

    def _input_bias(self) -> Tensor:
        """b_i + b_h for r and z (they only appear summed), b_in alone for n."""
        size = self.options.n_hidden
        return self.bias + nn.functional.pad(self.bias_hidden[:, : 2 * size], (0, size))

    def _run(
        self, drive: Tensor, initial: Tensor, keep_states: bool
    ) -> tuple[Tensor, Tensor | None]:
        size = self.options.n_hidden
        if drive.shape[1] == 1:  # one step (`step`, analyses under torch.func): plain autograd
            x, w = drive[:, 0], self.w_rec
            r, z = torch.sigmoid(x[..., : 2 * size] + initial @ w[:, : 2 * size].mT).chunk(2, -1)
            hn = initial @ w[:, 2 * size :].mT + self.bias_hidden[:, 2 * size :].unsqueeze(1)
            n = torch.tanh(x[..., 2 * size :] + r * hn)
            hidden = torch.lerp(n, initial, z).unsqueeze(1)
        else:
            hidden = gru_sequence(drive, initial, self.w_rec, self.bias_hidden[:, 2 * size :])
        return hidden, hidden if keep_states else None


@register
class LSTM(_DiscreteNetwork):
    r"""Long short-term memory (Hochreiter & Schmidhuber 1997) with the equations of
    ``torch.nn.LSTM``.

    Gates in the order i, f, g, o along the G*N = 4N axis; the state is [h, c] (S = 2N):

    .. math::
        (i_t, f_t, g_t, o_t) = (\sigma, \sigma, \tanh, \sigma)
            (W_{i} u_t + b_{i} + W_{h} h_{t-1} + b_{h}) \\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t, \qquad h_t = o_t \odot \tanh(c_t)

    .. note::
        Initialisation as PyTorch's: every weight and bias ~ U(-1/sqrt(N), 1/sqrt(N)); the
        readout as ``torch.nn.Linear``'s.
    """

    kind = "lstm"
    weight_blocks = 4
    activation_bytes = 88  # above the measured peak per unit, trial and step (see budget)
    title = "Long short-term memory (LSTM)"
    menu_rank = 12
    Options = LSTMOptions

    @property
    def state_size(self) -> int:
        """S = 2N: the hidden state h, then the cell state c."""
        return 2 * self.options.n_hidden

    def _draw(self, generator: torch.Generator) -> dict[str, Tensor]:
        gated = _gated_init(generator, 4, self.options.n_hidden, self.config.n_inputs)
        return {**gated, **self._readout_init(generator)}

    def _input_bias(self) -> Tensor:
        """b_i + b_h: the LSTM only uses their sum."""
        return self.bias + self.bias_hidden

    def _run(
        self, drive: Tensor, initial: Tensor, keep_states: bool
    ) -> tuple[Tensor, Tensor | None]:
        h0, c0 = initial.chunk(2, dim=-1)
        if drive.shape[1] == 1:  # one step (`step`, analyses under torch.func): plain autograd
            gates = drive[:, 0] + h0 @ self.w_rec.mT
            i, f, _, o = torch.sigmoid(gates).chunk(4, dim=-1)
            size = self.options.n_hidden
            cells = (f * c0 + i * torch.tanh(gates[..., 2 * size : 3 * size])).unsqueeze(1)
            hidden = o.unsqueeze(1) * torch.tanh(cells)
        else:
            hidden, cells = lstm_sequence(drive, h0, c0, self.w_rec)
        return hidden, torch.cat([hidden, cells], dim=-1) if keep_states else None
