"""Errors as the user sees them: one line, HTML-escaped, never a traceback."""

from __future__ import annotations

import functools
import html
import logging
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import gradio as gr

from ..errors import GeoforensicsError, InputError

log = logging.getLogger("geoforensics.ui")


F = TypeVar("F", bound=Callable[..., Any])


def one_line(text: str, limit: int = 300) -> str:
    """The first line of ``text``, shortened to ``limit`` characters."""
    line = next((s.strip() for s in str(text).splitlines() if s.strip()), "")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def user_errors(action: str) -> Callable[[F], F]:
    """Decorator for a handler: the user's errors (:class:`GeoforensicsError`: bad input, missing
    weights) become a one-line ``gr.Error`` (HTML-escaped: Gradio renders it as HTML, and it may quote
    what the user typed or a downloaded file's name); anything else, ``ValueError`` included, is a bug:
    logged with its traceback and shown as a generic line naming ``action`` and a reference to the log."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except GeoforensicsError as e:
                raise gr.Error(html.escape(one_line(str(e)), quote=False) or f"{action} failed",
                               print_exception=False) from None
            except Exception:
                ref = uuid.uuid4().hex[:8]
                log.exception("%s failed (ref %s)", action, ref)
                raise gr.Error(f"{action} failed because of an internal error (ref {ref}); it has been logged.",
                               print_exception=False) from None

        return wrapper  # type: ignore[return-value]

    return deco


def text_input(value: object, what: str) -> str:
    """A text box's value, stripped ("" for None); :class:`InputError` naming ``what`` for anything that is not
    text (an API caller can send a list or a number)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError(f"{what} must be text, not {type(value).__name__}")
    return value.strip()
