"""Image and text geolocators end to end with a tiny *random* CLIP and the real GeoCLIP weights.

The answers are meaningless (CLIP is random); the tests check the plumbing and the arithmetic.
"""

import importlib.util

import numpy as np
import pytest
import torch
from PIL import Image

from geoforensics.errors import InputError
from geoforensics.geo.galleries import load_gps_gallery_100k
from geoforensics.geolocators.base import Geolocator
from geoforensics.geolocators.image import ImageGeolocator, resolve_gallery
from geoforensics.geolocators.text import TextGeolocator, audio_to_text_scores, location_embedding
from geoforensics.models.registry import get_model
from geoforensics.paths import PROJECT_ROOT, package_dir
from geoforensics.prediction import GeoPrediction

KAUAI = package_dir("geoclip") / "images" / "Kauai.png"
PARIS = (48.8566, 2.3522)


pytestmark = pytest.mark.usefixtures("isolated_module_cache", "isolated_cache")


@pytest.fixture(scope="module")
def gallery():
    return np.array(load_gps_gallery_100k()[::100])


@pytest.fixture(scope="module")
def image_locator(gallery):
    return ImageGeolocator(clip=get_model("clip-tiny-test"), gallery=gallery)


@pytest.fixture(scope="module")
def text_locator(image_locator, gallery):
    return TextGeolocator(
        clip=image_locator.clip, gallery=gallery, location_encoder=image_locator.location_encoder, names=False
    )


def _softmax_rows(logits: torch.Tensor) -> np.ndarray:
    return torch.softmax(logits.double(), dim=1).numpy()


def test_image_prediction_end_to_end(image_locator, gallery):
    assert isinstance(image_locator, Geolocator)
    pred = image_locator.predict(KAUAI)
    assert pred.modality == "image" and pred.model == "image-geoclip"
    assert pred.probs.shape == (len(gallery),) and abs(pred.probs.sum() - 1) < 1e-9
    assert len(pred.top_k) == 5 and all(c.place for c in pred.top_k)
    assert pred.point == tuple(gallery[int(np.argmax(pred.probs))])
    assert "meaningless" in pred.notes[0]
    (w,) = pred.windows
    assert (w.start_s, w.end_s, w.label) == (0.0, 0.0, "frame")
    assert (w.lat, w.lon) == pred.point and w.prob == pytest.approx(pred.probs.max())
    expected = _softmax_rows(image_locator.logits(image_locator.embed([Image.open(KAUAI)])))[0]
    assert np.allclose(pred.probs, expected, atol=1e-6)
    back = GeoPrediction.from_json(pred.to_json(surface="full"))
    assert back.point == pred.point and len(back.windows) == 1


def test_logits_use_geoclip_scale(image_locator):
    emb = image_locator.embed([Image.open(KAUAI)])
    cos = emb @ image_locator.gallery_embeddings().T
    assert torch.allclose(image_locator.logits(emb), 39.68 * cos, rtol=1e-3)
    assert cos.abs().max() <= 1.0 + 1e-5


def test_frames_mean_probs_and_mean_embedding(image_locator, gallery):
    frames = [Image.open(KAUAI), Image.new("RGB", (120, 80), (20, 120, 40)), np.full((64, 64, 3), 200, np.uint8)]
    pred = image_locator.predict(frames, frame_times=[0.0, 1.5, 3.0])
    assert [w.start_s for w in pred.windows] == [0.0, 1.5, 3.0]
    emb = image_locator.embed(frames[:2] + [Image.fromarray(frames[2])])
    per_frame = _softmax_rows(image_locator.logits(emb))
    assert np.allclose(pred.probs, per_frame.mean(axis=0), atol=1e-6)
    for w, p in zip(pred.windows, per_frame):
        assert w.prob == pytest.approx(p.max(), abs=1e-6)
    by_embedding = ImageGeolocator(clip=image_locator.clip, gallery=gallery, aggregate="mean_embedding",
                                   location_encoder=image_locator.location_encoder, head=image_locator.head)
    pe = by_embedding.predict(frames, k=3)
    mean = torch.nn.functional.normalize(emb.mean(0, keepdim=True), dim=1)
    assert np.allclose(pe.probs, _softmax_rows(image_locator.logits(mean))[0], atol=1e-6)
    assert len(pe.top_k) == 3 and "3 inputs combined by mean_embedding" in pe.notes


def test_bad_image_inputs(image_locator, tmp_path):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not an image")
    with pytest.raises(InputError, match="not a readable image"):
        image_locator.predict(junk)
    with pytest.raises(InputError, match="no such image file"):
        image_locator.predict(tmp_path / "missing.png")
    with pytest.raises(InputError, match="no images"):
        image_locator.predict([])
    with pytest.raises(InputError, match="2 frame times for 1 images"):
        image_locator.predict(KAUAI, frame_times=[0, 1])
    with pytest.raises(InputError, match="aggregate"):
        ImageGeolocator(clip=image_locator.clip, aggregate="median")
    with pytest.raises(TypeError, match="aggregate"):
        image_locator.predict(KAUAI, aggregate="mean_probs")


def test_gallery_names():
    arr, name = resolve_gallery("geoclip-100k")
    assert arr.shape == (100000, 2) and name == "geoclip-100k"
    with pytest.raises(InputError, match="geoclip-100k"):
        resolve_gallery("nowhere-9")


def test_text_prediction(text_locator, gallery):
    pred = text_locator.predict("a rainforest")
    assert pred.modality == "text" and pred.model == "text-geoclip"
    assert abs(pred.probs.sum() - 1) < 1e-9 and len(pred.top_k) == 5
    assert pred.windows[0].label == "a rainforest"
    expected = _softmax_rows(text_locator.logits(text_locator.embed(["a rainforest"])))[0]
    assert np.allclose(pred.probs, expected, atol=1e-6)
    two = text_locator.predict(["a rainforest", "Paris"])
    assert [w.label for w in two.windows] == ["a rainforest", "Paris"]
    with pytest.raises(InputError):
        text_locator.predict("  ")


def test_text_feature_norm_rescales_before_the_head(text_locator):
    scaled = TextGeolocator(
        clip=text_locator.clip, gallery=text_locator.gallery, location_encoder=text_locator.location_encoder,
        feature_norm=7.0,
    )
    raw = text_locator.clip.text_features(["Paris"])
    expected = scaled.head.embed(torch.nn.functional.normalize(raw, dim=1) * 7.0)
    assert torch.allclose(scaled.embed(["Paris"]), expected, atol=1e-6)


class _PlaceTextLocator(TextGeolocator):
    """Prompts that are place names embed as GeoCLIP's location embedding of that place."""

    PLACES = {"Paris": PARIS, "Sydney": (-33.87, 151.21), "Tokyo": (35.68, 139.65), "Kauai": (22.05, -159.5)}

    def embed(self, items):
        return self.location_encoder.encode([self.PLACES[t] for t in items])


def test_audio_to_text_ranks_the_matching_place_first(text_locator, gallery):
    locator = _PlaceTextLocator(
        clip=text_locator.clip, gallery=gallery, location_encoder=text_locator.location_encoder
    )
    d = np.linalg.norm(gallery - np.array(PARIS), axis=1)
    audio = GeoPrediction.from_probs(gallery, np.exp(-d / 2.0), names=False)
    scores = audio_to_text_scores(audio, ["Sydney", "Kauai", "Paris", "Tokyo"], locator=locator)
    assert [s.prompt for s in scores][0] == "Paris"
    assert [s.similarity for s in scores] == sorted((s.similarity for s in scores), reverse=True)
    assert sum(s.prob for s in scores) == pytest.approx(1.0)
    emb = location_embedding(audio, locator)
    assert emb.shape == (512,) and float(emb.norm()) == pytest.approx(1.0, abs=1e-6)


def test_audio_to_text_with_tiny_clip_runs(text_locator, gallery):
    audio = GeoPrediction.from_probs(gallery, np.ones(len(gallery)), names=False)
    scores = audio_to_text_scores(audio, ["a rainforest", "a desert"], locator=text_locator)
    assert len(scores) == 2 and sum(s.prob for s in scores) == pytest.approx(1.0)


def test_available_reports_missing_clip_without_loading(monkeypatch):
    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    ok, message = ImageGeolocator.available()
    assert not ok and "geoforensics weights fetch clip-vit-l-14-openai" in message


def test_clip_config_env_switches_to_the_tiny_random_clip(monkeypatch, gallery, image_locator):
    monkeypatch.setenv("GEOFORENSICS_CLIP_CONFIG", "tiny-test")
    for cls in (ImageGeolocator, TextGeolocator):
        ok, message = cls.available()
        assert ok and "random test weights: answers are meaningless" in message and "tiny-test" in message
    text = TextGeolocator(gallery=gallery, location_encoder=image_locator.location_encoder, names=False)
    assert text.clip is get_model("clip-tiny-test") and not text.clip.pretrained
    assert "random test weights: answers are meaningless" in text.predict("Paris").notes[0]
    monkeypatch.setenv("GEOFORENSICS_CLIP_CONFIG", "huge-test")
    ok, message = ImageGeolocator.available()
    assert not ok and "GEOFORENSICS_CLIP_CONFIG: unknown CLIP config 'huge-test'" in message
    with pytest.raises(InputError, match="known: tiny-test"):
        ImageGeolocator(gallery=gallery, location_encoder=image_locator.location_encoder)


def _bench():
    spec = importlib.util.spec_from_file_location("bench_image", PROJECT_ROOT / "benchmarks" / "image_geolocation.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_without_weights_exits_cleanly(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    assert _bench().main(["--no-speed", "--out", str(tmp_path / "r.md")]) == 0
    assert "run `geoforensics weights fetch clip-vit-l-14-openai`" in capsys.readouterr().out
    assert not (tmp_path / "r.md").exists()


def test_benchmark_speed_table_without_weights(capsys, monkeypatch, tmp_path):
    """The speed path, with the tiny architecture and a 1,000-point gallery to stay fast."""
    monkeypatch.delenv("GEOFORENSICS_CLIP_CONFIG", raising=False)
    out = tmp_path / "r.md"
    args = ["--arch", "tiny-test", "--batch-sizes", "1", "2", "--repeats", "1", "--gallery-subsample", "100",
            "--out", str(out)]
    assert _bench().main(args) == 0
    text = out.read_text()
    assert "run `geoforensics weights fetch clip-vit-l-14-openai`" in text and "Machine: " in text
    assert "Command: `.venv/bin/python benchmarks/image_geolocation.py --arch tiny-test" in text
    rows = [line for line in text.splitlines() if line.startswith("| 1 |") or line.startswith("| 2 |")]
    assert len(rows) == 2 and all(float(r.split("|")[4]) > 0 for r in rows)
    assert "1,000 points" in text
