"""The training process the GUI starts: ``python -m rnnzoo.gui.worker train --out DIR ...``.

It runs the `rnnzoo` command line unchanged, after making sure Ctrl-C (SIGINT) raises
KeyboardInterrupt: a process started from a background shell inherits SIGINT as ignored, and
the GUI's Stop button relies on SIGINT making the trainer checkpoint and end "interrupted".
"""

from __future__ import annotations

import signal
import sys


def main(argv: list[str]) -> None:
    """Run ``rnnzoo ARGV`` with the default SIGINT handler."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from rnnzoo.cli.main import app

    app(argv, prog_name="rnnzoo")


if __name__ == "__main__":
    main(sys.argv[1:])
