"""RFLO (Murray 2019) and e-prop for rate units (Bellec et al. 2020): gradient estimates from
eligibility traces local to each synapse and a learning signal fed back from the output error.

Notation of `rnnzoo.training.rules.dynamics`; the presynaptic vector of step t is
rhat_t = [r_{t-1}, u_t, 1] (W, W_in and b in one matrix), e_t = dL/dz_t the output error of the
masked MSE, and the learning signal L_t = B e_t with feedback B (N, O): W_out^T ("symmetric")
or a fixed random matrix N(0, feedback_scale^2 / N) ("random").

- RFLO, the trace of Murray's paper and of vanilla-rtrl (post term inside the filter):
  P_ij(t) = (1 - alpha_i) P_ij(t-1) + alpha_i f'(post_i,t) rhat_j,t, with post = a_t (rate
  form) or x_t (current form);  dL/dW_ij ~ sum_t L_i,t P_ij(t).
- e-prop, the exact own-leak eligibility of the network's form: in the rate form the RFLO
  trace; in the current form the post term is outside the filter:
  eps_ij(t) = (1 - alpha_i) eps_ij(t-1) + alpha_i rhat_j,t,  dL/dW_ij ~ sum_t L_i,t f'(x_i,t)
  eps_ij(t).

Both keep, of the exact (RTRL) influence of W_ij on the state, only neuron i's own leak and the
immediate term, and drop what flows through W; with W = 0 and symmetric feedback they are the
exact gradient, and with alpha = 1 (the vanilla RNN) the gradient truncated after one step.
The readout gets its exact gradient sum_t e_t r_t^T.

The traces start at 0 with every trial and the summed estimate is applied once per batch by
the run's optimiser (train.optimizer, lr, clip_grad_norm), so nothing but the optimiser state
carries across steps.  The sum over t is computed without an (N, N + I + 1) trace per step:
sum_t L_t P(t) = sum_s (alpha f'(post_s) * lam_s) rhat_s^T with lam_s = sum_{t >= s}
(1 - alpha)^(t - s) L_t, a backward scan of N-vectors (e-prop: of L_t f'(x_t)), i.e. the same
sums in another order; the tests compare it with the forward trace recursion in float64.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor

from rnnzoo.training.losses import masked_mse
from rnnzoo.training.rules.base import LearnerContext, RuleCard, RuleParams, rule_field
from rnnzoo.training.rules.bptt import GradientLearner, batch_tensors
from rnnzoo.training.rules.dynamics import (
    FEEDBACK_STREAM,
    SIMPLE_KINDS,
    Form,
    Trajectory,
    form_of,
    noisy_inputs,
    output_errors,
    per_member_normal,
    presynaptic,
    project,
    require_family,
    simulate,
    split_presynaptic,
    weights_of,
    write_gradients,
)


class EligibilityParams(RuleParams):
    feedback: Literal["random", "symmetric"] = rule_field(
        "random", "learning-signal feedback: a fixed random B, or W_out^T (symmetric)"
    )
    feedback_scale: float = rule_field(
        1.0, "std of the random feedback times sqrt(N) (random only)", "", gt=0, le=1000
    )


class RFLOParams(EligibilityParams):
    """Random feedback local online learning (Murray 2019)."""


class EPropParams(EligibilityParams):
    """e-prop for leaky rate units (Bellec et al. 2020)."""

    feedback: Literal["random", "symmetric"] = rule_field(
        "symmetric", "learning-signal feedback: W_out^T (symmetric e-prop) or a fixed random B"
    )


class _Eligibility(GradientLearner):
    trace_inside: bool  # True: f' inside the filter (RFLO); False: exact for the form (e-prop)

    def __init__(self, params: EligibilityParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        self.form: Form = form_of(self.net)
        n, o = self.net.options.n_hidden, self.net.config.n_outputs
        dtype = self.net.w_in.dtype
        std = params.feedback_scale / n**0.5
        self.feedback = per_member_normal(self.net, FEEDBACK_STREAM, (n, o), std, dtype).to(
            context.device
        )
        self._grads: dict[str, Tensor] | None = None

    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        super().check(params, context)
        require_family(cls.name, context)

    def feedback_matrix(self, weights: dict[str, Tensor]) -> Tensor:
        """B (M, N, O): W_out^T or the fixed random feedback."""
        if self.params.feedback == "symmetric":
            return weights["w_out"].transpose(1, 2)
        return self.feedback

    def losses(self, batch: Any, progress: float) -> Tensor:
        inputs, targets, loss_weights = batch_tensors(batch, self.context.device)
        weights = weights_of(self.net)
        x, noise = noisy_inputs(self.net, inputs, self.context.noise)
        traj = simulate(self.form, weights, x, noise)
        self._grads = self.gradient_estimate(traj, weights, targets, loss_weights)
        self.outputs = traj.outputs
        return masked_mse(traj.outputs, targets, loss_weights)

    @torch.no_grad()
    def gradient_estimate(
        self, traj: Trajectory, weights: dict[str, Tensor], targets: Tensor, loss_weights: Tensor
    ) -> dict[str, Tensor]:
        """dL/d(effective weights) as the rule estimates it, from one forward pass."""
        errors = output_errors(traj.outputs, targets, loss_weights)  # (T, M, B, O)
        signal = project(errors, self.feedback_matrix(weights))
        alpha = self.form.alpha.to(signal.dtype)
        post = traj.drive if self.form.form == "rate" else traj.states
        slope = self.form.df(post)
        if self.trace_inside or self.form.form == "rate":
            delta = alpha * slope * backward_filter(signal, alpha)
        else:
            delta = alpha * backward_filter(signal * slope, alpha)
        pre = presynaptic(traj)
        grad = torch.bmm(_members_first(delta).transpose(1, 2), _members_first(pre))
        grads = split_presynaptic(grad, self.net.options.n_hidden, self.net.config.n_inputs)
        grads["w_out"] = torch.bmm(
            _members_first(errors).transpose(1, 2), _members_first(traj.rates)
        )
        grads["b_out"] = errors.sum(dim=(0, 2))
        return grads

    def _write_gradients(self) -> None:
        assert self._grads is not None
        write_gradients(self.net, self._grads)
        self._grads = None

    def flops(self, batch: Any, progress: float) -> float:
        """Forward 2 M B N^2 per step plus the estimate's products 2 M B N (N + I + 1)."""
        n, i = self.net.options.n_hidden, self.net.config.n_inputs
        return 2.0 * self.n_models * batch.batch_size * batch.n_steps * n * (2 * n + i + 1)


def backward_filter(signal: Tensor, alpha: Tensor) -> Tensor:
    """lam_s = sum_{t >= s} (1 - alpha)^(t - s) signal_t along the first axis (T, ...)."""
    out = torch.empty_like(signal)
    acc = torch.zeros_like(signal[0])
    decay = 1 - alpha
    for t in range(signal.shape[0] - 1, -1, -1):
        acc = signal[t] + decay * acc
        out[t] = acc
    return out


def _members_first(x: Tensor) -> Tensor:
    """(T, M, B, K) -> (M, T * B, K)."""
    steps, members, batch, size = x.shape
    return x.permute(1, 0, 2, 3).reshape(members, steps * batch, size)


_COMMON = {
    "networks": SIMPLE_KINDS,
    "trains": "W, W_in and b by the eligibility estimate, W_out and b_out by their exact "
    "gradient (the network's train_* flags apply; Dale's signs, masks and low-rank factors by "
    "the chain rule)",
    "optimizer": "train.optimizer, train.lr, train.clip_grad_norm (per member), as BPTT; once "
    "per batch, on the estimate summed over the trial",
    "ensemble": "yes: one pass for M networks; each member has its own random feedback",
    "memory": "the trajectory, O(M B N T), as BPTT; no N x N trace per step",
    "resume": "optimiser state; the random feedback is rebuilt from the seed",
}


class RFLO(_Eligibility):
    """RFLO: random feedback, trace with f' inside the filter."""

    name = "rflo"
    Params = RFLOParams
    trace_inside = True
    card = RuleCard(
        title="Random feedback local online learning (RFLO)",
        source="Murray J.M. (2019) Local online learning in recurrent networks with random "
        "feedback. eLife 8:e43299; trace as in omarschall/vanilla-rtrl (RFLO.py)",
        equations="P_ij <- (1 - alpha_i) P_ij + alpha_i f'(post_i) rhat_j, rhat = [r_{t-1}, u_t, "
        "1], post = a_t (rate) or x_t (current); dW_ij ~ sum_t (B e_t)_i P_ij(t), B fixed random "
        "(feedback=symmetric: W_out^T); dW_out = sum_t e_t r_t^T",
        **_COMMON,
        notes="On rate-form networks RFLO and e-prop are the same rule; on the current form "
        "RFLO's trace (Murray's) is an approximation of e-prop's. Murray's example trains with "
        "plain SGD (--set optimizer=sgd); on his task Adam left RFLO 1445x behind BPTT where SGD "
        "left it 3x behind (docs/benchmarks/learning_rules.md).",
    )


class EProp(_Eligibility):
    """e-prop: the exact own-leak eligibility of the form, symmetric or random feedback."""

    name = "eprop"
    Params = EPropParams
    trace_inside = False
    card = RuleCard(
        title="e-prop for leaky rate units",
        source="Bellec G., Scherr F., Subramoney A., Hajek E., Salaj D., Legenstein R. & Maass W. "
        "(2020) A solution to the learning dilemma for recurrent networks of spiking neurons. "
        "Nature Communications 11:3625 (rate-unit form; IGITUGraz/eligibility_propagation)",
        equations="eps_ij <- (1 - alpha_i) eps_ij + alpha_i rhat_j; e_ij = f'(x_i,t) eps_ij "
        "(current form; rate form: f'(a_i,t) inside, = RFLO); dW_ij ~ sum_t L_i,t e_ij(t), "
        "L = W_out^T e (symmetric) or B e (random); dW_out = sum_t e_t r_t^T",
        **_COMMON,
        notes="The readout is not leaky, so the readout filter of e-prop is the identity. No "
        "firing-rate regulariser.",
    )
