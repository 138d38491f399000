"""TaxaBind-style baseline with a tiny *random* CLIP and the real GeoCLIP weights.

The answers are meaningless (CLIP is random); the tests check the selection, the combination rule,
the plumbing and the missing-weights error.
"""

import numpy as np
import pytest
import torch

from geoforensics.errors import InputError, MissingWeightsError
from geoforensics.geo.galleries import load_gps_gallery_100k
from geoforensics.geolocators.base import Geolocator
from geoforensics.geolocators.registry import create_geolocator, list_geolocators
from geoforensics.geolocators.taxabind import TaxaBindStyleGeolocator, weighted_mean_embedding
from geoforensics.models.birdnet import load_labels
from geoforensics.models.registry import get_model
from geoforensics.scoring import WindowScores

pytestmark = pytest.mark.usefixtures("isolated_module_cache", "isolated_cache")

LABELS = load_labels()
ROBIN = LABELS.index("Erithacus rubecula")
WREN = LABELS.index("Troglodytes troglodytes")


@pytest.fixture(scope="module")
def gallery():
    return np.array(load_gps_gallery_100k()[::500])


@pytest.fixture(scope="module")
def locator(gallery):
    return TaxaBindStyleGeolocator(gallery=gallery, clip=get_model("clip-tiny-test"), names=False)


def _scores(n_windows: int = 3, **by_index: float) -> WindowScores:
    s = np.full((n_windows, len(LABELS)), 0.001, np.float32)
    for i, v in by_index.items():
        s[0, int(i)] = v
    starts = np.arange(n_windows) * 1.5
    return WindowScores(starts_s=starts, ends_s=starts + 3.0, scores=s)


def test_one_species_prediction(locator, gallery):
    assert isinstance(locator, Geolocator)
    pred = locator.predict(_scores(**{str(ROBIN): 0.9}))
    assert pred.modality == "audio" and pred.model == "taxabind-style"
    assert pred.probs.shape == (len(gallery),) and abs(pred.probs.sum() - 1) < 1e-9
    assert np.isfinite(pred.lat) and np.isfinite(pred.lon) and -90 <= pred.lat <= 90 and -180 <= pred.lon <= 180
    assert [e.scientific_name for e in pred.evidence] == ["Erithacus rubecula"]
    (ev,) = pred.evidence
    assert (ev.common_name == "European Robin" and ev.score == pytest.approx(0.9) and ev.windows == [0]
            and ev.weight == 1.0)
    expected = torch.softmax(locator.text.logits(locator.species_embeddings([ROBIN])).double(), dim=1)[0].numpy()
    assert np.allclose(pred.probs, expected, atol=1e-6)
    assert any("meaningless" in n for n in pred.notes) and any("TaxaBind-style" in n for n in pred.notes)
    assert len(pred.windows) == 3 and pred.windows[0].label == "European Robin" and pred.windows[0].lat is not None
    assert locator.prompt(ROBIN) == "a photo of a European Robin, Erithacus rubecula"
    assert locator.prompt(ROBIN) in locator._prompt_cache


def test_two_species_weights_follow_scores(locator):
    pred = locator.predict(_scores(**{str(ROBIN): 0.8, str(WREN): 0.2}))
    assert [e.scientific_name for e in pred.evidence] == ["Erithacus rubecula", "Troglodytes troglodytes"]
    assert [e.weight for e in pred.evidence] == pytest.approx([0.8, 0.2])
    e = locator.species_embeddings([ROBIN, WREN]).double()
    assert torch.allclose(e.norm(dim=1), torch.ones(2, dtype=torch.float64), atol=1e-5)
    by_hand = 0.8 * e[0] + 0.2 * e[1]
    by_hand = by_hand / by_hand.norm()
    combined = locator.combined_embedding([ROBIN, WREN], [0.8, 0.2])
    assert torch.allclose(combined.double(), by_hand, atol=1e-6)
    expected = torch.softmax(locator.text.logits(combined[None]).double(), dim=1)[0].numpy()
    assert np.allclose(pred.probs, expected, atol=1e-6)
    # weights renormalise: scaling the scores changes nothing
    assert torch.allclose(weighted_mean_embedding(e.float(), [8.0, 2.0]), combined, atol=1e-6)


def test_fallback_to_top3_below_threshold(locator):
    birds = [ROBIN, WREN, LABELS.index("Turdus merula"), LABELS.index("Parus major")]
    pred = locator.predict(_scores(**{str(i): v for i, v in zip(birds, (0.05, 0.04, 0.03, 0.02))}))
    assert [e.scientific_name for e in pred.evidence] == [LABELS.scientific[i] for i in birds[:3]]
    assert all(e.windows == [] for e in pred.evidence)
    assert any("best-scoring species were used" in n for n in pred.notes)
    assert abs(pred.probs.sum() - 1) < 1e-9


def test_non_species_labels_are_ignored(locator):
    noise = LABELS.index("Noise")
    idx, fell_back = locator.select_species(_scores(**{str(noise): 0.99, str(WREN): 0.5}).scores.max(0))
    assert list(idx) == [WREN] and not fell_back


def test_bad_inputs(locator, gallery):
    with pytest.raises(InputError, match="species scores"):
        locator.select_species(np.zeros(5))
    with pytest.raises(InputError, match="prompt_template"):
        TaxaBindStyleGeolocator(gallery=gallery, clip=locator.clip, prompt_template="a {genus}")


def test_registry_creates_it(locator, gallery):
    assert "taxabind-style" in list_geolocators()
    geo = create_geolocator(
        "taxabind-style", gallery=gallery, clip=locator.clip, location_encoder=locator.text.location_encoder,
        names=False
    )
    assert isinstance(geo, TaxaBindStyleGeolocator) and geo.name == "taxabind-style" and geo.modality == "audio"
    assert len(geo.gallery) == len(gallery)
    assert abs(geo.predict(_scores(**{str(WREN): 0.7})).probs.sum() - 1) < 1e-9


def test_missing_real_clip_gives_the_fetch_command(monkeypatch, gallery):
    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    with pytest.raises(MissingWeightsError, match="geoforensics weights fetch clip-vit-l-14-openai"):
        TaxaBindStyleGeolocator(gallery=gallery)
    with pytest.raises(MissingWeightsError, match="geoforensics weights fetch clip-vit-l-14-openai"):
        create_geolocator("taxabind-style", gallery=gallery)
    ok, message = TaxaBindStyleGeolocator.available()
    assert not ok and "geoforensics weights fetch clip-vit-l-14-openai" in message
