"""Training the transformer pooler on a frozen AG-CLIP head (Supp. A.6), and its CLI."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from geoforensics.cli import main
from geoforensics.models.pooling import TransformerPoolerConfig
from geoforensics.train.pooling import SequenceSet, train_pooler

TINY = TransformerPoolerConfig(layers=1, seq_len=8)
PLACES = [(48.85, 2.35), (40.7, -74.0), (-33.9, 151.2), (35.7, 139.7), (-1.3, 36.8), (-23.5, -46.6), (64.1, -21.9),
          (1.35, 103.8)]


@pytest.fixture(scope="module")
def head():
    from geoforensics.models.registry import create_model

    return create_model("agclip", pretrained="birdnet-sim-v1")


def _recordings(n: int, seed: int = 0) -> list[tuple[np.ndarray, tuple[float, float]]]:
    """Fake BirdNET window scores: one loud, place-specific species per recording, 3-12 windows."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = int(rng.integers(3, 13))
        s = rng.uniform(0, 0.02, (k, 6522)).astype(np.float32)
        s[:, 50 + 300 * (i % len(PLACES))] = rng.uniform(0.5, 1.0, k)
        out.append((s, PLACES[i % len(PLACES)]))
    return out


def test_train_on_recordings_loss_decreases(head):
    logs: list[str] = []
    res = train_pooler(head, _recordings(48), config=TINY, epochs=6, batch_size=16, seed=0, gallery="uniform-10",
                       log=logs.append)
    losses = [h["loss"] for h in res.history]
    assert len(losses) == 6 and all(math.isfinite(v) for v in losses)
    assert losses[-1] < losses[0]
    assert any(line.startswith("epoch 6/6") for line in logs)
    assert math.isfinite(res.val["median_error"]) and math.isfinite(res.val_mean_pooling["median_error"])
    assert not res.pooler.training
    for p in head.parameters():
        assert p.grad is None


def test_adam_settings_and_steps(head, monkeypatch):
    seen = {}
    real = torch.optim.Adam

    def spy(params, **kw):
        seen.update(kw)
        return real(params, **kw)

    monkeypatch.setattr(torch.optim, "Adam", spy)
    res = train_pooler(head, _recordings(12), config=TINY, epochs=1, steps_per_epoch=3, batch_size=4, val=False)
    assert seen == {"lr": 1e-3, "weight_decay": 1e-3}
    assert len(res.history) == 1 and res.val == {}


def test_train_on_simulated_clips(head):
    from geoforensics.train.simulate import ScoreSimulator, SimConfig

    sim = ScoreSimulator(SimConfig(pool_size=0))
    res = train_pooler(
        head, sim, config=TINY, epochs=2, steps_per_epoch=2, batch_size=8, train_clips=16, val_clips=8,
        min_windows=2, max_windows=12, gallery="uniform-10",
    )
    assert all(math.isfinite(h["loss"]) for h in res.history)
    assert 0 <= res.val["continent"] <= 1


def test_sequence_set_source(head):
    seqs = [torch.nn.functional.normalize(torch.randn(5, 512), dim=-1) for _ in range(6)]
    from geoforensics.models.registry import get_model

    latlon = np.array(PLACES[:6], dtype=np.float64)
    data = SequenceSet(seqs, latlon, get_model("geoclip-location-encoder").encode(latlon))
    res = train_pooler(head, data, config=TINY, epochs=1, batch_size=6, val=data.subset([0, 1, 2]),
                       gallery="uniform-10")
    assert math.isfinite(res.history[0]["loss"]) and math.isfinite(res.val["median_error"])


def test_train_pooler_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["train-pooler", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "--steps-per-epoch" in out and "--head" in out and "--output" in out


def test_top_level_help_lists_train_pooler(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "train-pooler" in capsys.readouterr().out


def test_cli_rejects_bad_output(tmp_path: Path, capsys):
    assert main(["train-pooler", "--output", str(tmp_path / "pooler.bin")]) == 2
    assert ".pt" in capsys.readouterr().err


def test_default_target_space_is_the_heads_own_location_encoder(head):
    from geoforensics.models.agclip import AGCLIPConfig, AGCLIPModel
    from geoforensics.models.location_encoders import get_location_encoder
    from geoforensics.train.pooling import default_location_encoder

    assert default_location_encoder(head) is get_location_encoder("geoclip")
    torch.manual_seed(0)
    ranged = AGCLIPModel(AGCLIPConfig(encoder="birdnet", hidden_dim=8, location_encoder="range"))
    enc = default_location_encoder(ranged)
    assert enc is ranged.location_encoder and type(enc).__name__ == "RangeLocationEncoder"
    res = train_pooler(ranged, _recordings(12), config=TINY, epochs=1, batch_size=4, val=False)
    assert all(math.isfinite(h["loss"]) for h in res.history)
