"""Claim check: does this soundtrack belong to the place the clip claims?

A *claim* is a place a clip is said to come from: typed by a user ("lat, lon" or a place name,
geocoded offline), clicked on a map, the file's own GPS tag (a claim to test, never an input to a
prediction) or the picture's guess. For each claim the answer is ``consistent``, ``mismatch`` or
``inconclusive``, a calibrated ``mismatch_score`` in [0, 1], and the evidence behind it.

The test (measured on xc-dev by ``benchmarks/claim_check.py``; numbers in the README):

* *Species.* BirdNET's scores are first discounted by what it gives each species on non-animal
  sound (``forensics/noise.py``: white noise scores as a Lesser Spotted Woodpecker). Each species
  heard with pooled confidence q then contributes the default engine's term
  ``log L_s(x) = log(q rho_s(x) + (1 - q) c)`` (``geolocators/species_ranges.py``). The claim is
  compared with the alternative "recorded at least ``FAR_KM`` from the claim" by a Bayes factor:

      log BF = log mean_{x: d(x, claim) >= FAR_KM} prod_s L_s(x)  -  sum_s max_{x: d(x, claim) <= TOLERANCE_KM} log L_s(x)

  The claim side lets each species live anywhere within ``TOLERANCE_KM`` of the claim (range maps
  are coarse, and so are claims). The mixture constant c keeps one confident false detection from
  convicting a true claim alone; a species the range model gives no range to is the same at every
  place and cancels; with no species heard, log BF = 0 and the answer is inconclusive.
* *Mains hum* (``audio/hum.py``): a stable 50 or 60 Hz line family against the claimed place's grid
  frequency (``geo/grid.py``) adds ``confidence x log(P(hum | far) / P(hum | claim))``, where
  P(hum | far) is the share of the far alternatives (weighted by the audio's own surface) on that
  grid, and ``HUM_ERROR`` the chance the hum's frequency does not match the grid where it was made.
* *Calibration.* ``mismatch_score = sigmoid(SLOPE x log BF + OFFSET)``: the probability that the
  recording was made at least ``FAR_KM`` from the claim, for a claim that is right or far wrong
  with equal odds, fitted on xc-dev (true locations vs far claims). ``mismatch`` from
  ``MISMATCH_AT``, ``consistent`` up to ``CONSISTENT_AT``; in between, inconclusive.

Splices (``find_splice``): a soundtrack whose first and second parts point to different regions. For
each change point t the two segments' surfaces p_A and p_B are compared with the same place for both:
``log BF = -log(N sum_x p_A(x) p_B(x))`` (0 when the two agree no more than random surfaces would);
the largest over t, above ``SPLICE_AT``, is reported with the time and where each part points.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..defaults import MAX_DURATION_S
from ..errors import InputError
from ..geo.geodesy import as_latlon, haversine_km
from ..prediction import GeoPrediction, point_estimate

if TYPE_CHECKING:
    from ..audio.hum import HumResult
    from ..geolocators.species_ranges import SpeciesLikelihood, SpeciesRangeGeolocator
    from ..scoring import WindowScores

FAR_KM = 3000.0
"""The alternative to a claim: the recording was made at least this far away."""
TOLERANCE_KM = 300.0
"""A claim holds when the recording was made within this distance of it."""
LIVES_AT = 0.1
"""Range-model occurrence from which a species counts as living at a place (the paper's checklist threshold)."""
SLOPE, OFFSET = 1.0674, 0.6399
"""Calibration of ``mismatch_score``: logistic regression of far vs true claims on the log Bayes factor,
weighted to equal odds, over the 86 xc-dev clips (``benchmarks/claim_check.py --fit``)."""
MISMATCH_AT = 0.7
"""``mismatch_score`` from which the verdict is mismatch: on xc-dev (cross-validated scores) 3.5 % of
true claims and 86 % of claims >= 3,000 km away score this high (at 0.5 it would be 8 % and 96 %)."""
CONSISTENT_AT = 0.1
"""``mismatch_score`` up to which the verdict is consistent: 78 % of true claims and 0.4 % of far ones on xc-dev."""
HUM_ERROR = 0.05
"""Chance that a detected hum's frequency is not the grid's where the clip was recorded."""
SPLICE_AT = 0.2
"""Splice log Bayes factor above which a change of place is reported."""
SPLICE_MIN_WINDOWS = 4
"""Each side of a splice holds at least this many windows (7.5 s with 3 s windows every 1.5 s)."""
SPLICE_MIN_SCORE = 0.3
"""Each side of a splice needs a species heard at least this confidently."""
VERDICTS = ("consistent", "mismatch", "inconclusive")
CLAIM_SOURCES = ("typed", "map", "file tag", "image guess", "csv", "api")


@dataclass
class Claim:
    """A place a clip is said to come from, (lat, lon) degrees, with where the claim comes from."""

    lat: float
    lon: float
    source: str = "api"
    label: str = ""
    alternatives: list[str] = field(default_factory=list)
    """Other places a typed name could mean (best first), so a user can pick another."""

    def __post_init__(self) -> None:
        lat, lon = as_latlon([[self.lat, self.lon]], name="claim")[0]
        self.lat, self.lon = float(lat), float(lon)
        if self.source not in CLAIM_SOURCES:
            raise ValueError(f"claim source must be one of {CLAIM_SOURCES}, not {self.source!r}")
        if not self.label:
            self.label = f"{self.lat:.4f}, {self.lon:.4f}"

    @property
    def latlon(self) -> tuple[float, float]:
        return (self.lat, self.lon)


def point_label(lat: float, lon: float) -> str:
    """ "21.9789, -159.3711 (near Lihue, Hawaii, US)": a point and the nearest named place (offline)."""
    from ..geo.places import place_name

    return f"{lat:.4f}, {lon:.4f} ({place_name(lat, lon)})"


def claim_candidates(text: str, source: str = "typed", limit: int = 6) -> list[Claim]:
    """The places a typed claim could mean, best first, each a :class:`Claim`: "lat, lon" in the
    common forms gives one, a place name up to ``limit`` geocoded offline. The first carries the
    others' labels as ``alternatives``. :class:`InputError` when the text names nothing."""
    from ..geo.gazetteer import geocode

    places = geocode(text, limit=max(limit, 1))
    out = []
    for p in places:
        if p.kind == "coordinates":
            label = point_label(p.lat, p.lon)
        else:
            label = p.label + (f" ({p.note})" if p.note else "")
        out.append(Claim(p.lat, p.lon, source, label))
    out[0].alternatives = [p.label for p in places[1:]]
    return out


def resolve_claim(claim: Claim | str | Sequence[float], source: str = "typed") -> Claim:
    """A :class:`Claim` from a Claim, a (lat, lon) pair, or text: "lat, lon" in the common forms or a
    place name geocoded offline (the best candidate; the others become ``alternatives``)."""
    if isinstance(claim, Claim):
        return claim
    if isinstance(claim, str):
        return claim_candidates(claim, source)[0]
    try:
        lat, lon = (float(v) for v in claim)
    except (TypeError, ValueError):
        raise InputError(f"a claim is 'lat, lon' or a place name, not {claim!r}") from None
    return Claim(lat, lon, source)


@dataclass
class SpeciesAtClaim:
    """One species heard, and whether it lives at the claimed place.

    ``occurrence``: the range model's value within ``TOLERANCE_KM`` of the claim (its maximum there);
    ``nearest_km``: from the claim to the nearest gallery point where it occurs (>= ``LIVES_AT``), None
    when it occurs nowhere; ``log_lr``: the log Bayes factor this species would give on its own
    (> 0: against the claim).
    """

    scientific_name: str
    common_name: str
    score: float
    windows: int
    occurrence: float
    nearest_km: float | None
    log_lr: float

    @property
    def lives_here(self) -> bool:
        return self.occurrence >= LIVES_AT


@dataclass
class HumEvidence:
    """The mains hum against the claimed place's grid frequency."""

    detected_hz: int | None
    confidence: float
    claim_grid_hz: int | None
    claim_grid_note: str
    log_lr: float
    text: str


@dataclass
class SpliceSegment:
    """One side of a splice: its time span and where its species point."""

    start_s: float
    end_s: float
    lat: float
    lon: float
    place: str
    species: list[str] = field(default_factory=list)


@dataclass
class SpliceFinding:
    """The strongest change of place in a soundtrack; ``detected`` when ``score`` passes ``SPLICE_AT``."""

    detected: bool
    score: float
    change_s: float | None = None
    distance_km: float | None = None
    segments: list[SpliceSegment] = field(default_factory=list)

    @property
    def text(self) -> str:
        if not self.detected or len(self.segments) != 2 or self.change_s is None:
            return "no change of place found in the soundtrack"
        a, b = self.segments
        return (
            f"the soundtrack changes place at {self.change_s:.1f} s: before, it points to {a.place}; after, to "
            f"{b.place} ({self.distance_km:,.0f} km apart)"
        )


@dataclass
class ClaimCheck:
    """The answer for one claim about one clip. Serialises to JSON and back."""

    file: str
    claim: Claim
    verdict: str
    mismatch_score: float
    log_bayes_factor: float
    text: str
    evidence: list[SpeciesAtClaim] = field(default_factory=list)
    hum: HumEvidence | None = None
    splice: SpliceFinding | None = None
    date: str | None = None
    audio_point: tuple[float, float] | None = None
    audio_place: str = ""
    distance_km: float | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["audio_point"] = list(self.audio_point) if self.audio_point is not None else None
        return d

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClaimCheck:
        splice = d.get("splice")
        return cls(
            file=d["file"],
            claim=Claim(**d["claim"]),
            verdict=d["verdict"],
            mismatch_score=float(d["mismatch_score"]),
            log_bayes_factor=float(d["log_bayes_factor"]),
            text=d["text"],
            evidence=[SpeciesAtClaim(**e) for e in d.get("evidence", [])],
            hum=HumEvidence(**d["hum"]) if d.get("hum") else None,
            splice=SpliceFinding(**{**splice, "segments": [SpliceSegment(**s) for s in splice["segments"]]}) if splice else None,
            date=d.get("date"),
            audio_point=tuple(d["audio_point"]) if d.get("audio_point") else None,
            audio_place=d.get("audio_place", ""),
            distance_km=d.get("distance_km"),
            notes=list(d.get("notes", [])),
        )

    @classmethod
    def from_json(cls, text: str) -> ClaimCheck:
        return cls.from_dict(json.loads(text))


def calibrated(log_bf: float) -> float:
    """``mismatch_score`` of a log Bayes factor (see the module docstring)."""
    z = SLOPE * log_bf + OFFSET
    return float(1.0 / (1.0 + math.exp(-z))) if z > -700 else 0.0


def verdict_of(score: float, has_evidence: bool) -> str:
    """consistent / mismatch / inconclusive from a ``mismatch_score``."""
    if not has_evidence:
        return "inconclusive"
    if score >= MISMATCH_AT:
        return "mismatch"
    return "consistent" if score <= CONSISTENT_AT else "inconclusive"


def _logmeanexp(x: np.ndarray) -> float:
    m = float(x.max())
    return m + math.log(float(np.exp(x - m).mean()))


def _near_far(gallery: np.ndarray, claim: tuple[float, float]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = haversine_km(gallery, claim)
    near = d <= max(TOLERANCE_KM, float(d.min()))
    return d, near, d >= FAR_KM


class ClaimChecker:
    """Answers claims about one clip: its species evidence, hum and splice are worked out once, then
    each claim costs a few array operations over the gallery."""

    def __init__(
        self,
        scores: WindowScores,
        *,
        source: str = "",
        hum: HumResult | None = None,
        date: Any = None,
        geolocator: SpeciesRangeGeolocator | None = None,
    ) -> None:
        from ..dates import parse_date
        from ..geolocators.registry import get_geolocator
        from ..geolocators.species_ranges import SpeciesRangeGeolocator

        geo = geolocator if geolocator is not None else get_geolocator("species-ranges")
        if not isinstance(geo, SpeciesRangeGeolocator):
            raise TypeError("the claim check needs the species-ranges geolocator")
        from dataclasses import replace

        from .noise import discount

        scores = replace(scores, scores=discount(scores.scores))
        self.geo = geo
        self.source = source
        parsed = parse_date(date)
        self.date = None if parsed is None else str(parsed)
        self.week = -1 if parsed is None else parsed.week
        self.scores = scores
        self.labels = geo.species_names()
        self.likelihood: SpeciesLikelihood = geo.likelihood(scores.scores, self.week)
        self.occurrence = geo.table(self.week).rows(self.likelihood.idx)
        self.prediction: GeoPrediction = geo.predict_from_scores(scores, week=self.week)
        self.hum = hum
        self.splice = find_splice(scores, geo, self.week)

    @property
    def has_evidence(self) -> bool:
        return len(self.likelihood.idx) > 0

    def check(self, claim: Claim | str | Sequence[float], source: str = "typed") -> ClaimCheck:
        """The verdict, score and evidence for one claim."""
        claim = resolve_claim(claim, source)
        g = self.geo.gallery
        d, near, far = _near_far(g, claim.latlon)
        ev = self.likelihood
        log_bf = 0.0
        if self.has_evidence:
            log_bf = _logmeanexp(ev.log_surface[far]) - float(ev.terms[:, near].max(1).sum())
        species = self._species(d, near, far)
        hum = self._hum(claim, far)
        total = log_bf + (hum.log_lr if hum is not None else 0.0)
        has_evidence = self.has_evidence or (hum is not None and hum.log_lr != 0.0)
        score = calibrated(total) if has_evidence else 0.5
        verdict = verdict_of(score, has_evidence)
        pred = self.prediction
        place = pred.top_k[0].place if pred.top_k else ""
        distance = float(haversine_km(pred.point, claim.latlon))
        result = ClaimCheck(
            file=self.source,
            claim=claim,
            verdict=verdict,
            mismatch_score=round(score, 6),
            log_bayes_factor=round(total, 4),
            text="",
            evidence=species,
            hum=hum,
            splice=self.splice,
            date=self.date,
            audio_point=(round(pred.lat, 5), round(pred.lon, 5)),
            audio_place=place,
            distance_km=round(distance, 1),
            notes=list(pred.notes),
        )
        result.text = explain(result)
        return result

    def _species(self, d: np.ndarray, near: np.ndarray, far: np.ndarray, n: int = 10) -> list[SpeciesAtClaim]:
        ev, labels = self.likelihood, self.labels
        heard = self.scores.scores >= self.geo.rule.threshold
        out = []
        for j, s in enumerate(ev.idx[:n]):
            occ = self.occurrence[j]
            lives = occ >= LIVES_AT
            term = ev.terms[j]
            out.append(
                SpeciesAtClaim(
                    scientific_name=labels.scientific[s],
                    common_name=labels.common[s],
                    score=round(float(ev.q[s]), 4),
                    windows=int(heard[:, s].sum()),
                    occurrence=round(float(occ[near].max()), 4),
                    nearest_km=round(float(d[lives].min()), 1) if lives.any() else None,
                    log_lr=round(_logmeanexp(term[far]) - float(term[near].max()), 4),
                )
            )
        return out

    def _hum(self, claim: Claim, far: np.ndarray) -> HumEvidence | None:
        if self.hum is None:
            return None
        from ..geo.grid import gallery_frequencies, grid_frequency

        grid = grid_frequency(claim.lat, claim.lon)
        det, conf = self.hum.grid_hz, float(self.hum.confidence)
        if det is None:
            why = self.hum.reason
            text = why if why.startswith("no stable hum") else f"no stable mains hum ({why})"
            return HumEvidence(None, conf, grid.hz, grid.note, 0.0, text)
        if grid.hz is None:
            return HumEvidence(det, conf, None, grid.note, 0.0,
                               f"mains hum at {det} Hz; the claimed place has no single grid frequency ({grid.note})")
        freqs = gallery_frequencies(self.geo.gallery_name) if self.geo.gallery_name != "custom" else None
        if freqs is None or len(freqs) != len(self.geo.gallery):
            from ..geo.grid import grid_frequencies

            freqs = grid_frequencies(self.geo.gallery)
        p = self.prediction.probs[far]
        same = (freqs[far] == det) + 0.5 * (freqs[far] == 0)
        share = float((p * same).sum() / p.sum()) if p.sum() > 0 else float(same.mean())
        p_far = (1 - HUM_ERROR) * share + HUM_ERROR * (1 - share)
        p_claim = (1 - HUM_ERROR) if grid.hz == det else HUM_ERROR
        log_lr = conf * math.log(max(p_far, 1e-6) / p_claim)
        side = "fits" if grid.hz == det else "does not fit"
        text = f"mains hum at {det} Hz (confidence {conf:.2f}) {side} the claimed place: {grid.note}"
        return HumEvidence(det, round(conf, 4), grid.hz, grid.note, round(log_lr, 4), text)


def explain(c: ClaimCheck) -> str:
    """The verdict in a few plain sentences, species by species."""
    where = c.claim.label
    if c.verdict == "mismatch":
        first = f"MISMATCH: the sound does not fit {where} (mismatch score {c.mismatch_score:.2f})."
    elif c.verdict == "consistent":
        first = f"CONSISTENT: the sound fits {where} (mismatch score {c.mismatch_score:.2f})."
    else:
        first = f"INCONCLUSIVE for {where} (mismatch score {c.mismatch_score:.2f})."
    return " ".join([first, *reasons(c)])


def reasons(c: ClaimCheck) -> list[str]:
    """The sentences behind a verdict: species that do not live at the claim, those that do, where
    the sound alone points, the mains hum and any splice (``explain`` without its first sentence)."""
    against = sorted((e for e in c.evidence if not e.lives_here and e.score >= 0.3), key=lambda e: -e.log_lr)
    support = [e for e in c.evidence if e.lives_here and e.score >= 0.3]
    parts: list[str] = []
    if not c.evidence:
        parts.append("No animal sound was recognised, so the species cannot say where this was recorded.")
    for e in against[:3]:
        far_txt = f"the nearest place it lives is {e.nearest_km:,.0f} km away" if e.nearest_km is not None else "the range model knows no place where it lives"
        parts.append(f"{e.common_name} (heard at {e.score:.2f} in {e.windows} windows) does not live there: {far_txt}.")
    if support:
        names = ", ".join(f"{e.common_name} ({e.score:.2f})" for e in support[:4])
        parts.append(f"Living there: {names}.")
    if c.audio_point is not None and c.audio_place and c.distance_km is not None:
        parts.append(f"The sound alone points to {c.audio_place}, {c.distance_km:,.0f} km from the claim.")
    if c.hum is not None and c.hum.detected_hz is not None:
        parts.append(c.hum.text[:1].upper() + c.hum.text[1:] + ".")
    if c.splice is not None and c.splice.detected:
        parts.append(c.splice.text[:1].upper() + c.splice.text[1:] + ".")
    return parts


def find_splice(scores: WindowScores, geo: SpeciesRangeGeolocator, week: int = -1, max_candidates: int = 80) -> SpliceFinding:
    """The change point where the two parts of the soundtrack point to the most different places."""
    s = scores.scores
    n = len(s)
    lo, hi = SPLICE_MIN_WINDOWS, n - SPLICE_MIN_WINDOWS
    if hi < lo:
        return SpliceFinding(False, 0.0)
    step = max(1, (hi - lo + 1) // max_candidates)
    cuts = list(range(lo, hi + 1, step))

    def surface(part: np.ndarray) -> np.ndarray | None:
        ev = geo.likelihood(part, week)
        if not len(ev.idx) or ev.q[ev.idx[0]] < SPLICE_MIN_SCORE:
            return None
        x = ev.log_surface
        p = np.exp(x - x.max())
        return p / p.sum()

    def stat(t: int) -> tuple[float, np.ndarray | None, np.ndarray | None]:
        pa, pb = surface(s[:t]), surface(s[t:])
        if pa is None or pb is None:
            return -math.inf, None, None
        return -math.log(len(pa) * float((pa * pb).sum()) + 1e-300), pa, pb

    best = max(cuts, key=lambda t: stat(t)[0])
    if step > 1:
        best = max(range(max(lo, best - step + 1), min(hi, best + step - 1) + 1), key=lambda t: stat(t)[0])
    score, pa, pb = stat(best)
    if pa is None or pb is None:
        return SpliceFinding(False, 0.0)
    from ..geo.places import place_name

    g = geo.gallery
    pts = [point_estimate(g, p, geo.point_method) for p in (pa, pb)]
    labels = geo.species_names()
    segs = []
    for (a, b), (lat, lon) in zip(((0, best), (best, n)), pts):
        q = s[a:b].max(0)
        top = [labels.common[i] for i in np.argsort(-np.where(labels.is_species, q, -1))[:3] if q[i] >= geo.rule.threshold]
        segs.append(SpliceSegment(float(scores.starts_s[a]), float(scores.ends_s[b - 1]), float(lat), float(lon),
                                  place_name(float(lat), float(lon)), top))
    change = float(scores.starts_s[best])
    return SpliceFinding(score > SPLICE_AT, round(score, 4), change, round(float(haversine_km(pts[0], pts[1])), 1), segs)


# ---------------------------------------------------------------- the public entry points


def claim_checker(
    source: str | os.PathLike[str] | np.ndarray,
    *,
    date: Any = None,
    sample_rate: int | None = None,
    max_duration_s: float | None = MAX_DURATION_S,
    hum: bool = True,
    container_s: float | None = None,
) -> ClaimChecker:
    """Decode (never reading tags) and score a file or an array once, detect mains hum, and return
    the :class:`ClaimChecker` that answers any number of claims about it. ``container_s``: the file's
    length when the caller has probed it (saves a probe when the decode stops at ``max_duration_s``)."""
    from ..audio.decode import decode_audio, load_array
    from ..audio.hum import detect_hum
    from ..dates import parse_date
    from ..models.birdnet import SAMPLE_RATE
    from ..scoring import recording_duration, score_audio

    date = parse_date(date)
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise ValueError("pass sample_rate with an audio array")
        mono = load_array(source, sample_rate, sample_rate)
        if max_duration_s is not None:
            mono = mono[: int(round(max_duration_s * sample_rate))]
        rate, name = int(sample_rate), "array"
    else:
        mono = decode_audio(source, SAMPLE_RATE, max_duration_s=max_duration_s)
        rate, name = SAMPLE_RATE, Path(source).name
    scores = score_audio(mono, sample_rate=rate, max_duration_s=None)
    scores.source_duration_s = recording_duration(source, len(mono) / rate, max_duration_s, sample_rate, container_s)
    found = detect_hum(mono, rate) if hum else None
    return ClaimChecker(scores, source=name, hum=found, date=date)


def check(
    source: str | os.PathLike[str] | np.ndarray,
    claim: Claim | str | Sequence[float],
    *,
    date: Any = None,
    sample_rate: int | None = None,
    max_duration_s: float | None = MAX_DURATION_S,
) -> ClaimCheck:
    """Does the audio of ``source`` (a file, or an array with ``sample_rate``) fit ``claim`` (a
    :class:`Claim`, a (lat, lon) pair, or text: "lat, lon" or a place name)? See the module docstring."""
    return claim_checker(source, date=date, sample_rate=sample_rate, max_duration_s=max_duration_s).check(claim)
