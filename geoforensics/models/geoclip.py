"""GeoCLIP (Vivanco Cepeda, Nayak and Shah, NeurIPS 2023), re-implemented on its released weights.

- ``GeoCLIPLocationEncoder``: (lat, lon) -> Equal Earth projection (scaled as GeoCLIP does) ->
  random Fourier features at three scales (sigma 2^0, 2^4, 2^8, 256 frequencies each) -> one MLP per
  scale (512 -> 1024 -> 1024 -> 1024 -> 512) -> sum -> 512-d. Its state-dict keys are GeoCLIP's, so
  the wheel's ``location_encoder_weights.pth`` loads as is.
- ``GeoCLIPImageHead``: the MLP (768 -> 768 -> 512) that maps unnormalised CLIP ViT-L/14 image
  features into the same 512-d space, and the learned logit scale.

The wheel is never imported (its ``__init__`` pulls transformers); files are read through
``weights.weight_path``, which checks their SHA-256.
"""

from __future__ import annotations

import hashlib
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..cachefiles import load_array, save_array
from ..geo.geodesy import as_latlon
from ..paths import cache_dir
from ..weights import get_spec, weight_path

EQUAL_EARTH_A1 = 1.340264
EQUAL_EARTH_A2 = -0.081106
EQUAL_EARTH_A3 = 0.000893
EQUAL_EARTH_A4 = 0.003796
GEOCLIP_SCALE = 66.50336
GEOCLIP_SIGMAS = (2.0**0, 2.0**4, 2.0**8)
EMBED_DIM = 512
CLIP_DIM = 768


def equal_earth_projection(latlon_deg: torch.Tensor) -> torch.Tensor:
    """(N, 2) (lat, lon) degrees -> (N, 2) Equal Earth (x, y) times GeoCLIP's SF / 180.

    The Equal Earth projection (Šavrič, Patterson and Jenny 2018) with GeoCLIP's scaling: x in about
    [-1, 1], y in about [-0.49, 0.49]. Computed in float64.
    """
    rad = torch.deg2rad(latlon_deg.to(torch.float64))
    lat, lon = rad[:, 0], rad[:, 1]
    theta = torch.asin(math.sqrt(3.0) / 2.0 * torch.sin(lat))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    denom = 3.0 * (
        9.0 * EQUAL_EARTH_A4 * t6 * t2 + 7.0 * EQUAL_EARTH_A3 * t6 + 3.0 * EQUAL_EARTH_A2 * t2 + EQUAL_EARTH_A1
    )
    x = 2.0 * math.sqrt(3.0) * lon * torch.cos(theta) / denom
    y = theta * (EQUAL_EARTH_A4 * t6 * t2 + EQUAL_EARTH_A3 * t6 + EQUAL_EARTH_A2 * t2 + EQUAL_EARTH_A1)
    return torch.stack((x, y), dim=1) * (GEOCLIP_SCALE / 180.0)


class FourierFeatures(nn.Module):
    """Random Fourier features gamma(v) = [cos(2 pi B v), sin(2 pi B v)], B ~ N(0, sigma^2) of shape (m, 2).

    The phase is computed in float64 (with sigma = 256 it reaches thousands of radians, where float32
    loses about 1e-3 rad); the output is in ``b``'s dtype.
    """

    b: torch.Tensor

    def __init__(self, sigma: float, encoded_size: int = 256, input_size: int = 2) -> None:
        super().__init__()
        self.sigma = sigma
        self.register_buffer("b", torch.randn(encoded_size, input_size) * sigma)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        phase = 2.0 * math.pi * (v.to(torch.float64) @ self.b.to(torch.float64).T)
        return torch.cat((torch.cos(phase), torch.sin(phase)), dim=-1).to(self.b.dtype)


class _ScaleBranch(nn.Module):
    """One GeoCLIP scale: Fourier features then a 3-layer ReLU MLP and a linear head to 512."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        self.capsule = nn.Sequential(
            FourierFeatures(sigma),
            nn.Linear(512, 1024),
            nn.ReLU(),
            nn.Linear(1024, 1024),
            nn.ReLU(),
            nn.Linear(1024, 1024),
            nn.ReLU(),
        )
        self.head = nn.Sequential(nn.Linear(1024, EMBED_DIM))

    def forward(self, xy: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.head(self.capsule(xy))
        return out


class GeoCLIPLocationEncoder(nn.Module):
    """GeoCLIP's location encoder: (lat, lon) degrees -> 512-d, the sum over scales ``LocEnc0..2``."""

    dim: int = EMBED_DIM

    def __init__(self, sigmas: tuple[float, ...] = GEOCLIP_SIGMAS) -> None:
        super().__init__()
        self.sigmas = tuple(sigmas)
        for i, s in enumerate(self.sigmas):
            self.add_module(f"LocEnc{i}", _ScaleBranch(s))
        self.weights_sha256 = ""
        self._gallery_memo: dict[str, torch.Tensor] = {}

    @classmethod
    def from_package(cls) -> GeoCLIPLocationEncoder:
        """The released GeoCLIP weights (``geoclip-location-encoder``), in eval mode on CPU."""
        model = cls()
        state = torch.load(weight_path("geoclip-location-encoder"), map_location="cpu", weights_only=True)
        model.load_state_dict(state, strict=True)
        model.weights_sha256 = get_spec("geoclip-location-encoder").sha256
        return model.eval()

    def forward(self, latlon_deg: torch.Tensor) -> torch.Tensor:
        """(N, 2) (lat, lon) degrees -> (N, 512) unnormalised features."""
        xy = equal_earth_projection(latlon_deg)
        out: torch.Tensor = sum(getattr(self, f"LocEnc{i}")(xy) for i in range(len(self.sigmas)))
        return out

    @torch.inference_mode()
    def encode(self, latlon: Any, batch_size: int = 4096) -> torch.Tensor:
        """(N, 2) (lat, lon) degrees -> (N, 512) float32 L2-normalised embeddings."""
        pts = torch.tensor(as_latlon(latlon, name="locations").reshape(-1, 2), dtype=torch.float64)
        out = [self(pts[i : i + batch_size]) for i in range(0, len(pts), batch_size)]
        feats = torch.cat(out) if out else torch.zeros(0, EMBED_DIM)
        return nn.functional.normalize(feats, dim=1)

    def gallery_embeddings(self, gallery_latlon: Any, name: str = "gallery") -> torch.Tensor:
        """``encode(gallery_latlon)``, cached in memory and on disk (``cache_dir("embeddings")``).

        The cache key is the gallery's SHA-256 and the weights' SHA-256, so a changed gallery or
        weights file never reuses stale embeddings. Encoders without a known weights hash (random
        init) are cached in memory only.
        """
        fingerprint = self.weights_sha256[:12] if self.weights_sha256 else None
        return cached_gallery_embeddings(
            self.encode, gallery_latlon, name, "geoclip-loc", fingerprint, EMBED_DIM, self._gallery_memo
        )


class GeoCLIPImageHead(nn.Module):
    """GeoCLIP's image head: unnormalised CLIP ViT-L/14 image features (768) -> 512-d location space.

    ``logit_scale`` is the multiplier of cosine similarities (exp of the stored log value; GeoCLIP's
    initial value 1/0.07 until ``from_package`` loads the trained one).
    """

    def __init__(self) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(CLIP_DIM, CLIP_DIM), nn.ReLU(), nn.Linear(CLIP_DIM, EMBED_DIM))
        self.logit_scale = 1.0 / 0.07

    @classmethod
    def from_package(cls) -> GeoCLIPImageHead:
        """The released MLP (``geoclip-image-mlp``) and logit scale (``geoclip-logit-scale``)."""
        head = cls()
        state = torch.load(weight_path("geoclip-image-mlp"), map_location="cpu", weights_only=True)
        head.mlp.load_state_dict(state, strict=True)
        head.logit_scale = load_logit_scale()
        return head.eval()

    def forward(self, clip_features: torch.Tensor) -> torch.Tensor:
        """(B, 768) CLIP features -> (B, 512) unnormalised."""
        out: torch.Tensor = self.mlp(clip_features)
        return out

    @torch.inference_mode()
    def embed(self, clip_features: torch.Tensor) -> torch.Tensor:
        """(B, 768) CLIP features -> (B, 512) L2-normalised location-space embeddings."""
        return nn.functional.normalize(self(clip_features.to(torch.float32)), dim=1)


def load_logit_scale() -> float:
    """GeoCLIP's trained similarity multiplier: exp of the value in ``logit_scale_weights.pth`` (about 39.7)."""
    value = torch.load(weight_path("geoclip-logit-scale"), map_location="cpu", weights_only=True)
    return float(torch.as_tensor(value).exp())


def gallery_key(gallery_latlon: Any) -> tuple[np.ndarray, str]:
    """The gallery as contiguous float64 (N, 2) (lat, lon) and a 16-hex SHA-256 key of its values."""
    gallery = np.ascontiguousarray(as_latlon(gallery_latlon, name="gallery").reshape(-1, 2), dtype=np.float64)
    return gallery, hashlib.sha256(gallery.tobytes()).hexdigest()[:16]


def cached_gallery_embeddings(
    encode: Any, gallery_latlon: Any, name: str, prefix: str, fingerprint: str | None, dim: int,
    memo: dict[str, torch.Tensor],
) -> torch.Tensor:
    """``encode(gallery)`` memoised in ``memo`` and, when the encoder has a ``fingerprint`` (a hash of
    its weights or definition), on disk under ``cache_dir("embeddings")`` keyed by gallery and fingerprint."""
    gallery, key = gallery_key(gallery_latlon)
    if key in memo:
        return memo[key]
    path = None
    if fingerprint:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:40]
        path = cache_dir("embeddings") / f"{prefix}-{safe}-{len(gallery)}-{key}-{fingerprint}.npy"
    emb = load_embeddings(path, (len(gallery), dim)) if path else None
    if emb is None:
        emb = encode(gallery)
        if path:
            save_embeddings(path, emb.numpy())
    memo[key] = emb
    return emb


def load_embeddings(path: Path, shape: tuple[int, int]) -> torch.Tensor | None:
    """Cached float32 embeddings of this shape (:func:`geoforensics.cachefiles.load_array`), or None."""
    arr = load_array(path)
    return (
        torch.from_numpy(np.array(arr)) if arr is not None and arr.shape == shape and arr.dtype == np.float32 else None
    )


def save_embeddings(path: Path, arr: np.ndarray) -> None:
    """Cache float32 embeddings with their checksum."""
    save_array(path, arr.astype(np.float32, copy=False))
