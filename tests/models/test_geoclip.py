import importlib
import math
import sys
import types

import numpy as np
import pytest
import torch

from geoforensics import weights as W
from geoforensics.geo.galleries import load_gps_gallery_100k
from geoforensics.geo.geodesy import destination_point
from geoforensics.models.geoclip import (
    GeoCLIPImageHead,
    GeoCLIPLocationEncoder,
    equal_earth_projection,
    load_logit_scale,
)
from geoforensics.paths import package_dir

PARIS = (48.8566, 2.3522)
LONDON = (51.5074, -0.1278)
SYDNEY = (-33.8688, 151.2093)
KAUAI = (22.05, -159.50)
HONOLULU = (21.3069, -157.8583)


pytestmark = pytest.mark.usefixtures("isolated_module_cache", "isolated_cache")


@pytest.fixture(scope="module")
def encoder():
    return GeoCLIPLocationEncoder.from_package()


@pytest.fixture(scope="module")
def state():
    return torch.load(W.weight_path("geoclip-location-encoder"), map_location="cpu", weights_only=True)


def independent_encoder(state: dict, latlon: np.ndarray) -> np.ndarray:
    """GeoCLIP's location encoder written again in float64 numpy, straight from the state dict and
    the Equal Earth formulas (Savric, Patterson and Jenny 2018)."""
    a1, a2, a3, a4 = 1.340264, -0.081106, 0.000893, 0.003796
    phi, lam = np.radians(latlon[:, 0]), np.radians(latlon[:, 1])
    th = np.arcsin(np.sqrt(3) / 2 * np.sin(phi))
    x = 2 * np.sqrt(3) * lam * np.cos(th) / (3 * (9 * a4 * th**8 + 7 * a3 * th**6 + 3 * a2 * th**2 + a1))
    y = a4 * th**9 + a3 * th**7 + a2 * th**3 + a1 * th
    v = np.stack([x, y], 1) * 66.50336 / 180
    total = np.zeros((len(v), 512))
    for i in range(3):
        g = {k.split(".", 1)[1]: t.double().numpy() for k, t in state.items() if k.startswith(f"LocEnc{i}.")}
        p = 2 * np.pi * v @ g["capsule.0.b"].T
        h = np.concatenate([np.cos(p), np.sin(p)], 1)
        for layer in (1, 3, 5):
            h = np.maximum(h @ g[f"capsule.{layer}.weight"].T + g[f"capsule.{layer}.bias"], 0)
        total += h @ g["head.0.weight"].T + g["head.0.bias"]
    return total / np.linalg.norm(total, axis=1, keepdims=True)


def test_equal_earth_known_extents():
    xy = equal_earth_projection(torch.tensor([[0.0, 0.0], [0.0, 180.0], [90.0, 0.0], [-90.0, 0.0]]))
    unscaled = xy.numpy() * 180 / 66.50336
    assert unscaled[0] == pytest.approx([0, 0], abs=1e-12)
    # Equal Earth on the unit sphere: half-width 2.7066 at the equator, half-height 1.3174 at the poles.
    assert unscaled[1, 0] == pytest.approx(2 * math.sqrt(3) * math.pi / (3 * 1.340264), rel=1e-12)
    assert unscaled[1, 0] == pytest.approx(2.7066, abs=1e-4)
    assert unscaled[2, 1] == pytest.approx(1.3173627, abs=1e-6)
    assert unscaled[3, 1] == pytest.approx(-1.3173627, abs=1e-6)


def test_state_dict_layout(state):
    assert state["LocEnc0.capsule.0.b"].shape == (256, 2)
    assert state["LocEnc2.head.0.weight"].shape == (512, 1024)
    # The Fourier matrices were drawn as N(0, sigma^2) with sigma = 1, 16, 256.
    stds = [float(state[f"LocEnc{i}.capsule.0.b"].std()) for i in range(3)]
    for s, sigma in zip(stds, (1, 16, 256)):
        assert 0.8 * sigma < s < 1.2 * sigma


def test_encode_shape_and_unit_norm(encoder):
    e = encoder.encode([PARIS, LONDON, SYDNEY])
    assert e.shape == (3, 512) and e.dtype == torch.float32
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-6)


def test_matches_independent_reimplementation(encoder, state):
    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(-90, 90, 300), rng.uniform(-180, 180, 300)])
    pts = np.vstack([pts, [[90, 180], [-90, -180], [0, 0], KAUAI]])
    ours = encoder.encode(pts).double().numpy()
    expected = independent_encoder(state, pts)
    assert np.abs(ours - expected).max() < 1e-4  # float32 MLP against float64: measured 1.6e-5


def _reference_location_encoder():
    """The wheel's own LocationEncoder source, imported under another package name so that
    ``geoclip/__init__`` (which pulls transformers) never runs."""
    pytest.importorskip("pandas")
    pkg = types.ModuleType("_geoclip_reference")
    pkg.__path__ = [str(package_dir("geoclip") / "model")]
    sys.modules.setdefault("_geoclip_reference", pkg)
    try:
        return importlib.import_module("_geoclip_reference.location_encoder")
    except Exception as e:  # noqa: BLE001 - any failure of third-party source means skip
        pytest.skip(f"reference GeoCLIP source not importable: {e}")


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_matches_reference_implementation(encoder):
    ref = _reference_location_encoder().LocationEncoder(from_pretrained=False)
    ref.load_state_dict(encoder.state_dict())
    g = load_gps_gallery_100k()[::500]
    with torch.no_grad():
        expected = torch.nn.functional.normalize(ref(torch.tensor(g, dtype=torch.float32)), dim=1)
    # The reference projects in float32; at sigma = 256 its rounding alone moves outputs by ~2e-4.
    assert (encoder.encode(g) - expected).abs().max() < 1e-3
    assert (encoder.encode(g) * expected).sum(dim=1).min() > 0.99999


def test_geometry_nearby_points_are_more_similar(encoder):
    e = encoder.encode([PARIS, LONDON, SYDNEY, KAUAI, HONOLULU])
    sim = (e @ e.T).numpy()
    paris, london, sydney, kauai, honolulu = range(5)
    assert sim[paris, london] > sim[paris, sydney]
    assert sim[kauai, honolulu] > 0.3 > max(sim[kauai, paris], sim[kauai, sydney])


def test_similarity_decays_with_distance(encoder):
    """Mean similarity to Paris over rings of 8 points: measured 0.95, 0.43, 0.19, 0.06 at 1, 10,
    100 and 400 km, and about 0 beyond 800 km."""
    radii = [1, 10, 100, 400, 1600, 6400]
    ring = [destination_point(PARIS, bearing, r) for r in radii for bearing in range(0, 360, 45)]
    e = encoder.encode(np.vstack([[PARIS], ring]))
    means = (e[1:] @ e[0]).numpy().reshape(len(radii), 8).mean(axis=1)
    assert means[0] > 0.9
    assert means[0] > means[1] > means[2] > means[3]
    assert abs(means[4]) < 0.1 and abs(means[5]) < 0.1


def test_gps_gallery_100k_is_lat_lon():
    g = load_gps_gallery_100k()
    assert g.shape == (100000, 2) and g.dtype == np.float64 and not g.flags.writeable
    assert g[0].tolist() == [-50.943392, -72.935664]
    assert np.abs(g[:, 0]).max() <= 90 and np.abs(g[:, 1]).max() <= 180
    # Flickr-derived: longitudes span the globe, latitudes stop short of the poles, mostly north.
    assert np.abs(g[:, 1]).max() > 179 and np.abs(g[:, 0]).max() < 85
    assert np.median(g[:, 0]) > 20


def test_gallery_embeddings_are_cached_on_disk(encoder, tmp_path, monkeypatch):
    g = load_gps_gallery_100k()[:64]
    first = encoder.gallery_embeddings(g, "test")
    files = list((tmp_path / "cache" / "embeddings").glob("geoclip-loc-test-64-*.npy"))
    assert len(files) == 1
    fresh = GeoCLIPLocationEncoder.from_package()
    monkeypatch.setattr(fresh, "encode", lambda *a, **k: pytest.fail("recomputed despite the cache"))
    assert torch.equal(fresh.gallery_embeddings(g, "test"), first)
    assert torch.allclose(first, encoder.encode(g))


def test_random_encoder_is_not_disk_cached(tmp_path):
    GeoCLIPLocationEncoder().gallery_embeddings([PARIS, LONDON], "random")
    assert not list((tmp_path / "cache").glob("embeddings/*random*"))


def test_image_head_and_logit_scale():
    head = GeoCLIPImageHead.from_package()
    raw = torch.load(W.weight_path("geoclip-logit-scale"), map_location="cpu", weights_only=True)
    assert load_logit_scale() == pytest.approx(math.exp(float(raw)))
    assert head.logit_scale == pytest.approx(39.68, abs=0.01)
    x = torch.randn(4, 768, generator=torch.Generator().manual_seed(0)) * 10
    sd = {k: v.double().numpy() for k, v in head.mlp.state_dict().items()}
    h = np.maximum(x.double().numpy() @ sd["0.weight"].T + sd["0.bias"], 0) @ sd["2.weight"].T + sd["2.bias"]
    expected = h / np.linalg.norm(h, axis=1, keepdims=True)
    out = head.embed(x)
    assert out.shape == (4, 512)
    assert np.abs(out.double().numpy() - expected).max() < 1e-5
