"""Leaky firing-rate and leaky current RNNs (continuous time, Euler with alpha = dt/tau).

Parameters have a leading model axis M (an ensemble; M = 1 for a standalone network):
w_in (M, N, I), bias (M, N), w_rec (M, N, N) or low-rank m, n (M, N, R), w_out (M, O, N),
b_out (M, O).  Constraints are applied as effective weights on every forward, so gradients and
optimiser moments see the raw parameters:

- Dale's law: W = |w_rec| * sign(presynaptic neuron) * mask; the first round(f N) neurons are
  excitatory.  Inputs are excitatory (|w_in|); only excitatory neurons are read out.
- sparse masks and the populations are fixed 0/1 buffers multiplied in.
- input population: the first `input_population` neurons receive input; output population: the
  next `output_population` neurons are read out; the rest are auxiliary (seed 002, sec. 2.2).
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models import connectivity
from rnnzoo.models.activations import activate
from rnnzoo.models.base import ModelConfig, Network, member_generator, seeded_generator
from rnnzoo.models.core import RecurrenceSpec, leaky_network
from rnnzoo.models.noise import draw_noise
from rnnzoo.models.options import LeakyCurrentOptions, LeakyOptions, LeakyRateOptions
from rnnzoo.models.registry import register


class _LeakyNetwork(Network):
    form: ClassVar[str]
    options: LeakyOptions

    def __init__(self, config: ModelConfig, options: LeakyOptions) -> None:
        super().__init__(config, options)
        m_models, size = self.n_models, options.n_hidden
        n_out = config.n_outputs
        members = [self._init_member(i) for i in range(m_models)]
        dtype = torch.get_default_dtype()

        def stack(key: str) -> Tensor:
            return torch.stack([member[key] for member in members]).to(dtype)

        self.w_in = nn.Parameter(stack("w_in"), requires_grad=options.train_input)
        self.bias = nn.Parameter(torch.zeros(m_models, size), requires_grad=options.train_bias)
        if options.rank is None:
            self.w_rec = nn.Parameter(stack("w_rec"), requires_grad=options.train_recurrent)
        else:
            self.m = nn.Parameter(stack("m"), requires_grad=options.train_recurrent)
            self.n = nn.Parameter(stack("n"), requires_grad=options.train_recurrent)
        self.w_out = nn.Parameter(stack("w_out"), requires_grad=options.train_output)
        self.b_out = nn.Parameter(torch.zeros(m_models, n_out), requires_grad=options.train_output)
        self.register_buffer("rec_mask", stack("rec_mask") if "rec_mask" in members[0] else None)
        self.register_buffer(
            "in_mask",
            self._population_mask(0, options.input_population)
            .view(1, size, 1)
            .repeat(m_models, 1, 1),
        )
        readout = self._population_mask(options.input_population or 0, options.output_population)
        if options.dale:
            readout = readout * (self._signs() > 0)
        self.register_buffer("out_mask", readout.view(1, 1, size).repeat(m_models, 1, 1))
        self.register_buffer("alpha", stack("alpha").view(m_models, 1, size))
        rec_sigma = torch.tensor(options.per_member("recurrent_noise", m_models), dtype=dtype)
        self.register_buffer(
            "rec_noise_std",
            rec_sigma.view(m_models, 1, 1, 1) * torch.sqrt(2 / self.alpha).unsqueeze(1),
        )
        in_sigma = torch.tensor(options.per_member("input_noise", m_models), dtype=dtype)
        alpha_e = torch.tensor([config.dt_ms / t for t in options.per_member("tau_ms", m_models)])
        self.register_buffer(
            "in_noise_std", (in_sigma * torch.sqrt(2 / alpha_e)).view(m_models, 1, 1).to(dtype)
        )
        self.register_buffer("activation_slope", torch.full((m_models,), options.activation_slope))
        self.noise_generator = seeded_generator(config.seed, 1)
        # Host copies of what the forward pass branches on, so that it never reads device
        # memory (on a GPU, a synchronisation per forward): noise on or off, the alpha shared
        # by every neuron (None when taus differ) and the PReLU slope.
        self._input_noise = any(s > 0 for s in options.per_member("input_noise", m_models))
        self._recurrent_noise = any(s > 0 for s in options.per_member("recurrent_noise", m_models))
        _read_host_copies(self)
        self.register_load_state_dict_post_hook(_read_host_copies)

    # --- construction ------------------------------------------------------------------
    def _signs(self) -> Tensor:
        return connectivity.dale_signs(self.options.n_hidden, self.options.excitatory_fraction)

    def _population_mask(self, start: int, count: int | None) -> Tensor:
        size = self.options.n_hidden
        if count is None:
            return torch.ones(size) if start == 0 else (torch.arange(size) >= start).float()
        mask = torch.zeros(size)
        mask[start : start + count] = 1
        return mask

    def _init_member(self, index: int) -> dict[str, Tensor]:
        """Initial tensors of member ``index`` (float64, from its own generator)."""
        opts, cfg = self.options, self.config
        gen = member_generator(cfg, index)
        size, n_in, n_out = opts.n_hidden, cfg.n_inputs, cfg.n_outputs

        def pick(name: str):
            return opts.per_member(name, self.n_models)[index]

        tau = torch.full((size,), float(pick("tau_ms")), dtype=torch.float64)
        out: dict[str, Tensor] = {}
        w_in = torch.randn(size, n_in, generator=gen, dtype=torch.float64) / math.sqrt(n_in)
        out["w_in"] = w_in.abs() if opts.dale else w_in
        if opts.rank is not None:
            out["m"], out["n"] = connectivity.low_rank_factors(gen, size, opts.rank)
        else:
            prob = float(pick("connection_prob"))
            given = None
            if opts.recurrent_mask is not None:
                given = torch.tensor(opts.recurrent_mask, dtype=torch.float64)
            mask = connectivity.connection_mask(gen, size, prob, opts.self_connections, given)
            if opts.recurrent_init == "diag":
                out["w_rec"] = connectivity.diagonal_recurrent(size, float(pick("g")))
            elif opts.recurrent_init == "randortho":
                out["w_rec"] = connectivity.orthogonal_recurrent(gen, size, float(pick("g")))
            elif opts.dale:
                signs = self._signs().to(torch.float64)
                mask = torch.ones(size, size, dtype=torch.float64) if mask is None else mask
                out["w_rec"] = connectivity.dale_magnitudes(gen, signs, float(pick("g")), mask)
                out["rec_mask"] = mask * signs.view(1, size)
                if opts.tau_inhibitory_ms is not None:
                    tau[signs < 0] = float(pick("tau_inhibitory_ms"))
            else:
                density = prob if given is None else float(mask.mean())
                out["w_rec"] = connectivity.random_recurrent(gen, size, float(pick("g")), density)
                if mask is not None:
                    out["rec_mask"] = mask
            out["w_rec"] = out["w_rec"] * self._recurrent_scale_inverse()
        n_read = opts.output_population or size
        out["w_out"] = torch.randn(n_out, size, generator=gen, dtype=torch.float64) / math.sqrt(
            n_read
        )
        alpha = cfg.dt_ms / tau
        if (alpha > 1).any():
            raise InvalidParameterError(
                f"{self.kind}: time constants must be >= dt_ms = {cfg.dt_ms:g} ms (alpha = dt/tau "
                f"<= 1); got tau {float(tau.min()):g} ms"
            )
        out["alpha"] = alpha
        return out

    # --- effective weights ---------------------------------------------------------------
    def input_weights(self) -> Tensor:
        """(M, N, I) effective input weights."""
        w = self.w_in.abs() if self.options.dale else self.w_in
        return w if self.options.input_population is None else w * self.in_mask

    def recurrent_weights(self) -> tuple[Tensor, ...]:
        """(W,) dense (M, N, N) effective weights, or the low-rank factors (m, n)."""
        if self.options.rank is not None:
            return (self.m, self.n)
        w = self.w_rec.abs() if self.options.dale else self.w_rec
        if self.options.recurrent_scaling == "1/N":
            w = w / self.options.n_hidden
        return (w if self.rec_mask is None else w * self.rec_mask,)

    def _recurrent_scale_inverse(self) -> float:
        """N when W = J / N (parameter rescaling: J starts at N times the usual W), else 1."""
        return float(self.options.n_hidden) if self.options.recurrent_scaling == "1/N" else 1.0

    def recurrent_matrix(self) -> Tensor:
        """(M, N, N) effective recurrent matrix (formed even for low rank: small N only)."""
        weights = self.recurrent_weights()
        if len(weights) == 2:
            m, n = weights
            return m @ n.transpose(1, 2) / self.options.n_hidden
        return weights[0]

    def output_weights(self) -> Tensor:
        """(M, O, N) effective readout weights."""
        return self.w_out * self.out_mask

    def set_activation_slope(self, slope: float) -> None:
        """Set the PReLU slope (1 linear .. 0 ReLU) for annealing during training."""
        if self.options.activation != "prelu":
            raise ValueError("set_activation_slope applies to activation='prelu' only")
        if not 0 <= slope <= 1:
            raise ValueError(f"'activation_slope' must be in [0, 1]; got {slope}")
        self.activation_slope.fill_(slope)
        self._slope = float(slope)

    @property
    def slope(self) -> float:
        """The PReLU slope as a Python float (read without touching device memory)."""
        return self._slope

    @property
    def max_alpha(self) -> float:
        """The largest dt/tau of any neuron, as a Python float."""
        return self._max_alpha

    # --- dynamics ----------------------------------------------------------------------
    def _spec(self) -> RecurrenceSpec:
        return RecurrenceSpec(self.form, self.options.activation, self._slope, self._common_alpha)

    def _forward(self, inputs, initial, generator, return_states, noise=True):
        m_models, size, batch = self.n_models, self.options.n_hidden, inputs.shape[2]
        x = (inputs[:, 0] if inputs.shape[1] == 1 else inputs).to(self.w_in.dtype)
        x, noise = self.sample_noise(x, generator) if noise else (x, None)
        h0 = self.w_in.new_zeros(m_models, batch, size) if initial is None else initial.to(x.dtype)
        args = (
            h0,
            self.alpha,
            self.input_weights(),
            self.bias,
            self.output_weights(),
            self.b_out,
            self.recurrent_weights(),
        )
        if self.options.memory == "store":
            linear, states = leaky_network(self._spec(), x, noise, *args)
        else:
            linear, states = self._recompute(x, noise, args, return_states)
        outputs = self.readout_activation(linear.permute(1, 0, 2, 3))
        return outputs, (states.permute(1, 0, 2, 3) if return_states else None)

    def sample_noise(
        self, x: Tensor, generator: torch.Generator | None, dt_factor: int = 1
    ) -> tuple[Tensor, Tensor | None]:
        """Draw the network noise for a run over ``x`` (T, B, I) or (T, M, B, I) whose steps
        last ``dt_factor`` * dt_ms (coarsened discretization uses dt_factor > 1: stds scale
        by 1/sqrt(dt_factor), the OU decay per step by dt_factor).

        Returns the inputs with input noise added ((T, M, B, I); ``x`` itself when there is
        none) and the recurrent noise (M, T, B, N) in the drive, or None.  Draws in this order
        from ``generator`` (the network's own stream when None)."""
        steps, batch = x.shape[0], x.shape[-2]
        generator = self.noise_generator if generator is None else generator
        decay = 0.0
        if self.options.noise_tau_ms > 0:
            decay = math.exp(-dt_factor * self.config.dt_ms / self.options.noise_tau_ms)
        scale = 1 / math.sqrt(dt_factor)
        if self._input_noise:  # on the inputs u, before W_in
            shape = (steps, self.n_models, batch, x.shape[-1])
            std = self.in_noise_std if dt_factor == 1 else self.in_noise_std * scale
            noise = draw_noise(shape, std, decay, generator, x, time_dim=0)
            x = noise.add_(x.unsqueeze(1) if x.dim() == 3 else x)
        if not self._recurrent_noise:
            return x, None
        shape = (self.n_models, steps, batch, self.options.n_hidden)
        std = self.rec_noise_std if dt_factor == 1 else self.rec_noise_std * scale
        return x, draw_noise(shape, std, decay, generator, self.w_in, time_dim=1)

    def _recompute(self, x, noise, args, return_states):
        """Chunks of `checkpoint_steps` steps whose internals are recomputed in backward."""
        h0, alpha, w_in, bias, w_out, b_out, weights = args
        spec, chunk = self._spec(), self.options.checkpoint_steps

        def run(x_c, noise_c, h_c, w_in, bias, w_out, b_out, *weights):
            return leaky_network(spec, x_c, noise_c, h_c, alpha, w_in, bias, w_out, b_out, weights)

        linear, states, state = [], [], h0
        for start in range(0, x.shape[0], chunk):
            noise_c = None if noise is None else noise[:, start : start + chunk]
            lin_c, st_c = checkpoint(
                run,
                x[start : start + chunk],
                noise_c,
                state,
                w_in,
                bias,
                w_out,
                b_out,
                *weights,
                use_reentrant=False,
            )
            linear.append(lin_c)
            state = st_c[:, -1].clone()
            if return_states:
                states.append(st_c)
        return torch.cat(linear, 1), (torch.cat(states, 1) if return_states else None)

    def step(self, state: Tensor, inputs: Tensor) -> Tensor:
        """One noise-free Euler step of the true dynamics (plain autograd):
        state (M, B, N), inputs (M, B, I) -> next state (M, B, N).  A low-rank W is applied as
        m (n^T x) / N, never formed."""
        drive = inputs @ self.input_weights().transpose(1, 2) + self.bias.unsqueeze(1)
        slope = self._slope
        if self.form == "rate":
            z = self._recurrent_drive(state) + drive
            update = activate(self.options.activation, z, slope)
        else:
            rates = activate(self.options.activation, state, slope)
            update = self._recurrent_drive(rates) + drive
        return (1 - self.alpha) * state + self.alpha * update

    def _recurrent_drive(self, rates: Tensor) -> Tensor:
        """W r for rates (M, B, N) -> (M, B, N)."""
        weights = self.recurrent_weights()
        if len(weights) == 2:
            m, n = weights
            return (rates @ n) @ m.transpose(1, 2) / self.options.n_hidden
        return rates @ weights[0].transpose(1, 2)

    def rates(self, states: Tensor) -> Tensor:
        """Firing rates from states: r itself (rate form) or f(x) (current form)."""
        if self.form == "rate":
            return states
        return activate(self.options.activation, states, self._slope)

    def readout(self, states: Tensor) -> Tensor:
        """Outputs (after the readout activation) from states (M, ..., N) -> (M, ..., O)."""
        rates = self.rates(states)
        shape = rates.shape
        flat = rates.reshape(shape[0], -1, shape[-1])
        linear = torch.baddbmm(self.b_out.unsqueeze(1), flat, self.output_weights().transpose(1, 2))
        return self.readout_activation(linear.view(*shape[:-1], -1))


def _read_host_copies(module: _LeakyNetwork, _incompatible: object = None) -> None:
    """Host copies of the PReLU slope and of the alpha shared by every neuron (None when taus
    differ), read from the buffers once: when built (on the CPU) and after load_state_dict."""
    alpha = module.alpha.flatten()
    module._common_alpha = float(alpha[0]) if bool((alpha == alpha[0]).all()) else None
    module._max_alpha = float(alpha.max())
    module._slope = float(module.activation_slope.flatten()[0])


@register
class LeakyRateRNN(_LeakyNetwork):
    kind = "leaky_rate"
    title = "Leaky firing-rate RNN"
    form = "rate"
    menu_rank = 0
    Options = LeakyRateOptions


@register
class LeakyCurrentRNN(_LeakyNetwork):
    kind = "leaky_current"
    title = "Leaky current RNN"
    form = "current"
    menu_rank = 1
    Options = LeakyCurrentOptions
