"""Audio <-> text <-> image through the shared location space, and per-species "soundscape affinity".

Every modality ends in a :class:`~geoforensics.prediction.GeoPrediction`, a probability surface over
some gallery. Galleries differ (the audio geolocator scores the 1-degree land grid, GeoCLIP its 100K
photo locations), so two surfaces are compared on one common grid:

* ``cell_distribution``: each surface's probability summed into H3 cells at ``res`` (default 2:
  hexagons of about 87,000 km², 158 km edge, a little coarser than the 1-degree land grid, so every
  cell of land holds some gallery point of both galleries and the comparison does not depend on
  which gallery is denser where);
* ``surface_overlap``: the Bhattacharyya coefficient ``sum_c sqrt(p_c q_c)`` of the two cell
  distributions, each first cut to its most probable cells holding ``mass`` (default 0.9) of the
  probability and renormalised: 1 for identical surfaces, 0 for surfaces whose cores share no cell.
  The cut matters: real surfaces carry a long, thin tail over the whole world (a range model is
  never exactly 0), and because the coefficient takes square roots, two tails of 10 % each spread
  over thousands of cells add about 0.1 whatever the peaks do. On the BirdNET ranges, the Spanish
  Imperial Eagle's affinity overlapped the American Robin's more (0.15) than the Eastern Imperial
  Eagle's (0.10) with ``mass=1``; with 0.9 the Robin falls to 0.02 while the Blue Tit keeps 0.20.
  It says how much the two *surfaces* agree, uncertainty included; two sharp guesses 300 km apart
  in different cells overlap 0, so ``rank_by_location`` also reports the great-circle distance
  between the point estimates and uses it to order candidates whose overlaps tie (typically at 0).

``rank_by_location`` ranks any named predictions against a query; ``images_for_audio``,
``texts_for_audio`` and ``audio_for_image`` are the retrieval directions built on it. The
embedding-space alternative for text, :func:`~geoforensics.geolocators.text.audio_to_text_scores`
(cosine similarity of one mean GeoCLIP location embedding with each prompt's embedding), is re-exported
here: it needs one CLIP pass for all prompts, while ``texts_for_audio`` geolocates each prompt and
compares surfaces like the image direction does.

``species_affinity`` asks an audio geolocator where a clip in which only one species is heard
(a one-hot score in one pseudo-window) belongs: the species' "soundscape affinity" map. Any
geolocator with ``predict_from_scores`` (or whose ``predict`` accepts ``WindowScores``) plugs in.
"""

from __future__ import annotations

import difflib
import hashlib
import inspect
import threading
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import h3
import numpy as np

from ..errors import InputError
from ..geo.geodesy import haversine_km
from ..models.birdnet import load_labels
from ..prediction import GeoPrediction
from ..scoring import WindowScores
from .registry import get_geolocator
from .text import PromptScore, audio_to_text_scores

__all__ = [
    "DEFAULT_MASS",
    "DEFAULT_RES",
    "LocationMatch",
    "PromptScore",
    "audio_for_image",
    "audio_to_text_scores",
    "cell_distribution",
    "images_for_audio",
    "rank_by_location",
    "species_affinity",
    "surface_overlap",
    "texts_for_audio",
]

DEFAULT_RES = 2
DEFAULT_MASS = 0.9
_CELL_CACHE: dict[tuple[str, int], np.ndarray] = {}
_CELL_CACHE_MAX = 16
_LOCK = threading.Lock()


class LocationMatch(NamedTuple):
    """One ranked candidate: its name, its surface overlap with the query (0-1) and the km between
    the two point estimates."""

    name: str
    score: float
    km: float


def _gallery_cells(gallery: np.ndarray, res: int) -> np.ndarray:
    """(N,) int64 H3 cell of each gallery point at ``res``, cached per gallery content."""
    g = np.ascontiguousarray(gallery, dtype=np.float64)
    key = (hashlib.blake2b(g.tobytes(), digest_size=16).hexdigest() + str(g.shape), res)
    with _LOCK:
        hit = _CELL_CACHE.get(key)
    if hit is not None:
        return hit
    cells = np.fromiter(
        (h3.str_to_int(h3.latlng_to_cell(float(lat), float(lon), res)) for lat, lon in g), dtype=np.int64, count=len(g)
    )
    with _LOCK:
        if len(_CELL_CACHE) >= _CELL_CACHE_MAX:
            _CELL_CACHE.pop(next(iter(_CELL_CACHE)))
        _CELL_CACHE[key] = cells
    return cells


def _cell_masses(pred: GeoPrediction, res: int, mass: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(sorted unique int64 cells, their probability, summing to 1), restricted to the most probable
    cells holding ``mass`` of it (then renormalised) when ``mass`` < 1."""
    if not 0 <= res <= 6:
        raise InputError(f"the common grid's H3 resolution must be 0-6, not {res}")
    probs = np.asarray(pred.probs, dtype=np.float64).reshape(-1)
    gallery = np.asarray(pred.gallery, dtype=np.float64).reshape(-1, 2)
    if len(probs) == 0 or probs.sum() <= 0:
        raise InputError("a prediction has an empty probability surface (was it saved with surface='none'?)")
    if len(probs) != len(gallery):
        raise InputError(f"a prediction has {len(probs)} probabilities for {len(gallery)} gallery points")
    cells, inverse = np.unique(_gallery_cells(gallery, res), return_inverse=True)
    m = np.bincount(inverse.reshape(-1), weights=probs, minlength=len(cells))
    m = m / m.sum()
    if mass < 1.0:
        order = np.argsort(-m, kind="stable")
        n = int(np.searchsorted(np.cumsum(m[order]), mass) + 1)
        keep = np.sort(order[: min(n, len(order))])
        cells, m = cells[keep], m[keep] / m[keep].sum()
    return cells, m


def cell_distribution(pred: GeoPrediction, res: int = DEFAULT_RES) -> dict[str, float]:
    """``pred``'s probability summed into H3 cells at ``res``: {cell: probability}, summing to 1."""
    cells, mass = _cell_masses(pred, res)
    return {h3.int_to_str(int(c)): float(m) for c, m in zip(cells, mass) if m > 0}


def surface_overlap(a: GeoPrediction, b: GeoPrediction, res: int = DEFAULT_RES, mass: float = DEFAULT_MASS) -> float:
    """Bhattacharyya coefficient of two surfaces on the common H3 grid at ``res``, each cut to the
    cells holding ``mass`` of its probability (module docstring; ``mass=1`` keeps everything): 1 for
    identical surfaces, 0 when their cores share no cell; symmetric, galleries may differ."""
    if not 0.0 < mass <= 1.0:
        raise InputError(f"mass must be in (0, 1], not {mass}")
    ca, pa = _cell_masses(a, res, mass)
    cb, pb = _cell_masses(b, res, mass)
    _, ia, ib = np.intersect1d(ca, cb, assume_unique=True, return_indices=True)
    return float(min(1.0, np.sqrt(pa[ia] * pb[ib]).sum()))


def rank_by_location(
    query: GeoPrediction, candidates: Mapping[str, GeoPrediction], res: int = DEFAULT_RES, mass: float = DEFAULT_MASS
) -> list[LocationMatch]:
    """Candidates ordered by :func:`surface_overlap` with ``query`` (best first), ties (e.g. all 0)
    broken by the km between point estimates, nearest first."""
    out = [
        LocationMatch(str(name), surface_overlap(query, pred, res, mass), float(haversine_km(query.point, pred.point)))
        for name, pred in candidates.items()
    ]
    return sorted(out, key=lambda m: (-round(m.score, 9), m.km))


def _default_locator(name: str) -> Any:
    return get_geolocator(name)


def images_for_audio(
    audio_pred: GeoPrediction,
    image_paths: Sequence[Any],
    image_locator: Any = None,
    res: int = DEFAULT_RES,
) -> list[LocationMatch]:
    """Which of these images fits where ``audio_pred`` puts the recording? Each image is
    geolocated (default ``image-geoclip``) and ranked by :func:`rank_by_location`; names are the
    paths as given (images that are not paths are named "image N")."""
    if not image_paths:
        raise InputError("no images given")
    locator = image_locator if image_locator is not None else _default_locator("image-geoclip")
    preds = {_name(p, i, "image"): locator.predict(p) for i, p in enumerate(image_paths)}
    return rank_by_location(audio_pred, preds, res)


def texts_for_audio(
    audio_pred: GeoPrediction,
    prompts: Sequence[str],
    text_locator: Any = None,
    res: int = DEFAULT_RES,
) -> list[LocationMatch]:
    """Which of these descriptions fits ``audio_pred``? Each prompt is geolocated (default
    ``text-geoclip``) and ranked by surface overlap; see also ``audio_to_text_scores``."""
    texts = [p.strip() for p in prompts if isinstance(p, str) and p.strip()]
    if not texts:
        raise InputError("no text prompts given")
    locator = text_locator if text_locator is not None else _default_locator("text-geoclip")
    return rank_by_location(audio_pred, {t: locator.predict(t) for t in dict.fromkeys(texts)}, res)


def audio_for_image(
    image_pred: GeoPrediction,
    audio_paths: Sequence[Any],
    audio_locator: Any = None,
    date: Any = None,
    res: int = DEFAULT_RES,
) -> list[LocationMatch]:
    """Which of these recordings fits where ``image_pred`` (or any query prediction, a text's
    too) points? Each file is geolocated from its sound (default ``species-ranges``, with
    ``date`` when given) and ranked by :func:`rank_by_location`."""
    if not audio_paths:
        raise InputError("no audio files given")
    locator = audio_locator if audio_locator is not None else _default_locator("species-ranges")
    kw = {"date": date} if date is not None else {}
    preds = {_name(p, i, "audio"): locator.predict(p, **kw) for i, p in enumerate(audio_paths)}
    return rank_by_location(image_pred, preds, res)


def _name(item: Any, i: int, kind: str) -> str:
    return str(item) if isinstance(item, (str, bytes)) or hasattr(item, "__fspath__") else f"{kind} {i + 1}"


# -- species affinity -------------------------------------------------------------------------


def _labels_of(geolocator: Any) -> Any:
    if hasattr(geolocator, "species_names"):
        return geolocator.species_names()

    return load_labels()


def resolve_species(name: str, labels: Any) -> int:
    """Index of a species in ``labels`` by scientific or common name (case-insensitive); an
    unknown name raises ``InputError`` listing the closest names (difflib)."""
    query = (name or "").strip()
    if not query:
        raise InputError("no species given: type a scientific name, e.g. 'Aquila adalberti'")
    try:
        index: int = labels.index(query)
        return index
    except KeyError:
        pass
    low = query.lower()
    common = {c.lower(): i for i, c in enumerate(labels.common)}
    if low in common:
        return common[low]
    mask = labels.is_species
    pool: dict[str, int] = {}
    for i, (s, c) in enumerate(zip(labels.scientific, labels.common)):
        if mask[i]:
            pool.setdefault(s.lower(), i)
            pool.setdefault(c.lower(), i)
    close = difflib.get_close_matches(low, list(pool), n=8, cutoff=0.6)
    shown = list(dict.fromkeys(f"{labels.scientific[pool[c]]} ({labels.common[pool[c]]})" for c in close))[:4]
    hint = (
        f"; did you mean {', '.join(shown)}?" if shown else "; use a BirdNET scientific name such as 'Aquila adalberti'"
    )
    raise InputError(f"unknown species {query!r}{hint}")


def species_affinity(scientific_name: str, geolocator: Any = None, week: int = -1, k: int = 5) -> GeoPrediction:
    """Where does a clip in which only ``scientific_name`` is heard belong, according to
    ``geolocator`` (default ``species-ranges``)? One pseudo-window with score 1.0 for that species
    and 0 elsewhere goes through its ``predict_from_scores`` (or ``predict``); ``week`` (1-48,
    -1 = year-round) is passed where the geolocator takes it. Unknown names raise ``InputError``
    with close matches."""
    locator = geolocator if geolocator is not None else _default_locator("species-ranges")
    labels = _labels_of(locator)
    i = resolve_species(scientific_name, labels)
    if not labels.is_species[i]:
        raise InputError(f"{labels.scientific[i]!r} is a noise or non-animal class, not a species")
    scores = np.zeros((1, len(labels)), dtype=np.float32)
    scores[0, i] = 1.0
    ws = WindowScores(starts_s=np.zeros(1), ends_s=np.full(1, 3.0), scores=scores, duration_s=3.0)
    pred: GeoPrediction
    if hasattr(locator, "predict_from_scores"):
        fn = locator.predict_from_scores
        params = inspect.signature(fn).parameters
        kw: dict[str, Any] = {}
        if "week" in params:
            kw["week"] = week
        if "k" in params:
            kw["k"] = k
        pred = fn(ws, **kw)
    else:
        pred = locator.predict(ws, k=k)
    label = f"{labels.common[i]} ({labels.scientific[i]})"
    pred.notes = [
        f"soundscape affinity of {label}: where {getattr(locator, 'name', 'the audio geolocator')} puts a clip "
        "in which only this species is heard (score 1.0)"
    ] + [n for n in pred.notes]
    pred.windows = []
    return pred
