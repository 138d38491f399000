"""The default audio geolocator: species heard (BirdNET) x where they live (a range model).

This is the paper's "species ranges, predicted all" system made into a probability surface. For a
gallery point x, each species s that BirdNET hears with pooled confidence q_s contributes

    log L_s(x) = log( q_s * rho_s(x) + (1 - q_s) * c ),     rho_s(x) = r_s(x) / (R(x) / median R)

and the log-surface is the sum over species. Why this rule (measured on xc-dev, 86 clips; see
``benchmarks/audio_geolocation.py``):

* r_s(x) is the range model's occurrence. BirdNET's meta-model is over-generous where it saw little
  data (it gives the Wood Pigeon 0.997 in Mongolia, and 364 species > 0.1 there against 198 near
  Paris), so a plain sum of q_s log r_s(x) drifts to such places: Europe's median error was 4,400 km.
  Dividing by the richness R(x) (the expected number of species at x) makes r_s / R the chance that a
  species heard at x is s, the proper likelihood of one detection; the median scale keeps c
  meaningful.
* The mixture with a constant c (the "false detection" branch) keeps one confident false positive
  (an albatross in Iceland) from vetoing the right region, which a product of ranges would do.
* Species with q_s below ``threshold`` are ignored, and at most ``top_species`` are used.

With no species evidence every term is ~constant: the surface stays near uniform and the result
says so rather than pinning a confident wrong place.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..audio.windows import WindowSpec
from ..dates import week_of
from ..defaults import GALLERY, MAX_DURATION_S, PRIOR, PRIOR_BANDWIDTH_KM, TOP_K, WINDOW
from ..evidence import score_audio
from ..geo.galleries import get_gallery
from ..geo.geodesy import haversine_km
from ..geo.priors import get_prior, log_prior
from ..models.birdnet import BirdNETRangeModel, Labels
from ..prediction import GeoPrediction, SpeciesEvidence, WindowPrediction, point_estimate
from ..ranges.base import RangeModel
from ..ranges.cache import RangeTable, WeekRanges, range_table
from ..scoring import WindowScores, pool_scores
from .base import SpeciesLikelihood, prediction_options

if TYPE_CHECKING:
    from ..models.birdnet import Labels

WEAK_EVIDENCE = 0.5
NO_EVIDENCE_NOTE = "no species evidence: no animal sound was recognised, so the surface is near uniform"


@dataclass(frozen=True)
class CombinationRule:
    """Parameters of the combination rule (module docstring); defaults chosen on xc-dev."""

    threshold: float = 0.05
    background: float = 0.1
    top_species: int = 50
    richness_power: float = 1.0
    pooling: str = "max"


def species_terms(table: RangeTable | WeekRanges, idx: np.ndarray, q: np.ndarray, rule: CombinationRule) -> np.ndarray:
    """log L_s(x) for the species ``idx`` with confidences ``q`` (one row per species)."""
    if len(idx) == 0:
        return np.zeros((0, table.n_points))
    rich = table.richness / max(float(np.median(table.richness)), 1e-9)
    rho = table.rows(idx) / np.maximum(rich, 1e-6)[None] ** rule.richness_power
    qq = np.asarray(q, np.float64)[:, None]
    return np.log(qq * rho + (1.0 - qq) * rule.background + 1e-12)


def select_species(q: np.ndarray, usable: np.ndarray, rule: CombinationRule) -> np.ndarray:
    """Indices of the species used as evidence: usable, above threshold, the ``top_species`` best."""
    idx = np.where(usable & (q >= rule.threshold))[0]
    return idx[np.argsort(-q[idx], kind="stable")][: rule.top_species]


class SpeciesRangeGeolocator:
    """Audio -> BirdNET species scores -> range model over a gallery -> :class:`GeoPrediction`."""

    name = "species-ranges"
    modality = "audio"

    def __init__(
        self,
        gallery: str | np.ndarray = GALLERY,
        range_model: RangeModel | None = None,
        rule: CombinationRule = CombinationRule(),
        window: WindowSpec = WINDOW,
        point_method: str = "topk_mean:10",
        max_duration_s: float = MAX_DURATION_S,
        prior: str | None = PRIOR,
        prior_weight: float | None = None,
        prior_bandwidth_km: float = PRIOR_BANDWIDTH_KM,
    ):
        if isinstance(gallery, str):
            self.gallery_name = gallery
            self._gallery = np.asarray(get_gallery(gallery).latlon, dtype=np.float64)
        else:
            self.gallery_name = "custom"
            self._gallery = np.asarray(gallery, dtype=np.float64)
        if range_model is None:

            range_model = BirdNETRangeModel()
        self.range_model = range_model
        self.rule = rule
        self.window = window
        self.point_method = point_method
        self.max_duration_s = max_duration_s
        if prior in (None, "", "none"):
            prior = None
        else:

            prior_weight = get_prior(prior).weight if prior_weight is None else prior_weight
        self.prior, self.prior_weight, self.prior_bandwidth_km = prior, float(prior_weight or 0.0), prior_bandwidth_km
        self._year: RangeTable | None = None
        self._weeks: OrderedDict[int, WeekRanges] = OrderedDict()
        self._lock = threading.Lock()

    WEEKS_KEPT = 4
    """Week tables kept in memory (each holds the rows of the species asked for lately)."""

    @property
    def gallery(self) -> np.ndarray:
        return self._gallery

    @property
    def detection_threshold(self) -> float:
        """Confidence from which a species counts as heard in a window."""
        return self.rule.threshold

    def table(self, week: int = -1) -> RangeTable | WeekRanges:
        """Year-round ranges: cached on disk and memory-mapped (built on first use). A given week: one
        :class:`WeekRanges` per week, kept while it is among the last :data:`WEEKS_KEPT` used, whose rows
        are computed for the species asked for only."""
        with self._lock:
            if week == -1:
                if self._year is None:
                    self._year = range_table(self.range_model, self._gallery, week)
                return self._year
            if week not in self._weeks:
                self._weeks[week] = WeekRanges(self.range_model, self._gallery, week)
            self._weeks.move_to_end(week)
            while len(self._weeks) > self.WEEKS_KEPT:
                self._weeks.popitem(last=False)
            return self._weeks[week]

    def occurrence(self, species: np.ndarray, week: int = -1) -> np.ndarray:
        """The range model's occurrence [len(species), n_points] of species (class indices) over the gallery."""
        return self.table(week).rows(species)

    def point_of(self, probs: np.ndarray) -> tuple[float, float]:
        """The point estimate of a surface over the gallery, as :meth:`predict` chooses it."""
        return point_estimate(self._gallery, probs, self.point_method)

    def species_names(self) -> Labels:
        """Names of the range model's species (the columns of the scores), and which are real species."""
        m = self.range_model
        common = tuple(getattr(m, "common_names", m.species))
        mask = getattr(m, "counts_in_richness", None)
        return Labels(tuple(m.species), common, None if mask is None else tuple(bool(x) for x in mask))

    # -- audio or species scores -> location ---------------------------------------------------

    def predict(
        self,
        inputs: Any,
        *,
        k: int = TOP_K,
        date: Any = None,
        sample_rate: int | None = None,
        max_duration_s: float | None = None,
        light: bool = False,
    ) -> GeoPrediction:
        """Geolocate a file path, an audio array (with ``sample_rate``), a clip's
        :class:`~geoforensics.evidence.ClipEvidence` or precomputed :class:`WindowScores`. ``date`` (optional)
        selects the range model's week; files and arrays are scored up to ``max_duration_s`` (default: the
        instance's)."""
        week = week_of(date)
        ws = score_audio(inputs, sample_rate=sample_rate, window=self.window,
                         max_duration_s=max_duration_s or self.max_duration_s)
        return self.predict_from_scores(ws, week=week, k=k, light=light)

    def likelihood(self, scores: np.ndarray, week: int = -1) -> SpeciesLikelihood:
        """The combination rule's terms for window scores [n_windows, n_species] (pooled over the
        windows given, so a segment of a clip has its own); see the module docstring."""
        labels = self.species_names()
        if scores.ndim != 2 or scores.shape[1] != len(labels):
            raise ValueError(f"species scores of shape {scores.shape} for a range model of {len(labels)} species")
        table = self.table(week)
        q = pool_scores(scores, self.rule.pooling)
        idx = select_species(q, labels.is_species, self.rule)
        if isinstance(table, WeekRanges):  # every species heard at all, so parts of the clip find their rows ready
            table.rows(np.where(labels.is_species & (q >= self.rule.threshold))[0])
        return SpeciesLikelihood(idx, q, species_terms(table, idx, q[idx], self.rule))

    def predict_from_scores(
        self, ws: WindowScores, week: int = -1, k: int = TOP_K, light: bool = False
    ) -> GeoPrediction:
        """The combination rule applied to window scores; see the module docstring. ``light``: no
        species evidence, no per-window guesses, one candidate without name and no regions."""
        t0 = time.perf_counter()
        labels = self.species_names()
        table = self.table(week)
        ev = self.likelihood(ws.scores, week)
        idx, q, terms = ev.idx, ev.q, ev.terms
        log_s = ev.log_surface
        notes = []
        if len(idx) == 0:
            notes.append(NO_EVIDENCE_NOTE)
        elif q[idx[0]] < WEAK_EVIDENCE:
            notes.append(
                f"weak species evidence: the best match ({labels.common[idx[0]]}) scores only {q[idx[0]]:.2f}; "
                "this may be noise, music or speech rather than an animal"
            )
        if (cut := ws.cut_note()) is not None:
            notes.append(cut)
        if self.prior:

            log_s = log_s + self.prior_weight * log_prior(self.prior, self._gallery, self.prior_bandwidth_km)
            notes.append(
                f"recording-effort prior {self.prior!r} (weight {self.prior_weight:g}, "
                f"{self.prior_bandwidth_km:g} km): "
                + get_prior(self.prior).description
            )
        pred = GeoPrediction.from_log_scores(
            self._gallery, log_s, point_method=self.point_method, model=self.name, modality="audio",
            **prediction_options(k, light),
        )
        if not light:
            pred.evidence = self._evidence(ws, idx, q, terms, log_s, pred.point, labels)
            pred.windows = self._windows(ws, idx, table, labels)
        pred.notes = notes
        pred.confidence = float(1.0 - pred.entropy_ratio()) if len(idx) else 0.0
        pred.version = f"{self.range_model.version}|{self.gallery_name}|week {week}" + (
            f"|prior {self.prior}:{self.prior_weight:g}" if self.prior else ""
        )
        pred.timings = {**ws.timings, "locate_s": time.perf_counter() - t0}
        return pred

    def _evidence(self, ws: WindowScores, idx: np.ndarray, q: np.ndarray, terms: np.ndarray, log_s: np.ndarray,
                  point: tuple[float, float], labels: Labels, n: int = 10) -> list[SpeciesEvidence]:
        """Top species, the windows they are heard in, and how far the guess moves without each."""
        out = []
        for j, s in enumerate(idx[:n]):
            heard = np.where(ws.scores[:, s] >= self.rule.threshold)[0]
            without = log_s - terms[j]
            p = np.exp(without - without.max())
            alt = point_estimate(self._gallery, p / p.sum(), self.point_method)
            out.append(
                SpeciesEvidence(
                    scientific_name=labels.scientific[s],
                    common_name=labels.common[s],
                    score=float(q[s]),
                    windows=[int(w) for w in heard],
                    shift_km=float(haversine_km(alt, point)),
                    weight=float(terms[j].max() - terms[j].min()),
                )
            )
        return out

    def _windows(self, ws: WindowScores, idx: np.ndarray, table: RangeTable | WeekRanges,
                 labels: Labels) -> list[WindowPrediction]:
        """Each window's own guess over the clip's evidence species (for the timeline)."""
        out = []
        if len(idx):
            base = species_terms(table, idx, np.ones(len(idx)), self.rule)
        for w in range(len(ws.scores)):
            qw = ws.scores[w, idx] if len(idx) else np.zeros(0)
            keep = qw >= self.rule.threshold
            top = int(np.argmax(np.where(labels.is_species, ws.scores[w], -1)))
            label, score = labels.common[top], float(ws.scores[w, top])
            if keep.any():
                qq = qw[keep][:, None]
                rho_term = np.exp(base[keep])
                s = np.log(qq * rho_term + (1 - qq) * self.rule.background + 1e-12).sum(0)
                p = np.exp(s - s.max())
                i = int(np.argmax(s))
                lat, lon = self._gallery[i]
                prob = float(p[i] / p.sum())
            else:
                lat = lon = None
                prob = 0.0
                label, score = ("no species" if score < self.rule.threshold else label), score
            out.append(
                WindowPrediction(
                    start_s=float(ws.starts_s[w]),
                    end_s=float(ws.ends_s[w]),
                    lat=None if lat is None else float(lat),
                    lon=None if lon is None else float(lon),
                    prob=prob,
                    label=label,
                    score=score,
                )
            )
        return out
