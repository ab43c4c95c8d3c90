"""All 20 rules in one network: the composition and the original one-rule-per-batch draw."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from rnnzoo.errors import InvalidParameterError
from rnnzoo.tasks.batch import TrialBatch
from rnnzoo.tasks.compose import MultiTask
from rnnzoo.tasks.seeding import check_batch_size, generators
from rnnzoo.tasks.yang2019.encoding import RULES

PAPER_RULE_WEIGHTS: Mapping[str, float] = {"contextdm1": 5.0, "contextdm2": 5.0}
"""Relative sampling weights of the paper's all-rule training (experiment.train_all); every
other rule has weight 1."""


def suite(
    version: str = "vanilla",
    *,
    rules: Sequence[str] = RULES,
    weights: Mapping[str, float] | None = None,
    **overrides: Any,
) -> MultiTask:
    """One network for several (by default all 20) rules, as in the paper.

    The tasks share their 85 input and 33 output channels (``channels="shared"``); each task
    already sets its own rule unit, so the composition adds no rule inputs. Trials are
    interleaved with probabilities proportional to ``weights`` (default `PAPER_RULE_WEIGHTS`:
    contextdm1 and contextdm2 5, every other rule 1).

    Parameters
    ----------
    version : the version of every task ("vanilla", "realistic", "long", "soo2023").
    rules : rule names, a subset of `RULES` (labels of the composition).
    weights : rule -> relative weight; rules not named weigh 1.
    overrides : parameter values applied to every task (for example ``dt_ms=10``).
    """
    from rnnzoo.tasks.registry import make

    rules = tuple(rules)
    unknown = [r for r in rules if r not in RULES]
    if unknown or not rules or len(set(rules)) != len(rules):
        raise InvalidParameterError(
            f"suite: 'rules' must be distinct names from {', '.join(RULES)}; got {list(rules)}"
        )
    if weights is None:
        weights = {r: w for r, w in PAPER_RULE_WEIGHTS.items() if r in rules}
    weights = dict(weights)
    stray = sorted(set(weights) - set(rules))
    if stray:
        raise InvalidParameterError(f"suite: 'weights' names rules not in the suite: {stray}")
    return MultiTask(
        [make(rule, version, **overrides) for rule in rules],
        labels=rules,
        channels="shared",
        rule_inputs=False,
        weights=[weights.get(rule, 1.0) for rule in rules],
    )


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
    draws, _ = generators(seed, split, index)
    k = int(draws.choice(len(multi.tasks), p=multi.weights))
    return multi.labels[k], multi.tasks[k].generate(batch_size, draws)
