"""The `cordsnet` network kind: convolutional continuous-time rate areas (seed 004).

Each area l holds rates r_l (C_l, H_l, W_l) and evolves by Euler with alpha = dt / tau:

.. math::  r_l \\leftarrow (1 - \\alpha) r_l + \\alpha f(\\mathrm{Rec}_l(r_l) + B_l
           + \\mathrm{In}_l(h_l) + \\eta_l)

with the residual wiring of `architecture` (every area reads the previous step's states: one
step of feed-forward delay per area), per-pixel biases B_l, weight-normalised convolutions and
an average-pooled readout.  A back-end (``backend_hidden``) adds a leaky firing-rate network
x <- (1 - a_b) x + a_b f_b(W_b x + W_fb p + W_u u + b_b) reading the pooled front-end p (again
one step late); the outputs are then read from x.

Inputs: vector tasks give u (T, B, I), mapped onto area 0's grid by W_in.  Image tasks give
``stimuli`` (B, K, C, H, W), held once, and inputs whose first K channels are the images'
presentation (contrast per step): the stem, its pool and In_0 (and In_1's part from the stem)
are computed once per image, and each step's drive is their sum weighted by the presentation,
so a batch never holds T copies of an image.  ``pixel_noise`` adds fresh noise to the shown
pixels at every step (then the stem runs every step).

States (the analyses' view): the areas flattened (C, H, W) and concatenated, then the
back-end: S = n_hidden units per member.  Parameters carry the ensemble axis M first; the M
members run as grouped convolutions.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional
from torch.utils.checkpoint import checkpoint

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.activations import activate
from rnnzoo.models.base import (
    ModelConfig,
    Network,
    NetworkOutput,
    member_generator,
    seeded_generator,
)
from rnnzoo.models.cordsnet.dense import conv_index, dense_matrix
from rnnzoo.models.cordsnet.layers import EnsembleConv, EnsembleLinear
from rnnzoo.models.cordsnet.options import CordsNetOptions
from rnnzoo.models.core import RecurrenceSpec, leaky_network
from rnnzoo.models.noise import draw_noise
from rnnzoo.models.registry import register


def _activation(name: str, z: Tensor, slope: float) -> Tensor:
    return z if name == "identity" else activate(name, z, slope)


@register
class CordsNet(Network):
    kind = "cordsnet"
    title = "CordsNet: convolutional continuous-time RNN (Soo et al. 2024)"
    menu_rank = 2
    Options = CordsNetOptions
    accepts_stimuli = True
    options: CordsNetOptions

    def __init__(self, config: ModelConfig, options: CordsNetOptions) -> None:
        super().__init__(config, options)
        arch = self.arch = options.architecture()
        if arch.image and config.n_inputs < options.n_stimuli:
            raise InvalidParameterError(
                f"cordsnet: n_inputs ({config.n_inputs}) must include the {options.n_stimuli} "
                "presentation inputs of the images (n_stimuli)"
            )
        self.n_gates = options.n_stimuli if arch.image else 0
        self.n_vector = config.n_inputs - self.n_gates
        backend = options.backend_hidden
        self.vector_to_front = self.n_vector > 0 and not (arch.image and backend)
        members = [self._draw(i) for i in range(self.n_models)]
        dtype = torch.get_default_dtype()

        def stack(key: str) -> Tensor:
            return torch.stack([m[key] for m in members]).to(dtype)

        front = options.train_front_end
        wn = options.weight_norm

        def conv(key: str, stride: int, flag: str) -> EnsembleConv:
            trainable = front and bool(getattr(options, flag))
            return EnsembleConv(stack(key), stride=stride, weight_norm=wn, trainable=trainable)

        if arch.image:
            self.stem = conv("stem", options.stem_stride, "train_input")
        if len(arch.areas) > 1 and arch.areas[1].skip == "stem":
            self.stem_skip = conv("stem_skip", arch.areas[0].stride, "train_input")
        if self.vector_to_front:
            self.w_in = nn.Parameter(stack("w_in"), requires_grad=front and options.train_input)
        self.recurrent = nn.ModuleList(
            conv(f"rec_{i}", 1, "train_recurrent") for i in range(len(arch.areas))
        )
        self.area_inputs = nn.ModuleDict(
            {
                str(i): conv(f"in_{i}", a.stride, "train_input")
                for i, a in enumerate(arch.areas)
                if i > 0 or arch.image
            }
        )
        self.skips = nn.ModuleDict(
            {
                str(i): conv(f"skip_{i}", a.skip_stride, "train_input")
                for i, a in enumerate(arch.areas)
                if a.skip == "project"
            }
        )
        self.biases = nn.ParameterList(
            nn.Parameter(
                torch.zeros(self.n_models, a.channels, a.size, a.size),
                requires_grad=front and options.train_bias,
            )
            for a in arch.areas
        )
        self.readout_weights = EnsembleLinear(
            stack("w_out"), weight_norm=wn, trainable=options.train_output
        )
        self.b_out = nn.Parameter(
            torch.zeros(self.n_models, config.n_outputs), requires_grad=options.train_output
        )
        if backend:
            self.w_fb = nn.Parameter(stack("w_fb"), requires_grad=options.train_input)
            self.w_bb = nn.Parameter(stack("w_bb"), requires_grad=options.train_recurrent)
            self.b_b = nn.Parameter(
                torch.zeros(self.n_models, backend), requires_grad=options.train_bias
            )
            if self.n_vector and arch.image:
                self.w_bu = nn.Parameter(stack("w_bu"), requires_grad=options.train_input)
        alpha = config.dt_ms / options.tau_ms
        alpha_b = config.dt_ms / options.backend_tau_ms
        if alpha > 1 or (backend and alpha_b > 1):
            raise InvalidParameterError(
                f"cordsnet: time constants must be >= dt_ms = {config.dt_ms:g} ms (alpha = dt/tau "
                f"<= 1); got tau_ms {options.tau_ms:g}"
                + (f", backend_tau_ms {options.backend_tau_ms:g}" if backend else "")
            )
        m = self.n_models

        def per_member(name: str, scale: float = 1.0) -> Tensor:
            return torch.tensor(options.per_member(name, m), dtype=dtype) * scale

        self.register_buffer("alpha", torch.full((m,), alpha, dtype=dtype))
        self.register_buffer("backend_alpha", torch.full((m,), alpha_b, dtype=dtype))
        self.register_buffer("rec_noise_std", per_member("recurrent_noise", math.sqrt(2 / alpha)))
        self.register_buffer("in_noise_std", per_member("input_noise", math.sqrt(2 / alpha)))
        self.register_buffer("pixel_noise_std", per_member("pixel_noise"))
        self.register_buffer("activation_slope", torch.full((m,), options.activation_slope))
        self.noise_generator = seeded_generator(config.seed, 1)
        self.dense = options.uses_dense()
        if self.dense:
            a = arch.areas[0]
            self._rec_index = conv_index(a.channels, a.channels, a.size, a.kernel)

    # --- construction ------------------------------------------------------------------
    def _draw(self, index: int) -> dict[str, Tensor]:
        """Initial weights of member ``index`` (float64, from its own generator, fixed order):
        feed-forward convs N(0, 2 / fan_in) (He), recurrent kernels N(0, gain^2 / fan_in),
        readout and back-end N(0, 1 / fan_in); biases start at 0."""
        gen = member_generator(self.config, index)
        opts, arch = self.options, self.arch
        gain = float(opts.per_member("gain", self.n_models)[index])

        def normal(shape: tuple[int, ...], fan_in: int, scale: float) -> Tensor:
            std = scale / math.sqrt(max(fan_in, 1))
            return torch.randn(shape, generator=gen, dtype=torch.float64) * std

        out: dict[str, Tensor] = {}
        first = arch.areas[0]
        if arch.image:
            ks = opts.stem_kernel
            out["stem"] = normal(
                (arch.stem_channels, arch.input_channels, ks, ks),
                arch.input_channels * ks * ks,
                math.sqrt(2),
            )
        if len(arch.areas) > 1 and arch.areas[1].skip == "stem":
            k = first.input_kernel
            out["stem_skip"] = normal(
                (first.channels, arch.stem_channels, k, k), arch.stem_channels * k * k, math.sqrt(2)
            )
        if self.vector_to_front:
            out["w_in"] = normal((first.units, self.n_vector), self.n_vector, 1.0)
        for i, a in enumerate(arch.areas):
            out[f"rec_{i}"] = normal(
                (a.channels, a.channels, a.kernel, a.kernel), a.channels * a.kernel**2, gain
            )
            if i > 0 or arch.image:
                k = a.input_kernel
                out[f"in_{i}"] = normal(
                    (a.channels, a.in_channels, k, k), a.in_channels * k * k, math.sqrt(2)
                )
            if a.skip == "project":
                out[f"skip_{i}"] = normal(
                    (a.in_channels, a.skip_channels, 1, 1), a.skip_channels, math.sqrt(2)
                )
        backend = opts.backend_hidden
        features = backend or arch.readout_features
        out["w_out"] = normal((self.config.n_outputs, features), features, 1.0)
        if backend:
            pooled = arch.areas[-1].channels
            out["w_fb"] = normal((backend, pooled), pooled, 1.0)
            out["w_bb"] = normal((backend, backend), backend, 1.0)
            if self.n_vector and arch.image:
                out["w_bu"] = normal((backend, self.n_vector), self.n_vector, 1.0)
        return out

    # --- interface ---------------------------------------------------------------------
    @classmethod
    def recurrent_weight_count(cls, options: CordsNetOptions) -> int:
        """Weights of one member's areas (kernels of Rec, In and projection shortcuts, the
        per-pixel biases) and stem: convolutions, not N x N matrices."""
        arch = options.architecture()
        total = arch.stem_channels * arch.input_channels * arch.stem_kernel**2 if arch.image else 0
        for area in arch.areas:
            total += area.channels * area.channels * area.kernel**2 + area.units
            total += area.channels * area.in_channels * area.input_kernel**2
            if area.skip == "project":
                total += area.channels * area.skip_channels
        return total

    @classmethod
    def options_for_task(
        cls, options: dict[str, Any], stimulus_shape: tuple[int, ...] | None
    ) -> dict[str, Any]:
        """Image tasks set input_size, input_channels and n_stimuli (a value given that
        differs is an error); vector tasks need input_size unset."""
        options = dict(options)
        if stimulus_shape is None:
            if options.get("input_size") is not None:
                raise InvalidParameterError(
                    "cordsnet: 'input_size' is for image tasks; this task has vector inputs"
                )
            return options
        k, channels, height, width = (int(v) for v in stimulus_shape)
        if height != width:
            raise InvalidParameterError(f"cordsnet: images must be square; got {height}x{width}")
        for key, value in (("input_size", height), ("input_channels", channels), ("n_stimuli", k)):
            if options.get(key) is not None and options[key] != value:
                raise InvalidParameterError(
                    f"cordsnet: '{key}' is {options[key]} but the task's images give {value}"
                )
            options[key] = value
        return options

    @property
    def state_size(self) -> int:
        return int(self.options.n_hidden)

    def state_groups(self) -> list[slice]:
        """Slices of the state vector, one per area (and the back-end): the groups the
        spontaneous penalty averages over (seed 004 averages over areas)."""
        groups = [slice(a, b) for a, b in self.arch.offsets()]
        if self.options.backend_hidden:
            groups.append(slice(self.arch.units, self.state_size))
        return groups

    def flops_per_time_step(self, batch_size: int) -> float:
        """Training FLOPs of one time step (forward 2 + backward 4 per multiply-accumulate of
        the area convolutions and the back-end)."""
        macs = self.arch.recurrent_macs() + (self.options.backend_hidden or 0) ** 2
        return 6.0 * self.n_models * batch_size * macs

    def set_activation_slope(self, slope: float) -> None:
        """Set the PReLU slope (1 linear .. 0 ReLU), e.g. while annealing (staged init)."""
        if self.options.activation != "prelu":
            raise ValueError("set_activation_slope applies to activation='prelu' only")
        if not 0 <= slope <= 1:
            raise ValueError(f"'activation_slope' must be in [0, 1]; got {slope}")
        self.activation_slope.fill_(slope)

    def area_weights(self, area: int, member: int = 0) -> dict[str, Tensor]:
        """Effective weights of ``area`` for one member: "recurrent" (C, C, k, k), "bias"
        (C, H, W) and, when present, "input" (C, C_in, k, k)."""
        if not 0 <= area < len(self.arch.areas):
            raise InvalidParameterError(
                f"'area' must be in [0, {len(self.arch.areas)}); got {area}"
            )
        out = {
            "recurrent": self.recurrent[area].effective()[member].detach(),
            "bias": self.biases[area][member].detach(),
        }
        if str(area) in self.area_inputs:
            out["input"] = self.area_inputs[str(area)].effective()[member].detach()
        return out

    # --- forward -----------------------------------------------------------------------
    def forward(
        self,
        inputs: Tensor,
        *,
        initial_state: Tensor | None = None,
        return_states: bool = False,
        generator: torch.Generator | None = None,
        noise: bool | None = None,
        stimuli: Tensor | None = None,
        record_steps: Sequence[int] | None = None,
    ) -> NetworkOutput:
        """Run over a batch: inputs (T, B, I) or (T, M, B, I); ``stimuli`` (B, K, C, H, W)
        for image inputs; initial_state (B, S) or (M, B, S) (zeros when None); ``noise`` as
        `Network.forward` (None: on in train mode, off after ``eval()``).  Returns
        outputs (T, [M,] B, O) and, with ``return_states``, the states after every step
        (T, [M,] B, S), or only after the steps in ``record_steps`` (sorted, in [0, T))."""
        x = self._check_inputs(inputs)
        steps, batch = x.shape[0], x.shape[2]
        images = self._check_stimuli(stimuli, batch)
        initial = None if initial_state is None else self._check_state(initial_state, batch)
        record = self._record_set(record_steps, steps, return_states)
        with self._noise(self.training if noise is None else bool(noise)):
            outputs, states = self._run(x, images, initial, generator, record)
        if self.config.ensemble is None:
            outputs = outputs.squeeze(1)
            states = None if states is None else states.squeeze(1)
        return NetworkOutput(outputs, states if (return_states or record_steps) else None)

    @contextmanager
    def _noise(self, on: bool) -> Iterator[None]:
        """With ``on`` False, the noise levels read as zero inside the block (the buffers are
        swapped for zeros and put back, never changed in place)."""
        names = ("rec_noise_std", "in_noise_std", "pixel_noise_std")
        if on:
            yield
            return
        kept = {name: getattr(self, name) for name in names}
        for name, value in kept.items():
            setattr(self, name, torch.zeros_like(value))
        try:
            yield
        finally:
            for name, value in kept.items():
                setattr(self, name, value)

    def _record_set(self, steps: Sequence[int] | None, n_steps: int, everything: bool):
        if steps is None:
            return range(n_steps) if everything else ()
        chosen = sorted(int(s) for s in steps)
        if chosen and (chosen[0] < 0 or chosen[-1] >= n_steps):
            raise InvalidParameterError(
                f"'record_steps' must lie in [0, {n_steps}); got {chosen[0]}..{chosen[-1]}"
            )
        return chosen

    def _check_stimuli(self, stimuli: Tensor | None, batch: int) -> Tensor | None:
        arch = self.arch
        if not arch.image:
            if stimuli is not None:
                raise InvalidParameterError(
                    "cordsnet: this network has vector inputs (input_size is None); it takes no "
                    "stimuli (set input_size for images)"
                )
            return None
        want = (
            batch,
            self.options.n_stimuli,
            arch.input_channels,
            arch.input_size,
            arch.input_size,
        )
        if stimuli is None or not isinstance(stimuli, Tensor) or tuple(stimuli.shape) != want:
            got = None if stimuli is None else tuple(getattr(stimuli, "shape", ()))
            raise InvalidParameterError(
                f"cordsnet: stimuli must be a tensor of shape (B, K, C, H, W) = {want}; got {got}"
            )
        return stimuli.to(self.b_out.dtype)

    def _effective(self) -> dict[str, Any]:
        """Every effective weight, computed once per forward pass."""
        weights: dict[str, Any] = {
            "rec": [c.effective() for c in self.recurrent],
            "in": {k: c.effective() for k, c in self.area_inputs.items()},
            "skip": {k: c.effective() for k, c in self.skips.items()},
            "out": self.readout_weights.effective(),
        }
        if self.arch.image:
            weights["stem"] = self.stem.effective()
        if hasattr(self, "stem_skip"):
            weights["stem_skip"] = self.stem_skip.effective()
        return weights

    def _stem_drives(self, images: Tensor, w: dict[str, Any]) -> tuple[Tensor, Tensor | None]:
        """Per image: area 0's drive In_0(s) and area 1's stem part In_1(P(s)), s the pooled
        stem: images (N, C, H, W) shared by the members -> (N, M * C_0, ...), (N, M * C_1, ...)."""
        m = self.n_models
        x = images.repeat(1, m, 1, 1) if m > 1 else images
        stem = self.stem.conv(x, w["stem"])
        if self.options.stem_pool:
            stem = functional.avg_pool2d(stem, 3, 2, 1)
        drive0 = self.area_inputs["0"].conv(stem, w["in"]["0"])
        drive1 = None
        if "stem_skip" in w:
            drive1 = self.area_inputs["1"].conv(
                self.stem_skip.conv(stem, w["stem_skip"]), w["in"]["1"]
            )
        return drive0, drive1

    def _run(self, x, images, initial, generator, record):
        arch, opts, m = self.arch, self.options, self.n_models
        steps, batch = x.shape[0], x.shape[2]
        generator = self.noise_generator if generator is None else generator
        w = self._effective()
        gates = x[..., : self.n_gates]
        vector = x[..., self.n_gates :]
        if bool((self.in_noise_std > 0).any()) and self.n_vector:
            noise = draw_noise(
                (steps, m, batch, self.n_vector),
                self.in_noise_std.view(1, m, 1, 1),
                0.0,
                generator,
                vector,
                time_dim=0,
            )
            vector = noise.add_(vector)
        if self.dense:
            return self._run_dense(w, vector, initial, generator, record, gates)
        banks = None
        if arch.image:
            k = self.n_gates
            flat = images.reshape(batch * k, *images.shape[2:])
            d0, d1 = self._stem_drives(flat, w)
            banks = [d.view(batch, k, m, -1, *d.shape[-2:]) for d in (d0, d1) if d is not None]
        states, back = self._unpack(initial, batch, x)
        feats, backs, recorded = [], [], []
        chunk = opts.checkpoint_steps
        record_set = set(record)
        for start in range(0, steps, chunk):
            stop = min(steps, start + chunk)
            noise = self._chunk_noise(stop - start, batch, gates, start, generator, images)

            def run(states_and_back, start=start, stop=stop, noise=noise):
                return self._chunk(
                    w, banks, gates, vector, states_and_back, start, stop, noise, record_set
                )

            carry = [*states, back] if back is not None else list(states)
            if opts.memory == "recompute" and torch.is_grad_enabled():
                out = checkpoint(lambda *c, run=run: run(list(c)), *carry, use_reentrant=False)
            else:
                out = run(carry)
            new_carry, f_chunk, b_chunk, rec_chunk = out
            states = new_carry[: len(arch.areas)]
            back = new_carry[len(arch.areas)] if back is not None else None
            feats.append(f_chunk)
            if b_chunk is not None:
                backs.append(b_chunk)
            recorded.extend(rec_chunk)
        source = torch.cat(backs if opts.backend_hidden else feats, 0)  # (T, M, B, F)
        weight = w["out"]  # (M, O, F)
        flat = source.permute(1, 0, 2, 3).reshape(m, steps * batch, -1)
        linear = torch.baddbmm(self.b_out.unsqueeze(1), flat, weight.transpose(1, 2))
        outputs = self.readout_activation(linear.view(m, steps, batch, -1).permute(1, 0, 2, 3))
        states_out = torch.stack(recorded, 0) if recorded else None
        return outputs, states_out

    def _run_dense(self, w, vector, initial, generator, record, gates):
        """The single area as its dense matrix in the fused leaky core (same equations; the
        noise is drawn as the conv engine draws it)."""
        opts, m = self.options, self.n_models
        steps, batch = vector.shape[0], vector.shape[2]
        area = self.arch.areas[0]
        size = area.units
        matrix = dense_matrix(w["rec"][0], self._rec_index)
        act = opts.activation
        spec = (
            RecurrenceSpec("rate", "prelu", 1.0)
            if act == "identity"
            else RecurrenceSpec("rate", act, float(self.activation_slope[0]))
        )
        h0 = (
            vector.new_zeros(m, batch, size)
            if initial is None
            else initial.to(vector.dtype).contiguous()
        )
        alpha = self.alpha.view(m, 1, 1).expand(m, 1, size).contiguous()
        x = vector[:, 0] if vector.shape[1] == 1 else vector
        bias = self.biases[0].reshape(m, size)
        weights = (matrix,)
        chunk = opts.checkpoint_steps
        linear, states = [], []
        for start in range(0, steps, chunk):
            stop = min(steps, start + chunk)
            noise = self._chunk_noise(stop - start, batch, gates, start, generator, None)
            rec = None
            if "areas" in noise:  # (steps, B, M * C, H, W) -> (M, steps, B, N)
                rec = noise["areas"][0].view(stop - start, batch, m, size).permute(2, 0, 1, 3)
                rec = rec.contiguous()

            def core(x_c, h_c, w_in, b, w_out, b_out, mat, rec=rec):
                return leaky_network(spec, x_c, rec, h_c, alpha, w_in, b, w_out, b_out, (mat,))

            args = (x[start:stop], h0, self.w_in, bias, w["out"], self.b_out, *weights)
            if opts.memory == "recompute" and torch.is_grad_enabled():
                lin_c, st_c = checkpoint(core, *args, use_reentrant=False)
            else:
                lin_c, st_c = core(*args)
            linear.append(lin_c)
            states.append(st_c)
            h0 = st_c[:, -1].clone()
        lin = torch.cat(linear, 1)
        outputs = self.readout_activation(lin.permute(1, 0, 2, 3))
        picked = None
        if record:
            picked = torch.cat(states, 1)[:, list(record)].permute(1, 0, 2, 3)
        return outputs, picked

    def _unpack(self, initial, batch, like):
        """Initial per-area states (B, M * C, H, W) and back-end (M, B, N) from (M, B, S)."""
        m, arch = self.n_models, self.arch
        dtype, device = self.b_out.dtype, self.b_out.device
        states = []
        for (lo, hi), a in zip(arch.offsets(), arch.areas, strict=True):
            if initial is None:
                states.append(
                    torch.zeros(batch, m * a.channels, a.size, a.size, dtype=dtype, device=device)
                )
            else:
                part = initial[..., lo:hi].to(dtype).reshape(m, batch, a.channels, a.size, a.size)
                states.append(part.transpose(0, 1).reshape(batch, m * a.channels, a.size, a.size))
        back = None
        if self.options.backend_hidden:
            n = self.options.backend_hidden
            back = (
                torch.zeros(m, batch, n, dtype=dtype, device=device)
                if initial is None
                else initial[..., arch.units :].to(dtype).contiguous()
            )
        return states, back

    def _chunk_noise(self, n_steps, batch, gates, start, generator, images):
        """Noise of one chunk, drawn outside any recomputation: per area (steps, B, M*C, H, W),
        the back-end's (steps, M, B, N) and the pixels' (steps, B, M*C_in, H, W), or None."""
        m, arch, like = self.n_models, self.arch, self.b_out
        out: dict[str, Any] = {}
        if bool((self.rec_noise_std > 0).any()):
            std = self.rec_noise_std
            out["areas"] = [
                draw_noise(
                    (n_steps, batch, m, a.channels, a.size, a.size),
                    std.view(1, 1, m, 1, 1, 1),
                    0.0,
                    generator,
                    like,
                    1,
                )
                .reshape(n_steps, batch, m * a.channels, a.size, a.size)
                .clone()
                for a in arch.areas
            ]
            if self.options.backend_hidden:
                out["backend"] = draw_noise(
                    (n_steps, m, batch, self.options.backend_hidden),
                    std.view(1, m, 1, 1),
                    0.0,
                    generator,
                    like,
                    0,
                ).clone()
        if arch.image and bool((self.pixel_noise_std > 0).any()):
            shown = (gates[start : start + n_steps] > 0).any(-1)  # (steps, 1 or M, B)
            c, s = arch.input_channels, arch.input_size
            noise = draw_noise(
                (n_steps, batch, m, c, s, s),
                self.pixel_noise_std.view(1, 1, m, 1, 1, 1),
                0.0,
                generator,
                like,
                1,
            ).clone()
            mask = shown.transpose(1, 2).to(like.dtype).reshape(n_steps, batch, -1, 1, 1, 1)
            out["pixels"] = (noise * mask).reshape(n_steps, batch, m * c, s, s)
        return out

    def _chunk(self, w, banks, gates, vector, carry, start, stop, noise, record):
        """Steps [start, stop): returns (new carry, readout sources (steps, M, B, F), back-end
        states or None, recorded flat states)."""
        arch = self.arch
        states = carry[: len(arch.areas)]
        back = carry[len(arch.areas)] if len(carry) > len(arch.areas) else None
        feats, backs, recorded = [], [], []
        for t in range(start, stop):
            j = t - start
            drive0, drive1 = self._external_drives(w, banks, gates[t], vector[t], noise, j)
            area_noise = None if "areas" not in noise else [n[j] for n in noise["areas"]]
            feat_old = self._pooled(states) if back is not None else None
            states = self._advance(w, states, drive0, drive1, area_noise)
            if back is not None:
                back = self._advance_backend(
                    back,
                    feat_old,
                    vector[t],
                    None if "backend" not in noise else noise["backend"][j],
                )
                backs.append(back)
            else:
                feats.append(self._feature(states))
            if t in record:
                recorded.append(self._flatten(states, back))
        new_carry = [*states, back] if back is not None else list(states)
        f = torch.stack(feats, 0) if feats else None
        b = torch.stack(backs, 0) if backs else None
        return new_carry, f, b, recorded

    def _external_drives(self, w, banks, gate_t, vector_t, noise, j):
        """Area 0's drive (B, M*C_0, H, W) and area 1's stem part (or None) at one step."""
        arch = self.arch
        drive0 = drive1 = None
        if arch.image:
            g = gate_t.permute(1, 2, 0)  # (B, K, 1 or M)
            shape = (g.shape[0], g.shape[1], g.shape[2], 1, 1, 1)
            weighted = [(bank * g.reshape(shape)).sum(1) for bank in banks]  # (B, M, C, H, W)
            drive0 = weighted[0].flatten(1, 2)
            drive1 = weighted[1].flatten(1, 2) if len(weighted) > 1 else None
            if "pixels" in noise:
                extra0, extra1 = self._stem_drives(noise["pixels"][j], w)
                drive0 = drive0 + extra0
                drive1 = None if drive1 is None else drive1 + extra1
        if self.vector_to_front:
            proj = self._vector_projection(vector_t)
            drive0 = proj if drive0 is None else drive0 + proj
        return drive0, drive1

    def _vector_projection(self, vector_t: Tensor) -> Tensor:
        """W_in u onto area 0's grid: u (1 or M, B, I) -> (B, M * C_0, G, G)."""
        m, first = self.n_models, self.arch.areas[0]
        u = vector_t.expand(m, -1, -1) if vector_t.shape[0] == 1 else vector_t
        proj = torch.bmm(u, self.w_in.transpose(1, 2))  # (M, B, U_0)
        return proj.transpose(0, 1).reshape(u.shape[1], m * first.channels, first.size, first.size)

    def _ff(self, r: Tensor) -> Tensor:
        return torch.relu(r) if self.options.feedforward_activation == "relu" else r

    def _advance(self, w, states, drive0, drive1, noise):
        """One Euler step of every area from the previous states."""
        opts, m = self.options, self.n_models
        alpha, slope = float(self.alpha[0]), float(self.activation_slope[0])
        g = [self._ff(r) for r in states]
        new = []
        for i, area in enumerate(self.arch.areas):
            r = states[i]
            z = self.recurrent[i].conv(r, w["rec"][i])
            bias = self.biases[i].reshape(1, m * area.channels, area.size, area.size)
            z = z + bias
            if i == 0:
                z = z + drive0
            else:
                h = g[i - 1]
                if area.skip == "identity":
                    h = h + g[i - 2]
                elif area.skip == "project":
                    h = h + self.skips[str(i)].conv(g[i - 2], w["skip"][str(i)])
                z = z + self.area_inputs[str(i)].conv(h, w["in"][str(i)])
                if i == 1 and drive1 is not None:
                    z = z + drive1
            if noise is not None:
                z = z + noise[i]
            new.append(torch.lerp(r, _activation(opts.activation, z, slope), alpha))
        return new

    def _advance_backend(self, back, feat_old, vector_t, noise):
        opts = self.options
        alpha = float(self.backend_alpha[0])
        z = torch.baddbmm(self.b_b.unsqueeze(1), back, self.w_bb.transpose(1, 2))
        z = z + torch.bmm(feat_old, self.w_fb.transpose(1, 2))
        if hasattr(self, "w_bu"):
            u = vector_t.expand(self.n_models, -1, -1) if vector_t.shape[0] == 1 else vector_t
            z = z + torch.bmm(u, self.w_bu.transpose(1, 2))
        if noise is not None:
            z = z + noise
        return torch.lerp(back, activate(opts.backend_activation, z), alpha)

    def _pooled(self, states: list[Tensor]) -> Tensor:
        """Average-pooled g(r) of the last area (plus the one before, as the seed's readout,
        when they match): (M, B, C)."""
        last = self._ff(states[-1])
        if self.arch.readout_pair:
            last = last + self._ff(states[-2])
        pooled = last.mean(dim=(-2, -1))  # (B, M * C)
        return pooled.view(pooled.shape[0], self.n_models, -1).transpose(0, 1)

    def _feature(self, states: list[Tensor]) -> Tensor:
        """The readout's input (M, B, F): pooled g(r) of the last area(s), or every unit's rate
        r of the last area (as leaky networks read out)."""
        if self.arch.readout_pooled:
            return self._pooled(states)
        last = states[-1]
        return last.reshape(last.shape[0], self.n_models, -1).transpose(0, 1)

    def _flatten(self, states: list[Tensor], back: Tensor | None) -> Tensor:
        """Per-area (B, M*C, H, W) and back-end (M, B, N) -> (M, B, S)."""
        m = self.n_models
        parts = [s.reshape(s.shape[0], m, -1).transpose(0, 1) for s in states]
        if back is not None:
            parts.append(back)
        return torch.cat(parts, -1)

    def _areas_of(self, states: Tensor) -> tuple[list[Tensor], Tensor | None]:
        """(M, B, S) -> per-area (B, M*C, H, W) and back-end (M, B, N)."""
        return self._unpack(states, states.shape[1], states)

    # --- the analyses' interface -------------------------------------------------------
    def step(self, state: Tensor, inputs: Tensor) -> Tensor:
        """One noise-free step: state (M, B, S), inputs (M, B, I) -> (M, B, S).  For image
        networks the presentation inputs must be 0 (the images are not part of the state)."""
        if self.n_gates and bool((inputs[..., : self.n_gates] != 0).any()):
            raise InvalidParameterError(
                "cordsnet.step: an image is shown (presentation inputs != 0); step() runs without "
                "images, use forward(..., stimuli=...)"
            )
        w = self._effective()
        states, back = self._areas_of(state)
        vector = inputs[..., self.n_gates :]
        drive0 = None
        if self.arch.image:
            first = self.arch.areas[0]
            drive0 = state.new_zeros(
                state.shape[1], self.n_models * first.channels, first.size, first.size
            )
        if self.vector_to_front:
            proj = self._vector_projection(vector)
            drive0 = proj if drive0 is None else drive0 + proj
        feat_old = self._pooled(states) if back is not None else None
        new = self._advance(w, states, drive0, None, None)
        if back is not None:
            back = self._advance_backend(back, feat_old, vector, None)
        return self._flatten(new, back)

    def rates(self, states: Tensor) -> Tensor:
        """Rates are the states (rate form)."""
        return states

    def readout(self, states: Tensor) -> Tensor:
        """Outputs from states (M, ..., S) -> (M, ..., O)."""
        shape = states.shape
        flat = states.reshape(shape[0], -1, shape[-1])
        if self.options.backend_hidden:
            source = flat[..., self.arch.units :]
        else:
            areas, _ = self._areas_of(flat)
            source = self._feature(areas)
        weight = self.readout_weights.effective()
        linear = torch.baddbmm(self.b_out.unsqueeze(1), source, weight.transpose(1, 2))
        return self.readout_activation(linear.view(*shape[:-1], -1))

    def extra_repr(self) -> str:
        arch = self.arch
        areas = "x".join(str(a.channels) for a in arch.areas)
        m = f", ensemble={self.config.ensemble}" if self.config.ensemble else ""
        return f"kind=cordsnet, areas={areas} channels, units={arch.units}{m}"
