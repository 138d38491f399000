"""Image geolocation with GeoCLIP: CLIP ViT-L/14 image features -> GeoCLIP image head -> 512-d
location space -> cosine similarity times the learned logit scale against GeoCLIP location
embeddings of a gallery -> softmax -> ``GeoPrediction``.

``ImageGeolocator.available()`` says whether the CLIP weights are present without loading them; a
missing file raises ``MissingWeightsError`` with ``geoforensics weights fetch clip-vit-l-14-openai``.

Developer/demo switch: with ``GEOFORENSICS_CLIP_CONFIG=tiny-test`` in the environment, image and text
geolocators built without an explicit ``clip`` (the registry's ``image-geoclip`` and ``text-geoclip``)
use that tiny *random* CLIP (``models.clip.TEST_CONFIGS``) in place of ViT-L/14, and ``available()``
reports True with the note "random test weights: answers are meaningless", so the app's text and image
wiring can be exercised end to end where the real weights are absent.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..defaults import TOP_K
from ..errors import InputError
from ..geo.galleries import get_gallery
from ..geo.geodesy import as_latlon
from ..models import registry
from ..models.clip import TEST_CONFIGS, ClipEncoder
from ..models.geoclip import GeoCLIPImageHead, GeoCLIPLocationEncoder
from ..prediction import GeoPrediction, WindowPrediction
from .base import prediction_options

AGGREGATES = ("mean_probs", "mean_embedding")
CLIP_WEIGHTS = "clip-vit-l-14-openai"
CLIP_CONFIG_ENV = "GEOFORENSICS_CLIP_CONFIG"
RANDOM_WEIGHTS_NOTE = "random test weights: answers are meaningless"


def clip_test_config() -> str | None:
    """The test CLIP config named by ``$GEOFORENSICS_CLIP_CONFIG`` (None when unset or empty)."""
    return os.environ.get(CLIP_CONFIG_ENV, "").strip() or None


def default_clip(config: str | None = None) -> ClipEncoder:
    """CLIP for a geolocator built without one: the tiny random ``config`` (default
    ``$GEOFORENSICS_CLIP_CONFIG``) when set, else ViT-L/14 from verified local weights."""
    config = config or clip_test_config()
    clip: ClipEncoder
    if config is None:
        clip = registry.get_model(CLIP_WEIGHTS)
        return clip
    if config not in TEST_CONFIGS:
        raise InputError(f"{CLIP_CONFIG_ENV}: {TEST_CONFIGS.unknown(config)}")
    clip = registry.get_model(f"clip-{config}")
    return clip


def resolve_gallery(gallery: str | Any) -> tuple[np.ndarray, str]:
    """(array, cache name) for a ``geo.galleries`` name ("geoclip-100k", "land-1", "csv:PATH", ...) or an
    (N, 2) (lat, lon) array."""
    if isinstance(gallery, str):

        return get_gallery(gallery).latlon, gallery
    arr = as_latlon(gallery, name="gallery").reshape(-1, 2)
    if len(arr) == 0:
        raise InputError("the gallery is empty")
    return arr, "custom"


def load_images(inputs: Any) -> list[Image.Image]:
    """PIL images from an image, a path, an (H, W, 3) uint8 array, or a list of these."""
    items = [inputs] if isinstance(inputs, (str, Path, Image.Image, np.ndarray)) else list(inputs)
    if not items:
        raise InputError("no images given")
    images = []
    for item in items:
        if isinstance(item, Image.Image):
            images.append(item)
        elif isinstance(item, np.ndarray):
            if item.ndim != 3 or item.shape[2] not in (3, 4) or item.dtype != np.uint8:
                raise InputError(f"an image array must be (H, W, 3 or 4) uint8, not {item.shape} {item.dtype}")
            images.append(Image.fromarray(item))
        else:
            path = Path(item)
            if not path.is_file():
                raise InputError(f"{path}: no such image file")
            try:
                with Image.open(path) as im:
                    im.load()
                    images.append(im.copy())
            except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as e:
                raise InputError(f"{path}: not a readable image ({e})") from e
    return images


class CLIPSpaceGeolocator:
    """Shared machinery of the image and text geolocators: 512-d queries in GeoCLIP's location space
    against a gallery. Subclasses define ``name``, ``modality`` and ``embed``.

    Without ``clip``, CLIP ViT-L/14 is loaded from verified local weights, or the tiny random test
    CLIP named by ``clip_config`` (default ``$GEOFORENSICS_CLIP_CONFIG``; see the module docstring)."""

    name = "geoclip"
    modality = "image"

    def __init__(
        self,
        clip: ClipEncoder | None = None,
        gallery: str | Any = "geoclip-100k",
        aggregate: str = "mean_probs",
        *,
        location_encoder: GeoCLIPLocationEncoder | None = None,
        head: GeoCLIPImageHead | None = None,
        point_method: str = "argmax",
        names: bool = True,
        clip_config: str | None = None,
    ) -> None:
        if aggregate not in AGGREGATES:
            raise InputError(f"aggregate must be one of {', '.join(AGGREGATES)}, not {aggregate!r}")
        self.clip = clip if clip is not None else default_clip(clip_config)
        if location_encoder is None:
            location_encoder = registry.get_model("geoclip-location-encoder")
        self.location_encoder = location_encoder
        self.head = head if head is not None else registry.get_model("geoclip-image-head")
        self._gallery, self.gallery_name = resolve_gallery(gallery)
        self.aggregate = aggregate
        self.point_method = point_method
        self.names = names
        self._gallery_emb: torch.Tensor | None = None

    @staticmethod
    def available() -> tuple[bool, str]:
        """Whether CLIP ViT-L/14 and the GeoCLIP files are present (sizes only: nothing is loaded).

        With ``$GEOFORENSICS_CLIP_CONFIG`` set to a test config, CLIP is that random model: True
        (when the GeoCLIP files are present) with a note that the answers are meaningless."""
        head_ok, head_msg = registry.available("geoclip-image-head")
        loc_ok, loc_msg = registry.available("geoclip-location-encoder")
        config = clip_test_config()
        if config is not None:
            if config not in TEST_CONFIGS:
                return False, f"{CLIP_CONFIG_ENV}: {TEST_CONFIGS.unknown(config)}"
            note = f"{RANDOM_WEIGHTS_NOTE} ({CLIP_CONFIG_ENV}={config}: a tiny random CLIP stands in for ViT-L/14)"
            return head_ok and loc_ok, "; ".join(m for m in (note, head_msg, loc_msg) if m)
        clip_ok, clip_msg = registry.available(CLIP_WEIGHTS)
        return clip_ok and head_ok and loc_ok, "; ".join(m for m in (clip_msg, head_msg, loc_msg) if m)

    @property
    def gallery(self) -> np.ndarray:
        return self._gallery

    def gallery_embeddings(self) -> torch.Tensor:
        """(N, 512) location embeddings of the gallery (disk-cached for the packaged weights)."""
        if self._gallery_emb is None:
            self._gallery_emb = self.location_encoder.gallery_embeddings(self._gallery, self.gallery_name)
        return self._gallery_emb

    def embed(self, items: Sequence[Any]) -> torch.Tensor:
        """(B, 512) L2-normalised location-space embeddings of ``items``."""
        raise NotImplementedError

    def logits(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(B, N) logit scale x cosine similarity of each embedding with each gallery point."""
        return self.head.logit_scale * (embeddings @ self.gallery_embeddings().T)

    def _notes(self) -> list[str]:
        if not self.clip.pretrained:
            return [f"CLIP {self.clip.name}: {RANDOM_WEIGHTS_NOTE} (test configuration)"]
        return []

    def _predict(
        self,
        items: Sequence[Any],
        labels: Sequence[str],
        times: Sequence[float],
        t_start: float,
        k: int,
        light: bool,
        notes: list[str],
    ) -> GeoPrediction:
        aggregate = self.aggregate
        t0 = time.perf_counter()
        emb = self.embed(items)
        t1 = time.perf_counter()
        self.gallery_embeddings()
        t2 = time.perf_counter()
        logits = self.logits(emb).double()
        probs = torch.softmax(logits, dim=1)
        windows = []
        for i, (label, t) in enumerate(zip(labels, times)):
            j = int(torch.argmax(probs[i]))
            windows.append(
                WindowPrediction(
                    start_s=float(t),
                    end_s=float(t),
                    lat=float(self._gallery[j, 0]),
                    lon=float(self._gallery[j, 1]),
                    prob=float(probs[i, j]),
                    label=label,
                    score=float(logits[i, j]),
                )
            )
        if aggregate == "mean_probs" or len(items) == 1:
            p = probs.mean(dim=0)
        else:
            mean = torch.nn.functional.normalize(emb.mean(dim=0, keepdim=True), dim=1)
            p = torch.softmax(self.logits(mean).double(), dim=1)[0]
        t3 = time.perf_counter()
        n = len(items)
        timings = {
            "load_s": t0 - t_start,
            "encode_s": t1 - t0,
            "encode_per_item_s": (t1 - t0) / n,
            "gallery_s": t2 - t1,
            "score_s": t3 - t2,
        }
        pred = GeoPrediction.from_probs(
            self._gallery,
            p.numpy(),
            point_method=self.point_method,
            model=self.name,
            version=f"{self.clip.name}+geoclip",
            modality=self.modality,
            windows=windows,
            notes=self._notes() + notes + ([f"{n} inputs combined by {aggregate}"] if n > 1 else []),
            timings=timings,
            **prediction_options(k, light, self.names),
        )
        pred.timings["total_s"] = time.perf_counter() - t_start
        return pred


class ImageGeolocator(CLIPSpaceGeolocator):
    """Where was this photo (or these video frames) taken? GeoCLIP over a gallery (default 100K points).

    ``aggregate`` combines several frames: "mean_probs" (default) averages the per-frame probability
    surfaces; "mean_embedding" scores the normalised mean of the frames' embeddings. The default is
    the mixture because frames of one clip are not independent views of one place: a cut, a title
    card or an indoor shot would pull a mean embedding (a tempered product of the frames'
    surfaces) towards a place none of them points to, and make it over-confident, whereas the
    mixture keeps each frame's mode visible with its weight and is never sharper than the frames
    themselves, which is what a forensic comparison with the audio needs.
    """

    name = "image-geoclip"
    modality = "image"

    def embed(self, items: Sequence[Image.Image]) -> torch.Tensor:
        return self.head.embed(self.clip.image_features(list(items)))

    def predict(
        self,
        inputs: Any,
        frame_times: Sequence[float] | None = None,
        *,
        k: int = TOP_K,
        date: Any = None,
        sample_rate: int | None = None,
        max_duration_s: float | None = None,
        light: bool = False,
    ) -> GeoPrediction:
        """Geolocate one image, a path, or a list (frames, at ``frame_times`` seconds): one
        ``WindowPrediction`` per frame (start_s = end_s = its time, label "frame") and the surface
        combined by ``aggregate``. ``date``, ``sample_rate`` and ``max_duration_s`` do not apply."""
        t_start = time.perf_counter()
        images = load_images(inputs)
        notes = []
        if frame_times is None:
            times = [float(i) for i in range(len(images))]
            if len(images) > 1:
                notes.append("no frame times given: windows are numbered by frame index")
        else:
            times = [float(t) for t in frame_times]
            if len(times) != len(images):
                raise InputError(f"{len(times)} frame times for {len(images)} images")
        return self._predict(images, ["frame"] * len(images), times, t_start, k, light, notes)
