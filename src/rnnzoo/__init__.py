"""rnnzoo: standardized cognitive tasks and recurrent networks for computational neuroscience."""

from rnnzoo.errors import InvalidParameterError, RnnzooError, UnknownNameError

__version__ = "0.1.0"

__all__ = ["InvalidParameterError", "RnnzooError", "UnknownNameError", "__version__"]
