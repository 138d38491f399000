"""Location encoders: registry, the SINR-style range embedding, the trainable GeoCLAP-style tower,
SatCLIP's clear error, and the default keeping the shipped head's exact state dict."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geoforensics.errors import GeoforensicsError, InputError, MissingWeightsError
from geoforensics.models.agclip import (
    AGCLIPConfig,
    AGCLIPModel,
    agclip_loss,
    model_from_checkpoint,
    save_checkpoint_file,
)
from geoforensics.models.location_encoders import (
    CoordinateTargets,
    LearnedRFFLocationEncoder,
    RangeLocationEncoder,
    create_location_encoder,
    get_location_encoder,
    list_location_encoders,
    location_encoder_info,
    orthogonal_projection,
)

from ..ranges.fake import BumpRangeModel

PARIS = (48.8566, 2.3522)
NEAR_PARIS = (48.8566, 3.035)  # 50 km east (lon difference 0.68 deg at lat 48.9)
SYDNEY = (-33.8688, 151.2093)


def test_registry_lists_the_encoders():
    assert list_location_encoders() == ["geoclip", "learned-rff", "range", "satclip"]
    assert {n: location_encoder_info(n).dim for n in ("geoclip", "range", "learned-rff")} == {
        "geoclip": 512,
        "range": 512,
        "learned-rff": 512,
    }
    assert [n for n in list_location_encoders() if location_encoder_info(n).trainable] == ["learned-rff"]
    with pytest.raises(InputError,
                       match="unknown location encoder 'nope'; known: geoclip, learned-rff, range, satclip"):
        create_location_encoder("nope")
    with pytest.raises(InputError, match="unknown location encoder"):
        AGCLIPConfig(location_encoder="nope")


def test_geoclip_is_the_shared_registry_instance():
    from geoforensics.models.registry import get_model

    enc = get_location_encoder("geoclip")
    assert enc is get_model("geoclip-location-encoder") and enc.dim == 512
    new = create_location_encoder("geoclip")
    assert new is not enc and torch.equal(new.encode(np.array([PARIS])), enc.encode(np.array([PARIS])))


def test_trainable_encoders_are_created_never_shared():
    a, b = create_location_encoder("learned-rff"), create_location_encoder("learned-rff")
    assert isinstance(a, LearnedRFFLocationEncoder) and a is not b
    with pytest.raises(GeoforensicsError, match="trainable"):
        get_location_encoder("learned-rff")


def test_satclip_missing_weights_is_clear():
    with pytest.raises(MissingWeightsError, match="SatCLIP.*not available offline"):
        create_location_encoder("satclip")
    with pytest.raises(MissingWeightsError, match="SatCLIP"):
        get_location_encoder("satclip")
    with pytest.raises(MissingWeightsError, match="SatCLIP"):
        AGCLIPModel(AGCLIPConfig(encoder="birdnet", location_encoder="satclip"))


def test_range_embeddings_unit_length_and_local():
    enc = get_location_encoder("range")
    assert enc is get_location_encoder("range") and enc.dim == 512
    e = enc.encode(np.array([PARIS, NEAR_PARIS, SYDNEY]))
    assert e.shape == (3, 512) and e.dtype == torch.float32
    assert torch.allclose(e.norm(dim=1), torch.ones(3), atol=1e-5)
    near, far = float(e[0] @ e[1]), float(e[0] @ e[2])
    assert near > 0.99 and far < 0.3 and near > far
    assert torch.allclose(enc.encode([PARIS]), e[:1], atol=1e-6)


def test_orthogonal_projection_fixed_and_isometric():
    w = orthogonal_projection(40, 8)
    assert np.allclose(w.T @ w, np.eye(8), atol=1e-5) and np.array_equal(w, orthogonal_projection(40, 8))
    wide = orthogonal_projection(3, 8)
    assert np.allclose(wide @ wide.T, np.eye(3), atol=1e-5)


def test_range_encoder_on_a_fake_model_caches_to_disk(isolated_cache):
    centres = {"a": (0.0, 0.0), "b": (40.0, 10.0), "c": (-30.0, 140.0)}
    model = BumpRangeModel(centres)
    enc = RangeLocationEncoder(model, dim=8)
    pts = np.array([[0.0, 1.0], [40.0, 12.0], [-30.0, 139.0]])
    e = enc.encode(pts)
    # 3 species into 8-d: the projection is an isometry, so cosines are those of sqrt(occurrence)
    v = torch.nn.functional.normalize(torch.from_numpy(np.sqrt(model.occurrence(pts) + 1e-6)), dim=1)
    assert torch.allclose(e @ e.T, v @ v.T, atol=1e-5)
    first = enc.gallery_embeddings(pts, "fake")
    calls = model.calls
    fresh = RangeLocationEncoder(model, dim=8)
    assert torch.equal(fresh.gallery_embeddings(pts, "fake"), first) and model.calls == calls
    assert RangeLocationEncoder(model, dim=4).fingerprint != enc.fingerprint


def _rff_model() -> AGCLIPModel:
    torch.manual_seed(0)
    return AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=16, location_encoder="learned-rff"))


def test_learned_rff_is_trainable_part_of_the_model():
    m = _rff_model()
    assert m.location_encoder is m.location_tower and m.location_tower.dim == 512
    assert any(k.startswith("location_tower.LocEnc0.") for k in m.state_dict())
    tower_params = list(m.location_tower.parameters())
    assert all(p.requires_grad for p in tower_params)
    assert {id(p) for p in tower_params} <= {id(p) for p in m.parameters()}

    pts = np.array([PARIS, NEAR_PARIS, SYDNEY, (40.7, -74.0)])
    coords = m.target_encoder().encode(pts)
    assert isinstance(m.target_encoder(), CoordinateTargets) and coords.dtype == torch.float64
    target = m.location_targets(coords)
    assert target.requires_grad and torch.allclose(target.norm(dim=1), torch.ones(4), atol=1e-5)
    loss, _ = agclip_loss(m, m(torch.rand(4, 6522)), target, torch.zeros(4, 6522))
    loss.backward()
    grads = [p.grad for p in tower_params]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0

    gallery = np.array([PARIS, SYDNEY])
    before = m.location_encoder.gallery_embeddings(gallery, "t")
    assert m.location_encoder.gallery_embeddings(gallery, "t") is before
    torch.optim.SGD(tower_params, lr=1.0).step()
    after = m.location_encoder.gallery_embeddings(gallery, "t")
    assert not torch.allclose(before, after)
    assert torch.allclose(after, m.location_targets(torch.tensor(gallery)).detach(), atol=1e-5)


def test_learned_rff_checkpoint_roundtrip_keeps_tower_precision(tmp_path):
    m = _rff_model().eval()
    path = tmp_path / "rff.pt"
    save_checkpoint_file(m, path, half=True)
    blob = torch.load(path, weights_only=True)
    assert blob["config"]["location_encoder"] == "learned-rff"
    assert blob["state_dict"]["location_tower.LocEnc2.capsule.0.b"].dtype == torch.float32
    assert blob["state_dict"]["location_decoder.0.weight"].dtype == torch.float16
    r = model_from_checkpoint(blob)
    pts = np.array([PARIS, SYDNEY])
    assert torch.equal(r.location_encoder.encode(pts), m.location_encoder.encode(pts))


def test_range_model_has_the_default_state_dict_keys():
    a = AGCLIPModel(AGCLIPConfig(encoder="birdnet"))
    b = AGCLIPModel(AGCLIPConfig(encoder="birdnet", location_encoder="range"))
    assert a.location_tower is None and b.location_tower is None
    assert list(a.state_dict()) == list(b.state_dict())
    assert isinstance(b.location_encoder, RangeLocationEncoder) and b.target_encoder() is b.location_encoder


def test_embed_dim_follows_the_encoder():
    assert AGCLIPConfig().embed_dim == 512 and AGCLIPConfig().location_encoder == "geoclip"
    with pytest.raises(GeoforensicsError, match="embed_dim 256"):
        AGCLIPConfig(embed_dim=256)


def test_shipped_head_still_loads_strictly_with_geoclip():
    from geoforensics.models.registry import create_model, get_model
    from geoforensics.weights import weight_path

    blob = torch.load(weight_path("agclip-birdnet-sim-v1"), map_location="cpu", weights_only=True)
    assert "location_encoder" not in blob["config"]
    m = create_model("agclip", pretrained="birdnet-sim-v1")
    assert m.config.location_encoder == "geoclip" and m.location_tower is None
    assert sorted(m.state_dict()) == sorted(blob["state_dict"])
    assert m.location_encoder is get_model("geoclip-location-encoder")
