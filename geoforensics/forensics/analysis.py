"""One clip in, a forensic report out: where the sound points, where the picture points, whether they
agree, and whether the sound fits the places the clip is claimed to come from.

``analyze_media`` is what the app's forensics tab, ``geoforensics analyze`` and the Python API all
call, so the three give the same result. The clip is opened, decoded and scored once
(:func:`geoforensics.evidence.gather_evidence`, frames included); the checker built on it
(:class:`~geoforensics.forensics.checker.ClaimChecker`) gives the report's audio guess and answers every
claim: the user's (typed, or a click on the map), the file's own GPS tag and the picture's guess.
Container metadata, from the same probe, is read here only to be *shown* (``ForensicReport.metadata``) or
tested as a claim ("the file says ..."); it never reaches a geolocator.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..audio.hum import HumResult
from ..dates import parse_date
from ..defaults import AUDIO_MODEL, MAX_DURATION_S
from ..errors import GeoforensicsError, InputError, reading
from ..evidence import FrameRequest, gather_evidence
from ..ffmpeg import MediaFile
from ..geo.geodesy import haversine_km
from ..geolocators.registry import get_geolocator
from ..media.limits import MediaLimits
from ..prediction import GeoPrediction, finite_json
from ..progress import Progress, no_progress
from ..weights import fetch, get_spec
from .checker import ClaimChecker
from .claims import Claim, point_label, resolve_claim
from .results import ClaimCheck, SpliceFinding

if TYPE_CHECKING:
    from ..media.frames import Frame

#: Audio probability mass within this distance of the image's guess decides the verdict.
AGREEMENT_RADIUS_KM = 1000.0
#: Claim sources that are the user's own (typed, clicked on the map, passed to the API or a CSV).
USER_SOURCES = ("typed", "map", "api", "csv")
CLAIM_PROMPT = "type the place this clip is said to come from (a name or 'lat, lon'), or click the map, to test it"


@dataclass
class Verdict:
    """The headline verdict in words, with the numbers behind it.

    ``basis`` says what it rests on: a claim's source ("typed", "map", "file tag", ...), "image" (the
    sound vs the picture's guess) or "none" (nothing to test the sound against)."""

    level: str  # "consistent", "mismatch", "uncertain" or "inconclusive"
    text: str
    discrepancy_km: float | None = None
    audio_mass_near_image: float | None = None
    image_mass_near_audio: float | None = None
    basis: str = "image"


def whose(source: str) -> str:
    """How a claim of ``source`` is named in a sentence."""
    if source == "file tag":
        return "the place in the file's GPS tag"
    if source == "image guess":
        return "the picture's guess"
    return "the claimed place"


def claim_verdict(check: ClaimCheck) -> Verdict:
    """A claim check as the headline verdict: "mismatch: the sound does not fit the claimed place, X; ..."."""
    where = f"{whose(check.claim.source)}, {check.claim.label}"
    score = f"mismatch score {check.mismatch_score:.2f}"
    if check.verdict == "mismatch":
        text = f"the sound does not fit {where} ({score})"
    elif check.verdict == "consistent":
        text = f"the sound fits {where} ({score})"
    elif not check.evidence:
        text = f"no animal sound recognised, so the sound cannot test {where}"
    else:
        text = f"the sound neither clearly fits nor rules out {where} ({score})"
    return Verdict(check.verdict, f"{check.verdict}: {text}", check.distance_km, basis=check.claim.source)


@dataclass
class ForensicReport:
    """Everything the forensics tab shows, serialisable to JSON and back.

    ``verdict`` is the headline: the user's claim when there is one, else the file's GPS tag, else the
    sound vs the picture (``comparison``). ``claims`` holds every claim tested, in that order (the
    picture's guess last). ``checker`` (not serialised) answers further claims without listening
    again: :meth:`with_claim`.
    """

    source: str
    duration_s: float | None
    has_video: bool
    audio: GeoPrediction | None
    image: GeoPrediction | None
    image_status: str
    verdict: Verdict
    metadata: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    claims: list[ClaimCheck] = field(default_factory=list)
    comparison: Verdict | None = None
    splice: SpliceFinding | None = None
    hum: HumResult | None = None
    soundtrack: dict[str, Any] | None = None
    """What each window holds (:meth:`geoforensics.audio.content.SoundtrackContent.to_dict`)."""
    checker: ClaimChecker | None = field(default=None, repr=False, compare=False)

    @property
    def user_claim(self) -> ClaimCheck | None:
        """The check of the user's own claim, if any."""
        return next((c for c in self.claims if c.claim.source in USER_SOURCES), None)

    @property
    def file_claim(self) -> ClaimCheck | None:
        """The check of the file's own GPS tag, if it has one."""
        return next((c for c in self.claims if c.claim.source == "file tag"), None)

    @property
    def headline_claim(self) -> ClaimCheck | None:
        """The claim the headline verdict rests on (the user's, else the file tag's), if any."""
        return self.user_claim or self.file_claim

    def with_claim(self, claim: Claim | str | Sequence[float] | None, source: str = "typed") -> ForensicReport:
        """A copy of this report with the user's claim replaced by ``claim`` (None: removed), checked
        against the sound already scored. :class:`InputError` for a report that was loaded from JSON."""
        if self.checker is None:
            raise InputError("this report has no scored audio to check a claim against: analyse the clip again")
        others = [c for c in self.claims if c.claim.source not in USER_SOURCES]
        claims = others
        if claim is not None:
            checked = self.checker.check(resolve_claim(claim, source))
            if checked.claim.source not in USER_SOURCES:
                raise InputError(f"a user's claim comes from one of {USER_SOURCES}, not {checked.claim.source!r}")
            checked.file = self.source
            claims = [checked, *others]
        out = replace(self, claims=claims)
        out.verdict = headline_verdict(out)
        return out

    def to_dict(self, surface: str = "sparse") -> dict[str, Any]:
        d: dict[str, Any] = finite_json({
            "source": self.source,
            "duration_s": self.duration_s,
            "has_video": self.has_video,
            "audio": self.audio.to_dict(surface=surface) if self.audio else None,
            "image": self.image.to_dict(surface=surface) if self.image else None,
            "image_status": self.image_status,
            "verdict": self.verdict.__dict__,
            "claims": [c.to_dict() for c in self.claims],
            "image_comparison": self.comparison.__dict__ if self.comparison else None,
            "splice": self.splice.to_dict() if self.splice else None,
            "mains_hum": self.hum.to_dict() if self.hum else None,
            "soundtrack": self.soundtrack,
            "container_metadata_display_only": self.metadata,
            "timings": self.timings,
        })
        return d

    def to_json(self, surface: str = "sparse", indent: int | None = None) -> str:
        return json.dumps(self.to_dict(surface), indent=indent, default=str, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ForensicReport:
        """Rebuild from :meth:`to_dict` (a sparse surface becomes the gallery; no ``checker``); :class:`InputError`
        for anything else."""
        with reading("geoforensics report", d):
            return cls._from_dict(d)

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> ForensicReport:
        splice, hum = d.get("splice"), d.get("mains_hum")
        comparison = d.get("image_comparison")
        return cls(
            source=d["source"],
            duration_s=d.get("duration_s"),
            has_video=bool(d.get("has_video")),
            audio=GeoPrediction.from_dict(d["audio"]) if d.get("audio") else None,
            image=GeoPrediction.from_dict(d["image"]) if d.get("image") else None,
            image_status=d.get("image_status", ""),
            verdict=Verdict(**d["verdict"]),
            metadata=dict(d.get("container_metadata_display_only") or {}),
            timings=dict(d.get("timings") or {}),
            claims=[ClaimCheck.from_dict(c) for c in d.get("claims", [])],
            comparison=Verdict(**comparison) if comparison else None,
            splice=SpliceFinding.from_dict(splice) if splice else None,
            hum=HumResult.from_dict(hum) if hum else None,
            soundtrack=d.get("soundtrack"),
        )

    @classmethod
    def from_json(cls, text: str) -> ForensicReport:
        with reading("geoforensics report"):
            d = json.loads(text)
        return cls.from_dict(d)


def headline_verdict(report: ForensicReport) -> Verdict:
    """The user's claim, else the file's tag, else the sound vs the picture; without any of them an
    inconclusive verdict that asks for a claim."""
    if report.audio is None:
        return Verdict("inconclusive", "inconclusive: the file has no audio track", basis="none")
    check = report.headline_claim
    if check is not None:
        return claim_verdict(check)
    if report.comparison is not None:
        return report.comparison
    why = report.image_status if report.has_video else "no picture to compare with"
    return Verdict("inconclusive", f"inconclusive: {why}; {CLAIM_PROMPT}", basis="none")


def mass_within(pred: GeoPrediction, point: tuple[float, float], radius_km: float) -> float:
    """Probability that ``pred`` puts within ``radius_km`` of ``point``."""
    return float(pred.probs[haversine_km(pred.gallery, point) <= radius_km].sum())


def compare(
    audio: GeoPrediction | None, image: GeoPrediction | None, radius_km: float = AGREEMENT_RADIUS_KM,
    masked: str | None = None,
) -> Verdict:
    """Verdict on whether the sound and the picture point to the same place.

    Distance alone misleads when a surface is broad, so the verdict asks how much of the audio's
    probability lies within ``radius_km`` of the image's guess (and the reverse): under 5 % is a
    mismatch, over 25 % (or guesses closer than ``radius_km``) is consistent, in between uncertain.
    ``masked`` (why speech or music leaves the species unable to carry a verdict) makes it inconclusive.
    """
    if audio is None or image is None:
        missing = "audio" if audio is None else "image"
        return Verdict("inconclusive", f"inconclusive: no {missing} prediction to compare")
    d = float(haversine_km(audio.point, image.point))
    if audio.confidence_label == "none":
        return Verdict("inconclusive", "inconclusive: no animal sound recognised in the audio", d)
    if masked:
        return Verdict("inconclusive", f"inconclusive: the species cannot carry a verdict here: {masked}", d)
    a_near = mass_within(audio, image.point, radius_km)
    i_near = mass_within(image, audio.point, radius_km)
    if d <= radius_km or a_near >= 0.25:
        level = "consistent"
        text = f"consistent: the sound and the picture point to the same region ({d:,.0f} km apart)"
    elif a_near < 0.05 and i_near < 0.05:
        level = "mismatch"
        text = f"mismatch: the birds heard live about {d:,.0f} km from the place shown"
    else:
        level = "uncertain"
        text = f"uncertain: the guesses are {d:,.0f} km apart but the audio does not rule the picture's place out"
    text += f" (audio puts {a_near:.0%} of its probability within {radius_km:,.0f} km of the picture's guess)"
    return Verdict(level, text, d, a_near, i_near)


def image_geolocator_status() -> tuple[bool, str]:
    """Whether frames can be geolocated here, and why not when they cannot."""
    try:
        from ..geolocators.image import ImageGeolocator  # lazy: loads PIL, torch
    except ImportError as e:
        return False, f"image geolocation not available: {e}"
    ok, msg = ImageGeolocator.available()
    return ok, ("" if ok else f"image geolocation not available: {msg}")


def image_weights_size_gb() -> float:
    """The size of the CLIP weights image geolocation needs, in GB (for the download button)."""
    from ..geolocators.image import CLIP_WEIGHTS  # lazy: loads PIL, torch

    return get_spec(CLIP_WEIGHTS).size_bytes / 1e9


def fetch_image_weights(progress: Progress | bool = True) -> Path:
    """Download and verify the CLIP weights image geolocation needs (the weight manager's ``fetch``),
    on a user's request only. Image geolocation works from the next analysis on, without a restart:
    availability is read from the weights folder each time. ``GeoforensicsError`` when offline."""
    from ..geolocators.image import CLIP_WEIGHTS  # lazy: loads PIL, torch

    return fetch(CLIP_WEIGHTS, progress=progress)


def locate_frames(frames: list[Frame], every_s: float) -> tuple[GeoPrediction | None, str]:
    """Geolocate video frames with CLIP/GeoCLIP, or say why not."""
    if not frames:
        return None, "no frames could be read from the video"
    from ..geolocators.image import ImageGeolocator  # torch and open_clip, loaded when CLIP's weights are here

    geo = get_geolocator("image-geoclip")
    assert isinstance(geo, ImageGeolocator)  # for frame_times
    pred = geo.predict([f.image for f in frames], frame_times=[f.t_s for f in frames])
    return pred, f"{len(frames)} frames, one every {every_s:g} s"


def analyze_media(
    path: str | Path | MediaFile,
    *,
    claim: Claim | str | Sequence[float] | None = None,
    date: Any = None,
    frame_every_s: float = 2.0,
    max_frames: int = 60,
    max_duration_s: float = MAX_DURATION_S,
    audio_model: str = AUDIO_MODEL,
    max_bytes: int | None = None,
    progress: Progress | None = None,
) -> ForensicReport:
    """Geolocate a clip's soundtrack and (for video) its frames, compare them, and test the claims:
    ``claim`` (text: "lat, lon" or a place name; a (lat, lon) pair; or a :class:`Claim`, e.g. with
    source "map"), the file's own GPS tag when it has one, and the picture's guess when CLIP is here.
    The clip is opened, decoded and scored once. Raises :class:`InputError` for files that cannot be
    analysed, a bad date, and claims that name no place, before any audio is read."""
    when = parse_date(date)
    step = progress or no_progress
    if max_bytes is None:
        max_bytes = MediaLimits().max_bytes
    user_claim = resolve_claim(claim, "typed") if claim is not None and claim != "" else None
    if user_claim is not None and user_claim.source not in USER_SOURCES:
        raise InputError(f"the claim to test comes from one of {USER_SOURCES}, not {user_claim.source!r}")
    geo = get_geolocator(audio_model)
    can_see, image_status = image_geolocator_status()
    t0 = time.perf_counter()
    step(0.05, "reading the file; listening: species in each 3 s window")
    evidence = gather_evidence(
        path, max_duration_s=max_duration_s, hum=True, content=True, need_audio=False, max_bytes=max_bytes,
        frames=FrameRequest(frame_every_s, max_frames) if can_see else None, keep_audio=audio_model != AUDIO_MODEL,
    )
    media = evidence.media
    assert media is not None
    timings = {"audio_s": time.perf_counter() - t0}
    audio, checker = None, None
    if evidence.has_audio:
        checker = ClaimChecker.from_evidence(evidence, date=when)
        audio = checker.prediction if audio_model == AUDIO_MODEL else geo.predict(evidence, date=when)
    image = None
    if not evidence.has_video:
        image_status = "no video stream: audio only"
    elif can_see:
        step(0.6, "looking: geolocating video frames")
        ti = time.perf_counter()
        try:
            image, image_status = locate_frames(evidence.frames or [], frame_every_s)
        except GeoforensicsError as e:
            image, image_status = None, f"image geolocation failed: {e}"
        timings["image_s"] = time.perf_counter() - ti
    step(0.9, "testing the claims")
    metadata = _display_metadata(media)
    claims: list[ClaimCheck] = []
    if checker is not None:
        tag = metadata.get("gps")
        wanted = [user_claim]
        if isinstance(tag, (tuple, list)) and len(tag) == 2:
            lat, lon = float(tag[0]), float(tag[1])
            wanted.append(Claim(lat, lon, "file tag", point_label(lat, lon)))
        if image is not None:
            wanted.append(Claim(image.lat, image.lon, "image guess", point_label(image.lat, image.lon)))
        claims = [checker.check(c) for c in wanted if c is not None]
        for c in claims:
            c.file = media.name
    masked = checker.masked_reason if checker is not None else None
    comparison = compare(audio, image, masked=masked) if audio is not None and image is not None else None
    timings["total_s"] = time.perf_counter() - t0
    report = ForensicReport(
        source=media.name,
        duration_s=evidence.duration_s,
        has_video=evidence.has_video,
        audio=audio,
        image=image,
        image_status=image_status,
        verdict=Verdict("inconclusive", ""),
        metadata=metadata,
        timings=timings,
        claims=claims,
        comparison=comparison,
        splice=checker.splice if checker is not None else None,
        hum=evidence.hum,
        soundtrack=evidence.content.to_dict() if evidence.content is not None else None,
        checker=checker,
    )
    report.verdict = headline_verdict(report)
    step(1.0, "done")
    return report


def _display_metadata(media: MediaFile) -> dict[str, Any]:
    """Container tags for the labelled metadata panel (never a prediction input), from the clip's probe."""
    from ..media.metadata import display_metadata  # the one module that reads tags, for display only

    try:
        return display_metadata(media)
    except Exception as e:  # metadata is a courtesy: never fail the analysis over it
        return {"error": f"could not read metadata: {e}"}
