"""What a claim check answers, as values that serialise to JSON and back: the verdict for one claim
(:class:`ClaimCheck`), the species behind it (:class:`SpeciesAtClaim`), the mains hum against the claimed
place's grid (:class:`HumEvidence`) and the strongest change of place in the soundtrack (:class:`SpliceFinding`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..audio.hum import HumResult
from ..errors import reading
from .claims import Claim

LIVES_AT = 0.1
"""Range-model occurrence from which a species counts as living at a place (the paper's checklist threshold)."""
VERDICTS = ("consistent", "mismatch", "inconclusive")


@dataclass
class SpeciesAtClaim:
    """One species heard, and whether it lives at the claimed place.

    ``occurrence``: the range model's value within the claim's tolerance (its maximum there);
    ``nearest_km``: from the claim to the nearest gallery point where it occurs (>= :data:`LIVES_AT`), None
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
    """The mains hum heard (``detected``: what :func:`geoforensics.audio.hum.detect_hum` found) against the
    claimed place's grid frequency, with the log-likelihood ratio it adds (> 0: against the claim)."""

    detected: HumResult
    claim_grid_hz: int | None
    claim_grid_note: str
    log_lr: float
    text: str

    @property
    def detected_hz(self) -> int | None:
        return self.detected.grid_hz

    @property
    def confidence(self) -> float:
        return self.detected.confidence

    def to_dict(self) -> dict[str, Any]:
        return {"detected": self.detected.to_dict(), "claim_grid_hz": self.claim_grid_hz,
                "claim_grid_note": self.claim_grid_note, "log_lr": self.log_lr, "text": self.text}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HumEvidence:
        return cls(HumResult.from_dict(d["detected"]), d.get("claim_grid_hz"), d.get("claim_grid_note", ""),
                   float(d.get("log_lr", 0.0)), d.get("text", ""))


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
    """The strongest change of place in a soundtrack; ``detected`` when ``score`` passes the splice threshold."""

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SpliceFinding:
        return cls(**{**d, "segments": [SpliceSegment(**s) for s in d.get("segments", [])]})


@dataclass
class ClaimCheck:
    """The answer for one claim about one clip. Serialises to JSON and back. ``evidence`` holds every species
    heard (the engine's detection threshold and species cap), whether or not it lives at the claimed place."""

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
    soundtrack: dict[str, Any] | None = None
    """What each window holds (:meth:`geoforensics.audio.content.SoundtrackContent.to_dict`), when analysed."""
    masked: str | None = None
    """Why the species could not carry a verdict (speech or music covers the animals), or None."""

    @property
    def range_flags(self) -> list[SpeciesAtClaim]:
        """The species heard that are unlikely at the claimed place and time (occurrence under :data:`LIVES_AT`),
        strongest first: misidentifications, vagrants, or a claim that is wrong."""
        return [e for e in self.evidence if not e.lives_here]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["audio_point"] = list(self.audio_point) if self.audio_point is not None else None
        d["hum"] = self.hum.to_dict() if self.hum is not None else None
        return d

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ClaimCheck:
        """Rebuild from :meth:`to_dict`; :class:`InputError` for anything else."""
        with reading("geoforensics claim check", d):
            return cls._from_dict(d)

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> ClaimCheck:
        point = d.get("audio_point")
        return cls(
            file=d["file"],
            claim=Claim(**d["claim"]),
            verdict=d["verdict"],
            mismatch_score=float(d["mismatch_score"]),
            log_bayes_factor=float(d["log_bayes_factor"]),
            text=d["text"],
            evidence=[SpeciesAtClaim(**e) for e in d.get("evidence", [])],
            hum=HumEvidence.from_dict(d["hum"]) if d.get("hum") else None,
            splice=SpliceFinding.from_dict(d["splice"]) if d.get("splice") else None,
            date=d.get("date"),
            audio_point=(float(point[0]), float(point[1])) if point else None,
            audio_place=d.get("audio_place", ""),
            distance_km=d.get("distance_km"),
            notes=list(d.get("notes", [])),
            soundtrack=d.get("soundtrack"),
            masked=d.get("masked"),
        )

    @classmethod
    def from_json(cls, text: str) -> ClaimCheck:
        with reading("geoforensics claim check"):
            d = json.loads(text)
        return cls.from_dict(d)


__all__ = ["LIVES_AT", "VERDICTS", "ClaimCheck", "HumEvidence", "SpeciesAtClaim", "SpliceFinding", "SpliceSegment"]
