"""Exceptions that user-facing code raises; their text is shown unchanged by the CLI and GUI."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


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
    """Return "; did you mean 'x'?" for the closest candidate, or "" when none is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
