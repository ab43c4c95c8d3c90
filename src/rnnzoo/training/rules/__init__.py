"""Learning rules: one learner interface for BPTT and the rules beyond it.

    >>> from rnnzoo.training.rules import rule_names, describe_rule
    >>> rule_names()
    ['bptt', 'force', 'full_force', 'rflo', 'eprop', 'node_perturbation', 'a2c']

A run config's ``rule: {name, hyperparameters}`` (``rnnzoo train --rule NAME --set
rule.KEY=VALUE``) selects one; `rnnzoo.training.rules.base` defines the interface the trainer
uses, so a new rule is a `Learner` subclass added to ``_RULES``; one whose network is not the
task's (``a2c``: a recurrent policy with a value output) gives the trainer its view of the task
(`Learner.task_view`).
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin

from pydantic import ValidationError

from rnnzoo.errors import InvalidParameterError, did_you_mean
from rnnzoo.tasks.params import constraint_text, parse_validation_error
from rnnzoo.training.rules.a2c import A2CLearner
from rnnzoo.training.rules.base import Learner, LearnerContext, RuleCard, RuleParams
from rnnzoo.training.rules.bptt import BPTT, GradientLearner
from rnnzoo.training.rules.eligibility import RFLO, EProp
from rnnzoo.training.rules.force import Force, FullForce
from rnnzoo.training.rules.perturbation import NodePerturbation

__all__ = [
    "GradientLearner",
    "Learner",
    "LearnerContext",
    "RuleCard",
    "RuleParams",
    "describe_all_rules",
    "describe_rule",
    "get_rule_class",
    "make_learner",
    "rule_names",
    "rule_params",
]

DEFAULT_RULE = "bptt"
_RULES: dict[str, type[Learner]] = {
    cls.name: cls for cls in (BPTT, Force, FullForce, RFLO, EProp, NodePerturbation, A2CLearner)
}


def rule_names() -> list[str]:
    """The registered rules, BPTT first."""
    return list(_RULES)


def get_rule_class(name: str) -> type[Learner]:
    """The learner class of rule ``name``; `InvalidParameterError` with a suggestion."""
    if name not in _RULES:
        raise InvalidParameterError(
            f"'rule' must be one of {', '.join(_RULES)}; got {name!r}"
            f"{did_you_mean(str(name), _RULES)} (see `rnnzoo rules list`)"
        )
    return _RULES[name]


def rule_params(name: str, **hyperparameters: Any) -> RuleParams:
    """Validated hyperparameters of rule ``name``; a bad one is a one-line error naming it."""
    cls = get_rule_class(name)
    try:
        return cls.Params(**hyperparameters)
    except ValidationError as exc:
        raise InvalidParameterError(parse_validation_error(name, cls.Params, exc)) from None


def make_learner(name: str, hyperparameters: dict[str, Any], context: LearnerContext) -> Learner:
    """Rule ``name`` bound to ``context.net``, after checking that it can train that network
    with these settings (one-line errors naming rule and setting, before any training)."""
    cls = get_rule_class(name)
    params = rule_params(name, **hyperparameters)
    cls.check(params, context)
    return cls(params, context)


def _hyperparameter_rows(cls: type[Learner]) -> list[dict[str, Any]]:
    rows = []
    for field, info in cls.Params.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        choices = list(get_args(info.annotation)) if get_origin(info.annotation) is Literal else []
        rows.append(
            {
                "name": field,
                "default": info.default,
                "unit": extra.get("unit", ""),
                "range": constraint_text(info)
                or (f"one of {', '.join(choices)}" if choices else ""),
                "description": info.description or "",
            }
        )
    return rows


def describe_rule(name: str) -> dict[str, Any]:
    """The rule's card: title, source, equations, networks, what it trains, optimiser use,
    ensembles, memory, what a checkpoint holds, and every hyperparameter."""
    cls = get_rule_class(name)
    card = cls.card
    return {
        "name": name,
        "title": card.title,
        "source": card.source,
        "equations": card.equations,
        "networks": list(card.networks),
        "trains": card.trains,
        "uses_optimizer": cls.uses_optimizer,
        "optimizer": card.optimizer,
        "ensemble": card.ensemble,
        "memory": card.memory,
        "resume": card.resume,
        "notes": card.notes,
        "hyperparameters": _hyperparameter_rows(cls),
    }


def describe_all_rules() -> list[dict[str, Any]]:
    """One row per rule for `rnnzoo rules list`."""
    return [
        {"name": n, "title": c.card.title, "networks": list(c.card.networks)}
        for n, c in _RULES.items()
    ]
