"""The network as the non-BPTT rules see it: effective weights, a forward loop that records what
the rules need, the mapping of updates back onto the parameters, and the rules' own seeds.

Every leaky network and the vanilla RNN are one family here (the vanilla RNN is the rate form
with alpha = 1):

    rate:     a_t = W r_{t-1} + W_in u_t + b + eta_t,  r_t = (1 - alpha) r_{t-1} + alpha f(a_t)
    current:  a_t = W r_{t-1} + W_in u_t + b + eta_t,  x_t = (1 - alpha) x_{t-1} + alpha a_t,
              r_t = f(x_t)
    output:   z_t = W_out r_t + b_out   (linear readout)

with zero initial state, eta the network's recurrent noise (its own `sample_noise`, input noise
included) and, for node perturbation, exploratory kicks added to a_t.  Shapes: T steps, M
members, B trials, N units, I inputs, O outputs; every tensor carries the member axis M.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.activations import activate, derivative_from_output_
from rnnzoo.models.base import Network, seeded_generator

LEAKY_KINDS = ("leaky_rate", "leaky_current")
SIMPLE_KINDS = (*LEAKY_KINDS, "vanilla")
WEIGHT_NAMES = ("w", "w_in", "bias", "w_out", "b_out")

# Spawn keys of the rules' random draws (the network uses 0: weights, 1: noise; the trainer 1
# and 2): stream k of the network's seed, one per member (member index = net.config.member + i),
# so member i of an ensemble draws exactly what the standalone network member=i draws.
FEEDBACK_STREAM = 11
TEACHER_STREAM = 12
PERTURBATION_STREAM = 13


@dataclass(frozen=True)
class Form:
    """How a network of the family updates: form, activation f, alpha (M, 1, N)."""

    form: str  # "rate" | "current"
    activation: str
    slope: float
    alpha: Tensor

    def f(self, z: Tensor) -> Tensor:
        return activate(self.activation, z, self.slope)

    def df(self, z: Tensor) -> Tensor:
        """f'(z), from f(z) (exact for every activation of the zoo, also ReLU at z <= 0)."""
        return derivative_from_output_(self.activation, self.f(z), self.slope)


def form_of(net: Network, dtype: torch.dtype | None = None) -> Form:
    """The update form of a leaky or vanilla network (alpha in ``dtype`` when given)."""
    if net.kind == "vanilla":
        alpha = net.w_in.new_ones(net.n_models, 1, net.options.n_hidden)
        form = Form("rate", net.options.activation, 0.0, alpha)
    else:
        form = Form(net.form, net.options.activation, float(net.activation_slope[0]), net.alpha)
    return (
        form
        if dtype is None
        else Form(form.form, form.activation, form.slope, form.alpha.to(dtype))
    )


def effective_weights(net: Network) -> dict[str, Tensor]:
    """W (M, N, N), W_in (M, N, I), b (M, N), W_out (M, O, N), b_out (M, O) as the dynamics
    use them, as differentiable functions of the parameters (Dale's signs, masks, low rank)."""
    if net.kind == "vanilla":
        return {
            "w": net.w_rec,
            "w_in": net.w_in,
            "bias": net.bias,
            "w_out": net.w_out,
            "b_out": net.b_out,
        }
    return {
        "w": net.recurrent_matrix(),
        "w_in": net.input_weights(),
        "bias": net.bias,
        "w_out": net.output_weights(),
        "b_out": net.b_out,
    }


def weights_of(net: Network, dtype: torch.dtype | None = None) -> dict[str, Tensor]:
    """Detached copies of `effective_weights` (in ``dtype`` when given)."""
    with torch.no_grad():
        return {
            k: v.detach().to(dtype or v.dtype).clone() for k, v in effective_weights(net).items()
        }


def write_gradients(net: Network, grads: dict[str, Tensor]) -> None:
    """Accumulate ``grads`` (dL/d effective weight, keyed as `effective_weights`) into the
    parameters' ``.grad`` by the chain rule through the parametrisation (signs, masks, factors);
    weights whose parameters are frozen are skipped."""
    with torch.enable_grad():
        eff = effective_weights(net)
        pairs = [(eff[k], g.to(eff[k].dtype)) for k, g in grads.items() if eff[k].requires_grad]
        if pairs:
            torch.autograd.backward([t for t, _ in pairs], [g for _, g in pairs])


def add_to_parameters(net: Network, deltas: dict[str, Tensor]) -> None:
    """Add effective-weight changes to the parameters of a plainly parametrised network (no
    Dale's law, no low rank: `require_plain`); a sparse mask keeps absent connections at 0."""
    params = {"w": "w_rec", "w_in": "w_in", "bias": "bias", "w_out": "w_out", "b_out": "b_out"}
    with torch.no_grad():
        for key, delta in deltas.items():
            param = getattr(net, params[key])
            if key == "w" and getattr(net, "rec_mask", None) is not None:
                delta = delta * net.rec_mask
            param.add_(delta.to(param.dtype))


def require_kind(rule: str, net: Network, kinds: tuple[str, ...] = SIMPLE_KINDS) -> None:
    if net.kind not in kinds:
        raise InvalidParameterError(
            f"rule '{rule}' trains {', '.join(kinds)} networks; got model '{net.kind}' "
            "(use rule 'bptt')"
        )


def require_linear_readout(rule: str, net: Network) -> None:
    readout = net.options.readout
    if readout != "linear":
        raise InvalidParameterError(
            f"rule '{rule}' needs a linear readout (its error signal is z - target); model "
            f"'{net.kind}' has readout '{readout}' (set readout=linear)"
        )


def require_plain(rule: str, net: Network, *, mask_allowed: bool, why: str) -> None:
    """Refuse parametrisations the rule cannot update directly (Dale's law, low rank, and
    unless ``mask_allowed`` a sparse mask or no self-connections)."""
    if net.kind == "vanilla":
        return
    opts = net.options
    problems = []
    if opts.dale:
        problems.append("dale=true")
    if opts.rank is not None:
        problems.append(f"rank={opts.rank}")
    if not mask_allowed and not opts.dale and net.rec_mask is not None:
        problems.append("connection_prob < 1 or self_connections=false")
    if problems:
        raise InvalidParameterError(
            f"rule '{rule}' {why}; model '{net.kind}' has {', '.join(problems)}"
        )


def require_mse(rule: str, train: Any) -> None:
    """The rules' error signals are those of the masked squared error."""
    if train.loss != "mse":
        raise InvalidParameterError(
            f"rule '{rule}' learns from the squared output error; train.loss is '{train.loss}' "
            "(use loss=mse, or rule 'bptt')"
        )
    penalties = {
        k: getattr(train, k) for k in ("l1_weights", "l2_weights", "l1_activity", "l2_activity")
    }
    used = [k for k, v in penalties.items() if v]
    if used:
        raise InvalidParameterError(
            f"rule '{rule}' has no term for the penalties {', '.join(used)} (BPTT only); set "
            "them to 0 or use rule 'bptt'"
        )


def require_family(rule: str, context: Any) -> None:
    """What every rule beyond BPTT needs: a network of the family, a linear readout, the
    squared-error loss without BPTT's penalties."""
    require_kind(rule, context.net)
    require_linear_readout(rule, context.net)
    require_mse(rule, context.train)


def member_generators(net: Network, stream: int) -> list[torch.Generator]:
    """One generator per member for the rule's draws of ``stream`` (see FEEDBACK_STREAM)."""
    return [
        seeded_generator(net.config.seed, stream, net.config.member + i)
        for i in range(net.n_models)
    ]


def per_member_normal(
    net: Network, stream: int, shape: tuple[int, ...], std: float, dtype: torch.dtype
) -> Tensor:
    """(M, *shape) draws N(0, std^2), member i from its own stream."""
    draws = [
        torch.randn(shape, generator=g, dtype=torch.float64) for g in member_generators(net, stream)
    ]
    return (torch.stack(draws) * std).to(dtype)


def per_member_uniform(
    net: Network, stream: int, shape: tuple[int, ...], bound: float, dtype: torch.dtype
) -> Tensor:
    """(M, *shape) draws U(-bound, bound), member i from its own stream."""
    draws = [
        torch.rand(shape, generator=g, dtype=torch.float64) * 2 - 1
        for g in member_generators(net, stream)
    ]
    return (torch.stack(draws) * bound).to(dtype)


def noisy_inputs(
    net: Network, inputs: Tensor, generator: torch.Generator
) -> tuple[Tensor, Tensor | None]:
    """Inputs (T, 1 or M, B, I) with the network's input noise, and its recurrent noise
    (M, T, B, N) or None, drawn as the network's own forward draws them."""
    x = net._check_inputs(inputs).to(net.w_in.dtype)
    if net.kind == "vanilla":
        return x, None
    x, noise = net.sample_noise(x[:, 0] if x.shape[1] == 1 else x, generator)
    return (x.unsqueeze(1) if x.dim() == 3 else x), noise


@dataclass
class Trajectory:
    """What one forward pass recorded, each (T, M, B, ·).

    drive: a_t (the argument of f in the rate form; the drive of the current form);
    states: r_t (rate) or x_t (current); rates: r_t; previous: r_{t-1} (r_{-1} = f(0) in the
    current form, 0 in the rate form); inputs: the noisy inputs u_t (T, 1 or M, B, I);
    outputs: z_t."""

    drive: Tensor
    states: Tensor
    rates: Tensor
    previous: Tensor
    inputs: Tensor
    outputs: Tensor


@torch.no_grad()
def simulate(
    form: Form,
    weights: dict[str, Tensor],
    inputs: Tensor,
    noise: Tensor | None,
    kicks: Tensor | None = None,
) -> Trajectory:
    """Run the dynamics with fixed ``weights`` (see `weights_of`) on ``inputs`` (T, 1 or M, B,
    I) with recurrent ``noise`` (M, T, B, N) and optional ``kicks`` (T, M, B, N) added to a_t."""
    w_t = weights["w"].transpose(1, 2)
    drive_in = project(inputs, weights["w_in"]) + weights["bias"].unsqueeze(1)
    if noise is not None:
        drive_in = drive_in + noise.transpose(0, 1)
    if kicks is not None:
        drive_in = drive_in + kicks
    steps, members, batch, size = drive_in.shape
    drive = torch.empty_like(drive_in)
    states = torch.empty_like(drive_in)
    previous = torch.empty_like(drive_in)
    state = drive_in.new_zeros(members, batch, size)
    rates = state if form.form == "rate" else form.f(state)
    alpha = form.alpha.to(state.dtype)
    decay = 1 - alpha
    for t in range(steps):
        previous[t] = rates
        a = torch.baddbmm(drive_in[t], rates, w_t)
        drive[t] = a
        target = form.f(a) if form.form == "rate" else a
        state = torch.addcmul(decay * state, alpha, target)
        states[t] = state
        rates = state if form.form == "rate" else form.f(state)
    all_rates = states if form.form == "rate" else form.f(states)
    return Trajectory(drive, states, all_rates, previous, inputs, readout(weights, all_rates))


def readout(weights: dict[str, Tensor], rates: Tensor) -> Tensor:
    """z = W_out r + b_out: rates (..., M, B, N) -> (..., M, B, O)."""
    return project(rates, weights["w_out"]) + weights["b_out"].unsqueeze(1)


def project(x: Tensor, w: Tensor) -> Tensor:
    """x W^T per member: x (T, 1 or M, B, K), w (M, N, K) -> (T, M, B, N), as one batched
    product over the members (broadcasting T against M would run T * M small products)."""
    steps, members, batch, size = x.shape
    flat = x.permute(1, 0, 2, 3).reshape(members, steps * batch, size)
    out = torch.matmul(flat if members > 1 else flat[0], w.transpose(1, 2))  # (M, T * B, N)
    return out.view(w.shape[0], steps, batch, -1).permute(1, 0, 2, 3)


def output_errors(outputs: Tensor, targets: Tensor, weights: Tensor) -> Tensor:
    """dL/dz_t of the trainer's masked MSE, L = sum(w (z - y)^2) / sum(w) per member:
    outputs (T, M, B, O), targets and weights (T, B, O) -> (T, M, B, O)."""
    w = weights.unsqueeze(1)
    return 2 * w * (outputs - targets.unsqueeze(1)) / weights.sum().clamp_min(1e-12)


def presynaptic(traj: Trajectory) -> Tensor:
    """[r_{t-1}, u_t, 1] (T, M, B, N + I + 1): what W, W_in and b multiply at step t."""
    steps, members, batch, _ = traj.previous.shape
    inputs = traj.inputs.expand(steps, members, batch, traj.inputs.shape[-1])
    ones = traj.previous.new_ones(steps, members, batch, 1)
    return torch.cat([traj.previous, inputs, ones], dim=-1)


def split_presynaptic(grad: Tensor, n_hidden: int, n_inputs: int) -> dict[str, Tensor]:
    """(M, N, N + I + 1) -> {"w": (M, N, N), "w_in": (M, N, I), "bias": (M, N)}."""
    return {
        "w": grad[..., :n_hidden],
        "w_in": grad[..., n_hidden : n_hidden + n_inputs],
        "bias": grad[..., -1],
    }
