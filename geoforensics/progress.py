"""The one shape of a progress report: ``progress(fraction, message)``, how far (0 to 1) and doing what.

Long jobs (an analysis, the evidence video, Table 1, a weights download) take one; the command line
draws it as a bar on stderr, the app as Gradio's progress, and ``None`` means nobody is watching.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

Progress = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """A :data:`Progress` that reports nothing."""


def print_progress(fraction: float, message: str) -> None:
    """A :data:`Progress` that prints each message as a line on stderr (for logs of long runs)."""
    print(message, file=sys.stderr, flush=True)


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """``progress`` for a part of a job that runs from ``start`` to ``end`` of the whole."""

    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * min(max(float(fraction), 0.0), 1.0), message)

    return report


__all__ = ["Progress", "no_progress", "print_progress", "scaled"]
