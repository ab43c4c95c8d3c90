"""Import an optional dependency or say, in one line, which extra installs it."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

from rnnzoo.errors import InvalidParameterError

EXTRAS = {"neurogym": "neurogym", "gymnasium": "gym"}


def require(module: str) -> ModuleType:
    """``import module`` (neurogym's deprecation warnings silenced), or an
    `InvalidParameterError` naming the extra that provides it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = EXTRAS.get(top, top)
        raise InvalidParameterError(
            f"'{top}' is not installed ({exc}); install it with: pip install \"rnnzoo[{extra}]\""
        ) from None
