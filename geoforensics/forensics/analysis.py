"""One clip in, a forensic report out: where the sound points, where the picture points, and whether
they agree.

``analyze_media`` is what the app's forensics tab, ``geoforensics analyze`` and the Python API all
call, so the three give the same result. Container metadata is read here only to be *shown*
(``ForensicReport.metadata``); it never reaches a geolocator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..defaults import AUDIO_MODEL, MAX_DURATION_S
from ..errors import GeoforensicsError, InputError
from ..geo.geodesy import haversine_km
from ..prediction import GeoPrediction, finite_json

#: Audio probability mass within this distance of the image's guess decides the verdict.
AGREEMENT_RADIUS_KM = 1000.0

Progress = Callable[[float, str], None]


@dataclass
class Verdict:
    """The comparison of two predictions in words, with the numbers behind it."""

    level: str  # "consistent", "mismatch", "uncertain" or "inconclusive"
    text: str
    discrepancy_km: float | None = None
    audio_mass_near_image: float | None = None
    image_mass_near_audio: float | None = None


@dataclass
class ForensicReport:
    """Everything the forensics tab shows, serialisable to JSON."""

    source: str
    duration_s: float | None
    has_video: bool
    audio: GeoPrediction | None
    image: GeoPrediction | None
    image_status: str
    verdict: Verdict
    metadata: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self, surface: str = "sparse") -> dict[str, Any]:
        return finite_json({
            "source": self.source,
            "duration_s": self.duration_s,
            "has_video": self.has_video,
            "audio": self.audio.to_dict(surface=surface) if self.audio else None,
            "image": self.image.to_dict(surface=surface) if self.image else None,
            "image_status": self.image_status,
            "verdict": self.verdict.__dict__,
            "container_metadata_display_only": self.metadata,
            "timings": self.timings,
        })

    def to_json(self, surface: str = "sparse", indent: int | None = None) -> str:
        return json.dumps(self.to_dict(surface), indent=indent, default=str, allow_nan=False)


def mass_within(pred: GeoPrediction, point: tuple[float, float], radius_km: float) -> float:
    """Probability that ``pred`` puts within ``radius_km`` of ``point``."""
    return float(pred.probs[haversine_km(pred.gallery, point) <= radius_km].sum())


def compare(audio: GeoPrediction | None, image: GeoPrediction | None, radius_km: float = AGREEMENT_RADIUS_KM) -> Verdict:
    """Verdict on whether the sound and the picture point to the same place.

    Distance alone misleads when a surface is broad, so the verdict asks how much of the audio's
    probability lies within ``radius_km`` of the image's guess (and the reverse): under 5 % is a
    mismatch, over 25 % (or guesses closer than ``radius_km``) is consistent, in between uncertain.
    """
    if audio is None or image is None:
        missing = "audio" if audio is None else "image"
        return Verdict("inconclusive", f"inconclusive: no {missing} prediction to compare")
    d = float(haversine_km(audio.point, image.point))
    if audio.confidence_label == "none":
        return Verdict("inconclusive", "inconclusive: no animal sound recognised in the audio", d)
    a_near = mass_within(audio, image.point, radius_km)
    i_near = mass_within(image, audio.point, radius_km)
    if d <= radius_km or a_near >= 0.25:
        level, text = "consistent", f"consistent: the sound and the picture point to the same region ({d:,.0f} km apart)"
    elif a_near < 0.05 and i_near < 0.05:
        level = "mismatch"
        text = f"mismatch: the birds heard live about {d:,.0f} km from the place shown"
    else:
        level, text = "uncertain", f"uncertain: the guesses are {d:,.0f} km apart but the audio does not rule the picture's place out"
    text += f" (audio puts {a_near:.0%} of its probability within {radius_km:,.0f} km of the picture's guess)"
    return Verdict(level, text, d, a_near, i_near)


def image_geolocator_status() -> tuple[bool, str]:
    """Whether frames can be geolocated here, and why not when they cannot."""
    try:
        from ..geolocators.image import ImageGeolocator
    except ImportError as e:
        return False, f"image geolocation not available: {e}"
    ok, msg = ImageGeolocator.available()
    return ok, ("" if ok else f"image geolocation not available: {msg}")


def locate_frames(path: Path, every_s: float, max_frames: int) -> tuple[GeoPrediction | None, str]:
    """Geolocate video frames with CLIP/GeoCLIP, or say why not."""
    ok, status = image_geolocator_status()
    if not ok:
        return None, status
    from ..geolocators.image import ImageGeolocator
    from ..geolocators.registry import get_geolocator
    from ..media.frames import extract_frames

    frames = extract_frames(path, every_s=every_s, max_frames=max_frames)
    if not frames:
        return None, "no frames could be read from the video"
    geo = get_geolocator("image-geoclip")
    assert isinstance(geo, ImageGeolocator)  # for frame_times
    pred = geo.predict([f.image for f in frames], frame_times=[f.t_s for f in frames])
    return pred, f"{len(frames)} frames, one every {every_s:g} s"


def analyze_media(
    path: str | Path,
    *,
    date: Any = None,
    frame_every_s: float = 2.0,
    max_frames: int = 60,
    max_duration_s: float = MAX_DURATION_S,
    audio_model: str = AUDIO_MODEL,
    progress: Progress | None = None,
) -> ForensicReport:
    """Geolocate a clip's soundtrack and (for video) its frames, compare, and collect display-only
    metadata. Raises :class:`InputError` for files that cannot be analysed."""
    from ..api import locate
    from ..ffmpeg import check_file, probe
    from ..media.limits import MediaLimits

    step = progress or (lambda f, msg: None)
    path = check_file(path, MediaLimits().max_bytes)
    t0 = time.perf_counter()
    step(0.05, "reading the file")
    info = probe(path)
    if not info.has_audio and not info.has_video:
        raise InputError(f"{path.name}: no audio or video stream found")
    timings: dict[str, float] = {}
    audio = None
    if info.has_audio:
        step(0.15, "listening: species in each 3 s window")
        ta = time.perf_counter()
        audio = locate(path, date=date, model=audio_model, max_duration_s=max_duration_s)
        timings["audio_s"] = time.perf_counter() - ta
    image, image_status = None, "no video stream: audio only"
    if info.has_video:
        step(0.6, "looking: geolocating video frames")
        ti = time.perf_counter()
        try:
            image, image_status = locate_frames(path, frame_every_s, max_frames)
        except GeoforensicsError as e:
            image, image_status = None, f"image geolocation failed: {e}"
        timings["image_s"] = time.perf_counter() - ti
    step(0.9, "comparing")
    verdict = compare(audio, image)
    if image is None:
        verdict = Verdict("inconclusive", f"inconclusive: {image_status}")
    if audio is None:
        verdict = Verdict("inconclusive", "inconclusive: the file has no audio track")
    metadata = _display_metadata(path)
    timings["total_s"] = time.perf_counter() - t0
    step(1.0, "done")
    return ForensicReport(
        source=path.name,
        duration_s=info.duration_s,
        has_video=info.has_video,
        audio=audio,
        image=image,
        image_status=image_status,
        verdict=verdict,
        metadata=metadata,
        timings=timings,
    )


def _display_metadata(path: Path) -> dict[str, Any]:
    """Container tags for the labelled metadata panel (never a prediction input)."""
    try:
        from ..media.metadata import display_metadata

        return display_metadata(path)
    except Exception as e:  # metadata is a courtesy: never fail the analysis over it
        return {"error": f"could not read metadata: {e}"}

