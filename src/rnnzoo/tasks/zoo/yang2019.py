"""The 20 tasks of Yang et al. (2019), registered under the original rule names.

The machinery lives in `rnnzoo.tasks.yang2019`; this module declares each rule: its family,
what decides the response, its names and its card.
"""

from __future__ import annotations

from typing import ClassVar

from rnnzoo.tasks.base import Version
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.yang2019 import versions
from rnnzoo.tasks.yang2019.decision import BOTH, DecisionFamily, DelayDecisionFamily
from rnnzoo.tasks.yang2019.matching import CategoryFamily, MatchFamily
from rnnzoo.tasks.yang2019.reach import DelayFamily, GoFamily, ReactFamily

_YANG = (
    "Yang G.R., Joglekar M.R., Song H.F., Newsome W.T. & Wang X.-J. (2019) Task "
    "representations in neural networks trained to perform many cognitive tasks. Nature "
    "Neuroscience 22:297-306 (Fig. 1 and Methods: tasks, inputs, outputs and training). Every "
    "number is that of the authors' released code, github.com/gyyang/multitask (snapshot "
    "817e23d8, 2019-01-17): task.py (Trial.add_x_loc and add_y_loc, Trial.add_c_mask, "
)
_CODE_TAIL = (
    "), network.py (popvec, get_perf), train.py (get_default_hp) and experiment.py (train_all: "
    "contextdm1 and contextdm2 sampled 5x). Version soo2023: Soo W.W.M., Goudar V. & Wang X.-J. "
    "(2023) Training biologically plausible recurrent neural networks on cognitive tasks with "
    "long-term dependencies. NeurIPS 36, section 2.2 (eqs. 3-4; dt = 5 ms, tau = 100 ms) and "
    "Appendix D (trial structures A, B, C), with the durations of its code "
    "github.com/wmws2/temporalskip, functions/func_standardtasks.py (class yangtasks)."
)


def _source(functions: str) -> str:
    return _YANG + functions + _CODE_TAIL


_COMMON = (
    "Channels: 85 inputs, fixation; ring1_0..ring1_31 and ring2_0..ring2_31 (modalities 1 and 2; "
    "unit i prefers the angle 2*pi*i/32); 20 rule units rule_<name> in the paper's order fdgo, "
    "reactgo, delaygo, fdanti, reactanti, delayanti, dm1, dm2, contextdm1, contextdm2, multidm, "
    "delaydm1, delaydm2, contextdelaydm1, contextdelaydm2, multidelaydm, dmsgo, dmsnogo, dmcgo, "
    "dmcnogo. 33 outputs: fixation, ring_0..ring_31. A stimulus at angle psi with strength g adds "
    "g*0.8*exp(-d^2/(2(pi/8)^2)) to each unit of its ring, d the circular distance to the unit's "
    "preferred angle. This task's rule unit is 1 on every step of the trial, the other rule units "
    "0. Timing: an optional rule-only warm-up (warmup_ms; fixation input 0, nothing scored), then "
    "the epochs above laid end to end; each duration is drawn in ms and converted to steps by "
    "truncation, int(d/dt), as the original code (duration_rounding; Soo et al.'s code draws "
    "integer steps the same way, tf.random.uniform(minval, maxval) with maxval excluded), so a "
    "uniform law U(a, b) gives a/dt, ..., b/dt - 1 steps, each with probability dt/(b - a): "
    "e.g. fix1 U(300, 700) ms at dt 20 gives 15..34 steps, 1/20 each, and 35 never; the "
    "parameters list states every law in steps. Until CHANGELOG 'Yang suite durations' rnnzoo "
    "rounded half up (duration_rounding='half_up'), which made b/dt possible and the two end "
    "values half as likely. With shared_timing (default) every duration, and "
    "where stated the modality, is drawn once per batch and shared by its trials, as in the "
    "original (equal trial lengths); otherwise per trial. The go cue is the start of epoch go1. "
    "Targets: every output 0.05; the fixation output fixation_target (0.8, the original code; "
    "Soo et al. use 0.85) from the end of the warm-up to the go cue, or to the end of the trial "
    "on trials that must end in fixation; on response trials the ring target after the go cue is "
    "0.05 + 0.8*exp(-d^2/(2(pi/8)^2)) around the response angle. Loss weights, the cost mask m: 0 "
    "on the warm-up and the first mask_start_ms (100) of the trial, 1 from there to the go cue, 0 "
    "for response_grace_ms (100) after it, response_weight (5) to the end, the fixation column "
    "times fixation_output_weight (2); the weights are m^2 (1 and 25, fixation 4 and 100) with "
    "mask_inside_square (default: the original loss is mean((m (y - z))^2)), else m (1, 5; "
    "fixation 2, 10). Input noise N(0, s^2), s = noise_scale*sqrt(2*tau_ms/dt_ms) (sigma_x 0.01, "
    "tau 100 ms: s = 0.0316 at dt 20 ms), on every input unit and step. Metric, at the last step "
    "of each trial only (network.get_perf): a trial that must end in fixation is correct iff the "
    "fixation output > 0.5; a response trial iff the fixation output is not > 0.5 (the "
    "original's fixating = y_fix > 0.5, so exactly 0.5 and NaN count as released) and the "
    "population "
    "vector of the ring outputs, atan2(sum y_i sin psi_i, sum y_i cos psi_i) (each sum divided by "
    "sum y_i), is closer than 0.2*pi to the response angle. Conditions hold <epoch>_steps for "
    "every epoch after the warm-up, the drawn stimulus values and the derived response_loc (rad; "
    "NaN = keep fixating). psychometric_conditions(...) builds explicit conditions for "
    "from_conditions (the original 'psychometric' mode). Network of the paper (not part of the "
    "task): 256 leaky units, tau 100 ms, recurrent noise sigma_rec 0.05, ReLU by default "
    "(softplus with diagonal initialisation in the paper's runs), sigmoid read-out, Adam (lr "
    "1e-3), batches of 64 trials of one rule. Version soo2023 takes from Soo et al. what their "
    "paper states (dt, tau, encoding, fixation > 0.5) and the structures and durations of their "
    "code, and keeps Yang et al.'s stimulus laws, cost-mask form and metric; not reproduced from "
    "their code: DM strength offsets U(0.1, 0.2), multi-sensory weights U(1.2, 1.4), DMS "
    "near-matches within +-10 deg, DMC categories on quarter rings, the loss averaged per span, "
    "the per-step score, and DNMS/DNMC trials identical to DMS/DMC there. "
)

_TEST_TIMING = (
    "Test grid timing: the original 'test' mode durations for every epoch left at its default "
    "law, otherwise the expected value of the law set. "
)

_GO = (
    "Epochs: fix1 (input_start_ms), stim1 (input_duration_ms, the stimulus before the go cue), "
    "go1 (response_ms). Draws: stim_loc ~ U(0, 2*pi) per trial; stim_mod 1 or 2 with probability "
    "1/2 (per batch with shared_timing); strength 1. The stimulus is shown from the start of stim1 "
    "to the end of the trial (to the go cue with stimulus_off_at_go). The fixation input is 1 "
    "from the end of the warm-up to the go cue. Test grid: 40 trials, locations 2*pi*i/20 (i = "
    "0..19) x modalities 1, 2 (location-major); original timing fix1 500, stim1 1000, go1 500 ms. "
)
_REACT = (
    "Epochs: fix1 (input_start_ms), hold (hold_ms, 0 by default), go1 (response_ms). Draws: "
    "stim_loc ~ U(0, 2*pi) per trial; stim_mod 1 or 2 with probability 1/2 (per batch with "
    "shared_timing); strength 1. The stimulus appears at the start of go1 and stays on to the end: "
    "its onset is the go cue. The fixation input is 1 from the end of the warm-up to the end of "
    "the trial. Test grid: 40 trials, locations 2*pi*i/20 x modalities 1, 2 (location-major); "
    "original timing fix1 2000, go1 500 ms. "
)
_DELAY = (
    "Epochs: fix1 (input_start_ms), stim1 (input_duration_ms), delay1 (delay_ms), go1 "
    "(response_ms). Draws: stim_loc ~ U(0, 2*pi) per trial; stim_mod 1 or 2 with probability 1/2 "
    "(per batch with shared_timing); strength 1. The stimulus is shown during stim1 only; the "
    "fixation input is 1 from the end of the warm-up to the go cue. Test grid: 40 trials, "
    "locations 2*pi*i/20 x modalities 1, 2 (location-major); original timing fix1 500, stim1 "
    "500, delay1 1000, go1 500 ms. "
)
_STRENGTHS = (
    "Draws per trial: stim1_loc ~ U(0, 2*pi); stim2_loc = stim1_loc + U(pi/2, 3pi/2)*(+-1), "
    "wrapped; a strength pair is (m + c*s, m - c*s) with m ~ U(strength_mean_low, "
    "strength_mean_high) = U(0.8, 1.2), c uniform on coherences, s = +-1. "
)
_DECISION = (
    "Epochs: fix1 (input_start_ms), stim1 (input_duration_ms, both stimuli), go1 (response_ms). "
    + _STRENGTHS
    + "Default coherences 0.01, 0.02, 0.04, 0.08. Both stimuli are shown during stim1 only; the "
    "fixation input is 1 from the end of the warm-up to the go cue. Conditions: stim1_loc, "
    "stim2_loc, stim<k>_mod<r>_strength (stimulus k on ring r, 0 = not shown); derived choice "
    "(1 or 2; a tie goes to stimulus 2, as in the original) and response_loc (the chosen "
    "stimulus' location). "
)
_DELAY_DECISION = (
    "Epochs: fix1 (input_start_ms), stim1 (input_duration_ms), delay1 (delay_ms), stim2 "
    "(stimulus2_ms), delay2 (delay2_ms), go1 (response_ms). "
    + _STRENGTHS
    + "Default coherences 0.08, 0.16, 0.32. Stimulus 1 is shown during stim1, stimulus 2 during "
    "stim2; the fixation input is 1 from the end of the warm-up to the go cue. Conditions: "
    "stim1_loc, stim2_loc, stim<k>_mod<r>_strength (stimulus k on ring r, 0 = not shown); derived "
    "choice (1 or 2; a tie goes to stimulus 2) and response_loc. "
)
_ONE_RING = (
    "One strength pair per trial, shown on ring {ring} only; the stronger stimulus on ring {ring} "
    "is the target. Test grid: 100 trials, stim1_loc 2*pi*i/20, stim2_loc opposite, stimulus 1 "
    "strength {offset:g} + {span:g}*j/5 and stimulus 2 strength 2 minus it (i-major, j = 0..4). "
)
_CONTEXT = (
    "An independent strength pair on each ring, both shown; only ring {ring} decides (the other "
    "ring is the distractor). Test grid: 500 trials, stim1_loc 2*pi*i/20, stim2_loc opposite, "
    "ring-1 strengths 0.8 + 0.4*j/5 and 2 minus it, ring-2 strengths 0.8 + 0.4*k/5 and 2 minus "
    "it (i, j, k row-major). "
)
_MULTI = (
    "One strength pair (g1, g2); each stimulus' strength is split between the rings: d = g*U(0.2, "
    "0.8)*(+-1), ring 1 shows g + d/2 and ring 2 g - d/2 (the original draws this split from the "
    "global NumPy generator; here it comes from the task's seeded generator). The stimulus with "
    "the larger summed strength over both rings is the target. Test grid: as Ctx DM, 500 trials. "
)
_MATCHING = (
    "Epochs: fix1 (input_start_ms), stim1 (input_duration_ms, the sample), delay1 (delay_ms), "
    "stim2 (test_ms, 0 by default), go1 (response_ms). stim1_mod and stim2_mod are 1 or 2 with "
    "probability 1/2 each, independently (per batch with shared_timing); strengths 1. With "
    "test_ms = 0 (Yang et al.) the test appears at the go cue and stays on, and the fixation "
    "input stays 1 to the end of the trial; with test_ms > 0 (Soo et al. structure C) the test is "
    "shown during stim2 while fixating, then it and the fixation input go off (the go cue). "
)
_DMS_DRAWS = (
    "Draws per trial: stim1_loc ~ U(0, 2*pi); a match with probability 1/2 (stim2_loc = "
    "stim1_loc), else stim2_loc = stim1_loc + U(pi/9, 17pi/9)*(+-1), wrapped. Derived: match iff "
    "the circular distance between stim1_loc and stim2_loc is < pi/36 (5 deg, the original "
    "psychometric rule; random non-matches are >= 20 deg apart). "
)
_DMC_DRAWS = (
    "Draws per trial: stim1_loc and stim2_loc uniform on {0.1, 0.3, ..., 1.9}*pi; category 0 "
    "below pi, 1 above. Derived: match iff the categories agree. "
)
_GO_ON = (
    "Response: on {respond} trials a saccade to the test location (response_loc = stim2_loc); on "
    "{fixate} trials keep fixating to the end (response_loc NaN). Test grid: 80 trials, {samples} "
    "x stim1_mod x stim2_mod (row-major), every trial a response trial (test {test}); original "
    "timing fix1 500, stim1 500, delay1 1200, go1 500 ms. "
)


def _definition(*parts: str) -> str:
    return "".join(parts) + _TEST_TIMING + _COMMON


_GO_SOURCE = _source("fdgo_")
_REACT_SOURCE = _source("reactgo_")
_DELAY_SOURCE = _source("delaygo_")
_DM_SOURCE = _source("_dm")
_CONTEXT_SOURCE = _source("_contextdm, contextdm_genstim")
_DELAY_DM_SOURCE = _source("_delaydm")
_CONTEXT_DELAY_SOURCE = _source("_contextdelaydm, contextdm_genstim")
_DMS_SOURCE = _source("dms_")
_DMC_SOURCE = _source("dmc_")


class _GoRule(GoFamily):
    source = _GO_SOURCE
    versions: ClassVar[dict[str, Version]] = versions.GO


@register
class Go(_GoRule):
    name = "fdgo"
    aliases = ("Go", "go")
    title = "Go (Yang et al. 2019)"
    summary = (
        "Saccade to the stimulus location once the fixation point goes off. The stimulus appears "
        "during fixation (on one of two modality rings) and stays on, so the task asks only to "
        "withhold the response until the go cue."
    )
    definition = _definition(_GO, "Response: a saccade to the stimulus (response_loc = stim_loc). ")


@register
class Anti(_GoRule):
    name = "fdanti"
    aliases = ("Anti", "anti")
    ANTI = True
    title = "Anti (Yang et al. 2019)"
    summary = (
        "Anti-saccade: after the go cue, respond in the direction opposite to the stimulus, which "
        "appeared during fixation and stays on. Requires inhibiting the reflexive response and "
        "mapping the stimulus to the opposite ring location."
    )
    definition = _definition(
        _GO, "Response: opposite the stimulus (response_loc = stim_loc + pi, wrapped). "
    )


class _ReactRule(ReactFamily):
    source = _REACT_SOURCE
    versions: ClassVar[dict[str, Version]] = versions.REACT


@register
class ReactGo(_ReactRule):
    name = "reactgo"
    aliases = ("RT Go", "rtgo")
    title = "RT Go (Yang et al. 2019)"
    summary = (
        "Reaction-time go: fixate until a stimulus appears, then saccade to it at once. The "
        "fixation point never goes off; the stimulus onset itself is the go cue."
    )
    definition = _definition(_REACT, "Response: to the stimulus (response_loc = stim_loc). ")


@register
class ReactAnti(_ReactRule):
    name = "reactanti"
    aliases = ("RT Anti", "rtanti")
    ANTI = True
    title = "RT Anti (Yang et al. 2019)"
    summary = (
        "Reaction-time anti-saccade: fixate until a stimulus appears, then saccade at once to the "
        "opposite location. The stimulus onset is the go cue."
    )
    definition = _definition(
        _REACT, "Response: opposite the stimulus (response_loc = stim_loc + pi, wrapped). "
    )


class _DelayRule(DelayFamily):
    source = _DELAY_SOURCE
    versions: ClassVar[dict[str, Version]] = versions.DELAY


@register
class DelayGo(_DelayRule):
    name = "delaygo"
    aliases = ("Dly Go", "dlygo", "dgo")
    title = "Dly Go (Yang et al. 2019)"
    summary = (
        "Memory-guided saccade: a brief stimulus is followed by a delay; when the fixation point "
        "goes off, saccade to the remembered location."
    )
    definition = _definition(_DELAY, "Response: to the stimulus (response_loc = stim_loc). ")


@register
class DelayAnti(_DelayRule):
    name = "delayanti"
    aliases = ("Dly Anti", "dlyanti", "danti")
    ANTI = True
    title = "Dly Anti (Yang et al. 2019)"
    summary = (
        "Memory-guided anti-saccade: a brief stimulus, a delay, then a saccade opposite the "
        "remembered location when the fixation point goes off."
    )
    definition = _definition(
        _DELAY, "Response: opposite the stimulus (response_loc = stim_loc + pi, wrapped). "
    )


class _DecisionRule(DecisionFamily):
    versions: ClassVar[dict[str, Version]] = versions.DECISION


@register
class DM1(_DecisionRule):
    name = "dm1"
    aliases = ("DM 1",)
    ATTEND = 1
    SHOWN = "one_ring"
    TEST_TIMING_MS: ClassVar[dict[str, float]] = {
        "input_start_ms": 500.0,
        "input_duration_ms": 1500.0,
        "response_ms": 500.0,
    }
    source = _DM_SOURCE
    title = "DM 1 (Yang et al. 2019)"
    summary = (
        "Perceptual decision in modality 1: two stimuli of slightly different strengths appear on "
        "ring 1; after the go cue, saccade to the stronger one. Small strength differences make "
        "integration over time pay off."
    )
    definition = _definition(
        _DECISION,
        _ONE_RING.format(ring=1, offset=0.8, span=0.4),
        "Original timing fix1 500, stim1 1500, go1 500 ms. ",
    )


@register
class DM2(_DecisionRule):
    name = "dm2"
    aliases = ("DM 2",)
    ATTEND = 2
    SHOWN = "one_ring"
    TEST_TIMING_MS = DM1.TEST_TIMING_MS
    source = _DM_SOURCE
    title = "DM 2 (Yang et al. 2019)"
    summary = (
        "Perceptual decision in modality 2: two stimuli of slightly different strengths appear on "
        "ring 2; after the go cue, saccade to the stronger one."
    )
    definition = _definition(
        _DECISION,
        _ONE_RING.format(ring=2, offset=0.8, span=0.4),
        "Original timing fix1 500, stim1 1500, go1 500 ms. ",
    )


@register
class ContextDM1(_DecisionRule):
    name = "contextdm1"
    aliases = ("Ctx DM 1", "ctxdm1")
    ATTEND = 1
    SHOWN = "both_rings"
    source = _CONTEXT_SOURCE
    title = "Ctx DM 1 (Yang et al. 2019)"
    summary = (
        "Context-dependent decision (as Mante et al. 2013): the two stimuli appear on both rings "
        "with independent strengths; the rule says to decide by ring 1 and ignore ring 2."
    )
    definition = _definition(
        _DECISION, _CONTEXT.format(ring=1), "Original timing fix1 500, stim1 1000, go1 500 ms. "
    )


@register
class ContextDM2(_DecisionRule):
    name = "contextdm2"
    aliases = ("Ctx DM 2", "ctxdm2")
    ATTEND = 2
    SHOWN = "both_rings"
    source = _CONTEXT_SOURCE
    title = "Ctx DM 2 (Yang et al. 2019)"
    summary = (
        "Context-dependent decision: the two stimuli appear on both rings with independent "
        "strengths; the rule says to decide by ring 2 and ignore ring 1."
    )
    definition = _definition(
        _DECISION, _CONTEXT.format(ring=2), "Original timing fix1 500, stim1 1000, go1 500 ms. "
    )


@register
class MultiDM(_DecisionRule):
    name = "multidm"
    aliases = ("MultSen DM", "multsendm")
    ATTEND = BOTH
    SHOWN = "split"
    source = _CONTEXT_SOURCE
    title = "MultSen DM (Yang et al. 2019)"
    summary = (
        "Multi-sensory decision: each stimulus' evidence is split between the two modality rings; "
        "saccade to the stimulus whose strength summed over both rings is larger."
    )
    definition = _definition(
        _DECISION, _MULTI, "Original timing fix1 500, stim1 1000, go1 500 ms. "
    )


_ONE_RING_DELAY_TIMING = {
    **DelayDecisionFamily.TEST_TIMING_MS,
    "delay2_ms": 200.0,
    "response_ms": 300.0,
}
_ONE_RING_DELAY_TEXT = (
    "Original timing fix1 500, stim1 500, delay1 1000, stim2 500, delay2 200, go1 300 ms. "
)
_BOTH_RINGS_DELAY_TEXT = (
    "Original timing fix1 500, stim1 500, delay1 1000, stim2 500, delay2 500, go1 500 ms. "
)


class _DelayDecisionRule(DelayDecisionFamily):
    versions: ClassVar[dict[str, Version]] = versions.DELAY_DECISION


@register
class DelayDM1(_DelayDecisionRule):
    name = "delaydm1"
    aliases = ("Dly DM 1", "dlydm1", "ddm")
    ATTEND = 1
    SHOWN = "one_ring"
    TEST_STRENGTHS = (0.5, 1.0)
    TEST_TIMING_MS = _ONE_RING_DELAY_TIMING
    source = _DELAY_DM_SOURCE
    title = "Dly DM 1 (Yang et al. 2019)"
    summary = (
        "Delayed comparison in modality 1: two stimuli appear one after the other on ring 1, "
        "separated by a delay; saccade to the location of the stronger one."
    )
    definition = _definition(
        _DELAY_DECISION, _ONE_RING.format(ring=1, offset=0.5, span=1.0), _ONE_RING_DELAY_TEXT
    )


@register
class DelayDM2(_DelayDecisionRule):
    name = "delaydm2"
    aliases = ("Dly DM 2", "dlydm2")
    ATTEND = 2
    SHOWN = "one_ring"
    TEST_STRENGTHS = (0.5, 1.0)
    TEST_TIMING_MS = _ONE_RING_DELAY_TIMING
    source = _DELAY_DM_SOURCE
    title = "Dly DM 2 (Yang et al. 2019)"
    summary = (
        "Delayed comparison in modality 2: two stimuli appear one after the other on ring 2, "
        "separated by a delay; saccade to the location of the stronger one."
    )
    definition = _definition(
        _DELAY_DECISION, _ONE_RING.format(ring=2, offset=0.5, span=1.0), _ONE_RING_DELAY_TEXT
    )


@register
class ContextDelayDM1(_DelayDecisionRule):
    name = "contextdelaydm1"
    aliases = ("Ctx Dly DM 1", "ctxdlydm1", "ddmd")
    ATTEND = 1
    SHOWN = "both_rings"
    source = _CONTEXT_DELAY_SOURCE
    title = "Ctx Dly DM 1 (Yang et al. 2019)"
    summary = (
        "Context-dependent delayed comparison: two sequential stimuli on both rings with "
        "independent strengths; compare them on ring 1 and ignore ring 2."
    )
    definition = _definition(_DELAY_DECISION, _CONTEXT.format(ring=1), _BOTH_RINGS_DELAY_TEXT)


@register
class ContextDelayDM2(_DelayDecisionRule):
    name = "contextdelaydm2"
    aliases = ("Ctx Dly DM 2", "ctxdlydm2")
    ATTEND = 2
    SHOWN = "both_rings"
    source = _CONTEXT_DELAY_SOURCE
    title = "Ctx Dly DM 2 (Yang et al. 2019)"
    summary = (
        "Context-dependent delayed comparison: two sequential stimuli on both rings with "
        "independent strengths; compare them on ring 2 and ignore ring 1."
    )
    definition = _definition(_DELAY_DECISION, _CONTEXT.format(ring=2), _BOTH_RINGS_DELAY_TEXT)


@register
class MultiDelayDM(_DelayDecisionRule):
    name = "multidelaydm"
    aliases = ("MultSen Dly DM", "multsendlydm", "msddm")
    ATTEND = BOTH
    SHOWN = "split"
    source = _CONTEXT_DELAY_SOURCE
    title = "MultSen Dly DM (Yang et al. 2019)"
    summary = (
        "Multi-sensory delayed comparison: two sequential stimuli whose evidence is split between "
        "the rings; saccade to the one with the larger summed strength."
    )
    definition = _definition(_DELAY_DECISION, _MULTI, _BOTH_RINGS_DELAY_TEXT)


class _MatchRule(MatchFamily):
    source = _DMS_SOURCE
    versions: ClassVar[dict[str, Version]] = versions.MATCH


@register
class DMS(_MatchRule):
    name = "dmsgo"
    aliases = ("DMS", "dms")
    GO_ON_MATCH = True
    title = "DMS (Yang et al. 2019)"
    summary = (
        "Delayed match-to-sample with a go/no-go report: a sample, a delay, then a test; saccade "
        "to the test if it matches the sample's location, otherwise keep fixating."
    )
    definition = _definition(
        _MATCHING,
        _DMS_DRAWS,
        _GO_ON.format(
            respond="match",
            fixate="non-match",
            samples="stim1_loc 2*pi*i/20",
            test="= sample",
        ),
    )


@register
class DNMS(_MatchRule):
    name = "dmsnogo"
    aliases = ("DNMS", "dnms")
    GO_ON_MATCH = False
    title = "DNMS (Yang et al. 2019)"
    summary = (
        "Delayed non-match-to-sample: a sample, a delay, then a test; saccade to the test if it "
        "differs from the sample's location, keep fixating on a match."
    )
    definition = _definition(
        _MATCHING,
        _DMS_DRAWS,
        _GO_ON.format(
            respond="non-match",
            fixate="match",
            samples="stim1_loc 2*pi*i/20",
            test="opposite the sample",
        ),
    )


class _CategoryRule(CategoryFamily):
    source = _DMC_SOURCE
    versions: ClassVar[dict[str, Version]] = versions.CATEGORY


_DMC_SAMPLES = "stim1_loc (0.1 + 0.08*i)*pi and (1.1 + 0.08*i)*pi (i = 0..9)"
_DMC_RESPONSE = "Epoch go1 lasts response_ms = {200, 400, 600} ms by default. "


@register
class DMC(_CategoryRule):
    name = "dmcgo"
    aliases = ("DMC", "dmc")
    GO_ON_MATCH = True
    title = "DMC (Yang et al. 2019)"
    summary = (
        "Delayed match-to-category (Freedman & Assad 2006): saccade to the test if it falls in "
        "the same category (half of the circle) as the sample, otherwise keep fixating."
    )
    definition = _definition(
        _MATCHING,
        _DMC_RESPONSE,
        _DMC_DRAWS,
        _GO_ON.format(respond="match", fixate="non-match", samples=_DMC_SAMPLES, test="= sample"),
    )


@register
class DNMC(_CategoryRule):
    name = "dmcnogo"
    aliases = ("DNMC", "dnmc")
    GO_ON_MATCH = False
    title = "DNMC (Yang et al. 2019)"
    summary = (
        "Delayed non-match-to-category: saccade to the test if its category differs from the "
        "sample's, keep fixating when the categories match."
    )
    definition = _definition(
        _MATCHING,
        _DMC_RESPONSE,
        _DMC_DRAWS,
        _GO_ON.format(
            respond="non-match",
            fixate="match",
            samples=_DMC_SAMPLES,
            test="opposite the sample",
        ),
    )
