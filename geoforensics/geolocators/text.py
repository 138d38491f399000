"""Text geolocation and audio-to-text retrieval through GeoCLIP's location space.

``TextGeolocator`` feeds CLIP ViT-L/14 *text* features through GeoCLIP's *image* head. That works to
the extent that CLIP aligns text with images; GeoCLIP never trained on text, so this is zero-shot
transfer whose accuracy is unmeasured here (no CLIP weights on the development machine):
``benchmarks/image_geolocation.py`` measures it on place names wherever the weights are present.

``audio_to_text_scores`` ranks text prompts against an audio prediction in the same space: the
probability-weighted mean GeoCLIP location embedding of the audio surface against each prompt's
embedding.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..defaults import TOP_K
from ..errors import InputError
from ..prediction import GeoPrediction, smallest_mass_set
from .image import CLIPSpaceGeolocator


def _texts(inputs: Any) -> list[str]:
    items = [inputs] if isinstance(inputs, str) else list(inputs)
    if not items:
        raise InputError("no text given")
    texts = []
    for t in items:
        if not isinstance(t, str) or not t.strip():
            raise InputError(f"each text must be a non-empty string, not {t!r}")
        texts.append(t.strip())
    return texts


class TextGeolocator(CLIPSpaceGeolocator):
    """Where does this description point? ("a rainforest", "Paris", "a street in Tokyo").

    CLIP text features -> GeoCLIP image head -> gallery, as for images. ``feature_norm``, when set,
    rescales each CLIP text feature to that L2 norm before the head (the head was trained on image
    features, whose norm differs from text features'; None keeps them as they are). Several texts
    are combined like frames (``aggregate``), each reported as a window labelled with its text.
    Unmeasured without the CLIP weights; see the module docstring.
    """

    name = "text-geoclip"
    modality = "text"

    def __init__(self, *args: Any, feature_norm: float | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feature_norm = feature_norm

    def embed(self, items: Sequence[str]) -> torch.Tensor:
        feats = self.clip.text_features(list(items))
        if self.feature_norm is not None:
            feats = torch.nn.functional.normalize(feats, dim=1) * self.feature_norm
        return self.head.embed(feats)

    def predict(
        self,
        inputs: Any,
        *,
        k: int = TOP_K,
        date: Any = None,
        sample_rate: int | None = None,
        max_duration_s: float | None = None,
        light: bool = False,
    ) -> GeoPrediction:
        """Geolocate a text (or several, combined by ``aggregate``); windows are numbered by text
        index. ``date``, ``sample_rate`` and ``max_duration_s`` do not apply."""
        t_start = time.perf_counter()
        texts = _texts(inputs)
        notes = ["zero-shot: GeoCLIP's image head applied to CLIP text features"]
        times = [float(i) for i in range(len(texts))]
        return self._predict(texts, texts, times, t_start, k, light, notes)


@dataclass
class PromptScore:
    """How well a text prompt matches an audio prediction in GeoCLIP's location space."""

    prompt: str
    similarity: float
    prob: float


def location_embedding(
    pred: GeoPrediction, locator: CLIPSpaceGeolocator, mass: float = 0.999, max_points: int = 20000
) -> torch.Tensor:
    """(512,) unit vector: the probability-weighted mean GeoCLIP embedding of ``pred``'s surface.

    Only the most probable points holding ``mass`` of the probability (at most ``max_points``) are
    encoded; their weights are renormalised.
    """
    if len(pred.probs) == 0:
        raise InputError("the prediction has an empty probability surface (was it saved with surface='none'?)")
    idx = smallest_mass_set(pred.probs, mass)[:max_points]
    w = torch.as_tensor(pred.probs[idx] / pred.probs[idx].sum(), dtype=torch.float32)
    emb = locator.location_encoder.encode(np.asarray(pred.gallery)[idx])
    return torch.nn.functional.normalize((w[:, None] * emb).sum(dim=0), dim=0)


def audio_to_text_scores(
    audio_pred: GeoPrediction,
    prompts: Sequence[str],
    locator: TextGeolocator | None = None,
    mass: float = 0.999,
) -> list[PromptScore]:
    """Rank ``prompts`` by how well they match where ``audio_pred`` puts the recording, best first.

    similarity = cosine(mean location embedding of the audio surface, prompt's embedding);
    prob = softmax over prompts of GeoCLIP's logit scale x similarity.
    """
    texts = _texts(prompts)
    locator = locator if locator is not None else TextGeolocator()
    loc = location_embedding(audio_pred, locator, mass=mass)
    sims = (locator.embed(texts) @ loc).double()
    probs = torch.softmax(locator.head.logit_scale * sims, dim=0)
    scores = [PromptScore(t, float(s), float(p)) for t, s, p in zip(texts, sims, probs)]
    return sorted(scores, key=lambda s: -s.similarity)
