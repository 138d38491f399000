"""Every registered geolocator answers the same contract (``geolocators.base.Geolocator``).

Each is built on a tiny gallery (a 15 degree grid, 288 points) with the fake range model wherever it
takes one and the tiny random test CLIP in place of ViT-L/14; trained ones are fit on tiny data first.
Each predicts on a small input of its modality (generated audio, window scores, a generated image, a
text, ...). A geolocator registered without a case here fails the test until one is added.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from geoforensics.errors import MissingWeightsError
from geoforensics.geo.galleries import uniform_grid
from geoforensics.geolocators import Geolocator, create_geolocator, list_geolocators
from geoforensics.prediction import GeoPrediction
from geoforensics.scoring import WindowScores

from ..ranges.fake import BumpRangeModel

pytestmark = pytest.mark.usefixtures("isolated_module_cache")

GALLERY = uniform_grid(15).latlon
CITIES = {"paris": (48.85, 2.35), "sydney": (-33.9, 151.2), "nairobi": (-1.3, 36.8), "new york": (40.7, -74.0)}
TRAIN = (np.array([c for c in CITIES.values() for _ in range(3)])
         + np.tile([[0.5, 0.5], [0.0, 0.0], [-0.5, -0.5]], (4, 1)))
SR = 22050
TYPED = ("k", "date", "sample_rate", "max_duration_s", "light")
RANDOM = {"naive", "oracle-corrupt50", "oracle-keep10"}
"""Geolocators that draw at random on each call: two calls need not agree."""


def _fake_ranges() -> BumpRangeModel:
    return BumpRangeModel(CITIES, widespread=2)


def _window_scores() -> WindowScores:
    """Three windows in which the Paris species is loud and the Sydney one faint (fake range model's columns)."""
    s = np.full((3, len(CITIES) + 2), 0.01, np.float32)
    s[:, 0] = [0.9, 0.7, 0.8]
    s[1, 1] = 0.2
    return WindowScores(np.arange(3) * 1.5, np.arange(3) * 1.5 + 3.0, s, duration_s=6.0)


def _chirps(seconds: float = 4.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * (3000 + 500 * np.sin(2 * np.pi * 4 * t)) * t)
            * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32)


def _features() -> np.ndarray:
    """One noisy indicator feature per city: (12, 6) training rows in TRAIN order."""
    rng = np.random.default_rng(0)
    X = rng.normal(0, 0.05, (len(TRAIN), 6)).astype(np.float32)
    X[np.arange(len(TRAIN)), np.arange(len(TRAIN)) // 3] += 1.0
    return X


def _image() -> np.ndarray:
    y, x = np.mgrid[0:96, 0:128]
    return np.stack([x * 2 % 256, y * 2 % 256, (x + y) % 256], axis=-1).astype(np.uint8)


def _trained(name: str, **options: Any) -> tuple[Geolocator, Any]:
    geo = create_geolocator(name, **options)
    X = _features()
    geo.fit(X, TRAIN)  # type: ignore[attr-defined]
    return geo, X[0]


def _ranged(name: str, x: Any) -> Callable[[], tuple[Geolocator, Any]]:
    return lambda: (create_geolocator(name, gallery=GALLERY, range_model=_fake_ranges()), x)


def _clip(name: str, x: Any) -> Callable[[], tuple[Geolocator, Any]]:
    return lambda: (create_geolocator(name, gallery=GALLERY, clip_config="tiny-test"), x)


CASES: dict[str, Callable[[], tuple[Geolocator, Any]]] = {
    "species-ranges": _ranged("species-ranges", _window_scores()),
    "species-top1": _ranged("species-top1", _window_scores()),
    "species-annotated": _ranged("species-annotated", ("paris",)),
    "oracle-full": _ranged("oracle-full", CITIES["paris"]),
    "oracle-corrupt50": _ranged("oracle-corrupt50", CITIES["paris"]),
    "oracle-keep10": _ranged("oracle-keep10", CITIES["paris"]),
    "naive": lambda: _trained("naive"),
    "regress-euclidean": lambda: _trained("regress-euclidean", gallery=GALLERY, epochs=20),
    "regress-haversine": lambda: _trained("regress-haversine", gallery=GALLERY, epochs=20),
    "regress-xyz": lambda: _trained("regress-xyz", gallery=GALLERY, epochs=20),
    "classify-res0": lambda: _trained("classify-res0", epochs=20),
    "classify-res2": lambda: _trained("classify-res2", epochs=20),
    "classify-hier": lambda: _trained("classify-hier", epochs=20),
    "agclip": lambda: (create_geolocator("agclip", gallery=GALLERY), _chirps()),
    "agclip:birdnet-sim-v1": lambda: (create_geolocator("agclip:birdnet-sim-v1", gallery=GALLERY), _chirps()),
    "taxabind-style": _clip("taxabind-style", _chirps()),
    "image-geoclip": _clip("image-geoclip", _image()),
    "text-geoclip": _clip("text-geoclip", "a rainforest by a river"),
}
"""Registry name -> a builder of (geolocator, a small input of its modality)."""

_BUILT: dict[str, tuple[Geolocator, Any]] = {}


@pytest.fixture
def case(request: pytest.FixtureRequest) -> tuple[Geolocator, Any]:
    name = request.param
    if name not in CASES:
        pytest.fail(f"geolocator {name!r} has no contract case: add one to CASES in {__name__}")
    if name not in _BUILT:
        try:
            _BUILT[name] = CASES[name]()
        except MissingWeightsError as e:
            pytest.skip(f"{name}: weights absent here ({str(e).splitlines()[0]})")
    return _BUILT[name]


def _input(case: tuple[Geolocator, Any]) -> Any:
    geo, x = case
    return {"sample_rate": SR} if isinstance(x, np.ndarray) and x.ndim == 1 and geo.modality == "audio" else {}


NAMES = list(list_geolocators())
parametrize = pytest.mark.parametrize("case", NAMES, indirect=True)


def test_every_registered_geolocator_has_a_case():
    assert set(NAMES) == set(CASES), "keep CASES in step with the registry"


@parametrize
def test_prediction_contract(case):
    geo, x = case
    assert isinstance(geo, Geolocator) and geo.name and geo.modality
    pred = geo.predict(x, k=3, **_input(case))
    assert isinstance(pred, GeoPrediction) and pred.model == geo.name
    # probabilities over exactly the gallery, summing to 1
    assert np.array_equal(pred.gallery, geo.gallery) and pred.probs.shape == (len(geo.gallery),)
    assert (pred.probs >= 0).all() and abs(pred.probs.sum() - 1) < 1e-9
    # the point lies within the gallery's bounds
    lo, hi = geo.gallery.min(0), geo.gallery.max(0)
    assert lo[0] - 1e-9 <= pred.lat <= hi[0] + 1e-9 and lo[1] - 1e-9 <= pred.lon <= hi[1] + 1e-9
    # at most k candidates, best first
    assert 1 <= len(pred.top_k) <= 3
    assert [c.prob for c in pred.top_k] == sorted((c.prob for c in pred.top_k), reverse=True)
    # regions for 50 % and 90 % of the probability, the second no smaller
    r50, r90 = pred.region(0.5), pred.region(0.9)
    assert r50 is not None and r90 is not None
    assert r50.radius_km <= r90.radius_km and len(r50.cells) <= len(r90.cells)
    # JSON and back
    back = GeoPrediction.from_json(pred.to_json(surface="full"))
    assert back.point == pred.point and back.model == pred.model and back.modality == pred.modality
    assert back.top_k == pred.top_k and back.regions == pred.regions
    assert back.windows == pred.windows and back.evidence == pred.evidence
    assert np.allclose(back.gallery, pred.gallery, atol=1e-5) and np.allclose(back.probs, pred.probs, atol=1e-5)


@parametrize
def test_unknown_options_raise_type_error(case):
    geo, x = case
    with pytest.raises(TypeError):
        geo.predict(x, top_k=3, **_input(case))
    with pytest.raises(TypeError):
        geo.predict(x, no_such_option=True, **_input(case))


@parametrize
def test_predict_takes_exactly_the_typed_options(case):
    geo, _ = case
    params = inspect.signature(geo.predict).parameters
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    keyword_only = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
    assert keyword_only == list(TYPED)
    positional = [n for n, p in params.items() if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    assert positional == (["inputs", "frame_times"] if geo.modality == "image" else ["inputs"])


@parametrize
def test_light_keeps_the_surface_and_drops_the_detail(case):
    geo, x = case
    light = geo.predict(x, light=True, **_input(case))
    assert light.regions == [] and len(light.top_k) <= 1 and all(not c.place for c in light.top_k)
    assert abs(light.probs.sum() - 1) < 1e-9
    if geo.name not in RANDOM:
        full = geo.predict(x, **_input(case))
        assert light.point == full.point and np.allclose(light.probs, full.probs, rtol=0, atol=1e-12)
        assert len(full.top_k) == min(5, len(geo.gallery))


AUDIO = ["species-ranges", "agclip", "agclip:birdnet-sim-v1", "taxabind-style"]


@pytest.mark.parametrize("name", AUDIO)
def test_audio_geolocators_honour_sample_rate_and_max_duration(name):
    """10 s of generated audio: windows follow ``max_duration_s``, and ``sample_rate`` sets how long
    the array is (the same samples at half the rate last twice as long). species-ranges uses the real
    range model here, since real audio gives BirdNET's 6,522 classes."""
    kw: dict[str, Any] = {"clip_config": "tiny-test"} if name == "taxabind-style" else {}
    try:
        geo = create_geolocator(name, gallery=GALLERY, **kw)
    except MissingWeightsError as e:
        pytest.skip(f"{name}: weights absent here ({str(e).splitlines()[0]})")
    audio = _chirps(10.0)
    capped = geo.predict(audio, sample_rate=SR, max_duration_s=4.5)
    assert [(w.start_s, w.end_s) for w in capped.windows] == [(0.0, 3.0), (1.5, 4.5)]
    slow = geo.predict(audio[: int(4.5 * SR)], sample_rate=SR // 2, max_duration_s=30.0)
    assert len(slow.windows) == 5 and slow.windows[-1].end_s == pytest.approx(9.0, abs=1e-3)
    with pytest.raises(ValueError, match="sample_rate"):
        geo.predict(audio)
