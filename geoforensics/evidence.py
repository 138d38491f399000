"""One clip, one pass: everything a clip offers, built once as one value (:class:`ClipEvidence`).

:func:`gather_evidence` is the one way from a file (or an audio array) to what every command reads:

* the media, opened once (:func:`geoforensics.ffmpeg.open_media`: one safety check, one probe giving the
  streams, the duration and the display-only tag text);
* the sound, decoded once to mono at BirdNET's rate (tags never read), cut at ``max_duration_s``;
* BirdNET's scores of its 3 s windows (:func:`geoforensics.scoring.score_windows`), from the disk cache
  when asked and present;
* the mains hum of the same samples, and what each window holds (animals, speech, music, noise, silence:
  :func:`geoforensics.audio.content.analyse_content`), when asked;
* video frames, in one ffmpeg pass, when asked.

``locate`` (through the geolocators' ``predict``), ``check``, ``analyze``, ``batch`` and the app all build
their clip here, so nothing is probed or decoded twice.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .audio.content import SoundtrackContent, analyse_content
from .audio.decode import array_samples, decode_audio, load_array
from .audio.hum import HumResult, detect_hum
from .audio.windows import WindowSpec
from .defaults import MAX_DURATION_S, WINDOW
from .errors import InputError
from .ffmpeg import MediaFile, open_media
from .models.birdnet import SAMPLE_RATE, load_labels
from .scoring import WindowScores, discount, load_cached_scores, score_windows, store_scores

if TYPE_CHECKING:
    from .media.frames import Frame


@dataclass(frozen=True)
class FrameRequest:
    """Which video frames to sample: one every ``every_s`` seconds from the start, at most ``max_frames``,
    the longer side at most ``size`` pixels."""

    every_s: float = 2.0
    max_frames: int = 60
    size: int | None = 448


@dataclass
class ClipEvidence:
    """What one clip offers (see the module docstring).

    ``media`` is None for an array; ``duration_s`` is the whole recording's length (None where the
    container does not say); ``scores`` is None without an audio stream; ``hum`` and ``frames`` are None
    when not asked for (or, for frames, when there is no video: ``frames_note`` says why).
    ``audio`` (mono float32 at :data:`~geoforensics.models.birdnet.SAMPLE_RATE`) is kept only when asked for.
    """

    name: str
    media: MediaFile | None
    duration_s: float | None
    scores: WindowScores | None
    hum: HumResult | None = None
    content: SoundtrackContent | None = None
    frames: list[Frame] | None = None
    frames_note: str = ""
    audio: np.ndarray | None = field(default=None, repr=False)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def has_audio(self) -> bool:
        return self.scores is not None

    @property
    def has_video(self) -> bool:
        return self.media is not None and self.media.info.has_video


def source_duration(analysed_s: float, max_duration_s: float | None, container_s: float | None) -> float | None:
    """The whole recording's length: what was analysed, unless decoding stopped at ``max_duration_s``."""
    if max_duration_s is None or analysed_s < max_duration_s - 0.01:
        return analysed_s
    return container_s


def gather_evidence(
    source: str | os.PathLike[str] | MediaFile | np.ndarray,
    *,
    sample_rate: int | None = None,
    max_duration_s: float | None = MAX_DURATION_S,
    window: WindowSpec = WINDOW,
    hum: bool = False,
    content: bool = False,
    frames: FrameRequest | None = None,
    cache: bool = False,
    max_bytes: int | None = None,
    keep_audio: bool = False,
    need_audio: bool = True,
) -> ClipEvidence:
    """The :class:`ClipEvidence` of a file, or of an audio array with its ``sample_rate``.

    ``hum``: detect mains hum; ``content``: tell what each window holds; ``frames``: sample video frames;
    ``cache``: read and write BirdNET's scores in the disk cache (a file only; the audio is then decoded only
    when the scores are missing or the hum is asked for); ``max_bytes``: refuse larger files; ``need_audio``:
    InputError for a file without an audio stream (else its ``scores`` are None). InputError for anything that
    cannot be read.
    """
    if isinstance(source, np.ndarray):
        return _array_evidence(source, sample_rate, max_duration_s, window, hum, content, keep_audio)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    media = open_media(source, max_bytes)
    info = media.info
    timings["probe_s"] = time.perf_counter() - t0
    if not info.has_audio and not info.has_video:
        raise InputError(f"cannot read {media.name}: {media.missing('audio or video')}")
    if need_audio and not info.has_audio:
        raise InputError(f"cannot decode {media.name}: {media.missing()}")
    scores: WindowScores | None = None
    found_hum: HumResult | None = None
    found_content: SoundtrackContent | None = None
    mono: np.ndarray | None = None
    if info.has_audio:
        if cache and not hum and not content and not keep_audio:
            scores = load_cached_scores(media.path, max_duration_s, window)
        if scores is None:
            t1 = time.perf_counter()
            mono = decode_audio(media, SAMPLE_RATE, max_duration_s=max_duration_s)
            decode_s = time.perf_counter() - t1
            total = source_duration(len(mono) / SAMPLE_RATE, max_duration_s, info.duration_s)
            scores = score_windows(mono, window, source_duration_s=total)
            scores.timings = {"decode_s": decode_s, **scores.timings}
            if cache:
                store_scores(media.path, scores, max_duration_s=max_duration_s, window=window)
            found_hum = _hum(mono) if hum else None
            found_content = _content(mono, scores, window) if content else None
        timings |= scores.timings
    clip_frames, note = None, ""
    if frames is not None:
        clip_frames, note = _frames(media, frames)
    return ClipEvidence(media.name, media, info.duration_s, scores, found_hum, found_content, clip_frames, note,
                        audio=mono if keep_audio else None, timings=timings)


def _array_evidence(
    array: np.ndarray, sample_rate: int | None, max_duration_s: float | None, window: WindowSpec, hum: bool,
    content: bool, keep_audio: bool,
) -> ClipEvidence:
    if sample_rate is None:
        raise InputError("pass sample_rate with an audio array")
    t0 = time.perf_counter()
    mono = load_array(array, sample_rate, SAMPLE_RATE, max_duration_s=max_duration_s)
    total_s = array_samples(array) / float(sample_rate)
    decode_s = time.perf_counter() - t0
    scores = score_windows(mono, window, source_duration_s=total_s)
    scores.timings = {"decode_s": decode_s, **scores.timings}
    return ClipEvidence("array", None, total_s, scores, _hum(mono) if hum else None,
                        _content(mono, scores, window) if content else None, audio=mono if keep_audio else None,
                        timings=dict(scores.timings))


def _hum(mono: np.ndarray) -> HumResult:
    return detect_hum(mono, SAMPLE_RATE)


def _content(mono: np.ndarray, scores: WindowScores, window: WindowSpec) -> SoundtrackContent:
    labels = load_labels()
    return analyse_content(mono, SAMPLE_RATE, discount(scores.scores), labels=labels.scientific,
                           is_species=labels.is_species, window=window)


def _frames(media: MediaFile, request: FrameRequest) -> tuple[list[Frame] | None, str]:
    from .media.frames import extract_frames  # PIL, loaded only for videos

    if not media.info.has_video:
        return None, "no video stream: audio only"
    return extract_frames(media, every_s=request.every_s, max_frames=request.max_frames, size=request.size), ""


def score_audio(
    source: str | os.PathLike[str] | MediaFile | np.ndarray | ClipEvidence | WindowScores,
    *,
    sample_rate: int | None = None,
    max_duration_s: float | None = MAX_DURATION_S,
    window: WindowSpec = WINDOW,
) -> WindowScores:
    """BirdNET scores of the windows of a file or of an array (mono or multichannel, with its
    ``sample_rate``): :func:`gather_evidence`'s ``scores``. Only the first ``max_duration_s`` seconds are
    scored (None: all of it); ``source_duration_s`` says how long the whole recording was. Evidence
    already gathered, or scores, are taken as they are."""
    if isinstance(source, WindowScores):
        return source
    if isinstance(source, ClipEvidence):
        if source.scores is None:
            raise InputError(f"{source.name} has no audio stream")
        return source.scores
    scores = gather_evidence(source, sample_rate=sample_rate, max_duration_s=max_duration_s, window=window).scores
    assert scores is not None  # need_audio
    return scores


def cached_scores(
    path: str | os.PathLike[str], *, max_duration_s: float | None = MAX_DURATION_S, window: WindowSpec = WINDOW
) -> WindowScores:
    """:func:`score_audio` of a file through the scores cache (:mod:`geoforensics.scoring`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"audio file {path}: no such file")
    scores = gather_evidence(path, max_duration_s=max_duration_s, window=window, cache=True).scores
    assert scores is not None
    return scores


__all__ = ["ClipEvidence", "FrameRequest", "cached_scores", "gather_evidence", "score_audio", "source_duration"]
