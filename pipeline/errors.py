"""User-facing errors: one line, non-zero exit, no traceback."""

from __future__ import annotations

import sys
from typing import Callable


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
