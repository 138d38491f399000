"""CLIP image and text features through open_clip, loaded only from verified local weights.

``create_clip()`` builds OpenAI's ViT-L/14 (GeoCLIP's frozen backbone) from the file that
``weights.weight_path("clip-vit-l-14-openai")`` verified; it never downloads. OpenAI ships that
checkpoint as a TorchScript archive, which ``torch.load(weights_only=True)`` refuses, so it is
converted once (after its SHA-256 matched) to a plain state dict cached beside the other caches.

``create_clip(config="tiny-test")`` builds a tiny random CLIP with the same 768-d output through the
same code path, for tests: its features are meaningless. Both are registry models
(``clip-vit-l-14-openai``, ``clip-tiny-test``): ``registry.get_model`` gives the shared instance.
"""

from __future__ import annotations

import json
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from PIL import Image

from ..atomic import atomic_path, write_text
from ..errors import GeoforensicsError
from ..paths import cache_dir
from ..registry import Registry
from ..weights import get_spec, weight_path

PRETRAINED: dict[tuple[str, str], str] = {("ViT-L-14", "openai"): "clip-vit-l-14-openai"}

TEST_CONFIGS: Registry[dict[str, Any]] = Registry("CLIP config")
TEST_CONFIGS.register(
    "tiny-test",
    {
        "embed_dim": 768,
        "quick_gelu": True,
        "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 32, "head_width": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
    },
    description="tiny random CLIP with ViT-L/14's 768-d output (tests only: meaningless features)",
)

_TORCHSCRIPT_EXTRAS = ("input_resolution", "context_length", "vocab_size", "attn_mask")


class ClipModel(Protocol):
    """What this module calls of an open_clip ``CLIP`` (a ``torch.nn.Module``; open_clip ships no types)."""

    def encode_image(self, image: torch.Tensor, normalize: bool = False) -> torch.Tensor: ...

    def encode_text(self, text: torch.Tensor, normalize: bool = False) -> torch.Tensor: ...


@dataclass
class ClipEncoder:
    """A CLIP model with its image transform and tokenizer; features are unnormalised, as GeoCLIP wants."""

    model: ClipModel
    preprocess: Callable[[Image.Image], torch.Tensor]
    tokenizer: Callable[[Sequence[str]], torch.Tensor]
    name: str
    pretrained: bool
    embed_dim: int
    batch_size: int = 16

    @torch.inference_mode()
    def image_features(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """(B, embed_dim) float32 image features (``encode_image``, not normalised)."""
        out = []
        for i in range(0, len(images), self.batch_size):
            batch = torch.stack([self.preprocess(im.convert("RGB")) for im in images[i : i + self.batch_size]])
            out.append(self.model.encode_image(batch, normalize=False).float())
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim)

    @torch.inference_mode()
    def text_features(self, texts: Sequence[str]) -> torch.Tensor:
        """(B, embed_dim) float32 text features (``encode_text``, not normalised)."""
        out = []
        for i in range(0, len(texts), self.batch_size):
            tokens = self.tokenizer(list(texts[i : i + self.batch_size]))
            out.append(self.model.encode_text(tokens, normalize=False).float())
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim)


def is_torchscript(path: Path) -> bool:
    """Whether ``path`` is a TorchScript archive (a zip with ``constants.pkl``), like OpenAI's checkpoints."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in z.namelist())


def plain_checkpoint(path: Path, sha256: str) -> Path:
    """A state-dict file ``torch.load(weights_only=True)`` accepts, for a checkpoint whose hash was verified.

    Plain checkpoints are returned as they are. A TorchScript archive is opened once with
    ``torch.jit.load`` (only ever after ``weight_path`` matched its SHA-256) and its tensors saved to
    ``cache_dir("converted")``, keyed by that hash.
    """
    if not is_torchscript(path):
        return path
    out = cache_dir("converted") / f"{path.stem}-{sha256[:16]}-state_dict.pt"
    if out.is_file():
        return out
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.load.* is deprecated", category=FutureWarning)
        module = torch.jit.load(str(path), map_location="cpu")
    state = {k: v for k, v in module.state_dict().items() if k not in _TORCHSCRIPT_EXTRAS}
    with atomic_path(out) as tmp:
        torch.save(state, tmp)
    return out


def _register_config(name: str) -> str:
    """Make ``TEST_CONFIGS[name]`` known to open_clip as ``geoforensics-<name>``; returns that model name."""
    import open_clip

    config = TEST_CONFIGS[name]
    model_name = f"geoforensics-{name}"
    if model_name not in open_clip.list_models():
        path = cache_dir("open_clip_configs") / f"{model_name}.json"
        write_text(path, json.dumps(config))
        open_clip.add_model_config(path)
    return model_name


def build_clip(
    open_clip_name: str,
    checkpoint: Path | None,
    *,
    name: str,
    quick_gelu: bool = False,
    preprocess_cfg: dict[str, Any] | None = None,
    seed: int = 0,
) -> ClipEncoder:
    """Create ``open_clip_name`` with weights from a local ``checkpoint`` (or random, seeded, when None).

    ``preprocess_cfg`` may set the image transform's "mean", "std", "interpolation" and "resize_mode".
    """
    import open_clip

    pp = preprocess_cfg or {}
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model, _, preprocess = open_clip.create_model_and_transforms(
            open_clip_name,
            pretrained=str(checkpoint) if checkpoint else None,
            force_quick_gelu=quick_gelu,
            image_mean=pp.get("mean"),
            image_std=pp.get("std"),
            image_interpolation=pp.get("interpolation"),
            image_resize_mode=pp.get("resize_mode"),
        )
    model.eval()
    embed_dim = int(model.text_projection.shape[1]) if getattr(model, "text_projection", None) is not None else 0
    return ClipEncoder(
        model=model,
        preprocess=preprocess,
        tokenizer=open_clip.get_tokenizer(open_clip_name),
        name=name,
        pretrained=checkpoint is not None,
        embed_dim=embed_dim,
    )


def create_clip(model_name: str = "ViT-L-14", pretrained: str = "openai", *, config: str | None = None) -> ClipEncoder:
    """A new CLIP for GeoCLIP (the shared ones: ``registry.get_model("clip-vit-l-14-openai")``, ``"clip-tiny-test"``).

    ``config="tiny-test"`` gives a tiny random model (tests; meaningless features). Otherwise the
    weights of (``model_name``, ``pretrained``) come from the weight manager: ``MissingWeightsError``
    with the fetch command when they are absent, never a download.
    """
    if config is not None:
        return build_clip(_register_config(config), None, name=f"clip-{config}-random")
    weights_name = PRETRAINED.get((model_name, pretrained))
    if weights_name is None:
        known = ", ".join(f"{m}/{p}" for m, p in PRETRAINED)
        raise GeoforensicsError(f"no weights entry for CLIP {model_name}/{pretrained}; known: {known}")
    spec = get_spec(weights_name)
    checkpoint = plain_checkpoint(weight_path(weights_name), spec.sha256)
    pp = spec.preprocessing
    return build_clip(
        pp.get("open_clip_model", model_name),
        checkpoint,
        name=weights_name,
        quick_gelu=bool(pp.get("quick_gelu", False)),
        preprocess_cfg={k: pp[k] for k in ("mean", "std", "interpolation", "resize_mode") if k in pp},
    )
