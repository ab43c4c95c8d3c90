"""Yang et al. (2019): 20 cognitive tasks sharing one input and output code.

The tasks are registered under their rule names (``fdgo`` ... ``dmcnogo``, see `RULES`), with
the paper's names (``"Go"``, ``"RT Go"``, ``"DMS"``, ...) and Soo et al.'s short names
(``go``, ``rtgo``, ``dms``, ...) as aliases. Train one network on all of them with

>>> from rnnzoo.tasks import yang2019
>>> multi = yang2019.suite()               # 20 tasks, shared channels, contextdm1/2 weighted 5x
>>> batch = multi.generate(64, seed=0)     # interleaved trials; or, as the original,
>>> rule, batch = yang2019.one_rule_batch(multi, 64, seed=0)   # one rule per batch
"""

from rnnzoo.tasks.yang2019.encoding import INPUT_NAMES, N_RING, OUTPUT_NAMES, RULES, rule_unit
from rnnzoo.tasks.yang2019.suite import PAPER_RULE_WEIGHTS, one_rule_batch, suite

__all__ = [
    "INPUT_NAMES",
    "N_RING",
    "OUTPUT_NAMES",
    "PAPER_RULE_WEIGHTS",
    "RULES",
    "one_rule_batch",
    "rule_unit",
    "suite",
]
