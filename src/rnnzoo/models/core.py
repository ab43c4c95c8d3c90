"""The fused leaky network: input projection, T Euler steps and readout of M networks as one
autograd node.

Forms (alpha = dt/tau, per neuron; D_t = W_in u_t + b + noise_t):

- rate:    r_{t+1} = (1 - alpha) r_t + alpha f(W r_t + D_t);   readout y_t = W_out r_t + b_out
- current: x_{t+1} = (1 - alpha) x_t + alpha (W f(x_t) + D_t); readout y_t = W_out f(x_t) + b_out

Why a custom autograd Function: for small networks a Python loop of autograd ops spends its time
in per-step overhead (about ten autograd nodes per step, forward and backward) and in page faults
of fresh large buffers.  Here the forward loop runs three in-place ops per step without autograd
and the backward loop three or four; the input projection, the readout and every weight gradient
are single large matmuls over all T*B samples; and every (M, T, B, N) buffer comes from a reused
`Workspace`.  States are member-major (M, T, B, N) so those matmuls need no copy; per-step slices
are strided views that bmm reads in place.  Gradients equal plain autograd's (tested in float64).

Shapes: inputs (T, B, I) shared by all members or (T, M, B, I); noise (M, T, B, N) or None; h0
(M, B, N); alpha (M, 1, N); w_in (M, N, I); bias (M, N); w_out (M, O, N); b_out (M, O); recurrent
weights: dense W (M, N, N) acting as W @ r, or low-rank m, n (M, N, R) with W = m n^T / N.
Returns the linear readout (M, T, B, O) and the states after each step (M, T, B, N).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnzoo.models.activations import activate_, derivative_, derivative_from_output_
from rnnzoo.models.workspace import WORKSPACE


@dataclass(frozen=True)
class RecurrenceSpec:
    """What the core integrates: form ('rate' or 'current'), activation and PReLU slope."""

    form: str
    activation: str
    slope: float = 0.0


class _Dense:
    """W (M, N, N) acting as z = W r on row vectors: z = r W^T."""

    def __init__(self, weight: Tensor) -> None:
        self.weight = weight
        self.weight_t = weight.transpose(1, 2)

    def forward_into(self, out: Tensor, r: Tensor, add: Tensor) -> Tensor:
        """out = add + r W^T."""
        return torch.baddbmm(add, r, self.weight_t, out=out)

    def accumulate_into(self, out: Tensor, add: Tensor, g: Tensor) -> Tensor:
        """out = add + g W (out-of-place: in-place baddbmm_ is 2x slower on CPU)."""
        return torch.baddbmm(add, g, self.weight, out=out)

    def transpose_into(self, out: Tensor, g: Tensor) -> Tensor:
        """out = g W."""
        return torch.bmm(g, self.weight, out=out)

    def grads(self, pairs: list[tuple[Tensor, Tensor]]) -> tuple[Tensor]:
        """Sum of post^T pre over (post-synaptic grad, pre-synaptic activity) pairs (M, S, N)."""
        return (sum(torch.bmm(post.transpose(1, 2), pre) for post, pre in pairs),)


class _LowRank:
    """W = m n^T / N with m, n (M, N, R), never formed: z = ((r n) m^T) / N."""

    def __init__(self, m: Tensor, n: Tensor) -> None:
        self.size = m.shape[1]
        self.m_scaled = m / self.size
        self.m_scaled_t = self.m_scaled.transpose(1, 2)
        self.n, self.n_t = n, n.transpose(1, 2)

    def forward_into(self, out: Tensor, r: Tensor, add: Tensor) -> Tensor:
        return torch.baddbmm(add, torch.bmm(r, self.n), self.m_scaled_t, out=out)

    def accumulate_into(self, out: Tensor, add: Tensor, g: Tensor) -> Tensor:
        return torch.baddbmm(add, torch.bmm(g, self.m_scaled), self.n_t, out=out)

    def transpose_into(self, out: Tensor, g: Tensor) -> Tensor:
        return torch.bmm(torch.bmm(g, self.m_scaled), self.n_t, out=out)

    def grads(self, pairs: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor]:
        grad_m = sum(torch.bmm(post.transpose(1, 2), torch.bmm(pre, self.n)) for post, pre in pairs)
        grad_n = sum(
            torch.bmm(pre.transpose(1, 2), torch.bmm(post, self.m_scaled)) for post, pre in pairs
        )
        return grad_m / self.size, grad_n


def _operator(weights: tuple[Tensor, ...]) -> _Dense | _LowRank:
    return _Dense(*weights) if len(weights) == 1 else _LowRank(*weights)


def _flat(x: Tensor) -> Tensor:
    """(M, T, B, N) -> (M, T*B, N) as a view (x[:, a:b] of a member-major buffer qualifies)."""
    return x.reshape(x.shape[0], -1, x.shape[-1])


def _weight_pairs(post: Tensor, states: Tensor, first: Tensor) -> list[tuple[Tensor, Tensor]]:
    """Pairs for the weight gradient: step t's post grad with the activity before step t
    (``first`` before step 0, then the states 1 .. T-1), without concatenating a copy."""
    pairs = [(post[:, 0], first)]
    if post.shape[1] > 1:
        pairs.append((_flat(post[:, 1:]), _flat(states[:, :-1])))
    return pairs


class _LeakyNetwork(torch.autograd.Function):
    @staticmethod
    def forward(ctx, spec, inputs, noise, h0, alpha, w_in, bias, w_out, b_out, *weights):
        op = _operator(weights)
        n_models, size = w_in.shape[:2]
        steps, batch = inputs.shape[0], inputs.shape[-2]
        drive = WORKSPACE.get((n_models, steps, batch, size), w_in)
        for m in range(n_models):
            torch.addmm(
                bias[m],
                _member_inputs(inputs, m),
                w_in[m].t(),
                out=drive[m].view(steps * batch, size),
            )
        if noise is not None:
            drive.add_(noise)
        states = WORKSPACE.get((n_models, steps, batch, size), w_in)
        state = h0
        if spec.form == "rate":
            rates = WORKSPACE.get((steps, n_models, batch, size), w_in)  # f(z_t) for backward
            for t, drive_t in enumerate(drive.unbind(1)):
                phi = activate_(
                    spec.activation, op.forward_into(rates[t], state, drive_t), spec.slope
                )
                state = torch.lerp(state, phi, alpha, out=states[:, t])
            del drive
            readout_from = states
        else:
            phi, total = h0.new_empty(h0.shape), h0.new_empty(h0.shape)
            for t, drive_t in enumerate(drive.unbind(1)):
                activate_(spec.activation, phi.copy_(state), spec.slope)
                op.forward_into(total, phi, drive_t)
                state = torch.lerp(state, total, alpha, out=states[:, t])
            del drive
            rates = None
            readout_from = activate_(
                spec.activation, WORKSPACE.get(states.shape, w_in).copy_(states), spec.slope
            )
        linear = torch.baddbmm(b_out.unsqueeze(1), _flat(readout_from), w_out.transpose(1, 2))
        saved = (inputs, h0, alpha, w_in, w_out, states) + ((rates,) if rates is not None else ())
        ctx.save_for_backward(*saved, *weights)
        ctx.spec, ctx.used, ctx.n_weights = spec, False, len(weights)
        ctx.set_materialize_grads(False)  # unused states get no (M, T, B, N) zero gradient
        return linear.view(n_models, steps, batch, -1), states

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_linear: Tensor | None, grad_states: Tensor | None):
        if ctx.used:
            raise RuntimeError(
                "the fused leaky network reuses its buffers in backward: run backward once per "
                "forward (retain_graph is not supported)"
            )
        ctx.used = True
        spec = ctx.spec
        saved = ctx.saved_tensors
        weights = saved[len(saved) - ctx.n_weights :]
        inputs, h0, alpha, w_in, w_out, states = saved[:6]
        rates = saved[6] if spec.form == "rate" else None
        op = _operator(weights)
        n_models, steps, batch, size = states.shape
        like = states

        # direct gradient on each state: from the readout (and from the caller, if any)
        direct = WORKSPACE.get(states.shape, like)
        if grad_linear is None:
            direct.zero_()
        else:
            grad_linear = grad_linear.reshape(n_models, steps * batch, -1)
            torch.bmm(grad_linear, w_out, out=_flat(direct))
        slopes = None
        if spec.form == "current":  # readout of f(x): chain through f'(x_{t+1})
            slopes = derivative_(
                spec.activation, WORKSPACE.get(states.shape, like).copy_(states), spec.slope
            )
            direct.mul_(slopes)
        if grad_states is not None:
            direct.add_(grad_states)

        keep = 1 - alpha
        grad_drive = WORKSPACE.get(states.shape, like)
        grad_out = direct.unbind(1)
        buffers = [h0.new_empty(h0.shape) for _ in range(3)]
        g = buffers[0].copy_(grad_out[-1])  # dL/d(state after step t), accumulated backwards

        def free(*used: Tensor) -> Tensor:
            return next(b for b in buffers if all(b is not u for u in used))

        def carry(t: int, g: Tensor) -> Tensor:
            """keep * g plus the direct gradient of the state before step t, into a free buffer."""
            acc = free(g)
            if t == 0:
                return torch.mul(g, keep, out=acc)
            return torch.addcmul(grad_out[t - 1], keep, g, out=acc)

        if spec.form == "rate":
            gains = derivative_from_output_(spec.activation, rates, spec.slope).mul_(alpha)
            for t in range(steps - 1, -1, -1):
                gz = torch.mul(g, gains[t], out=grad_drive[:, t])
                base = carry(t, g)
                g = op.accumulate_into(free(g, base), base, gz)
            presyn, first = states, h0
        else:
            first_slope = derivative_(spec.activation, h0.clone(), spec.slope)
            gphi = h0.new_empty(h0.shape)
            for t in range(steps - 1, -1, -1):
                gu = torch.mul(g, alpha, out=grad_drive[:, t])
                op.transpose_into(gphi, gu)
                base = carry(t, g)
                g = torch.addcmul(base, slopes[:, t - 1] if t else first_slope, gphi, out=base)
            presyn = activate_(spec.activation, slopes.copy_(states), spec.slope)
            first = activate_(spec.activation, h0.clone(), spec.slope)

        needs = ctx.needs_input_grad
        grad_inputs = grad_w_in = grad_bias = grad_w_out = grad_b_out = None
        if needs[1]:
            grad_inputs = _inputs_grad(inputs, grad_drive, w_in)
        if needs[5]:  # u^T G is 3x faster than G^T u for few inputs
            grad_w_in = torch.stack(
                [
                    (_member_inputs(inputs, m).t() @ grad_drive[m].view(steps * batch, size)).t()
                    for m in range(n_models)
                ]
            )
        if needs[6]:
            grad_bias = grad_drive.sum(dim=(1, 2))
        if grad_linear is not None and needs[7]:
            grad_w_out = torch.bmm(grad_linear.transpose(1, 2), _flat(presyn))
        if grad_linear is not None and needs[8]:
            grad_b_out = grad_linear.sum(dim=1)
        grad_weights = op.grads(_weight_pairs(grad_drive, presyn, first))
        grad_weights = tuple(gw if needs[9 + i] else None for i, gw in enumerate(grad_weights))
        grad_h0 = g if needs[3] else None
        return (
            None,
            grad_inputs,
            None,
            grad_h0,
            None,
            grad_w_in,
            grad_bias,
            grad_w_out,
            grad_b_out,
            *grad_weights,
        )


def _member_inputs(inputs: Tensor, m: int) -> Tensor:
    """Inputs of member m as (T*B, I): shared (T, B, I) or per member (T, M, B, I)."""
    x = inputs if inputs.dim() == 3 else inputs[:, m]
    return x.reshape(-1, x.shape[-1])


def _inputs_grad(inputs: Tensor, grad_drive: Tensor, w_in: Tensor) -> Tensor:
    """dL/du from dL/dD (M, T, B, N): summed over members when the inputs are shared."""
    per_member = torch.matmul(grad_drive, w_in.unsqueeze(1))  # (M, T, B, I)
    if inputs.dim() == 3:
        return per_member.sum(0)
    return per_member.transpose(0, 1)


def leaky_network(
    spec: RecurrenceSpec,
    inputs: Tensor,
    noise: Tensor | None,
    h0: Tensor,
    alpha: Tensor,
    w_in: Tensor,
    bias: Tensor,
    w_out: Tensor,
    b_out: Tensor,
    weights: tuple[Tensor, ...],
) -> tuple[Tensor, Tensor]:
    """Run the fused network; returns (linear readout (M, T, B, O), states (M, T, B, N))."""
    return _LeakyNetwork.apply(spec, inputs, noise, h0, alpha, w_in, bias, w_out, b_out, *weights)
