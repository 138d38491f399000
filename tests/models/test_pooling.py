"""The transformer pooler (Supp. A.6): shapes, padding mask, crops, checkpoints, geolocator use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from geoforensics.errors import GeoforensicsError
from geoforensics.models.agclip import embed_clip, pool_windows
from geoforensics.models.pooling import (
    TransformerPooler,
    TransformerPoolerConfig,
    crop_indices,
    load_pooler,
    pad_sequences,
    save_pooler,
)

TINY = TransformerPoolerConfig(layers=1, seq_len=8, dropout=0.0)


def _unit(n: int, d: int = 512, seed: int = 0) -> torch.Tensor:
    return F.normalize(torch.randn(n, d, generator=torch.Generator().manual_seed(seed)), dim=-1)


def _trained_looking(config: TransformerPoolerConfig = TINY, seed: int = 0) -> TransformerPooler:
    """A pooler with every weight random (the zero-initialised projection too)."""
    torch.manual_seed(seed)
    p = TransformerPooler(config)
    torch.nn.init.normal_(p.proj.weight, std=0.05)
    return p.eval()


def test_defaults_follow_the_paper():
    c = TransformerPoolerConfig()
    assert (c.dim, c.seq_len, c.layers, c.heads, c.ffn_dim) == (512, 32, 6, 8, 128)
    p = TransformerPooler(c)
    assert len(p.encoder.layers) == 6 and p.encoder.layers[0].self_attn.num_heads == 8
    assert p.encoder.layers[0].linear1.out_features == 128


@pytest.mark.parametrize("readout", ["mean", "cls"])
def test_shape_and_unit_norm(readout: str):
    p = _trained_looking(TransformerPoolerConfig(layers=1, seq_len=8, readout=readout, dropout=0.0))
    x = torch.stack([_unit(8, seed=i) for i in range(3)])
    out = p(x)
    assert out.shape == (3, 512)
    assert torch.allclose(out.norm(dim=-1), torch.ones(3), atol=1e-5)
    v = p.pool(_unit(5))
    assert v.shape == (512,) and abs(float(v.norm()) - 1) < 1e-5


def test_untrained_pooler_is_mean_pooling():
    p = TransformerPooler(TINY).eval()
    e = _unit(6)
    assert torch.allclose(p.pool(e), pool_windows(e, "mean"), atol=1e-6)


@pytest.mark.parametrize("readout", ["mean", "cls"])
def test_padding_is_irrelevant(readout: str):
    p = _trained_looking(TransformerPoolerConfig(layers=2, seq_len=8, readout=readout, dropout=0.0))
    seqs = [_unit(3, seed=1), _unit(8, seed=2)]
    x, mask = pad_sequences(seqs, 8)
    assert mask.tolist()[0] == [False] * 3 + [True] * 5 and not mask[1].any()
    a = p(x, mask)
    y = x.clone()
    y[0, 3:] = torch.randn(5, 512) * 10
    b = p(y, mask)
    assert torch.allclose(a, b, atol=1e-6)
    alone = p(seqs[0][None])[0]
    assert torch.allclose(a[0], alone, atol=1e-5)
    assert torch.allclose(p.pool(seqs[0]), alone, atol=1e-5)


def test_crops():
    assert crop_indices(5, 8, "even").tolist() == [0, 1, 2, 3, 4]
    assert crop_indices(15, 8, "even").tolist() == [0, 2, 4, 6, 8, 10, 12, 14]
    r = crop_indices(20, 8, "random", np.random.default_rng(0))
    assert len(r) == 8 and (np.diff(r) == 1).all() and 0 <= r[0] <= 12
    p = _trained_looking()
    long = _unit(40)
    assert torch.allclose(p.pool(long), p(long[torch.from_numpy(crop_indices(40, 8, "even"))][None])[0], atol=1e-5)
    chunks = _trained_looking(TransformerPoolerConfig(layers=1, seq_len=8, dropout=0.0, test_crop="chunks"))
    assert chunks.pool(long).shape == (512,)
    with pytest.raises(GeoforensicsError):
        p(torch.zeros(1, 9, 512))
    with pytest.raises(GeoforensicsError):
        p.pool(torch.zeros(0, 512))


def test_bad_config():
    with pytest.raises(GeoforensicsError):
        TransformerPooler(TransformerPoolerConfig(heads=7))
    with pytest.raises(GeoforensicsError):
        TransformerPooler(TransformerPoolerConfig(readout="max"))
    with pytest.raises(GeoforensicsError):
        TransformerPoolerConfig.from_dict({"dim": 512, "width": 3})


def test_save_load_roundtrip(tmp_path: Path):
    p = _trained_looking(TransformerPoolerConfig(layers=1, seq_len=8, readout="cls", dropout=0.0))
    path = tmp_path / "pooler.pt"
    save_pooler(path, p, head="birdnet-sim-v1", val={"median_error": 1.0})
    blob = torch.load(path, weights_only=True)
    assert blob["head"] == "birdnet-sim-v1" and blob["config"]["readout"] == "cls"
    q = load_pooler(path)
    assert q.config == p.config and not q.training
    for k, v in p.state_dict().items():
        assert torch.equal(v, q.state_dict()[k])
    e = _unit(11)
    assert torch.equal(p.pool(e), q.pool(e))
    torch.save({"config": {}, "state_dict": {}}, tmp_path / "other.pt")
    with pytest.raises(GeoforensicsError):
        load_pooler(tmp_path / "other.pt")
    with pytest.raises(GeoforensicsError):
        load_pooler(tmp_path / "missing.pt")


def test_pool_windows_and_embed_clip_with_pooler():
    e = _unit(4)
    with pytest.raises(GeoforensicsError, match="pooler"):
        pool_windows(e, "transformer")
    p = _trained_looking()
    assert torch.allclose(pool_windows(e, "transformer", p), p.pool(e))
    from geoforensics.models.registry import get_model

    model = get_model("agclip", pretrained="birdnet-sim-v1")
    x = torch.rand(5, 6522) * 0.05
    clip, emb = embed_clip(model, x, "transformer", p)
    assert emb.shape == (5, 512) and torch.allclose(clip, p.pool(emb))
    assert torch.allclose(embed_clip(model, x, "mean", p)[0], pool_windows(emb, "mean"))


def _window_scores():
    from geoforensics.scoring import WindowScores

    rng = np.random.default_rng(0)
    s = rng.uniform(0, 0.05, (6, 6522)).astype(np.float32)
    s[:3, 100] = s[3:, 2000] = 0.95
    return WindowScores(np.arange(6) * 1.5, np.arange(6) * 1.5 + 3, s, duration_s=10.5)


def test_geolocator_transformer_pooling(tmp_path: Path):
    from geoforensics.geolocators.agclip import AGCLIPGeolocator
    from geoforensics.prediction import GeoPrediction

    path = tmp_path / "pooler.pt"
    save_pooler(path, _trained_looking())
    with pytest.raises(GeoforensicsError, match="pooler"):
        AGCLIPGeolocator(gallery="uniform-10", pooling="transformer")
    for pooler in (path, str(path), load_pooler(path)):
        geo = AGCLIPGeolocator(gallery="uniform-10", pooling="transformer", pooler=pooler)
        p = geo.predict(_window_scores())
        assert isinstance(p, GeoPrediction) and p.version.endswith("pool transformer")
        assert np.isfinite([p.lat, p.lon]).all() and -90 <= p.lat <= 90 and -180 <= p.lon <= 180
        assert np.isfinite(p.probs).all() and abs(p.probs.sum() - 1) < 1e-9 and len(p.windows) == 6
    with pytest.raises(GeoforensicsError, match="-d"):
        AGCLIPGeolocator(gallery="uniform-10", pooling="transformer",
                         pooler=TransformerPooler(TransformerPoolerConfig(dim=64, heads=8, layers=1)))
