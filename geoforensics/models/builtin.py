"""The built-in entries of the model registry (imported with :mod:`geoforensics.models`).

Each builder imports its model code when it runs, so registering (and listing) costs no torch import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .registry import register_model


def _geoclip_location_encoder() -> Any:
    from .geoclip import GeoCLIPLocationEncoder  # lazy: loads torch

    return GeoCLIPLocationEncoder.from_package()


def _geoclip_image_head() -> Any:
    from .geoclip import GeoCLIPImageHead  # lazy: loads torch

    return GeoCLIPImageHead.from_package()


def _clip_vit_l_14() -> Any:
    from .clip import create_clip  # lazy: loads PIL, torch

    return create_clip("ViT-L-14", "openai")


def _clip_tiny_test() -> Any:
    from .clip import create_clip  # lazy: loads PIL, torch

    return create_clip(config="tiny-test")


def _agclip(pretrained: Path | None = None, **config: Any) -> Any:
    from .agclip import build_agclip  # lazy: loads torch

    return build_agclip(pretrained, **config)


def _range_location_encoder() -> Any:
    from .location_encoders import RangeLocationEncoder  # lazy: loads torch

    return RangeLocationEncoder()


def _learned_rff_location_encoder() -> Any:
    from .location_encoders import LearnedRFFLocationEncoder  # lazy: loads torch

    return LearnedRFFLocationEncoder()


register_model(
    "geoclip-location-encoder",
    _geoclip_location_encoder,
    ("geoclip-location-encoder",),
    "GeoCLIP location encoder: (lat, lon) -> 512-d",
)
register_model(
    "geoclip-image-head",
    _geoclip_image_head,
    ("geoclip-image-mlp", "geoclip-logit-scale"),
    "GeoCLIP image head: CLIP ViT-L/14 features (768) -> 512-d location space, and logit scale",
)
register_model(
    "clip-vit-l-14-openai",
    _clip_vit_l_14,
    ("clip-vit-l-14-openai",),
    "OpenAI CLIP ViT-L/14 via open_clip: GeoCLIP's image backbone, 768-d features",
)
register_model("clip-tiny-test", _clip_tiny_test, (), "tiny random CLIP with 768-d output (tests only: meaningless)")
register_model(
    "agclip",
    _agclip,
    (),
    "AG-CLIP audio -> location space: pretrained=TAG (see list_pretrained('agclip')) or a checkpoint path; "
    "without pretrained, an untrained model from AGCLIPConfig fields",
)
register_model(
    "range-location-encoder",
    _range_location_encoder,
    ("birdnet-v2.4-meta", "birdnet-v2.4-labels"),
    "SINR-style location encoder: BirdNET range-model occurrences, sqrt, L2, fixed projection to 512-d (frozen)",
)
register_model(
    "learned-rff-location-encoder",
    _learned_rff_location_encoder,
    (),
    "GeoCLAP-style location tower: GeoCLIP's architecture, randomly initialised, trained with AG-CLIP (512-d)",
)
