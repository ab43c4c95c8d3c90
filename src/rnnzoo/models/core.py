"""The fused leaky network: input projection, T Euler steps and readout of M networks as one
autograd node.

Forms (alpha = dt/tau per neuron, noise_t in the drive):

- rate:    r_{t+1} = (1 - alpha) r_t + alpha f(W r_t + W_in u_t + b + noise_t); y_t = W_out r_{t+1}
- current: x_{t+1} = (1 - alpha) x_t + alpha (W f(x_t) + W_in u_t + b + noise_t);
  y_t = W_out f(x_{t+1})   (plus b_out)

Why a custom autograd Function: for small networks a Python loop of autograd ops spends its time
in per-step overhead (about ten autograd nodes per step, forward and backward) and in page faults
of fresh large buffers; tall-skinny matmuls with 3 inputs or outputs run far below the matmul
rate.  So:

- the activity before each step is stored augmented, a_t = [r_t, u_t, 1] (M, T+1, B, N+I+1), and
  W_aug = [W, W_in, b], so each step is ONE matmul a_t W_aug^T (input projection and bias folded
  in), followed by the activation and a lerp, all in place;
- the backward loop is three ops per step (rate form); the readout's gradient enters the loop as a
  small matmul per step instead of a (M, T, B, N) product;
- every weight gradient (W, W_in, b, W_out) comes from ONE batched matmul [G, dy]^T a over all T*B
  samples, where G holds the per-step gradients of the drive;
- every large buffer comes from a reused `Workspace`.

States are member-major (M, T, B, N) so these matmuls need no copies; per-step slices are strided
views that bmm reads in place.  Gradients equal plain autograd's (tested in float64).

Shapes: inputs (T, B, I) shared by all members or (T, M, B, I); noise (M, T, B, N) or None; h0
(M, B, N); alpha (M, 1, N); w_in (M, N, I); bias (M, N); w_out (M, O, N); b_out (M, O); recurrent
weights: dense W (M, N, N) acting as W @ r, or low-rank m, n (M, N, R) with W = m n^T / N.
Returns the linear readout (M, T, B, O) and the states (M, T, B, N) after each step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnzoo.models import kernels
from rnnzoo.models.activations import activate_, activate_into, derivative_from_output_
from rnnzoo.models.workspace import WORKSPACE


@dataclass(frozen=True)
class RecurrenceSpec:
    """What the core integrates: form ('rate' or 'current'), activation and PReLU slope."""

    form: str
    activation: str
    slope: float = 0.0


class _Steps:
    """Per-step views: for a single dense network (M = 1) the loops run on 2-D views with
    mm/addmm, whose dispatch is about 20 % cheaper than bmm/baddbmm at N = 64."""

    def __init__(self, squeeze: bool) -> None:
        self.squeeze = squeeze
        self.mm, self.addmm = (torch.mm, torch.addmm) if squeeze else (torch.bmm, torch.baddbmm)

    def member(self, x: Tensor) -> Tensor:
        """(M, ...) -> (...) when squeezing."""
        return x[0] if self.squeeze else x

    def over_time(self, x: Tensor) -> tuple[Tensor, ...]:
        """Per-step views of a member-major (M, T, ...) buffer."""
        return x[0].unbind(0) if self.squeeze else x.unbind(1)

    def time_major(self, x: Tensor) -> tuple[Tensor, ...]:
        """Per-step views of a time-major (T, M, ...) buffer."""
        return x[:, 0].unbind(0) if self.squeeze else x.unbind(0)


class _Dense:
    """Dense recurrence with the input weights and bias appended: W_aug = [W, W_in, b]
    (``tail`` = [W_in, b]; backward needs only W)."""

    def __init__(self, weight: Tensor, tail: Tensor | None = None, squeeze: bool = False) -> None:
        pick = _Steps(squeeze)
        self.mm, self.addmm = pick.mm, pick.addmm
        self.weight = pick.member(weight)
        if tail is not None:
            self.w_aug_t = pick.member(torch.cat([weight, tail], dim=2)).transpose(-1, -2)

    def drive_into(self, out: Tensor, activity: Tensor, noise: Tensor | None) -> Tensor:
        """out = [r, u, 1] W_aug^T (+ noise): the pre-activation of one step."""
        if noise is None:
            return self.mm(activity, self.w_aug_t, out=out)
        return self.addmm(noise, activity, self.w_aug_t, out=out)

    def back_into(self, out: Tensor, add: Tensor, g: Tensor) -> Tensor:
        """out = add + g W."""
        return self.addmm(add, g, self.weight, out=out)

    def transpose_into(self, out: Tensor, g: Tensor) -> Tensor:
        """out = g W."""
        return self.mm(g, self.weight, out=out)


class _LowRank:
    """W = m n^T / N, never formed; the input weights and bias form a separate [W_in, b]."""

    def __init__(self, m: Tensor, n: Tensor, tail: Tensor | None = None) -> None:
        self.size = m.shape[1]
        self.m_scaled = m / self.size
        self.m_scaled_t, self.n, self.n_t = self.m_scaled.transpose(1, 2), n, n.transpose(1, 2)
        self.tail_t = None if tail is None else tail.transpose(1, 2)

    def drive_into(self, out: Tensor, activity: Tensor, noise: Tensor | None) -> Tensor:
        size = self.size
        kappa = torch.bmm(activity[..., :size], self.n)
        torch.baddbmm(torch.bmm(activity[..., size:], self.tail_t), kappa, self.m_scaled_t, out=out)
        return out if noise is None else out.add_(noise)

    def back_into(self, out: Tensor, add: Tensor, g: Tensor) -> Tensor:
        return torch.baddbmm(add, torch.bmm(g, self.m_scaled), self.n_t, out=out)

    def transpose_into(self, out: Tensor, g: Tensor) -> Tensor:
        return torch.bmm(torch.bmm(g, self.m_scaled), self.n_t, out=out)


def _flat(x: Tensor) -> Tensor:
    """(M, T, B, K) -> (M, T*B, K) as a view (row-strided slices of a buffer qualify)."""
    return x.reshape(x.shape[0], -1, x.shape[-1])


def _padded(width: int) -> int:
    """Width rounded up to a multiple of 8: MKL's K-long gemm with an output of 67 x 68 runs at
    38 GFLOP/s here, padded to 72 x 72 at 58 (pads are never read into kept results)."""
    return -(-width // 8) * 8


def _fill_activity_tail(activity: Tensor, inputs: Tensor, size: int) -> None:
    """activity[:, t, :, N:] = [u_t, 1] for t < T (row T has no step after it)."""
    steps = activity.shape[1] - 1
    tail = activity[:, :steps, :, size:]
    tail[..., :-1].copy_(inputs.unsqueeze(0) if inputs.dim() == 3 else inputs.transpose(0, 1))
    tail[..., -1].fill_(1.0)
    activity[:, steps, :, size:].zero_()


def _fused_forward(fused, spec, activity, noise, h0, alpha, tail, weights):
    """The forward loop in the compiled kernel; returns (states, saved for backward)."""
    n_models, steps_1, batch, width = activity.shape
    size = alpha.shape[-1]
    if len(weights) == 1:
        step_weights = [torch.cat([weights[0], tail], dim=2).transpose(1, 2)]
    else:
        m, n = weights
        step_weights = [n, (m / size).transpose(1, 2), tail.transpose(1, 2)]
    if spec.form == "rate":
        out = WORKSPACE.get((steps_1 - 1, n_models, batch, size), activity)  # f(z_t)
        states = activity[:, 1:, :, :size]
    else:
        out = states = WORKSPACE.get((n_models, steps_1 - 1, batch, size), activity)
    chunk = kernels.members_per_chunk(n_models, batch, size, width, activity.element_size())
    form = 0 if spec.form == "rate" else 1
    code = kernels.ACTIVATION_CODES[spec.activation]
    fused.leaky_forward(
        form, code, spec.slope, activity, out, step_weights, noise, alpha, h0, chunk
    )
    return states, (out,)


def _fused_backward(fused, spec, phi, gy, grad_states, w_out, alpha, weights, post):
    """The backward loop in the compiled kernel: fills the drive gradients post[..., :N] and
    returns the gradient of the initial state (M, B, N)."""
    n_models, _, batch, _ = gy.shape
    size = alpha.shape[-1]
    if len(weights) == 1:
        step_weights = [weights[0]]
    else:
        m, n = weights
        step_weights = [m / size, n.transpose(1, 2)]
    grad_h0 = gy.new_empty(n_models, batch, size)
    chunk = kernels.members_per_chunk(n_models, batch, size, size, gy.element_size())
    form = 0 if spec.form == "rate" else 1
    code = kernels.ACTIVATION_CODES[spec.activation]
    fused.leaky_backward(
        form,
        code,
        spec.slope,
        phi,
        gy,
        grad_states,
        w_out,
        alpha,
        step_weights,
        post,
        grad_h0,
        chunk,
    )
    return grad_h0


class _LeakyNetwork(torch.autograd.Function):
    @staticmethod
    def forward(ctx, spec, inputs, noise, h0, alpha, w_in, bias, w_out, b_out, *weights):
        n_models, size = w_in.shape[:2]
        steps, batch = inputs.shape[0], inputs.shape[-2]
        tail = torch.cat([w_in, bias.unsqueeze(-1)], dim=2)
        width = size + tail.shape[-1]
        padded = WORKSPACE.get((n_models, steps + 1, batch, _padded(width)), w_in)
        activity = padded[..., :width]
        _fill_activity_tail(activity, inputs, size)
        fused = kernels.fused_ops(w_in)
        pick = _Steps(n_models == 1 and len(weights) == 1)
        op = (
            _Dense(weights[0], tail, pick.squeeze)
            if len(weights) == 1
            else _LowRank(*weights, tail)
        )
        noise_steps = [None] * steps if noise is None else pick.over_time(noise)
        act = pick.over_time(activity)
        act_n = pick.over_time(activity[..., :size])  # the r_t (or f(x_t)) part of each row
        rate = pick.member(alpha)
        if fused is not None:
            states, saved = _fused_forward(fused, spec, activity, noise, h0, alpha, tail, weights)
        elif spec.form == "rate":
            act_n[0].copy_(pick.member(h0))
            rates = WORKSPACE.get((steps, n_models, batch, size), w_in)  # f(z_t) for backward
            for t, z in enumerate(pick.time_major(rates)):
                activate_(spec.activation, op.drive_into(z, act[t], noise_steps[t]), spec.slope)
                torch.lerp(act_n[t], z, rate, out=act_n[t + 1])
            states = activity[:, 1:, :, :size]
            saved = (rates,)
        else:
            states = WORKSPACE.get((n_models, steps, batch, size), w_in)
            state = pick.member(h0)
            total = state.new_empty(state.shape)
            for t, x_next in enumerate(pick.over_time(states)):
                activate_into(spec.activation, state, act_n[t], spec.slope)
                op.drive_into(total, act[t], noise_steps[t])
                state = torch.lerp(state, total, rate, out=x_next)
            activate_into(spec.activation, state, act_n[steps], spec.slope)
            saved = (states,)
        readout = _flat(activity[:, 1:, :, :size])
        linear = torch.baddbmm(b_out.unsqueeze(1), readout, w_out.transpose(1, 2))
        ctx.save_for_backward(inputs, alpha, w_in, w_out, padded, *saved, *weights)
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
        inputs, alpha, w_in, w_out, padded, extra, *weights = ctx.saved_tensors
        n_models, steps_1, batch = padded.shape[:3]
        steps, size, n_out = steps_1 - 1, w_in.shape[1], w_out.shape[1]
        width = size + w_in.shape[2] + 1
        activity = padded[..., :width]
        pick = _Steps(n_models == 1 and len(weights) == 1)
        op = _Dense(weights[0], squeeze=pick.squeeze) if len(weights) == 1 else _LowRank(*weights)
        gy = (
            activity.new_zeros(n_models, steps, batch, n_out)
            if grad_linear is None
            else grad_linear.contiguous()
        )
        gy_steps = pick.over_time(gy)
        user = [None] * steps if grad_states is None else pick.over_time(grad_states)
        w_out_step, alpha_step = pick.member(w_out), pick.member(alpha)
        keep = 1 - alpha_step
        uniform = bool((alpha == alpha.flatten()[0]).all())
        keep_scalar = float(keep.flatten()[0])

        # post[:, t] = [gradient of step t's drive, dy_{t-1}] pairs with the activity a_t
        post_padded = WORKSPACE.get((n_models, steps, batch, _padded(size + n_out)), activity)
        post = post_padded[..., : size + n_out]
        post[:, 0, :, size:].zero_()
        post[:, 1:, :, size:].copy_(gy[:, :-1])
        grad_drive = post[..., :size]
        drive_steps = pick.over_time(grad_drive)
        # three (M, B, N) buffers rotate: the gradient g, and two results computed from it
        buffers = [pick.member(activity.new_empty(n_models, batch, size)) for _ in range(3)]
        mm, addmm = pick.mm, pick.addmm

        def add_user(x: Tensor, t: int) -> Tensor:
            return x if user[t] is None else x.add_(user[t])

        fused = kernels.fused_ops(gy)
        if fused is not None:
            phi = extra.transpose(0, 1) if spec.form == "rate" else activity[..., :size]
            g = pick.member(
                _fused_backward(fused, spec, phi, gy, grad_states, w_out, alpha, weights, post)
            )
        elif spec.form == "rate":
            gains = pick.time_major(
                derivative_from_output_(spec.activation, extra, spec.slope).mul_(alpha)
            )
            g, base, new = buffers
            add_user(mm(gy_steps[-1], w_out_step, out=g), steps - 1)
            for t in range(steps - 1, -1, -1):
                gz = torch.mul(g, gains[t], out=drive_steps[t])
                if t == 0:
                    torch.mul(g, keep, out=base)
                elif uniform:
                    addmm(g, gy_steps[t - 1], w_out_step, beta=keep_scalar, out=base)
                else:
                    torch.addcmul(mm(gy_steps[t - 1], w_out_step, out=base), keep, g, out=base)
                if t > 0:
                    add_user(base, t - 1)
                g, base, new = op.back_into(new, base, gz), g, base
        else:
            slopes = derivative_from_output_(
                spec.activation,
                WORKSPACE.get((n_models, steps_1, batch, size), activity).copy_(
                    activity[..., :size]
                ),
                spec.slope,
            )
            slope_steps = pick.over_time(slopes)
            g, through, spare = buffers
            mm(gy_steps[-1], w_out_step, out=g).mul_(slope_steps[steps])
            add_user(g, steps - 1)
            for t in range(steps - 1, -1, -1):
                gu = torch.mul(g, alpha_step, out=drive_steps[t])
                op.transpose_into(through, gu)  # dL/df(x_t) through the recurrence
                if t > 0:  # ... and through the readout of f(x_t)
                    addmm(through, gy_steps[t - 1], w_out_step, out=spare)
                    through, spare = spare, through
                torch.mul(g, keep, out=spare).addcmul_(slope_steps[t], through)
                if t > 0:
                    add_user(spare, t - 1)
                g, through, spare = spare, through, g
        grad_h0 = g.unsqueeze(0) if pick.squeeze else g

        pre_flat = _flat(activity[:, :steps])
        last = activity[:, steps, :, :size]
        if isinstance(op, _Dense):  # one matmul over the padded buffers: (M, N + O, N + I + 1)
            combined = torch.bmm(_flat(post_padded).transpose(1, 2), _flat(padded[:, :steps]))
            grad_rec = (combined[:, :size, :size],)
            grad_tail = combined[:, :size, size:width]
            grad_w_out = combined[:, size : size + n_out, :size]
        else:
            rec_pre = pre_flat[..., :size]
            drive_flat = _flat(grad_drive)
            grad_m = torch.bmm(drive_flat.transpose(1, 2), torch.bmm(rec_pre, op.n)) / size
            grad_n = torch.bmm(rec_pre.transpose(1, 2), torch.bmm(drive_flat, op.m_scaled))
            grad_rec = (grad_m, grad_n)
            grad_tail = torch.bmm(drive_flat.transpose(1, 2), pre_flat[..., size:])
            grad_w_out = torch.bmm(_flat(post[..., size:]).transpose(1, 2), rec_pre)
        grad_w_out = grad_w_out + torch.bmm(gy[:, -1].transpose(1, 2), last)

        needs = ctx.needs_input_grad
        grad_inputs = None
        if needs[1]:
            per_member = torch.matmul(grad_drive, w_in.unsqueeze(1))  # (M, T, B, I)
            grad_inputs = per_member.sum(0) if inputs.dim() == 3 else per_member.transpose(0, 1)
        return (
            None,
            grad_inputs,
            None,
            grad_h0 if needs[3] else None,
            None,
            grad_tail[..., :-1] if needs[5] else None,
            grad_tail[..., -1] if needs[6] else None,
            grad_w_out if needs[7] else None,
            gy.sum(dim=(1, 2)) if needs[8] else None,
            *(gw if needs[9 + i] else None for i, gw in enumerate(grad_rec)),
        )


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
