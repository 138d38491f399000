"""AG-CLIP (AudioGeo-CLIP; paper Sec. 3 "AG-CLIP", Sec. 4.1, Supp. A.5 and Fig. A6).

An audio encoder f_theta (see :mod:`geoforensics.models.audio_encoders`) feeds two decoders:

- a location decoder projecting into the frozen GeoCLIP location space (512-d, L2-normalised),
  trained with a contrastive (InfoNCE) loss against GeoCLIP embeddings of the true locations;
- a checklist decoder predicting the range model's species checklist at the true location
  (occurrence thresholded at 0.1), trained with BCE weighted 0.01.

``decoder="separate"`` is the paper's text: two 2-layer MLPs with hidden width 128.
``decoder="joint"`` is the authors' release (``src/models.py``): the MobileNet classifier's last
layer replaced by Linear(1280, 128) -> ReLU -> Linear(128, n_species + 512), checklist logits first.

``month_weight`` > 0 adds the ablation of Supp. Table A8: 12 month logits trained with cross-entropy
on the month of recording (0-11; -1 = unknown, ignored), weighted ``month_weight``: a third 2-layer
MLP ``month_decoder`` with ``decoder="separate"``, 12 more outputs of the shared head with "joint".
With the default 0 the model has exactly the parameters of the heads shipped before.

Auxiliary losses (checklist, month) reach the location output only through shared trainable
parameters. The paper trains its MobileNet encoder, so they do; with the frozen BirdNET encoder and
separate decoders they cannot (the location decoder gets the same gradients with or without them:
measured, identical validation curves), so ablate them with ``decoder="joint"``, whose hidden layer is
shared by all outputs.

``location_encoder`` picks the location space (Table 2b; :mod:`geoforensics.models.location_encoders`):
"geoclip" (default) and "range" are frozen and not part of the state dict; "learned-rff" adds a
trainable ``location_tower`` (GeoCLAP-style), which is trained, saved and reloaded with the model.

Load a model through the registry: ``registry.create_model("agclip", pretrained=TAG_OR_PATH)`` (a new
instance) or ``registry.get_model(...)`` (the shared one). A tag names a shipped head of the weight
manager's table (``weights/manifest.json``, SHA-256 checked by ``weights.verify``); a path names any
checkpoint of ``geoforensics train``. Both are read by :func:`build_agclip` with
``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..config import config_from_dict
from ..errors import GeoforensicsError, InputError, MissingWeightsError
from ..weights import load_checkpoint_blob
from .audio_encoders import AudioEncoder, create_audio_encoder
from .location_encoders import CoordinateTargets, create_location_encoder, get_location_encoder, location_encoder_info

GEOCLIP_DIM = 512
GEOCLIP_LOG_SCALE = 3.681
"""log of GeoCLIP's trained logit scale (exp -> 39.7; ``geoclip-logit-scale``). The authors'
release, with ``--clip_scale``, multiplies cosine similarities by 3.681 itself (mode "linear")."""


@dataclass(frozen=True)
class AGCLIPConfig:
    """Architecture and loss settings; defaults from the paper unless marked otherwise."""

    encoder: str = "mobilenetv3_large"
    """Sec. 4.1: "a trainable MobileNet-V3"."""
    pretrained: str | None = None
    """Sec. 4.1 initialises from iNatSounds species classification (not available offline)."""
    n_species: int = 6522
    """Checklist width: BirdNET V2.4's classes (the paper uses SINR's 5,547 iNatSounds species)."""
    decoder: str = "auto"
    """"separate" (Sec. 4.1 text), "joint" (authors' release) or "auto": joint for torchvision
    backbones, separate for birdnet."""
    hidden_dim: int = 128
    """Sec. 4.1 / Supp. A.5: both decoders are 2-layer MLPs with hidden dimension 128."""
    embed_dim: int = GEOCLIP_DIM
    """GeoCLIP location embeddings are 512-d (Supp. A.6)."""
    bce_weight: float = 0.01
    """Supp. A.5: "a weight of 0.01 on the BCE loss"."""
    checklist_threshold: float = 0.1
    """Sec. 4.2: range-model outputs binarised at 0.1 make the checklists."""
    logit_scale: float = GEOCLIP_LOG_SCALE
    """Log of the similarity multiplier (not in the paper; GeoCLIP's trained value)."""
    logit_scale_mode: str = "exp"
    """"exp": fixed exp(logit_scale); "learn": learnable, initialised there; "linear": multiply by
    ``logit_scale`` itself, as the authors' release does with ``--clip_scale``."""
    queue_size: int = 0
    """Extra negatives: a FIFO of past target embeddings (GeoCLIP uses 4096). The authors' release
    uses in-batch negatives only (0)."""
    freeze_encoder: bool = False
    """Train only the decoders (always so for the frozen BirdNET encoder)."""
    month_weight: float = 0.0
    """Supp. Table A8: weight of the auxiliary month-of-recording cross-entropy (tried: 0.1, 0.8, 1.0,
    2.0, 5.0); 0 (the paper's AG-CLIP) builds no month decoder."""
    location_encoder: str = "geoclip"
    """The location space (Sec. 4.3, Table 2b; :mod:`geoforensics.models.location_encoders`):
    "geoclip" (the paper's), "range" (SINR-style), "learned-rff" (GeoCLAP-style, trained jointly:
    adds the ``location_tower`` submodule) or "satclip" (no weights offline). ``embed_dim`` follows
    the encoder's dimension."""

    def __post_init__(self) -> None:
        dim = location_encoder_info(self.location_encoder).dim
        if self.embed_dim != dim:
            if self.embed_dim != GEOCLIP_DIM:
                raise GeoforensicsError(
                    f"embed_dim {self.embed_dim} does not match location encoder {self.location_encoder!r} ({dim}-d)"
                )
            object.__setattr__(self, "embed_dim", dim)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AGCLIPConfig:
        """The config of a plain dict, refusing unknown keys."""
        return config_from_dict(cls, d, "model config")

    def resolved_decoder(self) -> str:
        if self.decoder == "auto":
            return "separate" if self.encoder == "birdnet" else "joint"
        if self.decoder not in ("separate", "joint"):
            raise GeoforensicsError(f"decoder must be auto, separate or joint, not {self.decoder!r}")
        return self.decoder


def mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """Linear -> ReLU -> Linear."""
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))


@dataclass
class AGCLIPOutput:
    """``location``: [B, 512] L2-normalised; ``checklist_logits``: [B, n_species]; ``month_logits``:
    [B, 12], None without a month decoder."""

    location: torch.Tensor
    checklist_logits: torch.Tensor
    month_logits: torch.Tensor | None = None


class AGCLIPModel(nn.Module):
    """Audio encoder + location and checklist decoders, and the logit scale."""

    def __init__(self, config: AGCLIPConfig, encoder: AudioEncoder | None = None) -> None:
        super().__init__()
        self.config = config
        self.encoder = encoder if encoder is not None else create_audio_encoder(config.encoder, config.pretrained)
        d, h = self.encoder.out_dim, config.hidden_dim
        self.decoder_kind = config.resolved_decoder()
        if config.month_weight < 0:
            raise GeoforensicsError(f"month_weight must be >= 0, not {config.month_weight}")
        n_month = 12 if config.month_weight > 0 else 0
        if self.decoder_kind == "joint":
            self.head = mlp(d, h, config.n_species + config.embed_dim + n_month)
            self.month_decoder = None
        else:
            self.location_decoder = mlp(d, h, config.embed_dim)
            self.checklist_decoder = mlp(d, h, config.n_species)
            self.month_decoder = mlp(d, h, 12) if n_month else None
        if config.logit_scale_mode not in ("exp", "learn", "linear"):
            raise GeoforensicsError(f"logit_scale_mode must be exp, learn or linear, not {config.logit_scale_mode!r}")
        value = torch.tensor(float(config.logit_scale))
        if config.logit_scale_mode == "learn":
            self.log_logit_scale = nn.Parameter(value)
        else:
            self.register_buffer("log_logit_scale", value)
        if self.encoder.frozen or config.freeze_encoder:
            self.encoder.requires_grad_(False)

        info = location_encoder_info(config.location_encoder)
        if info.missing:
            raise MissingWeightsError(info.missing)
        self.location_tower = create_location_encoder(config.location_encoder) if info.trainable else None

    @property
    def input_kind(self) -> str:
        return self.encoder.input_kind

    @property
    def location_encoder(self) -> Any:
        """The encoder of the location space (gallery embeddings): the own ``location_tower`` when
        trainable, else the shared frozen encoder (never a submodule, so not in the state dict)."""
        if self.location_tower is not None:
            return self.location_tower

        return get_location_encoder(self.config.location_encoder)

    def target_encoder(self) -> Any:
        """What data pipelines encode true locations with (``.encode(latlon)``): the frozen encoder's
        embeddings, or coordinates that :meth:`location_targets` embeds with the trainable tower."""
        if self.location_tower is not None:

            return CoordinateTargets()
        return self.location_encoder

    def location_targets(self, target: torch.Tensor) -> torch.Tensor:
        """Batch targets from :meth:`target_encoder` -> unit embeddings [B, embed_dim] (with grad
        through the trainable tower)."""
        if self.location_tower is not None:
            targets: torch.Tensor = self.location_tower.targets(target)
            return targets
        return target

    def logit_scale(self) -> torch.Tensor:
        """The multiplier of cosine similarities."""
        if self.config.logit_scale_mode == "linear":
            return self.log_logit_scale
        return self.log_logit_scale.exp()

    def decode(self, features: torch.Tensor) -> AGCLIPOutput:
        """Encoder features [B, D] -> outputs."""
        month = None
        if self.decoder_kind == "joint":
            out = self.head(features)
            ns, ne = self.config.n_species, self.config.embed_dim
            logits, loc = out[:, :ns], out[:, ns : ns + ne]
            if self.config.month_weight > 0:
                month = out[:, ns + ne :]
        else:
            loc, logits = self.location_decoder(features), self.checklist_decoder(features)
            if self.month_decoder is not None:
                month = self.month_decoder(features)
        return AGCLIPOutput(F.normalize(loc.float(), dim=-1), logits, month)

    def forward(self, x: torch.Tensor) -> AGCLIPOutput:
        """Mel images [B, 3, 224, 224] or BirdNET scores [B, 6522] -> outputs."""
        return self.decode(self.encoder(x))

    @torch.inference_mode()
    def embed(self, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """[B, 512] L2-normalised location embeddings, in batches, in eval mode."""
        was = self.training
        self.eval()
        try:
            outs = [self(x[i : i + batch_size]).location for i in range(0, len(x), batch_size)]
        finally:
            self.train(was)
        return torch.cat(outs) if outs else torch.zeros(0, self.config.embed_dim)


def contrastive_loss(
    pred: torch.Tensor, target: torch.Tensor, scale: torch.Tensor | float, queue: torch.Tensor | None = None
) -> torch.Tensor:
    """InfoNCE of predicted embeddings [B, D] against their targets [B, D] (both unit length); the
    other targets of the batch (and ``queue`` [Q, D], if given) are the negatives."""
    keys = target if queue is None or len(queue) == 0 else torch.cat([target, queue.to(target)])
    logits = scale * (pred @ keys.T)
    return F.cross_entropy(logits, torch.arange(len(pred), device=pred.device))


def checklist_bce(logits: torch.Tensor, checklist: torch.Tensor) -> torch.Tensor:
    """BCE summed over species and averaged over the batch (the authors' release: ``sum() / batch_size``)."""
    return F.binary_cross_entropy_with_logits(logits.float(), checklist.float(), reduction="sum") / len(logits)


class TargetQueue:
    """FIFO of past target embeddings used as extra negatives (GeoCLIP's dynamic queue)."""

    def __init__(self, size: int, dim: int = GEOCLIP_DIM) -> None:
        self.size = size
        self.items = torch.zeros(0, dim)

    def get(self) -> torch.Tensor | None:
        return self.items if len(self.items) else None

    def push(self, target: torch.Tensor) -> None:
        if self.size > 0:
            self.items = torch.cat([target.detach().float().cpu(), self.items])[: self.size]


def month_cross_entropy(logits: torch.Tensor, month: torch.Tensor | None) -> torch.Tensor:
    """Cross-entropy of month logits [B, 12] against month indices [B] (0-11), averaged over the
    examples whose month is known; -1 (unknown) is ignored, and a batch without any known month gives
    0 (still connected to ``logits``, as DDP needs)."""
    if month is None:
        return logits.float().sum() * 0.0
    month = month.to(logits.device).long()
    total = F.cross_entropy(logits.float(), month, ignore_index=-1, reduction="sum")
    return total / (month >= 0).sum().clamp(min=1)


def agclip_loss(
    model: AGCLIPModel,
    out: AGCLIPOutput,
    target: torch.Tensor,
    checklist: torch.Tensor,
    queue: torch.Tensor | None = None,
    month: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """contrastive + ``bce_weight`` x checklist BCE (Supp. A.5) [+ ``month_weight`` x month
    cross-entropy (Supp. Table A8), when the model has a month decoder; ``month`` [B]: 0-11, -1 unknown];
    returns the loss and its parts."""
    scale = model.logit_scale()
    lc = contrastive_loss(out.location, target, scale, queue)
    lb = checklist_bce(out.checklist_logits, checklist)
    loss = lc + model.config.bce_weight * lb
    lm = 0.0
    if model.config.month_weight > 0 and out.month_logits is not None:
        month_loss = month_cross_entropy(out.month_logits, month)
        loss = loss + model.config.month_weight * month_loss
        lm = float(month_loss.detach())
    return loss, {
        "loss": float(loss.detach()), "contrastive": float(lc.detach()), "bce": float(lb.detach()), "month": lm
    }


# -- checkpoints -----------------------------------------------------------------------------


def save_checkpoint_file(model: AGCLIPModel, path: Path, half: bool = False, **extra: Any) -> None:
    """Write ``{"config", "state_dict", ...extra}`` loadable with ``weights_only=True`` (only plain types).

    ``half`` stores floats as float16, except a trainable ``location_tower``: its Fourier frequencies
    (up to ~1,000 at sigma 256) would lose the phase in float16."""
    state = {
        k: (v.half() if half and v.is_floating_point() and not k.startswith("location_tower.") else v).clone()
        for k, v in model.state_dict().items()
    }
    torch.save({"config": asdict(model.config), "state_dict": state, **extra}, path)


def model_from_checkpoint(blob: dict[str, Any]) -> AGCLIPModel:
    """An eval-mode model from a checkpoint dict written by :func:`save_checkpoint_file`."""
    model = AGCLIPModel(AGCLIPConfig.from_dict(blob["config"]))
    state = {k: v.float() if v.is_floating_point() else v for k, v in blob["state_dict"].items()}
    model.load_state_dict(state, strict=True)
    return model.eval()


def build_agclip(pretrained: Path | None = None, **config: Any) -> AGCLIPModel:
    """The registry's builder of "agclip": an eval-mode model from the checkpoint file ``pretrained``
    (a shipped head already verified by the registry, or a user's file), else an untrained model with
    ``AGCLIPConfig`` fields ``config``."""
    if pretrained is None:
        return AGCLIPModel(AGCLIPConfig.from_dict(config))
    if config:
        raise GeoforensicsError(f"a checkpoint carries its own config: drop {', '.join(sorted(config))}")
    blob = load_checkpoint_blob(pretrained, "AG-CLIP checkpoint")
    if not isinstance(blob, dict) or "config" not in blob or "state_dict" not in blob:
        raise InputError(f"{pretrained} is not an AG-CLIP checkpoint (see `geoforensics train`)")
    return model_from_checkpoint(blob)


__all__ = [
    "AGCLIPConfig",
    "AGCLIPModel",
    "AGCLIPOutput",
    "TargetQueue",
    "agclip_loss",
    "build_agclip",
    "checklist_bce",
    "contrastive_loss",
    "embed_clip",
    "model_from_checkpoint",
    "month_cross_entropy",
    "pool_windows",
    "save_checkpoint_file",
]


POOLINGS = ("mean", "max", "kmeans", "scores-max", "transformer")
KMEANS_K = 5
"""Sec. 4.3 / Table 2c: "cluster the embeddings via K Means (k=5) and then use the centroid of the
largest cluster as the aggregate"."""


def kmeans_largest_centroid(
    embeddings: torch.Tensor, k: int = KMEANS_K, iters: int = 50, seed: int = 0
) -> torch.Tensor:
    """Centroid [D] of the largest cluster of a k-means (Lloyd, Euclidean, k-means++ seeding with a
    fixed ``seed``) over ``embeddings`` [n, D]; ``k`` is capped at n. Ties go to the lower cluster index."""
    x = embeddings.float()
    n = len(x)
    if n == 0:
        return torch.zeros(x.shape[-1])
    k = max(1, min(int(k), n))
    g = torch.Generator().manual_seed(seed)
    idx = [int(torch.randint(n, (1,), generator=g))]
    for _ in range(1, k):
        d2 = torch.cdist(x, x[idx]).min(1).values ** 2
        if float(d2.sum()) <= 0:
            break
        idx.append(int(torch.multinomial(d2 / d2.sum(), 1, generator=g)))
    centres = x[idx].clone()
    assign = torch.cdist(x, centres).argmin(1)
    for _ in range(iters):
        for c in range(len(centres)):
            members = x[assign == c]
            if len(members):
                centres[c] = members.mean(0)
        new = torch.cdist(x, centres).argmin(1)
        if torch.equal(new, assign):
            break
        assign = new
    counts = torch.bincount(assign, minlength=len(centres))
    return centres[int(torch.argmax(counts))]


def pool_windows(embeddings: torch.Tensor, how: str = "mean", pooler: Any = None) -> torch.Tensor:
    """One recording embedding [512] (unit length) from window embeddings [n, 512].

    "mean": the paper's average of window predictions (Sec. 3 "Handling Variable Length");
    "max": element-wise maximum; "kmeans": centroid of the largest of k=5 k-means clusters (Sec. 4.3);
    "transformer": a trained :class:`~geoforensics.models.pooling.TransformerPooler` (Supp. A.6),
    passed as ``pooler``. ("scores-max", max-pooling the BirdNET scores before the decoder, is input
    pooling: see :func:`embed_clip`.)
    """
    if how == "transformer":
        if pooler is None:
            raise GeoforensicsError("pooling 'transformer' needs a trained pooler (see `geoforensics train-pooler`)")
        pooled: torch.Tensor = pooler.pool(embeddings)
        return pooled
    if how == "mean":
        v = embeddings.mean(0)
    elif how == "max":
        v = embeddings.max(0).values
    elif how == "kmeans":
        v = kmeans_largest_centroid(embeddings)
    else:
        raise GeoforensicsError(f"unknown pooling {how!r}; known: {', '.join(POOLINGS)}")
    return F.normalize(v, dim=-1)


def embed_clip(
    model: AGCLIPModel, inputs: torch.Tensor, how: str = "mean", pooler: Any = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(clip embedding [512], window embeddings [n, 512]) of one recording's window inputs.

    "scores-max" (birdnet encoder only) embeds the element-wise maximum of the windows' BirdNET
    scores, as the species-ranges geolocator pools them; other names pool window embeddings
    (``pooler`` for "transformer", see :func:`pool_windows`).
    """
    emb = model.embed(inputs)
    if how == "scores-max":
        if model.input_kind != "birdnet":
            raise GeoforensicsError("pooling 'scores-max' needs the birdnet encoder")
        return model.embed(inputs.max(0).values[None])[0], emb
    return pool_windows(emb, how, pooler), emb
