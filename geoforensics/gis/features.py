"""Results as a GeoJSON FeatureCollection (RFC 7946): what a GIS tool opens.

:func:`result_collection` (one clip): the audio guess and the picture's guess as points, their 50 % and
90 % regions as polygons (merged H3 cells, :mod:`geoforensics.gis.geometry`), the top candidates, each
claim with its verdict and score, and great-circle lines from the audio guess to the picture's guess and
to each claim, with their length. :func:`batch_collection` (many files): one point per batch result row.

Every feature's properties are flat (text, numbers, booleans or null), so GDAL, QGIS and Google Earth
show them as columns; ``kind`` says what a feature is (``guess``, ``region``, ``candidate``, ``claim``,
``distance``, ``recording``) and ``modality`` whose it is (``audio``, ``image``). The KML writer
(:mod:`geoforensics.gis.kml`) reads the same collection.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from .. import __version__
from ..geo.geodesy import haversine_km
from ..prediction import GeoPrediction, finite_json
from ..text import safe
from .geometry import cells_geometry, great_circle_geometry, point_geometry

KINDS = ("region", "distance", "candidate", "guess", "claim", "recording")
"""Feature kinds, in the order they are written (regions first, so points are drawn over them)."""
MASSES = (0.5, 0.9)
"""Probability masses of the regions written."""
SPECIES_SHOWN = 5
"""Species named in a summary."""


class ClaimedPlace(Protocol):
    """What a claim result's ``claim`` carries (``geoforensics.forensics.claims.Claim``)."""

    lat: float
    lon: float
    label: str
    source: str


class ClaimResult(Protocol):
    """What is read from a claim result (``geoforensics.forensics.claims.ClaimCheck``, wherever it lives)."""

    @property
    def claim(self) -> ClaimedPlace: ...
    @property
    def verdict(self) -> str: ...
    @property
    def mismatch_score(self) -> float: ...
    @property
    def distance_km(self) -> float | None: ...
    @property
    def evidence(self) -> Sequence[Any]: ...


def _version() -> str:
    return __version__


def feature(geometry: dict[str, Any] | None, **properties: Any) -> dict[str, Any]:
    """A GeoJSON Feature; properties are made JSON-safe (NaN becomes null, numpy numbers plain) and text is
    shown safely (:func:`geoforensics.text.safe`: control and bidi characters, undecodable file-name bytes)."""
    clean = {k: safe(v) if isinstance(v, str) else v for k, v in properties.items()}
    return {"type": "Feature", "geometry": geometry, "properties": finite_json(clean)}


def species_summary(pred: GeoPrediction, n: int = SPECIES_SHOWN) -> str:
    """ "Eurasian Wren (Troglodytes troglodytes) 0.93; ..." for the ``n`` strongest species behind a guess."""
    items = sorted(pred.evidence, key=lambda e: -e.score)[:n]
    return "; ".join(f"{e.common_name} ({e.scientific_name}) {e.score:.2f}" for e in items)


def claim_species_summary(evidence: Sequence[Any], n: int = SPECIES_SHOWN) -> str:
    """ "lives here: A (occurrence 0.62); not here: B (occurrence 0.01, nearest 1,234 km)" from a claim's
    species (objects with ``common_name``, ``occurrence``, ``nearest_km`` and ``lives_here``)."""
    here = [e for e in evidence[:n] if getattr(e, "lives_here", False)]
    away = [e for e in evidence[:n] if not getattr(e, "lives_here", False)]
    parts = []
    if here:
        parts.append("lives here: " + ", ".join(f"{e.common_name} (occurrence {e.occurrence:.2f})" for e in here))
    if away:
        def where(e: Any) -> str:
            near = getattr(e, "nearest_km", None)
            return f"nearest {near:,.0f} km" if near is not None else "lives nowhere in the range model"

        parts.append(
            "not here: " + ", ".join(f"{e.common_name} (occurrence {e.occurrence:.2f}, {where(e)})" for e in away)
        )
    return "; ".join(parts)


def prediction_features(
    pred: GeoPrediction, *, source: str = "", masses: Sequence[float] = MASSES
) -> list[dict[str, Any]]:
    """The guess (a point), its regions (polygons) and top candidates (points) of one prediction."""
    import h3

    modality = pred.modality or "audio"
    common = {"source": source, "modality": modality, "model": pred.model, "model_version": pred.version}
    out: list[dict[str, Any]] = []
    for mass in masses:
        region = pred.region(mass)
        if region is None or not region.cells:
            continue
        area = sum(h3.cell_area(c, "km^2") for c in set(region.cells))
        out.append(feature(
            cells_geometry(region.cells), kind="region", name=f"{modality} {mass:.0%} region", mass=mass,
            h3_res=region.h3_res, n_cells=len(set(region.cells)), area_km2=round(area, 1),
            radius_km=round(region.radius_km, 1), **common,
        ))
    for rank, c in enumerate(pred.top_k, start=1):
        out.append(feature(
            point_geometry(c.lat, c.lon), kind="candidate", name=f"{modality} candidate {rank}: {c.place or c.h3_cell}",
            rank=rank, prob=float(f"{c.prob:.6g}"), place=c.place, h3_cell=c.h3_cell, **common,
        ))
    r50, r90 = pred.region(0.5), pred.region(0.9)
    out.append(feature(
        point_geometry(pred.lat, pred.lon), kind="guess", name=f"{modality} guess",
        place=pred.top_k[0].place if pred.top_k else "",
        point_method=pred.point_method, confidence=None if pred.confidence is None else round(pred.confidence, 4),
        confidence_label=pred.confidence_label,
        radius50_km=round(r50.radius_km, 1) if r50 else None, radius90_km=round(r90.radius_km, 1) if r90 else None,
        species=species_summary(pred), n_species=len(pred.evidence), notes=" | ".join(pred.notes),
        geoforensics_version=_version(), **common,
    ))
    return out


def distance_feature(
    a: Sequence[float], b: Sequence[float], *, name: str, source: str = "", **properties: Any
) -> dict[str, Any]:
    """The great-circle line from ``a`` to ``b`` ((lat, lon) degrees) with its length in km."""
    km = float(haversine_km(a, b))
    return feature(great_circle_geometry(a, b), kind="distance", name=name, distance_km=round(km, 1), source=source,
                   **properties)


def claim_feature(check: ClaimResult, *, source: str = "") -> dict[str, Any]:
    """A claimed place (a point) with its verdict, mismatch score and what its species say."""
    c = check.claim
    return feature(
        point_geometry(c.lat, c.lon), kind="claim", name=f"claim: {c.label}", label=c.label, claim_source=c.source,
        verdict=check.verdict, mismatch_score=check.mismatch_score, distance_km=check.distance_km,
        log_bayes_factor=getattr(check, "log_bayes_factor", None), text=getattr(check, "text", ""),
        species_at_claim=claim_species_summary(list(check.evidence)), source=source,
    )


def result_collection(
    audio: GeoPrediction | None,
    *,
    image: GeoPrediction | None = None,
    claims: Iterable[ClaimResult] = (),
    source: str = "",
    masses: Sequence[float] = MASSES,
) -> dict[str, Any]:
    """One clip's result as a FeatureCollection (see the module docstring); ``source`` names the clip."""
    feats: list[dict[str, Any]] = []
    for pred in (audio, image):
        if pred is not None:
            feats.extend(prediction_features(pred, source=source, masses=masses))
    if audio is not None and image is not None:
        feats.append(distance_feature(audio.point, image.point, name="audio guess to picture guess", source=source,
                                      **{"from": "audio guess", "to": "image guess"}))
    for check in claims:
        feats.append(claim_feature(check, source=source))
        if audio is not None:
            feats.append(distance_feature(
                audio.point, (check.claim.lat, check.claim.lon), name=f"audio guess to claim {check.claim.label}",
                source=source, verdict=check.verdict, mismatch_score=check.mismatch_score,
                **{"from": "audio guess", "to": f"claim: {check.claim.label}"},
            ))
    return collection(feats, name=source or "geoforensics result")


def collection(features: list[dict[str, Any]], *, name: str) -> dict[str, Any]:
    """A FeatureCollection of ``features`` in :data:`KINDS` order, named ``name`` (the layer name GDAL shows)."""
    order = {k: i for i, k in enumerate(KINDS)}
    ranked = sorted(features, key=lambda f: order.get(f["properties"].get("kind", ""), len(order)))
    return {"type": "FeatureCollection", "name": safe(name), "features": ranked}


def batch_collection(rows: Iterable[Mapping[str, Any]], *, name: str = "geoforensics batch") -> dict[str, Any]:
    """One point per batch result row (mappings with ``audio_id``, ``latitude``, ``longitude`` and the rest
    of a batch row: ``geoforensics.batch.sinks.COLUMNS``); a failed row keeps its ``error`` and has no
    geometry. A row with a claimed place (``claim_latitude``, ``claim_longitude``) adds that place, with its
    verdict, mismatch score and range flags, and the great-circle line from the guess to it."""
    feats = []
    for r in rows:
        lat, lon = r.get("latitude"), r.get("longitude")
        guess = (float(lat), float(lon)) if lat is not None and lon is not None else None
        geometry = point_geometry(*guess) if guess is not None else None
        props = {c: v for c, v in r.items() if c not in ("latitude", "longitude")}
        feats.append(feature(geometry, kind="recording", name=str(r.get("audio_id")), **props))
        c_lat, c_lon = r.get("claim_latitude"), r.get("claim_longitude")
        if c_lat is None or c_lon is None:
            continue
        claimed = {"verdict": r.get("verdict"), "mismatch_score": r.get("mismatch_score")}
        feats.append(feature(point_geometry(c_lat, c_lon), kind="claim", name=f"claim: {r.get('audio_id')}",
                             audio_id=r.get("audio_id"), range_flags=r.get("range_flags"), date=r.get("date"),
                             **claimed))
        if guess is not None:
            feats.append(distance_feature(guess, (float(c_lat), float(c_lon)),
                                          name=f"{r.get('audio_id')}: guess to claim",
                                          source=str(r.get("audio_id")), **claimed))
    return collection(feats, name=name)
