import hashlib

import pytest
import torch
from PIL import Image

from geoforensics import weights as W
from geoforensics.errors import GeoforensicsError, InputError, MissingWeightsError
from geoforensics.models import clip as C
from geoforensics.paths import package_dir

KAUAI = package_dir("geoclip") / "images" / "Kauai.png"


pytestmark = pytest.mark.usefixtures("isolated_module_cache", "isolated_cache")


@pytest.fixture(scope="module")
def tiny():
    return C.create_clip(config="tiny-test")


def _fresh_tiny_model() -> C.ClipEncoder:
    return C.build_clip(C._register_config("tiny-test"), None, name="fresh", seed=1)


def test_tiny_image_features(tiny):
    im = Image.open(KAUAI)
    feats = tiny.image_features([im, im, Image.new("RGB", (90, 50), (0, 90, 200))])
    assert feats.shape == (3, 768) and feats.dtype == torch.float32
    assert torch.isfinite(feats).all()
    assert torch.allclose(feats[0], feats[1], atol=1e-5)
    assert not torch.allclose(feats[0], feats[2], atol=1e-3)
    assert not tiny.pretrained and tiny.embed_dim == 768


def test_tiny_text_features(tiny):
    feats = tiny.text_features(["a rainforest", "Paris", "a rainforest"])
    assert feats.shape == (3, 768)
    assert torch.allclose(feats[0], feats[2], atol=1e-5)
    assert not torch.allclose(feats[0], feats[1], atol=1e-3)


def test_tiny_model_is_deterministic(tiny):
    again = C.build_clip(C._register_config("tiny-test"), None, name="again")
    im = [Image.open(KAUAI)]
    assert torch.allclose(tiny.image_features(im), again.image_features(im), atol=1e-5)


def test_real_clip_absent_raises_with_fetch_command():
    with pytest.raises(MissingWeightsError, match="geoforensics weights fetch clip-vit-l-14-openai"):
        C.create_clip()


def test_unknown_config_and_weights():
    with pytest.raises(InputError, match="unknown CLIP config 'huge'; known: tiny-test"):
        C.create_clip(config="huge")
    with pytest.raises(GeoforensicsError, match="no weights entry"):
        C.create_clip("ViT-B-32", "laion2b")


def _torchscript_checkpoint(path) -> C.ClipEncoder:
    """Save a perturbed tiny model in fp16 as a TorchScript archive, as OpenAI ships ViT-L-14.pt."""
    enc = _fresh_tiny_model()
    with torch.no_grad():
        for p in enc.model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    torch.jit.script(enc.model.half()).save(str(path))
    enc.model.float()
    return enc


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_torchscript_checkpoint_converts_to_the_same_model(tmp_path, monkeypatch):
    path = tmp_path / "tiny-ts.pt"
    original = _torchscript_checkpoint(path)
    assert C.is_torchscript(path)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    plain = C.plain_checkpoint(path, sha)
    assert plain != path and not C.is_torchscript(plain)
    loaded = C.build_clip(C._register_config("tiny-test"), plain, name="loaded", quick_gelu=True)
    im = [Image.open(KAUAI)]
    assert torch.allclose(loaded.image_features(im), original.image_features(im), atol=1e-4)
    assert torch.allclose(loaded.text_features(["Kauai"]), original.text_features(["Kauai"]), atol=1e-4)
    monkeypatch.setattr(torch.jit, "load", lambda *a, **k: pytest.fail("converted twice"))
    assert C.plain_checkpoint(path, sha) == plain


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_create_clip_goes_through_the_weight_manager(tmp_path, monkeypatch):
    weights_dir = tmp_path / "weights"
    weights_dir.mkdir(parents=True, exist_ok=True)
    path = weights_dir / "tiny-ts.pt"
    original = _torchscript_checkpoint(path)
    data = path.read_bytes()
    spec = W.WeightSpec(
        name="clip-tiny-ts",
        source="url",
        url="https://example.invalid/clip/tiny-ts.pt",
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        licence="test",
        description="tiny TorchScript CLIP",
        preprocessing={"open_clip_model": C._register_config("tiny-test"), "quick_gelu": True, "mean": (0.5,) * 3},
    )
    monkeypatch.setitem(W.WEIGHTS, spec.name, spec)
    monkeypatch.setitem(C.PRETRAINED, ("tiny", "ts"), spec.name)
    enc = C.create_clip("tiny", "ts")
    assert enc.pretrained and enc.name == "clip-tiny-ts"
    assert enc.preprocess.transforms[-1].mean == (0.5, 0.5, 0.5)
    x = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(enc.model.encode_image(x), original.model.encode_image(x), atol=1e-4)


def test_plain_state_dict_passes_through(tmp_path):
    path = tmp_path / "plain.pt"
    torch.save({"w": torch.zeros(2)}, path)
    assert not C.is_torchscript(path)
    assert C.plain_checkpoint(path, "0" * 64) == path
