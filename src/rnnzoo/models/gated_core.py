"""The fused GRU and LSTM cores: T steps of M gated networks as one autograd node.

The input projection is hoisted out of the loop (the drive (M, T, B, G*N) is one batched
matmul before it, outside this node).  Inside, each step is one matmul h W_h^T and the gate
work in PyTorch's vectorised ops.  Backward does each step's gate work in one pass of the
compiled kernel (`rnnzoo.models.kernels`) on CPU, else in the PyTorch ops below (the
reference; CUDA always runs them, without host synchronisation), keeps the gradients of the
gate pre-activations D (M, T, B, .) and forms W_h's gradient as ONE batched matmul
D^T [h_0 .. h_{T-1}] over all T*B samples; the drive's gradient is D itself (LSTM) or written
beside it in the same pass (GRU, whose n gate splits into input and recurrent parts), into a
pooled buffer, so autograd sends it to W_in and the biases without a fresh (M, T, B, G*N)
allocation.  The forward's matmul takes W_h^T as a contiguous copy: its step matmul ran
13-22 % faster here than on the transposed view.

Buffers: hidden states member-major (M, T+1, B, N), so that the weight gradient's operand is a
view; the gates time-major (T, M, B, .), so that each step's matmul writes a contiguous block.
Equations as torch.nn.GRU / torch.nn.LSTM (see models/gated.py).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable

from rnnzoo.models import kernels
from rnnzoo.models.workspace import WORKSPACE


def _flat(x: Tensor) -> Tensor:
    """(M, T, B, K) -> (M, T*B, K) (a view for the member-major buffers)."""
    return x.reshape(x.shape[0], -1, x.shape[-1])


# ---- the reference gate work (PyTorch ops) --------------------------------------------------
def _gru_forward_step(x, hh, bhn, h_prev, h, saved) -> None:
    """x, hh (M, B, 3N), bhn (M, N), h_prev (M, B, N) -> h; saved = [r, z, n, W_hn h + b_hn]."""
    size = h.shape[-1]
    rz, n, hn = saved[..., : 2 * size], saved[..., 2 * size : 3 * size], saved[..., 3 * size :]
    torch.sigmoid(x[..., : 2 * size] + hh[..., : 2 * size], out=rz)
    torch.add(hh[..., 2 * size :], bhn.unsqueeze(1), out=hn)
    torch.tanh(torch.addcmul(x[..., 2 * size :], rz[..., :size], hn), out=n)
    torch.lerp(n, h_prev, rz[..., size:], out=h)


def _gru_backward_step(dh, saved, h_prev, d, dx) -> None:
    """dh = dL/dh_t in, its direct path to h_{t-1} (dh z) out; d = [dr, dz, dhn] (the recurrent
    matmul's operand; dhn: of W_hn h + b_hn) and dx = [dr, dz, dn] (the drive's) of the
    pre-activations."""
    r, z, n, hn = saved.chunk(4, dim=-1)
    size = dh.shape[-1]
    dn = torch.mul(dh * (1 - z), 1 - n * n, out=dx[..., 2 * size :])
    torch.mul(dn, r, out=d[..., 2 * size :])
    torch.mul(dn * hn, r * (1 - r), out=d[..., :size])
    torch.mul(dh * (h_prev - n), z * (1 - z), out=d[..., size : 2 * size])
    dx[..., : 2 * size].copy_(d[..., : 2 * size])
    dh.mul_(z)


def _lstm_forward_step(gates, c_prev, c, tc, h) -> None:
    """gates (M, B, 4N) pre-activations in, [i, f, g, o] out; c = f c_prev + i g, h = o tanh c."""
    i, f, g, o = gates.chunk(4, dim=-1)
    gates[..., : 2 * i.shape[-1]].sigmoid_()
    g.tanh_()
    o.sigmoid_()
    torch.addcmul(f * c_prev, i, g, out=c)
    torch.tanh(c, out=tc)
    torch.mul(o, tc, out=h)


def _lstm_backward_step(dh, dc, gates, c_prev, tc, d) -> None:
    """dh, dc = dL/dh_t, dL/dc_t in; dc becomes dL/dc_{t-1} (through f); d = gradients of the
    gate pre-activations."""
    i, f, g, o = gates.chunk(4, dim=-1)
    size = dh.shape[-1]
    total = dc + dh * o * (1 - tc * tc)
    torch.mul(total * g, i * (1 - i), out=d[..., :size])
    torch.mul(total * c_prev, f * (1 - f), out=d[..., size : 2 * size])
    torch.mul(total * i, 1 - g * g, out=d[..., 2 * size : 3 * size])
    torch.mul(dh * tc, o * (1 - o), out=d[..., 3 * size :])
    torch.mul(total, f, out=dc)


def _backward_step(like: Tensor, name: str):
    """The backward gate work: compiled when it applies, else the reference.  (The forward gate
    work always runs the reference ops: ATen's vectorised sigmoid and tanh measured 2.5x faster
    here than the compiled loop through glibc's vector exp/tanh.)"""
    fused = kernels.fused_ops(like)
    if fused is None:
        return globals()[f"_{name}_backward_step"]
    return getattr(fused, f"{name}_backward_step")


class _GRUSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive: Tensor, h0: Tensor, w_rec: Tensor, bhn: Tensor) -> Tensor:
        n_models, steps, batch, _ = drive.shape
        size = h0.shape[-1]
        hidden = WORKSPACE.get((n_models, steps + 1, batch, size), drive)
        saved = WORKSPACE.get((steps, n_models, batch, 4 * size), drive)
        hh = drive.new_empty(n_models, batch, 3 * size)
        bhn = bhn.contiguous()
        hidden[:, 0].copy_(h0)
        w_t = w_rec.transpose(1, 2).contiguous()
        for t in range(steps):
            torch.bmm(hidden[:, t], w_t, out=hh)
            _gru_forward_step(drive[:, t], hh, bhn, hidden[:, t], hidden[:, t + 1], saved[t])
        ctx.save_for_backward(hidden, saved, w_rec)
        return hidden[:, 1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hidden: Tensor):
        hidden, saved, w_rec = ctx.saved_tensors
        steps, n_models, batch, width = saved.shape
        size = width // 4
        backward_step = _backward_step(grad_hidden, "gru")
        d = WORKSPACE.get((n_models, steps, batch, 3 * size), grad_hidden)
        grad_drive = WORKSPACE.get((n_models, steps, batch, 3 * size), grad_hidden)
        dh = grad_hidden.new_zeros(n_models, batch, size)
        for t in range(steps - 1, -1, -1):
            dh.add_(grad_hidden[:, t])
            backward_step(dh, saved[t], hidden[:, t], d[:, t], grad_drive[:, t])
            dh.baddbmm_(d[:, t], w_rec)
        needs = ctx.needs_input_grad
        grad_w = grad_bhn = None
        if needs[2]:
            grad_w = torch.bmm(_flat(d).transpose(1, 2), _flat(hidden[:, :steps]))
        if needs[3]:
            grad_bhn = d[..., 2 * size :].sum(dim=(1, 2))
        return grad_drive if needs[0] else None, dh if needs[1] else None, grad_w, grad_bhn


class _LSTMSequence(torch.autograd.Function):
    @staticmethod
    def forward(ctx, drive: Tensor, h0: Tensor, c0: Tensor, w_rec: Tensor):
        n_models, steps, batch, width = drive.shape
        size = h0.shape[-1]
        ctx.set_materialize_grads(False)  # unused cell states get no (M, T, B, N) zero gradient
        hidden = WORKSPACE.get((n_models, steps + 1, batch, size), drive)
        cells = WORKSPACE.get((steps + 1, n_models, batch, size), drive)
        gates = WORKSPACE.get((steps, n_models, batch, width), drive)
        tanh_cells = WORKSPACE.get((steps, n_models, batch, size), drive)
        hidden[:, 0].copy_(h0)
        cells[0].copy_(c0)
        w_t = w_rec.transpose(1, 2).contiguous()
        for t in range(steps):
            torch.baddbmm(drive[:, t], hidden[:, t], w_t, out=gates[t])
            _lstm_forward_step(gates[t], cells[t], cells[t + 1], tanh_cells[t], hidden[:, t + 1])
        ctx.save_for_backward(hidden, cells, gates, tanh_cells, w_rec)
        return hidden[:, 1:], cells[1:].transpose(0, 1)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hidden: Tensor | None, grad_cells: Tensor | None):
        hidden, cells, gates, tanh_cells, w_rec = ctx.saved_tensors
        steps, n_models, batch, width = gates.shape
        size = width // 4
        like = hidden
        backward_step = _backward_step(like, "lstm")
        d = WORKSPACE.get((n_models, steps, batch, width), like)
        dh = like.new_zeros(n_models, batch, size)
        dc = like.new_zeros(n_models, batch, size)
        for t in range(steps - 1, -1, -1):
            if grad_hidden is not None:
                dh.add_(grad_hidden[:, t])
            if grad_cells is not None:
                dc.add_(grad_cells[:, t])
            backward_step(dh, dc, gates[t], cells[t], tanh_cells[t], d[:, t])
            torch.bmm(d[:, t], w_rec, out=dh)
        needs = ctx.needs_input_grad
        grad_w = None
        if needs[3]:
            grad_w = torch.bmm(_flat(d).transpose(1, 2), _flat(hidden[:, :steps]))
        return (
            d if needs[0] else None,
            dh if needs[1] else None,
            dc if needs[2] else None,
            grad_w,
        )


def gru_sequence(drive: Tensor, h0: Tensor, w_rec: Tensor, bhn: Tensor) -> Tensor:
    """GRU over the sequence: drive (M, T, B, 3N) = W_i u + b_i (+ b_h for r, z), h0 (M, B, N),
    w_rec (M, 3N, N), bhn (M, N) = b_hn -> hidden states (M, T, B, N)."""
    return _GRUSequence.apply(drive, h0, w_rec, bhn)


def lstm_sequence(drive: Tensor, h0: Tensor, c0: Tensor, w_rec: Tensor) -> tuple[Tensor, Tensor]:
    """LSTM over the sequence: drive (M, T, B, 4N) = W_i u + b_i + b_h, h0, c0 (M, B, N),
    w_rec (M, 4N, N) -> hidden and cell states (M, T, B, N) each."""
    return _LSTMSequence.apply(drive, h0, c0, w_rec)
