"""Cross-modal retrieval on synthetic surfaces with known answers, and species affinity on the real
BirdNET labels and ranges."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geoforensics.errors import InputError
from geoforensics.geo.geodesy import haversine_km
from geoforensics.geolocators.cross_modal import (
    LocationMatch,
    audio_for_image,
    cell_distribution,
    images_for_audio,
    rank_by_location,
    resolve_species,
    species_affinity,
    surface_overlap,
    texts_for_audio,
)
from geoforensics.models.birdnet import load_labels
from geoforensics.prediction import GeoPrediction
from geoforensics.scoring import WindowScores

PARIS, MADRID, MOSCOW, SYDNEY = (48.86, 2.35), (40.42, -3.70), (55.76, 37.62), (-33.87, 151.21)


def grid(step: float, offset: float = 0.0) -> np.ndarray:
    lat = np.arange(-89.5 + offset, 90.0, step)
    lon = np.arange(-179.5 + offset, 180.0, step)
    la, lo = np.meshgrid(lat, lon, indexing="ij")
    return np.column_stack([la.ravel(), lo.ravel()])


G1 = grid(1.0)


def bump(centre: tuple[float, float], sigma_km: float = 400.0, gallery: np.ndarray = G1,
         cutoff_km: float | None = None) -> GeoPrediction:
    """A Gaussian surface around ``centre`` (zero beyond ``cutoff_km`` when given)."""
    d = haversine_km(gallery, centre)
    p = np.exp(-0.5 * (d / sigma_km) ** 2)
    if cutoff_km is not None:
        p = np.where(d <= cutoff_km, p, 0.0)
    return GeoPrediction.from_probs(gallery, p, names=False)


def test_identical_surfaces_overlap_one_and_disjoint_zero():
    paris = bump(PARIS)
    assert surface_overlap(paris, paris) == pytest.approx(1.0, abs=1e-9)
    assert surface_overlap(paris, paris, mass=1.0) == pytest.approx(1.0, abs=1e-9)
    with pytest.raises(InputError, match="mass"):
        surface_overlap(paris, paris, mass=0.0)
    sydney = bump(SYDNEY, cutoff_km=1500)
    assert surface_overlap(bump(PARIS, cutoff_km=1500), sydney) == 0.0
    assert surface_overlap(paris, bump(SYDNEY)) < 1e-6  # untruncated Gaussians: numerically disjoint
    madrid = bump(MADRID)
    assert 0.05 < surface_overlap(paris, madrid) < 0.9
    assert surface_overlap(paris, madrid) == pytest.approx(surface_overlap(madrid, paris), abs=1e-12)


def test_overlap_compares_surfaces_on_different_galleries():
    """The same place on a 1-degree grid and on an offset 1.5-degree grid: nearly identical on H3 cells."""
    a = bump(PARIS, sigma_km=600.0)
    b = bump(PARIS, sigma_km=600.0, gallery=grid(1.5, offset=0.25))
    assert surface_overlap(a, b) > 0.97
    assert surface_overlap(a, bump(MOSCOW, sigma_km=600.0, gallery=grid(1.5, offset=0.25))) < 0.2
    assert surface_overlap(a, b, res=1) >= surface_overlap(a, b, res=3) - 1e-9  # coarser grid, more overlap


def test_cell_distribution_sums_to_one_on_h3_cells():
    dist = cell_distribution(bump(PARIS, cutoff_km=800))
    assert sum(dist.values()) == pytest.approx(1.0)
    import h3

    assert all(h3.get_resolution(c) == 2 for c in dist)
    top = max(dist, key=dist.get)
    assert haversine_km(h3.cell_to_latlng(top), PARIS) < 300
    with pytest.raises(InputError, match="resolution"):
        cell_distribution(bump(PARIS), res=9)
    empty = GeoPrediction(gallery=np.zeros((0, 2)), probs=np.zeros(0), point=PARIS, point_method="argmax")
    with pytest.raises(InputError, match="empty"):
        surface_overlap(empty, bump(PARIS))


def test_rank_by_location_orders_by_overlap_then_distance():
    query = bump(PARIS, sigma_km=800.0)
    cands = {"Sydney": bump(SYDNEY), "Moscow": bump(MOSCOW), "Madrid": bump(MADRID), "Paris": bump(PARIS, 300.0)}
    ranked = rank_by_location(query, cands)
    assert [m.name for m in ranked] == ["Paris", "Madrid", "Moscow", "Sydney"]
    assert all(isinstance(m, LocationMatch) for m in ranked)
    assert ranked[0].score > ranked[1].score > ranked[2].score >= ranked[3].score
    name, score, km = ranked[1]
    assert km == pytest.approx(float(haversine_km(PARIS, MADRID)), abs=60)  # point estimates on the 1-degree grid
    # all disjoint from a sharp query: overlaps tie at 0 and the distance decides
    sharp = bump(PARIS, sigma_km=100.0, cutoff_km=200)
    far = {k: bump(c, sigma_km=100.0, cutoff_km=200)
           for k, c in (("Sydney", SYDNEY), ("Madrid", MADRID), ("Moscow", MOSCOW))}
    ranked = rank_by_location(sharp, far)
    assert [m.name for m in ranked] == ["Madrid", "Moscow", "Sydney"] and all(m.score == 0 for m in ranked)


class FakeLocator:
    """Predicts a bump at the place named by the input (a path's stem or a text)."""

    name = "fake"
    PLACES = {"paris": PARIS, "madrid": MADRID, "moscow": MOSCOW, "sydney": SYDNEY}

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def predict(self, item, **kw):
        self.calls.append((item, kw))
        key = Path(str(item)).stem.lower() if not str(item).startswith("a photo") else str(item).split()[-1].lower()
        return bump(self.PLACES[key])


def test_retrieval_directions_use_the_given_locators():
    loc = FakeLocator()
    ranked = images_for_audio(bump(MADRID), ["x/sydney.jpg", "x/paris.jpg", "x/madrid.jpg"], image_locator=loc)
    assert [m.name for m in ranked] == ["x/madrid.jpg", "x/paris.jpg", "x/sydney.jpg"]
    ranked = texts_for_audio(bump(MOSCOW), ["a photo of Sydney", "a photo of Moscow", " "], text_locator=loc)
    assert [m.name for m in ranked] == ["a photo of Moscow", "a photo of Sydney"]
    loc.calls.clear()
    ranked = audio_for_image(bump(SYDNEY), ["sydney.mp3", "paris.mp3"], audio_locator=loc, date="2024-05-01")
    assert ranked[0].name == "sydney.mp3" and loc.calls[0][1] == {"date": "2024-05-01"}
    with pytest.raises(InputError):
        images_for_audio(bump(PARIS), [], image_locator=loc)
    with pytest.raises(InputError):
        texts_for_audio(bump(PARIS), ["  "], text_locator=loc)


def test_audio_for_image_with_the_real_audio_geolocator():
    """The Spanish Imperial Eagle recording fits an image surface over Iberia better than one over Kenya."""
    examples = Path(__file__).resolve().parents[2] / "examples"
    eagle = examples / "XC148645.mp3"
    if not eagle.is_file():
        pytest.skip("examples/XC148645.mp3 missing")
    iberia, kenya = bump((40.0, -4.0), 600.0), bump((-1.0, 37.0), 600.0)
    (m,) = audio_for_image(iberia, [str(eagle)])
    (n,) = audio_for_image(kenya, [str(eagle)])
    assert m.score > n.score and m.km < 1500 < n.km


def test_species_affinity_spanish_imperial_eagle_is_iberian():
    pred = species_affinity("Aquila adalberti")
    assert pred.distance_to(40.0, -4.0) < 1000
    assert pred.top_k[0].place.endswith(", ES")
    assert "soundscape affinity of Spanish Eagle (Aquila adalberti)" in pred.notes[0]
    assert pred.windows == [] and pred.evidence[0].scientific_name == "Aquila adalberti"
    assert species_affinity("spanish eagle").point == pred.point  # common names work too
    robin = species_affinity("Turdus migratorius")
    assert -170 < robin.lon < -50 and robin.lat > 15  # American Robin: North America
    blue_tit = species_affinity("Cyanistes caeruleus")
    assert surface_overlap(pred, robin) < 0.05 < 0.15 < surface_overlap(pred, blue_tit)  # cores: 90 % of the mass
    assert surface_overlap(pred, robin, mass=1.0) > 0.1  # whole surfaces: the thin world-wide tails add up


def test_species_affinity_misspelt_or_not_a_species():
    with pytest.raises(InputError, match=r"unknown species 'Aquila adalbertii'; "
                                         r"did you mean Aquila adalberti \(Spanish Eagle\)"):
        species_affinity("Aquila adalbertii")
    with pytest.raises(InputError, match="did you mean Cyanistes caeruleus"):
        species_affinity("Cyanistes caerulus")
    with pytest.raises(InputError, match="no species"):
        species_affinity("  ")
    labels = load_labels()
    noise = next(s for s, ok in zip(labels.scientific, labels.is_species) if not ok)
    with pytest.raises(InputError, match="not a species"):
        species_affinity(noise)


class RecordingScoresLocator:
    """Stands in for any geolocator with ``predict_from_scores`` (e.g. an AG-CLIP head)."""

    name = "recording"

    def __init__(self) -> None:
        self.seen: list[WindowScores] = []

    def predict_from_scores(self, ws: WindowScores) -> GeoPrediction:
        self.seen.append(ws)
        return bump(SYDNEY)


def test_species_affinity_feeds_a_one_hot_window_to_any_scores_geolocator():
    loc = RecordingScoresLocator()
    pred = species_affinity("Aquila adalberti", geolocator=loc)
    (ws,) = loc.seen
    i = load_labels().index("Aquila adalberti")
    assert ws.scores.shape == (1, len(load_labels())) and ws.scores[0, i] == 1.0 and ws.scores.sum() == 1.0
    assert len(ws.starts_s) == len(ws.ends_s) == 1
    assert pred.distance_to(*SYDNEY) < 100 and "where recording puts a clip" in pred.notes[0]
    assert resolve_species("AQUILA ADALBERTI", load_labels()) == i
