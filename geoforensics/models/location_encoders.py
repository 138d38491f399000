"""Location encoders for AG-CLIP: (lat, lon) degrees -> unit vectors that the audio head is matched to.

The paper (Sec. 4.3, Table 2b) ablates the location space the audio embeddings are aligned with:
GeoCLIP (the default), SINR and SatCLIP; its GeoCLAP/TaxaBind baselines (Supp. A.6) instead learn
the location tower jointly with the audio tower. Offline we have:

- ``geoclip``: GeoCLIP's released location encoder (:class:`~geoforensics.models.geoclip.GeoCLIPLocationEncoder`),
  frozen, 512-d. The default.
- ``range``: a SINR-style stand-in (SINR's weights are not available offline). SINR embeds a place
  with a network trained to predict the species that occur there; here a place *is* the species
  that occur there: the BirdNET V2.4 range model's year-round occurrences of its real species
  (non-species classes dropped), square-rooted and L2-normalised (so the cosine of two places is
  the Bhattacharyya coefficient of their normalised occurrence profiles), then mapped to 512-d by a
  fixed random orthogonal projection (seeded legacy ``RandomState``, whose stream NumPy keeps
  frozen) and normalised again. The projection is data-free (no fitting set to choose) and,
  by Johnson-Lindenstrauss, keeps those cosines to within a few percent; 512-d keeps the audio head
  the same size as with GeoCLIP. Frozen, no trainable parameters.
- ``learned-rff``: a GeoCLAP-style trainable location tower, GeoCLIP's architecture (Equal Earth,
  random Fourier features at three scales, one MLP per scale) randomly initialised and trained jointly
  with the audio head (GeoCLAP encodes overhead imagery, which is not available offline). It becomes
  a submodule of :class:`~geoforensics.models.agclip.AGCLIPModel` (``location_tower``), so it
  trains, is saved in checkpoints and reloads.
- ``satclip``: listed for the ablation, but its weights are not available offline:
  :func:`create_location_encoder` raises :class:`~geoforensics.errors.MissingWeightsError`.

``create_location_encoder(name)`` builds a new instance, ``get_location_encoder(name)`` gives the shared
one of a frozen encoder; both go through the model registry (``<name>-location-encoder``).

Every encoder has ``dim``, ``encode(latlon) -> Tensor [N, dim]`` (unit rows, float32, CPU) and
``gallery_embeddings(latlon, name)`` (cached: in memory, and on disk for frozen encoders).
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import torch
from torch import nn

from ..errors import GeoforensicsError, MissingWeightsError
from ..geo.geodesy import as_latlon
from ..models.birdnet import BirdNETRangeModel
from ..paths import cache_dir
from ..registry import Registry
from .geoclip import (
    EMBED_DIM,
    GeoCLIPLocationEncoder,
    cached_gallery_embeddings,
    gallery_key,
    load_embeddings,
    save_embeddings,
)
from .registry import create_model, get_model

DEFAULT_LOCATION_ENCODER = "geoclip"
RANGE_DIM = 512
RANGE_SEED = 0
RANGE_FLOOR = 1e-6
"""Added to occurrences before the square root, so a place with no species (open ocean, ice) still
has a unit embedding (the uniform profile) instead of a zero vector."""
RANGE_FORMAT = 1
SATCLIP_DIM = 256


class LocationEncoder(Protocol):
    """What AG-CLIP needs from a location encoder."""

    dim: int

    def encode(self, latlon: Any) -> torch.Tensor: ...

    def gallery_embeddings(self, gallery_latlon: Any, name: str = "gallery") -> torch.Tensor: ...


@dataclass(frozen=True)
class LocationEncoderEntry:
    """A named location encoder: its output dim, whether it has trainable parameters, the model
    registry entry that builds it (``model``), what it is.

    ``missing`` is a non-empty message where the encoder cannot be built on this machine."""

    name: str
    dim: int
    trainable: bool
    model: str
    description: str
    missing: str = ""


def orthogonal_projection(n_in: int, n_out: int, seed: int = RANGE_SEED) -> np.ndarray:
    """A fixed (n_in, n_out) float32 matrix with orthonormal columns (n_in >= n_out) or rows
    (n_in < n_out), from a Gaussian draw of NumPy's frozen legacy ``RandomState(seed)`` and QR with
    ``diag(R) > 0``. Cached on disk (``cache_dir("embeddings")``): the QR takes seconds on a busy machine."""
    path = cache_dir("embeddings") / f"orthogonal-projection-{n_in}x{n_out}-s{seed}-v{RANGE_FORMAT}.npy"
    cached = load_embeddings(path, (n_in, n_out))
    if cached is not None:
        return cached.numpy()
    g = np.random.RandomState(seed).standard_normal((n_in, n_out))
    tall = n_in >= n_out
    q, r = np.linalg.qr(g if tall else g.T)
    q = q * np.where(np.diag(r) < 0, -1.0, 1.0)[None]
    w = np.ascontiguousarray(q if tall else q.T, dtype=np.float32)
    save_embeddings(path, w)
    return w


class RangeLocationEncoder:
    """A place as the species that occur there (module docstring, ``range``): year-round range-model
    occurrences of real species -> sqrt -> L2 -> fixed orthogonal projection to ``dim`` -> L2.

    ``dim=None`` keeps the full species vector (no projection). Gallery embeddings are cached on
    disk under a key of the gallery, the range model's name and version, and the projection.
    """

    trainable = False

    def __init__(
        self, range_model: Any = None, dim: int | None = RANGE_DIM, seed: int = RANGE_SEED, week: int = -1
    ) -> None:
        if range_model is None:

            range_model = BirdNETRangeModel()
        self.range_model = range_model
        self.week = week
        mask = np.asarray(
            getattr(range_model, "counts_in_richness", np.ones(len(range_model.species), bool)), dtype=bool
        )
        self.species_idx = np.where(mask)[0]
        n = len(self.species_idx)
        self.projection = None if dim is None else torch.from_numpy(orthogonal_projection(n, dim, seed))
        self.dim = n if dim is None else int(dim)
        h = hashlib.sha256(
            f"{RANGE_FORMAT}|{range_model.name}|{range_model.version}|{week}|{RANGE_FLOOR}|{self.dim}".encode()
        )
        h.update(self.species_idx.astype(np.int64).tobytes())
        if self.projection is not None:
            h.update(self.projection.numpy().tobytes())
        self.fingerprint = h.hexdigest()[:12]
        self._gallery_memo: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()

    def encode(self, latlon: Any, batch_size: int = 4096) -> torch.Tensor:
        """(N, 2) (lat, lon) degrees -> (N, dim) float32 L2-normalised embeddings."""
        pts = as_latlon(latlon, name="locations").reshape(-1, 2)
        out = []
        for i in range(0, len(pts), batch_size):
            occ = np.asarray(self.range_model.occurrence(pts[i : i + batch_size], self.week), dtype=np.float32)
            v = torch.from_numpy(np.sqrt(np.maximum(occ[:, self.species_idx], 0.0) + RANGE_FLOOR))
            v = nn.functional.normalize(v, dim=1)
            if self.projection is not None:
                v = nn.functional.normalize(v @ self.projection, dim=1)
            out.append(v)
        return torch.cat(out) if out else torch.zeros(0, self.dim)

    def gallery_embeddings(self, gallery_latlon: Any, name: str = "gallery") -> torch.Tensor:
        """``encode(gallery_latlon)``, cached in memory and on disk (``cache_dir("embeddings")``)."""
        with self._lock:
            return cached_gallery_embeddings(
                self.encode, gallery_latlon, name, "range-loc", self.fingerprint, self.dim, self._gallery_memo
            )


class LearnedRFFLocationEncoder(GeoCLIPLocationEncoder):
    """GeoCLAP-style trainable location tower: GeoCLIP's architecture, randomly initialised.

    ``forward`` (with grad) gives unnormalised features; :meth:`targets` the unit embeddings used as
    contrastive targets during training. Gallery embeddings are cached in memory only, keyed by the
    gallery and the parameters' version counters, so they are recomputed after every optimiser step
    or ``load_state_dict``. With ``queue_size`` > 0 the queued negatives are detached embeddings from
    earlier steps of the moving tower. Unlike GeoCLAP, the loss stays AG-CLIP's one-directional
    InfoNCE (audio -> locations) plus the checklist BCE.
    """

    trainable = True
    dim = EMBED_DIM

    def targets(self, latlon_deg: torch.Tensor) -> torch.Tensor:
        """(B, 2) (lat, lon) degrees (any float dtype/device) -> (B, 512) unit embeddings, with grad."""
        dev = next(self.parameters()).device
        return nn.functional.normalize(self(latlon_deg.to(dev, torch.float64)).float(), dim=-1)

    @torch.inference_mode()
    def encode(self, latlon: Any, batch_size: int = 4096) -> torch.Tensor:
        """(N, 2) (lat, lon) degrees -> (N, 512) float32 unit embeddings on CPU, in eval mode."""
        pts = torch.tensor(as_latlon(latlon, name="locations").reshape(-1, 2), dtype=torch.float64)
        was = self.training
        self.eval()
        try:
            out = [self.targets(pts[i : i + batch_size]).cpu() for i in range(0, len(pts), batch_size)]
        finally:
            self.train(was)
        return torch.cat(out) if out else torch.zeros(0, EMBED_DIM)

    def _tensor_versions(self) -> tuple[int, ...]:
        return tuple(t._version for t in (*self.parameters(), *self.buffers()))

    def gallery_embeddings(self, gallery_latlon: Any, name: str = "gallery") -> torch.Tensor:
        """``encode(gallery_latlon)``, memoised while the parameters are unchanged."""
        gallery, key = gallery_key(gallery_latlon)
        memo_key = f"{key}|{hash(self._tensor_versions())}"
        if memo_key not in self._gallery_memo:
            self._gallery_memo.clear()
            self._gallery_memo[memo_key] = self.encode(gallery)
        return self._gallery_memo[memo_key]


class CoordinateTargets:
    """Target "encoder" for trainable location towers: ``encode`` returns the coordinates themselves
    (float64 [N, 2] (lat, lon) degrees), which the model's tower embeds in the training step."""

    dim = 2

    def encode(self, latlon: Any) -> torch.Tensor:
        """(N, 2) (lat, lon) degrees -> the same as a float64 tensor."""
        return torch.tensor(as_latlon(latlon, name="locations").reshape(-1, 2), dtype=torch.float64)


_SATCLIP_MISSING = (
    "SatCLIP location encoder weights are not available offline (SatCLIP, Klemmer et al. 2023, publishes "
    "them only online); use location_encoder 'geoclip', 'range' (SINR-style species-occurrence embedding) "
    "or 'learned-rff'"
)


LOCATION_ENCODERS: Registry[LocationEncoderEntry] = Registry("location encoder")
for _e in (
        LocationEncoderEntry(
            "geoclip", EMBED_DIM, False, "geoclip-location-encoder",
            "GeoCLIP's released location encoder (frozen, 512-d; default)",
        ),
        LocationEncoderEntry(
            "range", RANGE_DIM, False, "range-location-encoder",
            "SINR-style: BirdNET range-model year-round species occurrences, sqrt, L2, fixed orthogonal projection "
            "to 512-d (frozen)",
        ),
        LocationEncoderEntry(
            "learned-rff", EMBED_DIM, True, "learned-rff-location-encoder",
            "GeoCLAP-style: GeoCLIP's RFF + MLP architecture, randomly initialised, trained jointly (512-d)",
        ),
        LocationEncoderEntry(
            "satclip", SATCLIP_DIM, False, "", "SatCLIP (weights not available offline)", _SATCLIP_MISSING
        ),
):
    LOCATION_ENCODERS.register(_e.name, _e, description=_e.description)


def location_encoder_info(name: str) -> LocationEncoderEntry:
    """The registry entry ``name``; unknown names raise :class:`~geoforensics.errors.InputError`."""
    return LOCATION_ENCODERS[name]


def list_location_encoders() -> list[str]:
    """Names of the registered location encoders, sorted."""
    return sorted(LOCATION_ENCODERS.names())


def _buildable(name: str) -> LocationEncoderEntry:
    entry = location_encoder_info(name)
    if entry.missing:
        raise MissingWeightsError(entry.missing)
    return entry


def create_location_encoder(name: str = DEFAULT_LOCATION_ENCODER) -> Any:
    """A new instance of location encoder ``name`` (a randomly initialised module for a trainable one).
    Raises :class:`MissingWeightsError` where its weights are not on this machine (``satclip``)."""
    return create_model(_buildable(name).model)


def get_location_encoder(name: str = DEFAULT_LOCATION_ENCODER) -> Any:
    """The process-wide shared instance of the frozen location encoder ``name`` (the model registry's).
    A trainable one has no shared instance: each model trains its own (:func:`create_location_encoder`)."""
    entry = _buildable(name)
    if entry.trainable:
        raise GeoforensicsError(
            f"location encoder {name!r} is trainable: each model owns one (create_location_encoder), none is shared"
        )
    return get_model(entry.model)


__all__ = [
    "CoordinateTargets",
    "LOCATION_ENCODERS",
    "LearnedRFFLocationEncoder",
    "LocationEncoder",
    "LocationEncoderEntry",
    "RangeLocationEncoder",
    "create_location_encoder",
    "get_location_encoder",
    "list_location_encoders",
    "location_encoder_info",
    "orthogonal_projection",
]
