"""AG-CLIP model: audio encoder registry, decoders, losses on hand-checkable cases."""

from __future__ import annotations

import math

import pytest
import torch

from geoforensics.errors import GeoforensicsError, InputError, MissingWeightsError
from geoforensics.models.agclip import (
    AGCLIPConfig,
    AGCLIPModel,
    TargetQueue,
    checklist_bce,
    contrastive_loss,
    pool_windows,
)
from geoforensics.models.audio_encoders import create_audio_encoder, imagenet_candidates, list_audio_encoders


def test_encoder_names():
    assert list_audio_encoders() == ["birdnet", "mobilenetv3_large", "resnet50", "vit_b_16"]
    with pytest.raises(InputError, match="unknown audio encoder 'nope'; known: birdnet, mobilenetv3_large"):
        create_audio_encoder("nope")


def test_birdnet_encoder_is_frozen_identity_with_separate_decoders():
    m = AGCLIPModel(AGCLIPConfig(encoder="birdnet"))
    x = torch.rand(3, 6522)
    assert torch.equal(m.encoder(x), x)
    out = m(x)
    assert out.location.shape == (3, 512) and out.checklist_logits.shape == (3, 6522)
    assert torch.allclose(out.location.norm(dim=1), torch.ones(3), atol=1e-6)
    assert m.decoder_kind == "separate"
    assert [tuple(p.shape) for p in m.location_decoder.parameters()] == [(128, 6522), (128,), (512, 128), (512,)]
    assert not any(p.requires_grad for p in m.encoder.parameters())
    assert float(m.logit_scale()) == pytest.approx(math.exp(3.681), rel=1e-6)


def test_mobilenet_joint_head_as_release():
    m = AGCLIPModel(AGCLIPConfig(encoder="mobilenetv3_large", n_species=10))
    assert m.decoder_kind == "joint"
    assert [tuple(p.shape) for p in m.head.parameters()] == [(128, 1280), (128,), (522, 128), (522,)]
    m.eval()
    out = m(torch.rand(1, 3, 224, 224) * 255)
    assert out.location.shape == (1, 512) and out.checklist_logits.shape == (1, 10)


@pytest.mark.slow
@pytest.mark.parametrize("name,dim", [("resnet50", 2048), ("vit_b_16", 768)])
def test_big_encoders_shapes(name: str, dim: int):
    enc = create_audio_encoder(name).eval()
    with torch.no_grad():
        assert enc(torch.rand(1, 3, 224, 224) * 255).shape == (1, dim)


def test_imagenet_weights_never_downloaded():
    file = "mobilenet_v3_large-8738ca79.pth"
    if any(p.is_file() for p in imagenet_candidates(file)):
        pytest.skip("ImageNet weights present on this machine")
    with pytest.raises(MissingWeightsError, match=file):
        create_audio_encoder("mobilenetv3_large", pretrained="imagenet")


def test_contrastive_loss_hand_case():
    e = torch.eye(2)
    assert float(contrastive_loss(e, e, 1.0)) == pytest.approx(math.log(1 + math.exp(-1)), rel=1e-6)
    q = torch.tensor([[0.0, 1.0]])
    expected = (math.log(1 + 2 * math.exp(-1)) + math.log(1 + math.exp(-1) + 1)) / 2
    assert float(contrastive_loss(e, e, 1.0, q)) == pytest.approx(expected, rel=1e-6)


def test_checklist_bce_and_total_loss_weight():
    logits = torch.zeros(4, 5)
    assert float(checklist_bce(logits, torch.ones(4, 5))) == pytest.approx(5 * math.log(2), rel=1e-6)
    from geoforensics.models.agclip import AGCLIPOutput, agclip_loss

    m = AGCLIPModel(AGCLIPConfig(encoder="birdnet", n_species=5, logit_scale=0.0))
    out = AGCLIPOutput(torch.eye(2, 512), torch.zeros(2, 5))
    loss, parts = agclip_loss(m, out, torch.eye(2, 512), torch.zeros(2, 5))
    assert parts["contrastive"] == pytest.approx(math.log(1 + math.exp(-1)), rel=1e-5)
    assert parts["loss"] == pytest.approx(parts["contrastive"] + 0.01 * 5 * math.log(2), rel=1e-5)


def test_logit_scale_modes_and_queue():
    assert (float(AGCLIPModel(AGCLIPConfig(encoder="birdnet", logit_scale_mode="linear")).logit_scale())
            == pytest.approx(3.681))
    learn = AGCLIPModel(AGCLIPConfig(encoder="birdnet", logit_scale_mode="learn"))
    assert learn.log_logit_scale.requires_grad
    q = TargetQueue(3)
    q.push(torch.ones(2, 512))
    q.push(torch.zeros(2, 512))
    assert q.get().shape == (3, 512) and float(q.get()[:2].sum()) == 0 and float(q.get()[2].sum()) == 512


def test_pooling():
    e = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert torch.allclose(pool_windows(e), torch.tensor([1.0, 1.0]) / math.sqrt(2))
    assert torch.allclose(pool_windows(e, "max"), torch.tensor([1.0, 1.0]) / math.sqrt(2))
    with pytest.raises(GeoforensicsError):
        pool_windows(e, "transformer")


def test_max_pooling_differs_from_mean():
    e = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    assert torch.allclose(pool_windows(e, "max"), torch.tensor([1.0, 1.0]) / math.sqrt(2))
    assert torch.allclose(pool_windows(e, "mean"), torch.tensor([2.0, 1.0]) / math.sqrt(5))


def test_kmeans_pooling_takes_the_largest_cluster():
    # five distinct directions (k=5), east three times: the largest cluster is east, (1, 0), while
    # the mean points to (2.6, 0.8) / |.|
    e = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, -1.0], [-1.0, 0.0], [0.6, 0.8]])
    v = pool_windows(e, "kmeans")
    assert float(v.norm()) == pytest.approx(1.0, abs=1e-6)
    assert torch.allclose(v, torch.tensor([1.0, 0.0]), atol=1e-6)
    assert torch.allclose(pool_windows(e, "mean"), torch.tensor([2.6, 0.8]) / math.hypot(2.6, 0.8), atol=1e-6)
    assert not torch.allclose(v, pool_windows(e, "mean"), atol=1e-2)
    # deterministic (fixed seed), one window and many windows of 512-d all give unit vectors
    g = torch.randn(40, 512, generator=torch.Generator().manual_seed(1))
    a, b = pool_windows(g, "kmeans"), pool_windows(g, "kmeans")
    assert torch.equal(a, b) and float(a.norm()) == pytest.approx(1.0, abs=1e-5)
    one = torch.tensor([[0.0, 2.0]])
    assert torch.allclose(pool_windows(one, "kmeans"), torch.tensor([0.0, 1.0]))


def test_kmeans_largest_centroid_counts():
    from geoforensics.models.agclip import kmeans_largest_centroid

    e = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [10.0, 10.0], [10.0, 10.0], [-5.0, 3.0]])
    assert torch.allclose(kmeans_largest_centroid(e), torch.tensor([0.0, 0.0]))
    assert torch.allclose(kmeans_largest_centroid(e, k=1), e.mean(0))
