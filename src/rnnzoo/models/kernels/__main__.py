"""`python -m rnnzoo.models.kernels`: build (or find) the compiled kernels and say where."""

import sys

from rnnzoo.models.kernels import available, unavailable_reason
from rnnzoo.models.kernels.build import library

if available():
    print(f"rnnzoo kernels: {library()}")
else:
    print(f"rnnzoo kernels unavailable: {unavailable_reason()}", file=sys.stderr)
    sys.exit(1)
