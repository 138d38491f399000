"""Audio encoders f_theta for AG-CLIP: torchvision CNN/ViT backbones on mel images, or frozen BirdNET.

``create_audio_encoder(name, pretrained=None)`` returns an :class:`AudioEncoder` whose ``out_dim`` is
the width of the features the AG-CLIP decoders read and whose ``input_kind`` says what it eats:

- ``mobilenetv3_large`` (1280), ``resnet50`` (2048), ``vit_b_16`` (768): torchvision models on the
  ``agclip-mel-v1`` images [B, 3, 224, 224] (0-255; the encoder applies the pipeline's
  ``normalize``). Paper Sec. 4.1 and Supp. A.5: MobileNet-V3 (1280-d features) is the default
  backbone; ResNet50 and ViT are its Table 2 / A6 alternatives.
- ``birdnet``: frozen BirdNET V2.4 sigmoid scores (6,522-d) per 3 s window at 48 kHz. The module
  itself is the identity on precomputed scores (:func:`geoforensics.evidence.score_audio` computes them).

``pretrained``: None gives random initialisation; "imagenet" loads torchvision's ImageNet weights
from a file the user places in the cache (nothing is downloaded); a path loads that state dict.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..audio.mel import get_mel_pipeline
from ..errors import MissingWeightsError
from ..paths import cache_dir
from ..registry import Registry

BIRDNET_DIM = 6522


class AudioEncoder(nn.Module):
    """Base class: ``forward(x) -> [B, out_dim]`` features; ``input_kind`` is "mel" or "birdnet"."""

    out_dim: int = 0
    input_kind: str = "mel"
    frozen: bool = False


class TorchvisionEncoder(AudioEncoder):
    """A torchvision backbone with its classification layer removed, on ``agclip-mel-v1`` images."""

    input_kind = "mel"
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, backbone: nn.Module, out_dim: int, name: str, mel_pipeline: str = "agclip-mel-v1") -> None:
        super().__init__()

        self.backbone = backbone
        self.out_dim = out_dim
        self.name = name
        cfg = get_mel_pipeline(mel_pipeline).config
        self.register_buffer("mean", torch.tensor(cfg.mean, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(cfg.std, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[B, 3, 224, 224] images in 0-255 -> [B, out_dim] features."""
        x = (images.to(self.mean.dtype) / 255.0 - self.mean) / self.std
        features: torch.Tensor = self.backbone(x)
        return features


class BirdNETScoresEncoder(AudioEncoder):
    """Frozen BirdNET V2.4: the 6,522 sigmoid scores of a 3 s window are the features (identity here)."""

    input_kind = "birdnet"
    frozen = True

    def __init__(self) -> None:
        super().__init__()
        self.out_dim = BIRDNET_DIM
        self.name = "birdnet"

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        return scores.to(torch.float32)


def _imagenet_file(weights_enum: Any) -> str:
    url: str = weights_enum.url
    return url.rsplit("/", 1)[-1]


def imagenet_candidates(filename: str) -> list[Path]:
    """Where an ImageNet checkpoint is looked for: the geoforensics weights cache, then torch hub's."""
    return [cache_dir("weights") / filename, Path(torch.hub.get_dir()) / "checkpoints" / filename]


def _load_pretrained(model: nn.Module, pretrained: str | os.PathLike[str] | None, weights_enum: Any, name: str) -> None:
    if pretrained is None:
        return
    if str(pretrained) == "imagenet":
        filename = _imagenet_file(weights_enum)
        found = next((p for p in imagenet_candidates(filename) if p.is_file()), None)
        if found is None:
            where = imagenet_candidates(filename)[0]
            raise MissingWeightsError(
                f"ImageNet weights for {name} are not on this machine and are never downloaded: place "
                f"{filename} (from {weights_enum.url}) at {where}, or use pretrained=None for random init"
            )
        path = found
    else:
        path = Path(pretrained)
        if not path.is_file():
            raise MissingWeightsError(f"pretrained weights for {name}: no such file {path}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state, strict=True)


def _mobilenetv3_large(pretrained: Any) -> AudioEncoder:
    from torchvision.models import MobileNet_V3_Large_Weights, mobilenet_v3_large

    m = mobilenet_v3_large(weights=None)
    _load_pretrained(m, pretrained, MobileNet_V3_Large_Weights.IMAGENET1K_V1, "mobilenetv3_large")
    m.classifier[3] = nn.Identity()
    return TorchvisionEncoder(m, 1280, "mobilenetv3_large")


def _resnet50(pretrained: Any) -> AudioEncoder:
    from torchvision.models import ResNet50_Weights, resnet50

    m = resnet50(weights=None)
    _load_pretrained(m, pretrained, ResNet50_Weights.IMAGENET1K_V1, "resnet50")
    m.fc = nn.Identity()
    return TorchvisionEncoder(m, 2048, "resnet50")


def _vit_b_16(pretrained: Any) -> AudioEncoder:
    from torchvision.models import ViT_B_16_Weights, vit_b_16

    m = vit_b_16(weights=None)
    _load_pretrained(m, pretrained, ViT_B_16_Weights.IMAGENET1K_V1, "vit_b_16")
    m.heads.head = nn.Identity()
    return TorchvisionEncoder(m, 768, "vit_b_16")


def _birdnet(pretrained: Any) -> AudioEncoder:
    return BirdNETScoresEncoder()


AUDIO_ENCODERS: Registry[Callable[[Any], AudioEncoder]] = Registry("audio encoder")
AUDIO_ENCODERS.register("mobilenetv3_large", _mobilenetv3_large, description="torchvision MobileNet-V3-Large (1280-d)")
AUDIO_ENCODERS.register("resnet50", _resnet50, description="torchvision ResNet50 (2048-d)")
AUDIO_ENCODERS.register("vit_b_16", _vit_b_16, description="torchvision ViT-B/16 (768-d)")
AUDIO_ENCODERS.register("birdnet", _birdnet, description="frozen BirdNET V2.4 scores per 3 s window (6,522-d)")


def list_audio_encoders() -> list[str]:
    """Names accepted by :func:`create_audio_encoder`."""
    return sorted(AUDIO_ENCODERS.names())


def create_audio_encoder(name: str, pretrained: str | os.PathLike[str] | None = None) -> AudioEncoder:
    """A new audio encoder ``name`` (see the module docstring); ``pretrained``: None, "imagenet" or a path."""
    return AUDIO_ENCODERS[name](pretrained)
