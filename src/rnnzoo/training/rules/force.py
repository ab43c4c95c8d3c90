"""FORCE (Sussillo & Abbott 2009) and full-FORCE (DePasquale et al. 2018): recursive least
squares online within each trial (`rnnzoo.training.rules.rls`), every ``learn_every`` steps.

FORCE.  The network is a reservoir with output feedback: its drive holds w_f z_t, with
z_t = W_out r_t + b_out and w_f (N, O) fixed, U(-feedback_scale, feedback_scale).  Only the
readout learns, from the error before the update, e_t = z_t - f_t, with regressor [r_t, 1].
Because the readout is linear, feedback and recurrence are one matrix: the network's W holds
J + w_f W_out and its bias b + w_f b_out, and each readout change dW_out adds w_f dW_out to W.
The trained network is therefore an ordinary network whose true dynamics are the closed loop
(evaluation, analysis and saved weights need nothing else); FORCE needs a dense, unconstrained W
for that.  A fresh run starts with W_out = 0 and b_out = 0 (the authors' w_o = 0), so W = J, the
network's random initialisation (choose g = 1.5 for Sussillo & Abbott's chaotic reservoir).

full-FORCE.  A target-generating network of the same form and size, with its own random J_D
(N(0, teacher_g^2 / N)), the task's inputs through the network's own W_in, and the desired
output through u (N, O), U(-target_scale, target_scale), runs beside the network on every
trial: its recurrent-plus-target current J_D r^D_t + u f_{t+1} is what the network's W r_t + b
must produce for its next step.  W and b learn by RLS on that current, W_out and b_out on the
output error (on scored steps), all with one P (the same regressor [r_t, 1]).  A fresh run
starts from W = 0, W_out = 0 (as the authors' demo).

FORCE learns at the scored steps of a trial (weights > 0 on any output); full-FORCE at every
step inside the trial, its readout at the scored ones and W where the trial has a next step;
the B trials of a batch in one block update (in full-FORCE a trial step without a target for
one of the two fits enters P with zero error there, i.e. holds that fit at its value before the
step).  P is
float64 and the within-trial loop runs in float64; one P per member: M (N + 1)^2 x 8 bytes
(N = 1000, M = 8: 64 MB).  There is no learning rate: a rollback would replay the same
updates, so these rules need on_divergence=stop.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError
from rnnzoo.training.losses import masked_mse
from rnnzoo.training.rules.base import (
    Divergence,
    Learner,
    LearnerContext,
    RuleCard,
    RuleParams,
    non_finite,
    rule_field,
)
from rnnzoo.training.rules.bptt import batch_tensors
from rnnzoo.training.rules.dynamics import (
    FEEDBACK_STREAM,
    SIMPLE_KINDS,
    TEACHER_STREAM,
    form_of,
    member_generators,
    noisy_inputs,
    per_member_uniform,
    require_family,
    require_plain,
    weights_of,
)
from rnnzoo.training.rules.rls import initial_inverse_correlation, rls_correction, rls_gain

WORK_DTYPE = torch.float64


def noise_at(noise: Tensor | int, t: int) -> Tensor | int:
    """The recurrent noise of step t (M, B, N), or 0 without noise."""
    return noise if isinstance(noise, int) else noise[t]


class ForceParams(RuleParams):
    """FORCE learning (Sussillo & Abbott 2009), defaults of the authors' script."""

    alpha: float = rule_field(
        1.0, "regulariser of RLS: P(0) = I / alpha (the authors use 1 to 100)", "", gt=0, le=1e6
    )
    learn_every: int = rule_field(2, "RLS update every this many steps", "steps", ge=1, le=10_000)
    feedback_scale: float = rule_field(
        1.0, "output feedback w_f ~ U(-scale, scale)", "", ge=0, le=100
    )


class FullForceParams(RuleParams):
    """full-FORCE learning (DePasquale et al. 2018), defaults of the authors' demos."""

    alpha: float = rule_field(1.0, "regulariser of RLS: P(0) = I / alpha", "", gt=0, le=1e6)
    learn_every: int = rule_field(2, "RLS update every this many steps", "steps", ge=1, le=10_000)
    teacher_g: float = rule_field(
        1.5, "gain of the target-generating network's J_D ~ N(0, g^2 / N)", "", ge=0, le=100
    )
    target_scale: float = rule_field(
        1.0, "target input of the teacher u ~ U(-scale, scale)", "", gt=0, le=100
    )


class _RLSLearner(Learner):
    """Shared machinery: P per member, the proposal of a step, checks, state."""

    def __init__(self, params: RuleParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        self.form = form_of(self.net, WORK_DTYPE)
        size = self.net.options.n_hidden + 1
        self.p = initial_inverse_correlation(self.n_models, size, params.alpha).to(context.device)
        mask = getattr(self.net, "out_mask", None)
        self.read_mask = None if mask is None else mask.to(WORK_DTYPE)  # (M, 1, N)
        self._proposal: dict[str, Tensor] | None = None

    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        super().check(params, context)
        require_family(cls.name, context)
        net, train = context.net, context.train
        if not net.options.train_output:
            raise InvalidParameterError(
                f"rule '{cls.name}' learns the readout (and feeds it back); model '{net.kind}' "
                "has train_output=false"
            )
        if train.on_divergence == "rollback":
            raise InvalidParameterError(
                f"rule '{cls.name}' has no learning rate for a rollback to halve (it would replay "
                "the same updates); use on_divergence=stop"
            )

    def _regressor(self, rates: Tensor, mask: Tensor) -> Tensor:
        """[r, 1] (M, B, N + 1) of the trials in ``mask`` (B,), zero rows elsewhere."""
        if self.read_mask is not None:
            rates = rates * self.read_mask
        ones = rates.new_ones(*rates.shape[:-1], 1)
        return torch.cat([rates, ones], dim=-1) * mask.view(1, -1, 1)

    def prepare_update(self, step: int) -> Divergence | None:
        assert self._proposal is not None
        for name, value in self._proposal.items():
            bad = non_finite(step, value, f"non-finite {name} after the RLS updates")
            if bad is not None:
                self._proposal = None
                return bad
        return None

    def apply_update(self) -> None:
        assert self._proposal is not None
        proposal = self._proposal
        self.p = proposal.pop("p")
        with torch.no_grad():
            for key, param in (("w", "w_rec"), ("bias", "bias"), ("b_out", "b_out")):
                getattr(self.net, param).copy_(proposal[key])
            w_out = self.net.w_out
            new = proposal["w_out"].to(w_out.dtype)
            w_out.copy_(
                new if self.read_mask is None else torch.where(self.read_mask > 0, new, w_out)
            )
        self._proposal = None

    def state_dict(self) -> dict[str, Any]:
        return {"p": self.p}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.p = state["p"].to(device=self.context.device, dtype=WORK_DTYPE).clone()

    def _step_inputs(self, batch: Any) -> tuple[Tensor, Tensor, Any, Any, dict[str, Tensor]]:
        """Targets (T, B, O), loss weights, a function giving the input drive W_in u_t
        (M, B, N) in float64, the recurrent noise (T, M, B, N) in float64 or 0 (without noise),
        and the weights' float64 copies.  The drive is formed step by step: a (T, M, B, N)
        array of it would be large for long trials."""
        inputs, targets, loss_weights = batch_tensors(batch, self.context.device)
        weights = weights_of(self.net, WORK_DTYPE)
        x, noise = noisy_inputs(self.net, inputs, self.context.noise)
        x = x.to(WORK_DTYPE)
        w_in_t = weights["w_in"].transpose(1, 2)

        def drive(t: int) -> Tensor:
            u = x[t]  # (1 or M, B, I)
            return torch.bmm(u.expand(self.n_models, *u.shape[1:]), w_in_t)

        noise = 0 if noise is None else noise.transpose(0, 1).to(WORK_DTYPE)
        return targets, loss_weights, drive, noise, weights

    def _integrate(self, state: Tensor, a: Tensor) -> tuple[Tensor, Tensor]:
        """One step of the form from the argument a_t: the new state and rates."""
        target = self.form.f(a) if self.form.form == "rate" else a
        state = (1 - self.form.alpha) * state + self.form.alpha * target
        return state, state if self.form.form == "rate" else self.form.f(state)

    def _advance(
        self, state: Tensor, rates: Tensor, drive: Tensor, w: Tensor
    ) -> tuple[Tensor, Tensor]:
        """One step from rates r_{t-1} with recurrent weights ``w``."""
        return self._integrate(state, torch.baddbmm(drive, rates, w.transpose(1, 2)))

    def _initial(self, batch_size: int) -> tuple[Tensor, Tensor]:
        size = (self.n_models, batch_size, self.net.options.n_hidden)
        state = torch.zeros(size, dtype=WORK_DTYPE, device=self.context.device)
        return state, state if self.form.form == "rate" else self.form.f(state)

    def _rls_flops(self, batch: Any) -> float:
        k = self.net.options.n_hidden + 1
        updates = batch.n_steps // self.params.learn_every
        return 4.0 * self.n_models * batch.batch_size * k * k * updates


class Force(_RLSLearner):
    """FORCE: RLS on the readout, output feedback folded into W."""

    name = "force"
    Params = ForceParams
    card = RuleCard(
        title="FORCE learning",
        source="Sussillo D. & Abbott L.F. (2009) Generating coherent patterns of activity from "
        "chaotic neural networks. Neuron 63(4):544-557 (architecture 1A, output feedback; the "
        "authors' supplementary scripts)",
        equations="every learn_every steps at scored steps: k = P rhat, c = 1 / (1 + rhat^T k), "
        "P <- P - c k k^T, [W_out b_out] <- [W_out b_out] - c e k^T with e = z - f before the "
        "update, rhat = [r, 1]; feedback w_f z folded: W <- W + w_f dW_out, b <- b + w_f db_out "
        "(B trials: the block form)",
        networks=SIMPLE_KINDS,
        trains="W_out and b_out (and, through the feedback, W and b)",
        optimizer="none (train.optimizer, lr and clip_grad_norm are not used)",
        ensemble="yes: one P per member, M (N + 1)^2 float64 (8 MB per member at N = 1000)",
        memory="P: 8 M (N + 1)^2 bytes; the trial's outputs",
        resume="P and the noise generator; w_f is rebuilt from the seed",
        notes="Needs a dense W (no dale, rank, connection_prob < 1 or self_connections=false), a "
        "linear readout and on_divergence=stop; a fresh run sets W_out = 0.",
    )

    def __init__(self, params: ForceParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        n, o = self.net.options.n_hidden, self.net.config.n_outputs
        self.feedback = per_member_uniform(
            self.net, FEEDBACK_STREAM, (n, o), params.feedback_scale, WORK_DTYPE
        ).to(context.device)

    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        super().check(params, context)
        net = context.net
        require_plain(
            cls.name,
            net,
            mask_allowed=False,
            why="folds its output feedback into W (W = J + w_f W_out), which needs a dense, "
            "unconstrained W",
        )

    def begin(self) -> None:
        """W_out = 0, b_out = 0: the closed loop starts as the reservoir J alone."""
        with torch.no_grad():
            self.net.w_out.zero_()
            self.net.b_out.zero_()

    def losses(self, batch: Any, progress: float) -> Tensor:
        """The trial online: W = J + w_f W_out stays folded; within the batch the readout's
        change since its start is fed back explicitly (the same sum, without rewriting W
        at every update) and folded into W and b at the end."""
        targets, loss_weights, drive, noise, w = self._step_inputs(batch)
        f = targets.to(WORK_DTYPE)
        scored = (loss_weights.amax(dim=-1) > 0).to(WORK_DTYPE)  # (T, B)
        p = self.p.clone()
        w_t, bias = w["w"].transpose(1, 2), w["bias"].unsqueeze(1)
        w_out, b_out = w["w_out"].clone(), w["b_out"].clone()
        d_out = torch.zeros_like(w_out)  # readout change since the batch started
        d_bias = torch.zeros_like(b_out)
        state, rates = self._initial(batch.batch_size)
        outputs = []
        every = self.params.learn_every
        for t in range(batch.n_steps):
            fed_back = torch.baddbmm(d_bias.unsqueeze(1), rates, d_out.transpose(1, 2))
            recurrent = torch.baddbmm(bias + noise_at(noise, t), rates, w_t) + torch.bmm(
                fed_back, self.feedback.transpose(1, 2)
            )
            state, rates = self._integrate(state, drive(t) + recurrent)
            z = torch.baddbmm(b_out.unsqueeze(1), rates, w_out.transpose(1, 2))
            outputs.append(z)
            if (t + 1) % every or not bool(scored[t].any()):
                continue
            regressor = self._regressor(rates, scored[t])
            errors = (z - f[t].unsqueeze(0)) * scored[t].view(1, -1, 1)
            change = rls_correction(rls_gain(p, regressor), errors)  # (M, O, N + 1)
            w_out += change[..., :-1]
            d_out += change[..., :-1]
            b_out += change[..., -1]
            d_bias += change[..., -1]
        w_rec = w["w"] + torch.bmm(self.feedback, d_out)
        new_bias = w["bias"] + torch.bmm(self.feedback, d_bias.unsqueeze(-1)).squeeze(-1)
        self._proposal = {"w": w_rec, "bias": new_bias, "w_out": w_out, "b_out": b_out, "p": p}
        self.outputs = torch.stack(outputs).to(targets.dtype)
        return masked_mse(self.outputs, targets, loss_weights)

    def flops(self, batch: Any, progress: float) -> float:
        n = self.net.options.n_hidden
        forward = 2.0 * self.n_models * batch.batch_size * batch.n_steps * n * n
        fold = 2.0 * self.n_models * n * n * self.net.config.n_outputs
        return forward + self._rls_flops(batch) + fold


class FullForce(_RLSLearner):
    """full-FORCE: RLS on W (to the teacher's current) and on the readout, one P."""

    name = "full_force"
    Params = FullForceParams
    card = RuleCard(
        title="full-FORCE learning",
        source="DePasquale B., Cueva C.J., Rajan K., Escola G.S. & Abbott L.F. (2018) full-FORCE: "
        "a target-based method for training recurrent networks. PLoS ONE 13(2):e0191527 "
        "(briandepasquale/full-FORCE-demos)",
        equations="teacher: same dynamics with J_D ~ N(0, g^2/N), the task input through W_in and "
        "u f; every learn_every steps: k, P as FORCE with rhat = [r_t, 1]; [W b] <- [W b] - "
        "e_J k^T with e_J = W r_t + b - (J_D r^D_t + u f_{t+1}); [W_out b_out] <- ... - e k^T "
        "with e = z_t - f_t on scored steps",
        networks=SIMPLE_KINDS,
        trains="W, b, W_out and b_out",
        optimizer="none (train.optimizer, lr and clip_grad_norm are not used)",
        ensemble="yes: one P and one teacher per member (P: 8 (N + 1)^2 bytes, J_D: N^2 numbers)",
        memory="P: 8 M (N + 1)^2 bytes; teacher J_D: M N^2 numbers",
        resume="P and the noise generator; the teacher is rebuilt from the seed",
        notes="Needs a dense W, a linear readout, train_recurrent and train_output, and "
        "on_divergence=stop; a fresh run sets W = 0 and W_out = 0. No hints.",
    )

    def __init__(self, params: FullForceParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        n, o = self.net.options.n_hidden, self.net.config.n_outputs
        teachers, targets = [], []
        for gen in member_generators(self.net, TEACHER_STREAM):
            teachers.append(
                torch.randn((n, n), generator=gen, dtype=WORK_DTYPE) * params.teacher_g / n**0.5
            )
            targets.append(
                (torch.rand((n, o), generator=gen, dtype=WORK_DTYPE) * 2 - 1) * params.target_scale
            )
        self.teacher = torch.stack(teachers).to(context.device)
        self.target_input = torch.stack(targets).to(context.device)

    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        super().check(params, context)
        net = context.net
        require_plain(cls.name, net, mask_allowed=False, why="trains the whole recurrent matrix")
        if not net.options.train_recurrent:
            raise InvalidParameterError(
                f"rule '{cls.name}' learns W; model '{net.kind}' has train_recurrent=false "
                "(use rule 'force' to train the readout only)"
            )

    def begin(self) -> None:
        """W = 0, W_out = 0, b_out = 0 (the authors' demo)."""
        with torch.no_grad():
            for name in ("w_rec", "w_out", "b_out"):
                getattr(self.net, name).zero_()

    def losses(self, batch: Any, progress: float) -> Tensor:
        targets, loss_weights, drive, noise, w = self._step_inputs(batch)
        f = targets.to(WORK_DTYPE)
        scored = (loss_weights.amax(dim=-1) > 0).to(WORK_DTYPE)
        lengths = torch.as_tensor(batch.lengths, device=self.context.device)
        target_in = self.target_input.transpose(1, 2)
        p = self.p.clone()
        w_rec, bias, w_out, b_out = (w[k].clone() for k in ("w", "bias", "w_out", "b_out"))
        state, rates = self._initial(batch.batch_size)
        t_state, t_rates = self._initial(batch.batch_size)
        outputs = []
        every, steps = self.params.learn_every, batch.n_steps
        for t in range(steps):
            inputs_t = drive(t)  # the teacher runs without the network's recurrent noise
            state, rates = self._advance(
                state, rates, inputs_t + bias.unsqueeze(1) + noise_at(noise, t), w_rec
            )
            teacher_in = inputs_t + torch.matmul(f[t], target_in)
            t_state, t_rates = self._advance(t_state, t_rates, teacher_in, self.teacher)
            z = torch.baddbmm(b_out.unsqueeze(1), rates, w_out.transpose(1, 2))
            outputs.append(z)
            in_trial = (t < lengths).to(WORK_DTYPE)
            if (t + 1) % every or not bool(in_trial.any()):
                continue
            gain = rls_gain(p, self._regressor(rates, in_trial))
            if t + 1 < steps:  # the current for the next step, for trials that have one
                has_next = (t + 1 < lengths).to(WORK_DTYPE).view(1, -1, 1)
                current = torch.baddbmm(bias.unsqueeze(1), rates, w_rec.transpose(1, 2))
                wanted = torch.bmm(t_rates, self.teacher.transpose(1, 2)) + torch.matmul(
                    f[t + 1], target_in
                )
                change = rls_correction(gain, (current - wanted) * has_next)
                w_rec += change[..., :-1]
                bias += change[..., -1]
            errors = (z - f[t].unsqueeze(0)) * scored[t].view(1, -1, 1)
            change = rls_correction(gain, errors)
            w_out += change[..., :-1]
            b_out += change[..., -1]
        self._proposal = {"w": w_rec, "bias": bias, "w_out": w_out, "b_out": b_out, "p": p}
        self.outputs = torch.stack(outputs).to(targets.dtype)
        return masked_mse(self.outputs, targets, loss_weights)

    def flops(self, batch: Any, progress: float) -> float:
        n = self.net.options.n_hidden
        forward = 4.0 * self.n_models * batch.batch_size * batch.n_steps * n * n  # both networks
        return forward + 2 * self._rls_flops(batch)
