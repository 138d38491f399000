"""Splices: a soundtrack whose first and second parts point to different regions (a replaced or inserted
track).

For each change point t the two segments' surfaces p_A and p_B are compared with the same place for both:
``log BF = -log(N sum_x p_A(x) p_B(x))`` (0 when the two agree no more than random surfaces would); the
largest over t, above :data:`SPLICE_AT`, is reported with the time and where each part points. The
surfaces come from the geolocator's species likelihoods
(:class:`~geoforensics.geolocators.base.SpeciesLikelihoodModel`).
"""

from __future__ import annotations

import math

import numpy as np

from ..geo.geodesy import haversine_km
from ..geo.places import place_name
from ..geolocators.base import SpeciesLikelihoodModel
from ..scoring import WindowScores
from .results import SpliceFinding, SpliceSegment

SPLICE_AT = 0.2
"""Splice log Bayes factor above which a change of place is reported."""
SPLICE_MIN_WINDOWS = 4
"""Each side of a splice holds at least this many windows (7.5 s with 3 s windows every 1.5 s)."""
SPLICE_MIN_SCORE = 0.3
"""Each side of a splice needs a species heard at least this confidently."""


def find_splice(
    scores: WindowScores, geo: SpeciesLikelihoodModel, week: int = -1, max_candidates: int = 80
) -> SpliceFinding:
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
        p: np.ndarray = np.exp(x - x.max())
        normed: np.ndarray = p / p.sum()
        return normed

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
    pts = [geo.point_of(p) for p in (pa, pb)]
    labels = geo.species_names()
    segs = []
    for (a, b), (lat, lon) in zip(((0, best), (best, n)), pts):
        q = s[a:b].max(0)
        top = [labels.common[i] for i in np.argsort(-np.where(labels.is_species, q, -1))[:3]
               if q[i] >= geo.detection_threshold]
        segs.append(SpliceSegment(float(scores.starts_s[a]), float(scores.ends_s[b - 1]), float(lat), float(lon),
                                  place_name(float(lat), float(lon)), top))
    change = float(scores.starts_s[best])
    return SpliceFinding(score > SPLICE_AT, round(score, 4), change, round(float(haversine_km(pts[0], pts[1])), 1),
                         segs)


__all__ = ["SPLICE_AT", "SPLICE_MIN_SCORE", "SPLICE_MIN_WINDOWS", "find_splice"]
