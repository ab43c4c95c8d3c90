"""Exceptions that user-facing code raises; their text is shown unchanged by the CLI and GUI."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from itertools import takewhile


class RnnzooError(Exception):
    """Base class of every error rnnzoo raises on purpose."""


class InvalidParameterError(RnnzooError, ValueError, TypeError):
    """A parameter value is outside its allowed range or of the wrong type.

    The message names the owner, the parameter, the allowed values and the value given.
    """


class UnknownNameError(RnnzooError, KeyError):
    """A task, version, model or other registered name does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return "; did you mean 'x'?" for the closest candidate, or "" when none is close.

    Among the close matches (difflib ratio >= 0.6) the best ratio wins; ties go to the
    candidate sharing the longest prefix with ``name``, then the nearest in length (so ``dm``
    suggests ``dm1`` rather than ``pdm``).
    """
    pool = list(candidates)
    close = difflib.get_close_matches(name, pool, n=len(pool) or 1, cutoff=0.6)
    if not close:
        return ""

    def rank(candidate: str) -> tuple[float, int, int, str]:
        ratio = difflib.SequenceMatcher(None, name, candidate).ratio()
        pairs = zip(name.lower(), candidate.lower(), strict=False)
        prefix = sum(1 for _ in takewhile(lambda ab: ab[0] == ab[1], pairs))
        return (-ratio, -prefix, abs(len(candidate) - len(name)), candidate)

    return f"; did you mean '{min(close, key=rank)}'?"
