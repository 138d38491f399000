"""Month auxiliary loss (Supp. Table A8): the optional month decoder, its loss, and the shipped head."""

from __future__ import annotations

import math

import pytest
import torch

from geoforensics.errors import GeoforensicsError
from geoforensics.models.agclip import (
    AGCLIPConfig,
    AGCLIPModel,
    AGCLIPOutput,
    agclip_loss,
    month_cross_entropy,
)
from geoforensics.models.registry import create_model


def test_month_weight_zero_adds_no_parameters():
    off = AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=8, n_species=5))
    on = AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=8, n_species=5, month_weight=0.8))
    assert off.month_decoder is None
    assert not any(k.startswith("month_decoder") for k in off.state_dict())
    extra = set(on.state_dict()) - set(off.state_dict())
    assert extra == {"month_decoder.0.weight", "month_decoder.0.bias", "month_decoder.2.weight", "month_decoder.2.bias"}
    assert [tuple(p.shape) for p in on.month_decoder.parameters()] == [(8, 6522), (8,), (12, 8), (12,)]
    x = torch.rand(3, 6522)
    assert off(x).month_logits is None
    assert on(x).month_logits.shape == (3, 12)
    with pytest.raises(GeoforensicsError, match="month_weight"):
        AGCLIPModel(AGCLIPConfig(encoder="birdnet", month_weight=-1.0))


def test_joint_decoder_shares_its_head_with_the_month_logits():
    m = AGCLIPModel(AGCLIPConfig(encoder="mobilenetv3_large", n_species=10, month_weight=1.0))
    assert m.decoder_kind == "joint" and m.month_decoder is None
    assert [tuple(p.shape) for p in m.head.parameters()] == [(128, 1280), (128,), (534, 128), (534,)]
    out = m.decode(torch.rand(2, 1280))
    assert out.month_logits.shape == (2, 12) and out.checklist_logits.shape == (2, 10)
    assert out.location.shape == (2, 512)


@pytest.mark.parametrize("decoder, reaches", [("joint", True), ("separate", False)])
def test_auxiliary_losses_reach_the_location_output_only_through_shared_parameters(decoder, reaches):
    """On a frozen encoder, the checklist and month losses can move the location embedding only when
    the decoder is shared (the reason the ablation benchmark uses decoder="joint")."""
    torch.manual_seed(0)
    m = AGCLIPModel(AGCLIPConfig(encoder="birdnet", decoder=decoder, hidden_dim=8, month_weight=1.0))
    x = torch.rand(4, 6522)
    out = m(x)
    aux = out.checklist_logits.sum() + out.month_logits.sum()
    loc_params = list(m.head.parameters()) if decoder == "joint" else list(m.location_decoder.parameters())
    grads = torch.autograd.grad(aux, loc_params, allow_unused=True)
    touched = any(g is not None and float(g.abs().sum()) > 0 for g in grads)
    assert touched is reaches


def test_month_loss_ignores_unknown_months():
    logits = torch.zeros(3, 12)
    logits[1, 0] = 50.0  # row 1 is unknown (-1): its confident wrong answer must not count
    assert float(month_cross_entropy(logits, torch.tensor([4, -1, 11]))) == pytest.approx(math.log(12), rel=1e-6)
    assert float(month_cross_entropy(logits, torch.tensor([-1, -1, -1]))) == 0.0
    assert float(month_cross_entropy(logits, None)) == 0.0
    logits.requires_grad_(True)
    month_cross_entropy(logits, torch.tensor([-1, -1, -1])).backward()
    assert logits.grad is not None and float(logits.grad.abs().sum()) == 0.0


def test_agclip_loss_adds_weighted_month_term():
    m = AGCLIPModel(AGCLIPConfig(encoder="birdnet", n_species=5, logit_scale=0.0, month_weight=2.0))
    out = AGCLIPOutput(torch.eye(2, 512), torch.zeros(2, 5), torch.zeros(2, 12))
    loss, parts = agclip_loss(m, out, torch.eye(2, 512), torch.zeros(2, 5), month=torch.tensor([3, -1]))
    assert parts["month"] == pytest.approx(math.log(12), rel=1e-6)
    assert parts["loss"] == pytest.approx(parts["contrastive"] + 0.01 * parts["bce"] + 2.0 * math.log(12), rel=1e-5)
    off = AGCLIPModel(AGCLIPConfig(encoder="birdnet", n_species=5, logit_scale=0.0))
    _, parts_off = agclip_loss(off, AGCLIPOutput(torch.eye(2, 512), torch.zeros(2, 5)), torch.eye(2, 512),
                               torch.zeros(2, 5))
    assert parts_off["month"] == 0.0
    assert parts_off["loss"] == pytest.approx(parts_off["contrastive"] + 0.01 * parts_off["bce"], rel=1e-6)


def test_shipped_head_still_loads_strictly():
    m = create_model("agclip", pretrained="birdnet-sim-v1")
    assert m.config.month_weight == 0.0 and m.month_decoder is None
    assert not any(k.startswith("month_decoder") for k in m.state_dict())
    out = m(torch.rand(2, 6522))
    assert out.month_logits is None and torch.isfinite(out.location).all()
