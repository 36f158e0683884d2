"""User-facing errors (one line, non-zero exit, no traceback) and interruptions."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable


class PipelineError(Exception):
    """A problem the user can fix (bad params, malformed data, unknown character...).

    The message must name the offending key, file:line or value, on one line.
    """


def run_cli(main: Callable[[], None]) -> None:
    """Run a stage or CLI entry point, turning user errors into a one-line message."""
    try:
        main()
    except PipelineError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)


def stop_on_sigterm() -> None:
    """`dvc` stops stages with SIGTERM: raise KeyboardInterrupt so MLflow runs end KILLED, not RUNNING."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)
