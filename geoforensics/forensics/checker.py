"""The claim check: does this soundtrack belong to the place the clip claims?

For each claim (:mod:`geoforensics.forensics.claims`) the answer is ``consistent``, ``mismatch`` or
``inconclusive``, a calibrated ``mismatch_score`` in [0, 1], and the evidence behind it
(:class:`~geoforensics.forensics.results.ClaimCheck`). Measured on xc-dev by ``benchmarks/claim_check.py``
(numbers in the README).

* *Species.* BirdNET's scores are first discounted by what it gives each species on non-animal
  sound (``forensics/noise.py``: white noise scores as a Lesser Spotted Woodpecker). Each species
  heard with pooled confidence q then contributes the geolocator's term ``log L_s(x)`` (for the default
  engine ``log(q rho_s(x) + (1 - q) c)``, ``geolocators/species_ranges.py``). The claim is compared with
  the alternative "recorded at least ``FAR_KM`` from the claim" by a Bayes factor:

      log BF = log mean_{x: d(x, claim) >= FAR_KM} prod_s L_s(x)
               -  sum_s max_{x: d(x, claim) <= TOLERANCE_KM} log L_s(x)

  The claim side lets each species live anywhere within ``TOLERANCE_KM`` of the claim (range maps
  are coarse, and so are claims). The mixture constant c keeps one confident false detection from
  convicting a true claim alone; a species the range model gives no range to is the same at every
  place and cancels; with no species heard, log BF = 0 and the answer is inconclusive.
* *Mains hum* (:mod:`geoforensics.forensics.hum`) adds its own log-likelihood ratio.
* *What the soundtrack holds* (:mod:`geoforensics.audio.content`): when speech or music covers the
  animals (birds audible in fewer than 2 windows, speech or music over at least half of them), the species
  cannot carry a verdict: it is inconclusive, and says why ("birds audible in 1 of 20 windows; music covers
  the rest"). Measured on xc-dev mixed under generated speech and music (``benchmarks/claim_distractors.py``):
  true claims called mismatch under speech at -6 dB 8.1 % -> 1.2 %, under music 7.0 % -> 4.7 %, clean clips
  unchanged.
* *Calibration.* ``mismatch_score = sigmoid(SLOPE x log BF + OFFSET)``: the probability that the
  recording was made at least ``FAR_KM`` from the claim, for a claim that is right or far wrong
  with equal odds, fitted on xc-dev (true locations vs far claims). ``mismatch`` from
  ``MISMATCH_AT``, ``consistent`` up to ``CONSISTENT_AT``; in between, inconclusive.

The checker reads the geolocator only through
:class:`~geoforensics.geolocators.base.SpeciesLikelihoodModel`; a recording date selects the range
model's week, whose ranges are computed once per clip (the species heard, over the gallery).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ..audio.content import SoundtrackContent
from ..audio.hum import HumResult
from ..dates import parse_date
from ..defaults import AUDIO_MODEL, MAX_DURATION_S
from ..errors import InputError
from ..evidence import ClipEvidence, gather_evidence
from ..ffmpeg import MediaFile
from ..geo.geodesy import haversine_km
from ..geolocators.base import SpeciesLikelihoodModel
from ..geolocators.registry import get_geolocator
from ..prediction import GeoPrediction
from ..scoring import WindowScores, discount
from .claims import Claim, resolve_claim
from .explain import explain
from .hum import hum_evidence
from .results import LIVES_AT, ClaimCheck, SpeciesAtClaim
from .splices import find_splice

FAR_KM = 3000.0
"""The alternative to a claim: the recording was made at least this far away."""
TOLERANCE_KM = 300.0
"""A claim holds when the recording was made within this distance of it."""
SLOPE, OFFSET = 1.0674, 0.6399
"""Calibration of ``mismatch_score``: logistic regression of far vs true claims on the log Bayes factor,
weighted to equal odds, over the 86 xc-dev clips (``benchmarks/claim_check.py --fit``)."""
MISMATCH_AT = 0.7
"""``mismatch_score`` from which the verdict is mismatch: on xc-dev (cross-validated scores) 3.5 % of
true claims and 86 % of claims >= 3,000 km away score this high (at 0.5 it would be 8 % and 96 %)."""
CONSISTENT_AT = 0.1
"""``mismatch_score`` up to which the verdict is consistent: 78 % of true claims and 0.4 % of far ones on xc-dev."""


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


def likelihood_model(geolocator: object | None = None) -> SpeciesLikelihoodModel:
    """``geolocator`` (default: the default audio engine) as the claim check reads it; :class:`InputError`
    when it cannot back a verdict."""
    geo = get_geolocator(AUDIO_MODEL) if geolocator is None else geolocator
    if not isinstance(geo, SpeciesLikelihoodModel):
        name = getattr(geo, "name", type(geo).__name__)
        raise InputError(
            f"the claim check needs a geolocator that gives species likelihoods over its gallery "
            f"(SpeciesLikelihoodModel: likelihood, occurrence, predict_from_scores, ...); {name!r} does not"
        )
    return geo


class ClaimChecker:
    """Answers claims about one clip: its species evidence, hum and splice are worked out once (for the
    clip's week, when it has a date), then each claim costs a few array operations over the gallery."""

    def __init__(
        self,
        scores: WindowScores,
        *,
        source: str = "",
        hum: HumResult | None = None,
        content: SoundtrackContent | None = None,
        date: Any = None,
        geolocator: object | None = None,
    ) -> None:
        parsed = parse_date(date)
        geo = likelihood_model(geolocator)
        self.heard = scores
        """BirdNET's scores as it gave them (``scores`` is after the noise discount)."""
        scores = replace(scores, scores=discount(scores.scores))
        self.geo = geo
        self.source = source
        self.date = None if parsed is None else str(parsed)
        self.week = -1 if parsed is None else parsed.week
        self.scores = scores
        self.labels = geo.species_names()
        self.likelihood = geo.likelihood(scores.scores, self.week)
        self.occurrence = geo.occurrence(self.likelihood.idx, self.week)
        self.prediction: GeoPrediction = geo.predict_from_scores(scores, week=self.week)
        self.hum = hum
        self.content = content
        self.masked_reason = content.masked_reason() if content is not None else None
        self.soundtrack = content.to_dict() if content is not None else None
        self.splice = find_splice(scores, geo, self.week)

    @classmethod
    def from_evidence(
        cls, evidence: ClipEvidence, *, date: Any = None, geolocator: object | None = None
    ) -> ClaimChecker:
        """The checker of a clip's gathered evidence; :class:`InputError` when it has no audio."""
        if evidence.scores is None:
            raise InputError(f"{evidence.name} has no audio stream to check a claim against")
        return cls(evidence.scores, source=evidence.name, hum=evidence.hum, content=evidence.content, date=date,
                   geolocator=geolocator)

    @property
    def has_evidence(self) -> bool:
        return len(self.likelihood.idx) > 0

    def check(self, claim: Claim | str | Sequence[float], source: str = "typed") -> ClaimCheck:
        """The verdict, score and evidence for one claim."""
        claim = resolve_claim(claim, source)
        g = self.geo.gallery
        d = haversine_km(g, claim.latlon)
        near = d <= max(TOLERANCE_KM, float(d.min()))
        far = d >= FAR_KM
        ev = self.likelihood
        log_bf = 0.0
        if self.has_evidence:
            log_bf = _logmeanexp(ev.log_surface[far]) - float(ev.terms[:, near].max(1).sum())
        hum = hum_evidence(self.hum, claim, g, far, self.prediction.probs[far]) if self.hum is not None else None
        total = log_bf + (hum.log_lr if hum is not None else 0.0)
        has_evidence = self.has_evidence or (hum is not None and hum.log_lr != 0.0)
        score = calibrated(total) if has_evidence else 0.5
        pred = self.prediction
        result = ClaimCheck(
            file=self.source,
            claim=claim,
            verdict="inconclusive" if self.masked_reason else verdict_of(score, has_evidence),
            mismatch_score=round(score, 6),
            log_bayes_factor=round(total, 4),
            text="",
            evidence=self._species(d, near, far),
            hum=hum,
            splice=self.splice,
            date=self.date,
            audio_point=(round(pred.lat, 5), round(pred.lon, 5)),
            audio_place=pred.top_k[0].place if pred.top_k else "",
            distance_km=round(float(haversine_km(pred.point, claim.latlon)), 1),
            notes=list(pred.notes),
            soundtrack=self.soundtrack,
            masked=self.masked_reason,
        )
        result.text = explain(result)
        return result

    def _species(self, d: np.ndarray, near: np.ndarray, far: np.ndarray) -> list[SpeciesAtClaim]:
        ev, labels = self.likelihood, self.labels
        heard = self.scores.scores >= self.geo.detection_threshold
        out = []
        for j, s in enumerate(ev.idx):
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


def claim_checker(
    source: str | os.PathLike[str] | MediaFile | np.ndarray | ClipEvidence,
    *,
    date: Any = None,
    sample_rate: int | None = None,
    max_duration_s: float | None = MAX_DURATION_S,
    hum: bool = True,
    geolocator: object | None = None,
) -> ClaimChecker:
    """Gather a clip's evidence once (:func:`geoforensics.evidence.gather_evidence`: one probe and decode of
    a file, tags never read; or an array with ``sample_rate``), with its mains hum, and return the
    :class:`ClaimChecker` that answers any number of claims about it. A bad ``date`` or geolocator is
    refused before any audio is read."""
    parsed = parse_date(date)
    geo = likelihood_model(geolocator)
    evidence = source if isinstance(source, ClipEvidence) else gather_evidence(
        source, sample_rate=sample_rate, max_duration_s=max_duration_s, hum=hum, content=True)
    return ClaimChecker.from_evidence(evidence, date=parsed, geolocator=geo)


def check(
    source: str | os.PathLike[str] | MediaFile | np.ndarray,
    claim: Claim | str | Sequence[float],
    *,
    date: Any = None,
    sample_rate: int | None = None,
    max_duration_s: float | None = MAX_DURATION_S,
) -> ClaimCheck:
    """Does the audio of ``source`` (a file, or an array with ``sample_rate``) fit ``claim`` (a
    :class:`Claim`, a (lat, lon) pair, or text: "lat, lon" or a place name)? See the module docstring."""
    claim = resolve_claim(claim)
    return claim_checker(source, date=date, sample_rate=sample_rate, max_duration_s=max_duration_s).check(claim)


__all__ = [
    "CONSISTENT_AT", "FAR_KM", "MISMATCH_AT", "OFFSET", "SLOPE", "TOLERANCE_KM", "ClaimChecker", "calibrated",
    "check", "claim_checker", "likelihood_model", "verdict_of",
]
