"""The one result object every geolocator returns: ``GeoPrediction``.

A probability surface over a gallery of candidate (lat, lon) points, with the point estimate,
top-k candidates, uncertainty regions, per-window guesses and (for audio) species evidence.
It serialises to JSON and back, so the app, the CLI, the benchmarks and reports share it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .errors import reading
from .geo.geodesy import as_latlon, haversine_km, spherical_mean
from .geo.h3cells import gallery_cells, latlon_to_cells
from .geo.places import place_names

SCHEMA_VERSION = 1


def finite_json(obj: Any) -> Any:
    """``obj`` ready for strict JSON: NaN and infinite floats become None (null), numpy scalars and arrays
    become Python numbers and lists, dicts, lists and tuples are converted throughout; anything else is
    returned as it is. Every JSON the package writes goes through here (with ``allow_nan=False``)."""
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [finite_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return finite_json(obj.tolist())
    return obj


@dataclass
class Candidate:
    """One of the top-k locations: a gallery point, its probability, H3 cell and place name."""

    lat: float
    lon: float
    prob: float
    h3_cell: str = ""
    place: str = ""


@dataclass
class WindowPrediction:
    """Where one audio window (or one video frame) points on its own."""

    start_s: float
    end_s: float
    lat: float | None = None
    lon: float | None = None
    prob: float | None = None
    label: str = ""
    score: float | None = None


@dataclass
class SpeciesEvidence:
    """One species behind an audio guess: how sure, where heard, and how much it moved the guess.

    ``shift_km`` is how far the point estimate moves when this species is left out; ``windows``
    lists the indices of the windows where its score passed the detection threshold.
    """

    scientific_name: str
    common_name: str
    score: float
    windows: list[int] = field(default_factory=list)
    shift_km: float | None = None
    weight: float | None = None


@dataclass
class Region:
    """The smallest set of H3 cells holding ``mass`` of the probability, and a radius around the point."""

    mass: float
    h3_res: int
    cells: list[str]
    radius_km: float


@dataclass
class GeoPrediction:
    """A geolocation result. ``gallery`` is (N, 2) (lat, lon) degrees; ``probs`` (N,) sums to 1."""

    gallery: np.ndarray
    probs: np.ndarray
    point: tuple[float, float]
    point_method: str
    top_k: list[Candidate] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    windows: list[WindowPrediction] = field(default_factory=list)
    evidence: list[SpeciesEvidence] = field(default_factory=list)
    model: str = ""
    version: str = ""
    confidence: float | None = None
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    modality: str = "audio"

    @property
    def lat(self) -> float:
        return float(self.point[0])

    @property
    def lon(self) -> float:
        return float(self.point[1])

    def region(self, mass: float) -> Region | None:
        """The uncertainty region for ``mass`` (e.g. 0.5 or 0.9), if computed."""
        return next((r for r in self.regions if abs(r.mass - mass) < 1e-9), None)

    @property
    def confidence_label(self) -> str:
        """"high", "medium", "low" or "none" from ``confidence`` (1 - entropy ratio of the surface)."""
        c = self.confidence
        if c is None or c <= 0.02:
            return "none"
        return "high" if c >= 0.5 else "medium" if c >= 0.25 else "low"

    def entropy_ratio(self) -> float:
        """Entropy of ``probs`` divided by that of a uniform surface: 1 = no information."""
        p = self.probs[self.probs > 0]
        n = len(self.probs)
        return float(-(p * np.log(p)).sum() / np.log(n)) if n > 1 else 0.0

    def distance_to(self, lat: float, lon: float) -> float:
        """Haversine km from the point estimate to (lat, lon)."""
        return float(haversine_km(self.point, (lat, lon)))

    # -- serialisation ---------------------------------------------------------------------

    def to_dict(self, surface: str = "sparse", mass: float = 0.999) -> dict[str, Any]:
        """A JSON-ready dict. ``surface``: "full" (every gallery point), "sparse" (the fewest
        points holding ``mass`` of the probability, renormalised) or "none"."""
        out: dict[str, Any] = {"schema": SCHEMA_VERSION}
        for k in ("point_method", "model", "version", "confidence", "notes", "timings", "modality"):
            out[k] = getattr(self, k)
        out["point"] = [float(self.point[0]), float(self.point[1])]
        for k in ("top_k", "regions", "windows", "evidence"):
            out[k] = [asdict(x) for x in getattr(self, k)]
        out["gallery_size"] = int(len(self.probs))
        if surface == "full":
            idx = np.arange(len(self.probs))
        elif surface == "sparse":
            idx = smallest_mass_set(self.probs, mass)
        elif surface == "none":
            idx = np.zeros(0, dtype=int)
        else:
            raise ValueError(f"surface must be full, sparse or none, not {surface!r}")
        out["surface"] = {
            "lat": np.round(self.gallery[idx, 0], 5).tolist(),
            "lon": np.round(self.gallery[idx, 1], 5).tolist(),
            "prob": [float(f"{p:.6g}") for p in self.probs[idx]],
        }
        clean: dict[str, Any] = finite_json(out)
        return clean

    def to_json(self, surface: str = "sparse", indent: int | None = None) -> str:
        return json.dumps(self.to_dict(surface=surface), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeoPrediction:
        """Rebuild from ``to_dict``; a sparse or empty surface becomes the gallery. :class:`InputError` for
        anything else."""
        with reading("geoforensics prediction", d):
            return cls._from_dict(d)

    @classmethod
    def _from_dict(cls, d: dict[str, Any]) -> GeoPrediction:
        s = d.get("surface") or {"lat": [], "lon": [], "prob": []}
        gallery = np.column_stack([s["lat"], s["lon"]]).astype(np.float64).reshape(-1, 2)
        probs = np.asarray(s["prob"], dtype=np.float64)
        if probs.sum() > 0:
            probs = probs / probs.sum()
        return cls(
            gallery=gallery,
            probs=probs,
            point=(float(d["point"][0]), float(d["point"][1])),
            point_method=d.get("point_method", ""),
            top_k=[Candidate(**x) for x in d.get("top_k", [])],
            regions=[Region(**x) for x in d.get("regions", [])],
            windows=[WindowPrediction(**x) for x in d.get("windows", [])],
            evidence=[SpeciesEvidence(**x) for x in d.get("evidence", [])],
            model=d.get("model", ""),
            version=d.get("version", ""),
            confidence=d.get("confidence"),
            notes=list(d.get("notes", [])),
            timings=dict(d.get("timings", {})),
            modality=d.get("modality", "audio"),
        )

    @classmethod
    def from_json(cls, text: str) -> GeoPrediction:
        with reading("geoforensics prediction"):
            d = json.loads(text)
        return cls.from_dict(d)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def from_log_scores(cls, gallery: Any, log_scores: Any, **options: Any) -> GeoPrediction:
        """Normalise unnormalised log-scores over ``gallery`` (softmax), then as :meth:`from_probs`."""
        gallery = as_latlon(gallery, name="gallery").reshape(-1, 2)
        s = np.asarray(log_scores, dtype=np.float64).reshape(-1)
        if len(s) != len(gallery):
            raise ValueError(f"{len(s)} scores for a gallery of {len(gallery)} points")
        if not np.isfinite(s).any():
            s = np.zeros_like(s)
        s = np.where(np.isfinite(s), s, -np.inf)
        p = np.exp(s - s.max())
        p /= p.sum()
        return cls.from_probs(gallery, p, **options)

    @classmethod
    def from_probs(
        cls,
        gallery: Any,
        probs: Any,
        *,
        point_method: str = "argmax",
        k: int = 5,
        min_separation_km: float = 300.0,
        region_masses: tuple[float, ...] = (0.5, 0.9),
        region_res: int = 2,
        names: bool = True,
        **meta: Any,
    ) -> GeoPrediction:
        """Build from a probability vector over ``gallery`` (renormalised here)."""
        gallery = as_latlon(gallery, name="gallery").reshape(-1, 2)
        p = np.clip(np.asarray(probs, dtype=np.float64).reshape(-1), 0.0, None)
        if len(p) != len(gallery) or len(p) == 0:
            raise ValueError(f"{len(p)} probabilities for a gallery of {len(gallery)} points")
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1.0 / len(p))
        point = point_estimate(gallery, p, point_method)
        top = top_k_candidates(gallery, p, k=k, min_separation_km=min_separation_km)
        regions = [probability_region(gallery, p, point, m, region_res) for m in region_masses]
        if names and top:

            coords = [(c.lat, c.lon) for c in top]
            for c, cell, name in zip(top, latlon_to_cells(coords, region_res), place_names(coords)):
                c.h3_cell, c.place = cell, name
        return cls(gallery=gallery, probs=p, point=point, point_method=point_method, top_k=top, regions=regions, **meta)


def point_estimate(gallery: np.ndarray, probs: np.ndarray, method: str = "argmax") -> tuple[float, float]:
    """The single best guess: "argmax", or "topk_mean:K" (probability-weighted spherical mean of
    the K most probable points)."""
    if method == "argmax":
        lat, lon = gallery[int(np.argmax(probs))]
        return float(lat), float(lon)
    if method.startswith("topk_mean"):
        kk = int(method.split(":")[1]) if ":" in method else 10
        idx = np.argsort(-probs)[:kk]
        lat, lon = spherical_mean(gallery[idx], probs[idx])
        return float(lat), float(lon)
    raise ValueError(f"unknown point method {method!r}; use 'argmax' or 'topk_mean:K'")


def top_k_candidates(
    gallery: np.ndarray, probs: np.ndarray, k: int = 5, min_separation_km: float = 300.0
) -> list[Candidate]:
    """The ``k`` most probable points, greedily skipping any within ``min_separation_km`` of one
    already chosen, so the list shows distinct places rather than neighbouring grid cells."""
    order = np.argsort(-probs)
    chosen: list[int] = []
    for i in order[: max(2000, 50 * k)]:
        if len(chosen) == k:
            break
        if chosen and np.min(haversine_km(gallery[chosen], gallery[i])) < min_separation_km:
            continue
        chosen.append(int(i))
    return [Candidate(lat=float(gallery[i, 0]), lon=float(gallery[i, 1]), prob=float(probs[i])) for i in chosen]


def smallest_mass_set(probs: np.ndarray, mass: float) -> np.ndarray:
    """Indices of the fewest entries of ``probs`` whose sum reaches ``mass``."""
    order = np.argsort(-probs)
    n = int(np.searchsorted(np.cumsum(probs[order]), mass * probs.sum()) + 1)
    return order[: min(n, len(order))]


def probability_region(
    gallery: np.ndarray, probs: np.ndarray, point: tuple[float, float], mass: float, res: int = 2
) -> Region:
    """Smallest set of H3 cells (at ``res``) holding ``mass`` of the probability, and the radius
    around ``point`` that holds the same mass."""
    idx = smallest_mass_set(probs, 0.9999)
    all_names, index = gallery_cells(gallery, res)
    cell_of = index[idx]
    cell_mass = np.bincount(cell_of, weights=np.asarray(probs, dtype=np.float64)[idx], minlength=len(all_names))
    first = np.full(len(all_names), len(idx))
    np.minimum.at(first, cell_of, np.arange(len(idx)))
    present = np.flatnonzero(first < len(idx))
    ranked = present[np.lexsort((first[present], -cell_mass[present]))]  # most mass first; ties: first seen
    names = [str(c) for c in all_names[ranked]]
    cum = np.cumsum(cell_mass[ranked])
    n = int(np.searchsorted(cum, mass) + 1)
    d = haversine_km(gallery, point)
    order = np.argsort(d)
    j = int(np.searchsorted(np.cumsum(probs[order]), mass))
    radius = float(d[order[min(j, len(order) - 1)]])
    return Region(mass=mass, h3_res=res, cells=names[:n], radius_km=radius)
