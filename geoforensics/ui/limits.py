"""What the app allows and how it queues: per-request limits, the heavy concurrency group and its
full-queue message, the light events that skip the queue, and Gradio's cache clean-up."""

from __future__ import annotations

import functools
import math
import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import gradio as gr

from ..defaults import MAX_DURATION_S
from ..errors import InputError
from ..media.limits import MediaLimits, format_mb

#: What one request may bring: bytes on disk, minutes of a downloaded clip, frames sampled.
LIMITS = MediaLimits(max_frames=60)
#: Seconds of sound analysed per file (the rest of a longer file is ignored).
MAX_AUDIO_S = MAX_DURATION_S


F = TypeVar("F", bound=Callable[..., Any])

HEAVY_ID = "geoforensics-heavy"
"""The one concurrency group of every heavy event (BirdNET, CLIP, ffmpeg): Gradio limits each listener
on its own otherwise, so eight listeners would run eight jobs at once."""
LIGHT: dict[str, Any] = {"queue": False}
"""Event options of the cheap redraws (a stored result drawn again, a claim re-checked): they skip the
queue, so they never wait behind an analysis."""
#: Cache clean-up, Gradio's ``delete_cache``: every 10 min, files older than 30 min go.
DELETE_CACHE = (600, 1800)


def _env_int(name: str, default: int, low: int = 1) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{name} must be a whole number, not {text!r}") from None
    if value < low:
        raise InputError(f"{name} must be at least {low}, not {value}")
    return value


@dataclass(frozen=True)
class AppLimits:
    """How many heavy jobs run at once (``workers``) and how many may wait (``waiting``); a request
    past that is refused with the queue's length and the wait, not Gradio's bare "Queue is full"."""

    workers: int
    waiting: int

    @classmethod
    def from_env(cls, workers: int | None = None, waiting: int | None = None) -> AppLimits:
        """The given values, else GEOFORENSICS_WORKERS (default: half the CPUs, at least 1) and
        GEOFORENSICS_QUEUE_SIZE (default: 8 per worker, at least 16)."""
        workers = workers or _env_int("GEOFORENSICS_WORKERS", max(1, (os.cpu_count() or 1) // 2))
        waiting = waiting or _env_int("GEOFORENSICS_QUEUE_SIZE", max(16, 8 * workers))
        return cls(workers, waiting)

    def heavy(self) -> dict[str, Any]:
        """Event options of a heavy listener: the shared group, its limit and the full-queue check."""
        return {"concurrency_id": HEAVY_ID, "concurrency_limit": self.workers, "validator": self.refuse_when_full}

    def queue_options(self) -> dict[str, Any]:
        """``Blocks.queue`` keywords: Gradio's own bound stays above ours (for the light queued events)."""
        return {"default_concurrency_limit": 1, "max_size": self.waiting + 32}

    def refuse_when_full(self, *inputs: Any) -> Any:
        """Gradio validator of the heavy events: refuse, saying how long the queue is and about how
        long it takes to clear, when ``waiting`` heavy requests already wait. Requests that arrive
        at the same instant are checked side by side, so a burst can pass the bound by a few;
        Gradio's ``max_size`` (``queue_options``) stays the hard limit."""
        waiting, eta_s = heavy_queue_state()
        verdicts: list[Any] = [None] * len(inputs)  # one per input; None: fine
        if waiting >= self.waiting and verdicts:
            wait = f", about {format_wait(eta_s)} to clear" if eta_s else ""
            verdicts[0] = gr.validate(
                False,
                f"The app is busy: {waiting} request{'s' if waiting != 1 else ''} already waiting for {self.workers} "
                f"worker{'s' if self.workers != 1 else ''}{wait}. Please try again in a few minutes.",
            )
        return verdicts[0] if len(verdicts) == 1 else tuple(verdicts)


APP_LIMITS = AppLimits.from_env()
"""The limits the app runs under unless given others (``build_demo(limits)``, ``geoforensics app --workers``)."""


RECENT_HEAVY_S: deque[float] = deque(maxlen=20)
"""How long the last heavy requests took, in seconds (:func:`heavy`)."""


def heavy(fn: F) -> F:
    """Mark a handler of the heavy group: how long each call takes is kept for the queue's wait estimate."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            RECENT_HEAVY_S.append(time.perf_counter() - t0)

    return wrapper  # type: ignore[return-value]


def heavy_queue_state() -> tuple[int, float | None]:
    """(heavy requests waiting, seconds until they are all done, or None while fewer than 3 have finished)
    of the app whose event is running now. The estimate is the median of the last heavy requests (a
    first request that loads the models, or one long video, does not inflate it) times the rounds the
    workers need."""
    from gradio.context import LocalContext

    blocks = LocalContext.blocks.get(None)
    queue = getattr(blocks, "_queue", None)
    group = getattr(queue, "event_queue_per_concurrency_id", {}).get(HEAVY_ID)
    if group is None:
        return 0, None
    waiting = len(group.queue)
    recent = sorted(RECENT_HEAVY_S)
    if len(recent) < 3:
        return waiting, None
    rounds = math.ceil((waiting + group.current_concurrency) / max(1, group.concurrency_limit or 1))
    return waiting, recent[len(recent) // 2] * rounds


def format_wait(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def limits_text() -> str:
    """The limits, in one sentence for the UI."""
    return (
        f"Files up to {format_mb(LIMITS.max_bytes)} MB; URLs up to {LIMITS.max_duration_s / 60:g} min long. "
        f"The first {MAX_AUDIO_S / 60:g} min of sound and at most {LIMITS.max_frames} frames are analysed."
    )
