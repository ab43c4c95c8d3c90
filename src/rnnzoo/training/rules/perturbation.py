"""Node perturbation with Miconi's supralinear eligibility (Miconi 2017; Fiete & Seung 2006):
reward-modulated Hebbian learning from exploratory perturbations, updated at the end of a trial.

Each neuron's drive a_t receives, with probability perturbation_rate_hz * dt per step, a kick
U(-1, 1) * kick / alpha (so the state moves by up to ``kick``; Miconi: 16 dt / tau ~ 0.5).  With
the state s_t (x_t, or r_t in the rate form), its running mean sbar_t = d sbar_{t-1} +
(1 - d) s_t (d = trace_decay) and ds_t = s_t - sbar_{t-1}, the eligibility of W_ij over a trial is

    e_ij = sum_t (r_j,t-1 ds_i,t)^3                    (eligibility=miconi, the paper's rule)
    e_ij = sum_t r_j,t-1 xi_i,t                        (eligibility=perturbation: the kicks
                                                        xi themselves, Fiete & Seung's form)

and the bias b_i, a synapse from a unit of constant rate 1 (Miconi clamps three units to
constants for this), the same with r_j = 1.

At the trial's end its error R (the mean |z - f| over the scored steps, or the squared error)
is compared with the running error Rbar of its trial type:

    dW = -eta Rbar e (R - Rbar), clipped to +-max_update;  Rbar <- b Rbar + (1 - b) R

(b = baseline_decay; trial types by the conditions named in ``baseline_by``, one type when
empty; Rbar starts at 0 and no update is made in the first ``warmup_trials`` trials, as the
authors' code).  The B trials of a batch run at once from the same weights, in order for the
baselines, and dW is their mean.  W_in is not plastic; the readout is fixed (Miconi reads a
neuron) unless readout_lr > 0, which adds the delta rule -readout_lr dL/dW_out.  The network's
train_recurrent and train_bias flags say whether W and b learn.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import torch
from torch import Tensor

from rnnzoo.errors import InvalidParameterError, did_you_mean
from rnnzoo.models.base import seeded_generator
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
    PERTURBATION_STREAM,
    SIMPLE_KINDS,
    Trajectory,
    add_to_parameters,
    form_of,
    noisy_inputs,
    output_errors,
    require_family,
    require_plain,
    simulate,
    weights_of,
)


class NodePerturbationParams(RuleParams):
    """Node perturbation (Miconi 2017), defaults of the authors' DNMS code."""

    eta: float = rule_field(
        0.1, "learning rate eta (perturbation variant: 0.001)", "", gt=0, le=1e4
    )
    max_update: float | None = rule_field(
        3e-4, "largest |dW_ij| per update; None = no clipping", "", gt=0, le=100
    )
    perturbation_rate_hz: float = rule_field(
        3.0, "rate of exploratory kicks per neuron", "Hz", gt=0, le=1000
    )
    kick: float = rule_field(
        0.5, "largest change of the state by one kick (U(-kick, kick))", "a.u.", gt=0, le=100
    )
    eligibility: Literal["miconi", "perturbation"] = rule_field(
        "miconi", "(r_pre ds_post)^3 (Miconi) or r_pre xi_post (node perturbation proper)"
    )
    trace_decay: float = rule_field(
        0.05, "decay d of the running mean of the state", "", ge=0, lt=1
    )
    baseline_decay: float = rule_field(
        0.75, "decay b of the running error Rbar per trial type", "", ge=0, lt=1
    )
    baseline_by: list[str] = rule_field(
        [], "conditions that define a trial type (own Rbar each); [] = one type"
    )
    warmup_trials: int = rule_field(100, "trials before the first update", "trials", ge=0)
    error: Literal["abs", "squared"] = rule_field(
        "abs", "trial error R: mean |z - f| (Miconi) or mean (z - f)^2 over scored steps"
    )
    readout_lr: float = rule_field(
        0.0, "delta-rule rate of the readout; 0 = fixed readout (Miconi)", "", ge=0, le=100
    )


class NodePerturbation(Learner):
    """Reward-modulated Hebbian learning of W from exploratory kicks."""

    name = "node_perturbation"
    Params = NodePerturbationParams
    params: NodePerturbationParams
    card = RuleCard(
        title="Node perturbation (reward-modulated Hebbian, Miconi's rule)",
        source="Miconi T. (2017) Biologically plausible learning in recurrent neural networks "
        "reproduces neural dynamics observed during cognitive tasks. eLife 6:e20899 "
        "(ThomasMiconi/BiologicallyPlausibleLearningRNN, dnms/net.cpp); Fiete I.R. & Seung H.S. "
        "(2006) Gradient learning in spiking neural networks by dynamic perturbation of "
        "conductances. Phys. Rev. Lett. 97:048104",
        equations="kicks xi on a_t (rate perturbation_rate_hz, size kick on the state); e_ij = "
        "sum_t (r_j,t-1 ds_i,t)^3, ds = s - sbar; at trial end dW = -eta Rbar e (R - Rbar) "
        "clipped to +-max_update, Rbar <- b Rbar + (1 - b) R per trial type",
        networks=SIMPLE_KINDS,
        trains="W and b (W_in not plastic; W_out fixed unless readout_lr > 0)",
        optimizer="none: its own update (train.optimizer, lr and clip_grad_norm are not used; a "
        "rollback halves eta)",
        ensemble="yes: each member has its own kicks, errors and baselines",
        memory="the trajectory, O(M B N T)",
        resume="baselines per trial type and trials seen; the kicks of a batch are drawn from a "
        "stream keyed by the member and the trials seen, so they replay exactly",
        notes="Needs a linear readout and no Dale's law or low rank (sparse masks are kept).",
    )

    def __init__(self, params: NodePerturbationParams, context: LearnerContext) -> None:
        super().__init__(params, context)
        self.form = form_of(self.net)
        self.baselines: dict[str, Tensor] = {}
        self.trials_seen = 0
        self._proposal: dict[str, Tensor] | None = None
        self._pending: tuple[dict[str, Tensor], int] | None = None

    @classmethod
    def check(cls, params: RuleParams, context: LearnerContext) -> None:
        super().check(params, context)
        require_family(cls.name, context)
        net = context.net
        require_plain(cls.name, net, mask_allowed=True, why="adds its weight changes to W")
        if not net.options.train_recurrent:
            raise InvalidParameterError(
                f"rule '{cls.name}' learns W; model '{net.kind}' has train_recurrent=false"
            )
        if params.baseline_by:
            have = context.task().generate(1, 0).conditions
            for name in params.baseline_by:
                if name not in have:
                    raise InvalidParameterError(
                        f"node_perturbation: 'baseline_by' names condition '{name}', which the "
                        f"task's trials do not have{did_you_mean(name, have)}; they have "
                        f"{', '.join(sorted(have))}"
                    )
        prob = params.perturbation_rate_hz * net.config.dt_ms / 1000
        if prob > 1:
            raise InvalidParameterError(
                f"node_perturbation: 'perturbation_rate_hz' times dt_ms must be <= 1 kick per "
                f"step; got {params.perturbation_rate_hz:g} Hz at dt {net.config.dt_ms:g} ms"
            )

    # --- the step ----------------------------------------------------------------------------
    def kicks(self, steps: int, batch: int) -> tuple[Tensor, Tensor]:
        """Kicks on the drive xi (T, M, B, N) and the mask of kicked (neuron, step)s of the
        next batch: member i draws from stream (PERTURBATION_STREAM, member, trials seen) of
        the network's seed, so a batch's kicks depend on nothing but its place in training."""
        n = self.net.options.n_hidden
        prob = self.params.perturbation_rate_hz * self.net.config.dt_ms / 1000
        masks, values = [], []
        cfg = self.net.config
        for i in range(self.n_models):
            gen = seeded_generator(cfg.seed, PERTURBATION_STREAM, cfg.member + i, self.trials_seen)
            masks.append(torch.rand((steps, batch, n), generator=gen) < prob)
            values.append(torch.rand((steps, batch, n), generator=gen) * 2 - 1)
        mask = torch.stack(masks, dim=1).to(self.context.device)
        dtype = self.net.w_in.dtype
        size = self.params.kick / self.form.alpha.to(dtype).unsqueeze(0)  # (1, M, 1, N)
        xi = torch.stack(values, dim=1).to(device=self.context.device, dtype=dtype) * size
        return xi * mask, mask

    def losses(self, batch: Any, progress: float) -> Tensor:
        inputs, targets, loss_weights = batch_tensors(batch, self.context.device)
        weights = weights_of(self.net)
        x, noise = noisy_inputs(self.net, inputs, self.context.noise)
        xi, _ = self.kicks(batch.n_steps, batch.batch_size)
        traj = simulate(self.form, weights, x, noise, kicks=xi)
        errors = self.trial_errors(traj.outputs, targets, loss_weights)  # (M, B)
        factors, baselines = self.modulation(errors, batch)
        eligibility = self.weight_change_direction(traj, xi, factors)  # (M, N, N + 1)
        delta = -self.params.eta * self.lr_scale * eligibility / batch.batch_size
        if self.params.max_update is not None:
            delta = delta.clamp(-self.params.max_update, self.params.max_update)
        proposal = {"w": delta[..., :-1]}
        if self.net.options.train_bias:
            proposal["bias"] = delta[..., -1]
        if self.params.readout_lr > 0:
            e = output_errors(traj.outputs, targets, loss_weights)
            rate = self.params.readout_lr * self.lr_scale
            proposal["w_out"] = -rate * torch.einsum("tmbo,tmbn->mon", e, traj.rates)
            proposal["b_out"] = -rate * e.sum(dim=(0, 2))
        self._proposal = proposal
        self._pending = (baselines, batch.batch_size)
        self.outputs = traj.outputs
        return masked_mse(traj.outputs, targets, loss_weights)

    def trial_errors(self, outputs: Tensor, targets: Tensor, weights: Tensor) -> Tensor:
        """R per member and trial (M, B): weighted mean |z - f| (or squared) over scored steps."""
        diff = (outputs - targets.unsqueeze(1)).abs()
        if self.params.error == "squared":
            diff = diff.square()
        w = weights.unsqueeze(1)
        total = w.sum(dim=(0, 3)).clamp_min(1e-12)  # (1, B)
        return ((diff * w).sum(dim=(0, 3)) / total).to(torch.float64)

    def trial_types(self, batch: Any) -> list[str]:
        """The type key of each trial (JSON of its ``baseline_by`` conditions)."""
        names = self.params.baseline_by
        if not names:
            return ["all"] * batch.batch_size
        conditions = batch.conditions
        return [
            json.dumps([_plain(conditions[name][b]) for name in names])
            for b in range(batch.batch_size)
        ]

    def modulation(self, errors: Tensor, batch: Any) -> tuple[Tensor, dict[str, Tensor]]:
        """Per member and trial the factor Rbar (R - Rbar) (M, B) (0 in the warm-up and for
        unscored trials), and the baselines after the batch."""
        baselines = {k: v.clone() for k, v in self.baselines.items()}
        scored = torch.as_tensor(batch.weights.sum(axis=(0, 2)) > 0)
        factors = torch.zeros_like(errors)
        decay = self.params.baseline_decay
        for b, key in enumerate(self.trial_types(batch)):
            if not scored[b]:
                continue
            mean = baselines.get(key, torch.zeros(self.n_models, dtype=torch.float64))
            if self.trials_seen + b >= self.params.warmup_trials:
                factors[:, b] = mean * (errors[:, b] - mean)
            baselines[key] = decay * mean + (1 - decay) * errors[:, b]
        return factors, baselines

    @torch.no_grad()
    def weight_change_direction(self, traj: Trajectory, xi: Tensor, factors: Tensor) -> Tensor:
        """sum_b factor_b e_b (M, N, N + 1): the trial eligibilities of W and (last column) b
        weighted by their factors."""
        factors = factors.to(traj.states.dtype)
        pre = torch.cat([traj.previous, traj.previous.new_ones(*traj.previous.shape[:-1], 1)], -1)
        if self.params.eligibility == "perturbation":
            post = xi
        else:
            post = running_deviation(traj.states, self.params.trace_decay).pow(3)
            pre = pre.pow(3)
        return torch.einsum("tmbn,tmbk,mb->mnk", post, pre, factors)

    def prepare_update(self, step: int) -> Divergence | None:
        assert self._proposal is not None
        for name, value in self._proposal.items():
            bad = non_finite(step, value, f"non-finite change of {name}")
            if bad is not None:
                self._proposal = self._pending = None
                return bad
        return None

    def apply_update(self) -> None:
        assert self._proposal is not None and self._pending is not None
        add_to_parameters(self.net, self._proposal)
        self.baselines, trials = self._pending
        self.trials_seen += trials
        self._proposal = self._pending = None

    def flops(self, batch: Any, progress: float) -> float:
        n = self.net.options.n_hidden
        return 4.0 * self.n_models * batch.batch_size * batch.n_steps * n * n

    # --- state -------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {"baselines": dict(self.baselines), "trials_seen": self.trials_seen}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.baselines = {k: v.clone() for k, v in state["baselines"].items()}
        self.trials_seen = int(state["trials_seen"])


def running_deviation(states: Tensor, decay: float) -> Tensor:
    """ds_t = s_t - sbar_{t-1}, sbar_t = decay sbar_{t-1} + (1 - decay) s_t, sbar_{-1} = 0,
    along the first axis of ``states`` (T, ...)."""
    out = states.clone()
    mean = torch.zeros_like(states[0])
    for t in range(states.shape[0]):
        out[t].sub_(mean)
        mean.mul_(decay).add_(states[t], alpha=1 - decay)
    return out


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value
