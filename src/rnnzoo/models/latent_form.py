"""Latent-checkpointed simulation of a low-rank firing-rate network: memory O(B T (K + O)),
never O(B T N).

In rate form with W = m n^T / N (rank K), the latent state kappa = n^T r / N and any linear
readout rho = W_out r obey closed recursions (alpha = dt/tau, the same for every neuron):

.. math::

    \\phi_t = f(m \\kappa_t + W_{in} u_t + b), \\qquad
    \\kappa_{t+1} = (1 - \\alpha) \\kappa_t + \\alpha n^T \\phi_t / N, \\qquad
    \\rho_{t+1} = (1 - \\alpha) \\rho_t + \\alpha W_{out} \\phi_t

so the N-dimensional rates are never needed.  The autograd node stores only s_t = [kappa_t,
rho_t] (T + 1, B, K + O) and the inputs; backward recomputes phi_t in blocks of time steps whose
(steps x B x N) transients stay below `BLOCK_ELEMENTS`, so memory is O(B T (K + O)) plus the
O(N (K + I + O)) parameters and gradients and a few block transients.  The N x N matrix is
never formed.  Gradients equal plain autograd's through the unrolled N-dimensional network
(tests/models/test_latent_form.py, float64).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnzoo.errors import InvalidParameterError
from rnnzoo.models.activations import activate_, derivative_from_output_

BLOCK_ELEMENTS = 1 << 22  # elements of one (steps, B, N) transient in backward (16 MiB float32)


class LatentRun(NamedTuple):
    """kappa (T, B, K) and the linear readout rho + b_out (T, B, O) after each step."""

    kappa: Tensor
    linear: Tensor


class _LatentRollout(torch.autograd.Function):
    @staticmethod
    def forward(ctx, inputs, s0, m, n, w_in, bias, w_out, alpha, activation, slope):
        steps, batch = inputs.shape[:2]
        size, rank = m.shape
        load = torch.cat([m, w_in, bias.unsqueeze(1)], dim=1)  # (N, K + I + 1)
        enc = torch.cat([n / size, w_out.transpose(0, 1)], dim=1)  # (N, K + O)
        acts = inputs.new_empty(steps, batch, load.shape[1])  # a_t = [kappa_t, u_t, 1]
        acts[..., rank:-1].copy_(inputs)
        acts[..., -1].fill_(1.0)
        states = inputs.new_empty(steps + 1, batch, enc.shape[1])
        states[0].copy_(s0)
        phi = inputs.new_empty(batch, size)
        for t in range(steps):
            acts[t, :, :rank].copy_(states[t, :, :rank])
            activate_(activation, torch.mm(acts[t], load.transpose(0, 1), out=phi), slope)
            torch.addmm(states[t], phi, enc, beta=1 - alpha, alpha=alpha, out=states[t + 1])
        ctx.save_for_backward(acts, states, load, enc)
        ctx.alpha, ctx.activation, ctx.slope, ctx.rank = alpha, activation, slope, rank
        return states[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_states):
        acts, states, load, enc = ctx.saved_tensors
        alpha, activation, slope = ctx.alpha, ctx.activation, ctx.slope
        steps, batch, width = acts.shape
        size, rank = load.shape[0], ctx.rank
        grad_load = torch.zeros_like(load)
        grad_enc = torch.zeros_like(enc)
        carry = torch.zeros_like(states[0])  # dL/ds_{t+1} from later steps
        block = max(1, BLOCK_ELEMENTS // (batch * size))
        for start in range(((steps - 1) // block) * block, -1, -block):
            stop = min(start + block, steps)
            a_blk = acts[start:stop]
            phi = torch.matmul(a_blk, load.transpose(0, 1))  # (b, B, N)
            activate_(activation, phi, slope)
            gain = derivative_from_output_(activation, phi.clone(), slope)
            scaled = torch.empty_like(states[start + 1 : stop + 1])  # alpha dL/ds_{t+1}
            g_pre = gain  # overwritten step by step with dL/d(pre-activation)
            for t in range(stop - 1, start - 1, -1):
                i = t - start
                g_next = carry.add_(grad_states[t]) if grad_states is not None else carry
                torch.mul(g_next, alpha, out=scaled[i])
                g_pre[i].mul_(torch.mm(scaled[i], enc.transpose(0, 1)))
                through = torch.mm(g_pre[i], load[:, :rank])  # dL/dkappa_t via phi_t
                carry = g_next.mul(1 - alpha)
                carry[:, :rank].add_(through)
            grad_load.add_(g_pre.reshape(-1, size).transpose(0, 1) @ a_blk.reshape(-1, width))
            grad_enc.add_(phi.reshape(-1, size).transpose(0, 1) @ scaled.reshape(-1, enc.shape[1]))
        n_in = width - rank - 1
        return (
            None,
            carry if ctx.needs_input_grad[1] else None,
            grad_load[:, :rank],
            grad_enc[:, :rank] / size,
            grad_load[:, rank : rank + n_in],
            grad_load[:, -1],
            grad_enc[:, rank:].transpose(0, 1),
            None,
            None,
            None,
        )


def latent_rollout(
    inputs: Tensor,
    kappa0: Tensor,
    m: Tensor,
    n: Tensor,
    w_in: Tensor,
    bias: Tensor,
    w_out: Tensor,
    b_out: Tensor,
    *,
    alpha: float,
    activation: str,
    slope: float = 0.0,
    rho0: Tensor | None = None,
) -> LatentRun:
    """Run the latent form from kappa0 (B, K) (and rho0 = W_out r_0 (B, O), zeros when None).

    inputs (T, B, I); m, n (N, K); w_in (N, I); bias (N,); w_out (O, N) (O may be 0); b_out (O,).
    Returns kappa (T, B, K) and the linear readout W_out r + b_out (T, B, O) after each step.
    """
    rank = m.shape[1]
    if rho0 is None:
        rho0 = kappa0.new_zeros(kappa0.shape[0], w_out.shape[0])
    states = _LatentRollout.apply(
        inputs, torch.cat([kappa0, rho0], dim=1), m, n, w_in, bias, w_out, alpha, activation, slope
    )
    return LatentRun(states[..., :rank], states[..., rank:] + b_out)


def check_latent_network(net) -> None:
    """Raise unless ``net`` has a latent form: a standalone leaky firing-rate network of low
    rank, one time constant, no recurrent noise."""
    kind = getattr(net, "kind", type(net).__name__)
    rank = getattr(getattr(net, "options", None), "rank", None)
    if kind != "leaky_rate" or rank is None:
        raise InvalidParameterError(
            f"the latent form needs a low-rank leaky_rate network (option 'rank'); got {kind}"
            + ("" if rank is None else f" of rank {rank}")
        )
    if net.config.ensemble is not None:
        raise InvalidParameterError("the latent form needs a standalone network; use net.member(i)")
    if not bool((net.alpha == net.alpha.flatten()[0]).all()):
        raise InvalidParameterError("the latent form needs one time constant for all neurons")
    if bool((net.rec_noise_std > 0).any()):
        raise InvalidParameterError(
            "the latent form is noise-free: 'recurrent_noise' must be 0 (input noise is allowed)"
        )


def network_latent_rollout(
    net, inputs: Tensor, initial_state: Tensor | None = None, kappa0: Tensor | None = None
) -> LatentRun:
    """The latent form of a standalone low-rank leaky_rate ``net`` on ``inputs`` (T, B, I),
    without noise, from the rates ``initial_state`` (B, N) or the latent state ``kappa0``
    (B, K) (readout state rho0 = 0 then); zeros when both are None.  Effective weights (input
    and output populations) are used, so the result equals ``net(inputs)`` in exact arithmetic.
    """
    check_latent_network(net)
    m, n = (w[0] for w in net.recurrent_weights())
    w_out = net.output_weights()[0]
    batch, size = inputs.shape[1], m.shape[0]
    x = inputs.to(m.dtype)
    rho0 = None
    if initial_state is not None:
        r0 = initial_state.to(m.dtype)
        kappa0, rho0 = r0 @ n / size, r0 @ w_out.transpose(0, 1)
    elif kappa0 is None:
        kappa0 = m.new_zeros(batch, m.shape[1])
    return latent_rollout(
        x,
        kappa0.to(m.dtype),
        m,
        n,
        net.input_weights()[0],
        net.bias[0],
        w_out,
        net.b_out[0],
        alpha=float(net.alpha.flatten()[0]),
        activation=net.options.activation,
        slope=float(net.activation_slope[0]),
        rho0=rho0,
    )
