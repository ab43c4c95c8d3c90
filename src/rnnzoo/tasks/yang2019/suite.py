"""All 20 rules in one network: the registered suite ``yang2019`` and the original draw.

``make("yang2019", version)`` (or `suite`) composes the rules with shared channels; by default
every training batch is one rule drawn with the paper's sampling weights (experiment.train_all:
contextdm1 and contextdm2 5x), as the original trains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.base import Task, Version
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.compose import MultiTask
from rnnzoo.tasks.registry import register
from rnnzoo.tasks.seeding import check_batch_size, generators
from rnnzoo.tasks.suite import Suite, shared_params
from rnnzoo.tasks.yang2019.encoding import RULES
from rnnzoo.tasks.yang2019.params import YangParams
from rnnzoo.tasks.yang2019.task import RECOMMENDED

PAPER_RULE_WEIGHTS: Mapping[str, float] = {"contextdm1": 5.0, "contextdm2": 5.0}
"""Relative sampling weights of the paper's all-rule training (experiment.train_all); every
other rule has weight 1."""

Rule = Literal[RULES]  # type: ignore[valid-type]


class Yang2019SuiteParams(shared_params(YangParams, "YangSharedParams")):  # type: ignore[misc]
    """The suite's parameters: those every rule shares (None = each rule's own value in this
    version), which rules, their sampling weights and the batching mode."""

    rules: tuple[Rule, ...] = Field(RULES, min_length=1, description="the rules, in order")
    weights: dict[str, Annotated[float, Field(ge=0)]] | None = Field(
        None,
        description="rule -> relative sampling weight (rules not named weigh 1); None = the "
        "paper's: contextdm1 and contextdm2 5, every other rule 1",
    )
    mode: Literal["blocked", "interleave"] = Field(
        "blocked",
        description="blocked: every batch is one rule drawn with the weights (the paper's "
        "training); interleave: every trial draws its rule",
    )

    @model_validator(mode="after")
    def _rules_and_weights_agree(self) -> Yang2019SuiteParams:
        if len(set(self.rules)) != len(self.rules):
            raise ValueError(f"'rules' must be distinct; got {list(self.rules)}")
        stray = sorted(set(self.weights or {}) - set(self.rules))
        if stray:
            raise ValueError(f"'weights' names rules not in the suite: {stray}")
        if self.weights is not None and sum(self.weight_list()) <= 0:
            raise ValueError(f"'weights' must not all be 0; got {self.weights}")
        return self

    def weight_list(self) -> list[float]:
        """The weight of each rule in ``rules`` order."""
        weights = self.weights
        if weights is None:
            weights = {r: w for r, w in PAPER_RULE_WEIGHTS.items() if r in self.rules}
        return [float(weights.get(rule, 1.0)) for rule in self.rules]


@register
class Yang2019Suite(Suite):
    name = "yang2019"
    aliases = ("yang2019_suite",)
    title = "Yang et al. (2019): the 20 rules in one network"
    summary = (
        "One network trained on all 20 cognitive tasks of Yang et al. (2019) (or a subset), "
        "sharing its 85 inputs and 33 outputs; the rule unit tells it which task each trial is."
    )
    source = (
        "Yang G.R., Joglekar M.R., Song H.F., Newsome W.T. & Wang X.-J. (2019) Task "
        "representations in neural networks trained to perform many cognitive tasks. Nature "
        "Neuroscience 22:297-306 (Methods: training on all tasks); the authors' code "
        "github.com/gyyang/multitask (snapshot 817e23d8), experiment.py (train_all: contextdm1 "
        "and contextdm2 sampled 5x) and train.py (one rule per batch, drawn with those "
        "probabilities). Each rule's own card gives its source."
    )
    definition = (
        "The tasks named in 'rules' (default all 20, in the paper's order), each in this "
        "version, composed with shared channels and no extra rule inputs (each task sets its own "
        "rule unit). mode 'blocked' (default): every batch is one rule, drawn with probability "
        "proportional to its weight, and its trials share that rule's timing (shared_timing), as "
        "the original trains; 'interleave': every trial draws its rule. Evaluation and per-rule "
        "scores use balanced batches (an equal share of trials per rule). A trial is scored by its "
        "rule's metric (last step: fixation or population-vector response). Conditions: "
        "task_index (the rule's position in 'rules') and each rule's conditions as "
        "'<rule>.<name>'. Shared parameters given here (not None) are passed to every rule."
    )
    Params = Yang2019SuiteParams
    versions = {
        "vanilla": Version("every rule in its vanilla version (the original code)"),
        "realistic": Version("every rule in its realistic version"),
        "long": Version("every rule in its long version"),
        "soo2023": Version("every rule in Soo et al. 2023's dt 5 ms configuration"),
    }
    recommended = RECOMMENDED

    def members(
        self, version: str, params: Yang2019SuiteParams
    ) -> tuple[list[Task], dict[str, Any]]:
        from rnnzoo.tasks.registry import make

        overrides = params.task_overrides()
        tasks = [make(rule, version, **overrides) for rule in params.rules]
        return tasks, {
            "labels": params.rules,
            "channels": "shared",
            "rule_inputs": False,
            "weights": params.weight_list(),
            "mode": params.mode,
        }


def suite(
    version: str = "vanilla",
    *,
    rules: Sequence[str] = RULES,
    weights: Mapping[str, float] | None = None,
    mode: str = "blocked",
    **overrides: Any,
) -> MultiTask:
    """One network for several (by default all 20) rules: ``make("yang2019", version, ...)``.

    The tasks share their 85 input and 33 output channels; each task already sets its own rule
    unit, so the composition adds no rule inputs.  Rules are drawn with probabilities
    proportional to ``weights`` (default `PAPER_RULE_WEIGHTS`), one rule per batch
    (``mode="blocked"``, the paper's training) or per trial (``mode="interleave"``).

    Parameters
    ----------
    version : the version of every task ("vanilla", "realistic", "long", "soo2023").
    rules : rule names, a subset of `RULES` (labels of the composition).
    weights : rule -> relative weight; rules not named weigh 1.
    overrides : parameter values applied to every task (for example ``dt_ms=10``).
    """
    from rnnzoo.tasks.registry import make

    given = {"rules": tuple(rules), "mode": mode, **overrides}
    if weights is not None:
        given["weights"] = dict(weights)
    return make("yang2019", version, **given)


def one_rule_batch(
    multi: MultiTask,
    batch_size: int,
    seed: int | np.random.Generator,
    *,
    split: str = "train",
    index: int = 0,
) -> tuple[str, TrialBatch]:
    """The original training step: draw one rule with the suite's weights, then a whole batch
    of that rule (timing shared within it, with ``shared_timing``).

    Returns the rule's label and its batch; the batch has the suite's channels, so a network
    trained on the suite takes it as it is (score it with that task's ``performance``).
    The same (seed, split, index) gives the same rule and batch.
    """
    batch_size = check_batch_size(batch_size)
    if not isinstance(multi, MultiTask):
        raise InvalidParameterError(
            f"'multi' must be a composition (MultiTask); got {type(multi).__name__}"
        )
    draws, _ = generators(seed, split, index)
    k = int(draws.choice(len(multi.tasks), p=multi.weights))
    return multi.labels[k], multi.tasks[k].generate(batch_size, draws)
