"""The AG-CLIP training loop: one code path for 1 CPU, 1 GPU and ``torchrun`` (DDP).

Under ``torchrun`` (``WORLD_SIZE`` > 1) the process group uses gloo on CPU and nccl on GPU, the model
is wrapped in DistributedDataParallel, real data are sharded with DistributedSampler and simulated
batches are drawn from a per-rank generator. Every random draw is seeded by (seed, epoch, rank), so a
resumed run continues the same sequence. Rank 0 writes checkpoints (``last.pt`` each epoch,
``best.pt`` on a better validation median) and ``log.csv``.

Batches are ``(x, target, checklist, month)`` for both sources; ``month`` (0-11, -1 unknown) feeds the
optional month loss (``model.month_weight``, Supp. Table A8). ``data.resample`` (Supp. Table A7)
replaces the uniform sampler of dataset recordings with a weighted one with replacement (per rank
under DDP, ``len(ds) // world`` draws each), and weights the simulator's pool of places.

``model.location_encoder`` picks the location space (:mod:`geoforensics.models.location_encoders`).
For a frozen one, ``target`` holds its embeddings and the validation gallery is embedded once; for
the trainable ``learned-rff`` tower, ``target`` holds (lat, lon) and the step embeds it with the
model's tower (with grad), and the gallery is re-embedded at each validation.
"""

from __future__ import annotations

import contextlib
import csv
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ..atomic import atomic_path
from ..data import open_dataset
from ..geo.galleries import get_gallery
from ..geo.geodesy import haversine_km
from ..geo.metrics import geolocation_metrics
from ..models.agclip import AGCLIPModel, TargetQueue, agclip_loss, embed_clip
from ..models.location_encoders import get_location_encoder
from .config import TrainConfig, lr_at
from .data import WindowDataset
from .resample import EpochWeightedSampler
from .simulate import ScoreSimulator

LOG_FIELDS = (
    "epoch", "lr", "loss", "contrastive", "bce", "month", "val_median_km", "val_mean_km", "val_continent", "seconds"
)


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed(device: torch.device) -> DistInfo:
    """Join the ``torchrun`` process group when ``WORLD_SIZE`` > 1 (gloo on CPU, nccl on CUDA)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def pick_device(name: str, info_local_rank: int = 0) -> torch.device:
    if name == "auto":
        return torch.device(f"cuda:{info_local_rank}" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


# -- batches ---------------------------------------------------------------------------------


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
"""(model inputs, target location embeddings, checklists, month indices)"""


def simulated_batches(sim: Any, cfg: TrainConfig, epoch: int, info: DistInfo) -> Iterator[Batch]:
    rng = np.random.default_rng((cfg.seed, epoch, info.rank))
    per_rank = max(cfg.batch_size // info.world, 1)
    steps = cfg.sim.steps_per_epoch
    for _ in range(steps):
        b = sim.batch(rng, per_rank)
        yield b.scores, b.target, b.checklist, b.month


def dataset_batches(loader: Any, epoch: int) -> Iterator[Batch]:
    if hasattr(loader.sampler, "set_epoch"):
        loader.sampler.set_epoch(epoch)
    loader.dataset.set_epoch(epoch)
    for x, target, checklist, month, _ in loader:
        yield x, target, checklist, month


def make_loader(ds: Any, cfg: TrainConfig, info: DistInfo) -> Any:
    from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, Sampler


    g = torch.Generator().manual_seed(cfg.seed)
    sampler: Sampler[int]
    if cfg.data.resample != "none":
        sampler = EpochWeightedSampler(ds.sampling_weights(), max(len(ds) // info.world, 1), cfg.seed, info.rank)
    elif info.world > 1:
        sampler = DistributedSampler(
            ds, num_replicas=info.world, rank=info.rank, shuffle=True, seed=cfg.seed, drop_last=True
        )
    else:
        sampler = RandomSampler(ds, generator=g)
    return DataLoader(
        ds,
        batch_size=max(cfg.batch_size // info.world, 1),
        sampler=sampler,
        num_workers=cfg.data.num_workers,
        drop_last=False,
    )


# -- evaluation ------------------------------------------------------------------------------


def gallery_embeddings(name: str, location_encoder: Any = None) -> tuple[np.ndarray, torch.Tensor]:
    """(gallery (N, 2), location embeddings (N, D)) of a named gallery, cached by the encoder
    (default GeoCLIP's, disk-cached)."""
    latlon = np.asarray(get_gallery(name).latlon, dtype=np.float64)
    enc = location_encoder if location_encoder is not None else get_location_encoder("geoclip")
    return latlon, enc.gallery_embeddings(latlon, name)


def retrieve(clip_emb: torch.Tensor, gallery: np.ndarray, gallery_emb: torch.Tensor) -> np.ndarray:
    """(n, 2) gallery points most similar to each clip embedding [n, 512]."""
    idx = (clip_emb.float() @ gallery_emb.T.float()).argmax(1).numpy()
    points: np.ndarray = gallery[idx]
    return points


@torch.no_grad()
def validate_windows(
    model: AGCLIPModel, inputs: torch.Tensor, clip: np.ndarray, true: np.ndarray, gallery: np.ndarray,
    gallery_emb: torch.Tensor, device: torch.device, pooling: str = "mean",
) -> dict[str, float]:
    """Metrics of pooled retrieval for windows ``inputs`` grouped by ``clip`` ids (true (n_clips, 2))."""
    x = inputs.to(device)
    pooled = torch.stack(
        [embed_clip(model, x[torch.from_numpy(clip == c)], pooling)[0].cpu() for c in range(len(true))]
    )
    return geolocation_metrics(haversine_km(retrieve(pooled, gallery, gallery_emb), true))


@torch.no_grad()
def validate_dataset(
    model: AGCLIPModel, ds: Any, gallery: np.ndarray, gallery_emb: torch.Tensor, device: torch.device,
    pooling: str = "mean",
) -> dict[str, float]:
    """Metrics over a :class:`WindowDataset` with every window of each recording, pooled."""
    pooled = [embed_clip(model, ds.all_windows(i).to(device), pooling)[0].cpu() for i in range(len(ds))]
    return geolocation_metrics(haversine_km(retrieve(torch.stack(pooled), gallery, gallery_emb), ds.latlon))


# -- checkpoints -----------------------------------------------------------------------------


def save_training_state(
    path: Path, model: AGCLIPModel, opt: Any, scaler: Any, epoch: int, best: float, bad: int, cfg: TrainConfig,
    queue: TargetQueue,
) -> None:
    from dataclasses import asdict

    blob = {
        "config": asdict(model.config),
        "state_dict": model.state_dict(),
        "optimizer": opt.state_dict(),
        "scaler": scaler.state_dict(),
        "epoch": epoch,
        "best_median_km": best,
        "epochs_without_improvement": bad,
        "train_config": cfg.to_dict(),
        "queue": queue.items,
    }
    with atomic_path(path) as tmp:
        torch.save(blob, tmp)


# -- the loop --------------------------------------------------------------------------------


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    """Nested dict with tuples as lists (YAML/JSON friendly)."""
    return {k: _plain(v) if isinstance(v, dict) else list(v) if isinstance(v, tuple) else v for k, v in d.items()}


@dataclass
class _EpochSource:
    """Where an epoch's batches come from, how the model is validated, and the steps of an epoch."""

    batches: Callable[[int], Iterator[Batch]]
    validate: Callable[[], dict[str, float]]
    steps: int


@dataclass
class _Run:
    """What every training step uses."""

    cfg: TrainConfig
    info: DistInfo
    device: torch.device
    model: AGCLIPModel
    net: torch.nn.Module  # what the training steps call: the model, or its DDP wrapper
    opt: torch.optim.Optimizer
    scaler: Any
    queue: TargetQueue
    use_amp: bool


def _train_device(cfg: TrainConfig) -> tuple[torch.device, DistInfo]:
    """This rank's device and its place in the ``torchrun`` process group."""
    device = pick_device(cfg.device, int(os.environ.get("LOCAL_RANK", "0")))
    info = setup_distributed(device)
    if cfg.device == "auto" and device.type == "cuda":
        device = torch.device(f"cuda:{info.local_rank}")
    return device, info


def _prepare_output(cfg: TrainConfig, info: DistInfo) -> Path:
    """The output folder; rank 0 creates it and writes ``config.yaml``."""
    out = Path(cfg.output_dir)
    if info.main:
        out.mkdir(parents=True, exist_ok=True)
        import yaml

        (out / "config.yaml").write_text(yaml.safe_dump(_plain(cfg.to_dict()), sort_keys=False))
    return out


def _validation_gallery(model: AGCLIPModel, cfg: TrainConfig) -> tuple[np.ndarray, Callable[[], torch.Tensor]]:
    """The validation gallery (N, 2) and the call that gives its location embeddings."""
    fixed_gallery_emb: torch.Tensor | None
    if model.location_tower is None:
        gallery, fixed_gallery_emb = gallery_embeddings(cfg.val_gallery, model.location_encoder)
    else:
        gallery, fixed_gallery_emb = np.asarray(get_gallery(cfg.val_gallery).latlon, dtype=np.float64), None

    def val_gallery_emb() -> torch.Tensor:
        """Frozen encoders: computed once; a trainable tower: re-embedded after each epoch's updates."""
        if fixed_gallery_emb is not None:
            return fixed_gallery_emb
        emb: torch.Tensor = model.location_encoder.gallery_embeddings(gallery, cfg.val_gallery)
        return emb

    return gallery, val_gallery_emb


def _simulated_source(
    cfg: TrainConfig, model: AGCLIPModel, info: DistInfo, device: torch.device, gallery: np.ndarray,
    val_gallery_emb: Callable[[], torch.Tensor],
) -> _EpochSource:
    """Simulated BirdNET score batches, validated on a fixed simulated set."""
    if model.input_kind != "birdnet":
        raise ValueError("simulated data are BirdNET scores: use model.encoder = birdnet")

    sim = ScoreSimulator(cfg.sim, location_encoder=model.target_encoder())
    vb = sim.batch(np.random.default_rng((cfg.seed, 10**6)), cfg.sim.val_clips, cfg.sim.val_windows)
    true = vb.latlon[:: cfg.sim.val_windows]
    sim.resample_pool(cfg.data.resample, cfg.data.resample_power, cfg.data.resample_h3_res)

    def batches(epoch: int) -> Iterator[Batch]:
        return simulated_batches(sim, cfg, epoch, info)

    def validate() -> dict[str, float]:
        return validate_windows(model, vb.scores, vb.clip, true, gallery, val_gallery_emb(), device, cfg.val_pooling)

    return _EpochSource(batches, validate, cfg.sim.steps_per_epoch)


def _dataset_source(
    cfg: TrainConfig, model: AGCLIPModel, info: DistInfo, device: torch.device, gallery: np.ndarray,
    val_gallery_emb: Callable[[], torch.Tensor],
) -> _EpochSource:
    """Batches of a recording dataset, validated on its held-out split (or on ``data.val_path``)."""
    kind = model.input_kind
    ds_all = open_dataset(cfg.data.path)
    if cfg.data.limit:
        ds_all = ds_all[: cfg.data.limit]
    if cfg.data.val_path:
        tr, va = ds_all, open_dataset(cfg.data.val_path)
    else:
        tr, va = ds_all.split(
            (1 - cfg.data.val_fraction, cfg.data.val_fraction), seed=cfg.seed, group=lambda r: r.latlon
        )
    thr = cfg.model.checklist_threshold
    targets = model.target_encoder()
    train_ds = WindowDataset(
        tr, kind, cfg.data, location_encoder=targets, checklist_threshold=thr, train=True, seed=cfg.seed
    )
    val_ds = WindowDataset(
        va if len(va) else tr,
        kind,
        cfg.data,
        location_encoder=targets,
        checklist_threshold=thr,
        train=False,
        seed=cfg.seed,
    )
    loader = make_loader(train_ds, cfg, info)

    def batches(epoch: int) -> Iterator[Batch]:
        return dataset_batches(loader, epoch)

    def validate() -> dict[str, float]:
        return validate_dataset(model, val_ds, gallery, val_gallery_emb(), device, cfg.val_pooling)

    return _EpochSource(batches, validate, len(loader))


def _epoch_source(
    cfg: TrainConfig, model: AGCLIPModel, info: DistInfo, device: torch.device, gallery: np.ndarray,
    val_gallery_emb: Callable[[], torch.Tensor],
) -> _EpochSource:
    """The training data of ``data.source``, at most ``max_steps_per_epoch`` steps an epoch."""
    make = _simulated_source if cfg.data.source == "simulated" else _dataset_source
    source = make(cfg, model, info, device, gallery, val_gallery_emb)
    if cfg.max_steps_per_epoch:
        source.steps = min(source.steps, cfg.max_steps_per_epoch)
    return source


def _make_optimizer(cfg: TrainConfig, model: AGCLIPModel) -> torch.optim.Optimizer:
    """The optimiser of ``cfg.optimizer`` over the model's trainable parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd_nesterov":
        return torch.optim.SGD(
            params, lr=cfg.lr_start, momentum=cfg.momentum, nesterov=True, weight_decay=cfg.weight_decay
        )
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr_start, weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}")


def _resume(
    cfg: TrainConfig, last: Path, model: AGCLIPModel, opt: torch.optim.Optimizer, scaler: Any, queue: TargetQueue
) -> tuple[int, float, int]:
    """(first epoch, best validation median, epochs without improvement); restored from ``last`` on resume."""
    if not (cfg.resume and last.is_file()):
        return 0, float("inf"), 0
    blob = torch.load(last, map_location="cpu", weights_only=True)
    model.load_state_dict(blob["state_dict"])
    opt.load_state_dict(blob["optimizer"])
    scaler.load_state_dict(blob["scaler"])
    queue.items = blob["queue"]
    return int(blob["epoch"]) + 1, float(blob["best_median_km"]), int(blob["epochs_without_improvement"])


def _wrap_model(model: AGCLIPModel, info: DistInfo, device: torch.device) -> torch.nn.Module:
    """The model, wrapped in DistributedDataParallel under ``torchrun``."""
    if info.world <= 1:
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(model, device_ids=[device.index] if device.type == "cuda" else None)


def _train_step(run: _Run, batch: Batch, lr: float) -> dict[str, float]:
    """One optimiser step on ``batch`` at learning rate ``lr``; its loss parts."""
    for g in run.opt.param_groups:
        g["lr"] = lr
    device = run.device
    x, target, checklist, month = batch
    x, target, checklist, month = x.to(device), target.to(device), checklist.to(device), month.to(device)
    with torch.autocast(device.type, enabled=run.use_amp) if run.use_amp else contextlib.nullcontext():
        o = run.net(x)
        target = run.model.location_targets(target)
        loss, parts = agclip_loss(run.model, o, target, checklist, run.queue.get(), month=month)
    run.opt.zero_grad(set_to_none=True)
    run.scaler.scale(loss).backward()
    run.scaler.step(run.opt)
    run.scaler.update()
    run.queue.push(target)
    return parts


def _train_epoch(run: _Run, source: _EpochSource, epoch: int) -> tuple[dict[str, float], int]:
    """The training steps of one epoch: (summed loss parts, steps run)."""
    cfg, steps = run.cfg, source.steps
    run.net.train()
    sums = {"loss": 0.0, "contrastive": 0.0, "bce": 0.0, "month": 0.0}
    n = 0
    bar = None
    if cfg.progress and run.info.main:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{cfg.epochs}", leave=False)
    for step, batch in enumerate(source.batches(epoch)):
        if step >= steps:
            break
        lr = lr_at(epoch + step / max(steps, 1), cfg)
        parts = _train_step(run, batch, lr)
        for k in sums:
            sums[k] += parts[k]
        n += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{parts['loss']:.3f}", lr=f"{lr:.2e}")
    if bar is not None:
        bar.close()
    return sums, n


def _epoch_row(
    cfg: TrainConfig, epoch: int, sums: dict[str, float], n: int, val: dict[str, float], t0: float
) -> dict[str, Any]:
    """The epoch's line of the history and of ``log.csv``: mean loss parts and validation metrics."""
    return {
        "epoch": epoch + 1,
        "lr": lr_at(epoch + 1, cfg),
        **{k: v / max(n, 1) for k, v in sums.items()},
        "val_median_km": val["median_error"],
        "val_mean_km": val["mean_error"],
        "val_continent": val["continent"],
        "seconds": time.perf_counter() - t0,
    }


def _append_log(log_path: Path, row: dict[str, Any]) -> None:
    """Append ``row`` to ``log.csv`` (with the header when the file is new)."""
    new = not log_path.is_file()
    with open(log_path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        if new:
            w.writeheader()
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def _record_epoch(
    run: _Run, out: Path, row: dict[str, Any], epoch: int, best: float, bad: int, improved: bool
) -> None:
    """Rank 0's record of an epoch: the log row, ``last.pt`` (``best.pt`` when improved), the progress line."""
    cfg = run.cfg
    _append_log(out / "log.csv", row)
    save_training_state(out / "last.pt", run.model, run.opt, run.scaler, epoch, best, bad, cfg, run.queue)
    if improved:
        save_training_state(out / "best.pt", run.model, run.opt, run.scaler, epoch, best, bad, cfg, run.queue)
    if cfg.progress:
        print(
            f"epoch {epoch + 1}/{cfg.epochs}: loss {row['loss']:.4f} (contrastive {row['contrastive']:.4f}, "
            f"bce {row['bce']:.2f}), val median {row['val_median_km']:,.0f} km, {row['seconds']:.1f} s",
            flush=True,
        )


def train(cfg: TrainConfig) -> dict[str, Any]:
    """Train AG-CLIP per ``cfg``; returns {"epochs_run", "best_median_km", "history", "output_dir"}."""
    device, info = _train_device(cfg)
    seed_everything(cfg.seed)
    out = _prepare_output(cfg, info)

    model = AGCLIPModel(cfg.model).to(device)
    gallery, val_gallery_emb = _validation_gallery(model, cfg)
    source = _epoch_source(cfg, model, info, device, gallery, val_gallery_emb)

    opt = _make_optimizer(cfg, model)
    use_amp = bool(cfg.amp and device.type == "cuda")
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    queue = TargetQueue(cfg.model.queue_size, cfg.model.embed_dim)
    start, best, bad = _resume(cfg, out / "last.pt", model, opt, scaler, queue)
    run = _Run(cfg, info, device, model, _wrap_model(model, info, device), opt, scaler, queue, use_amp)

    history: list[dict[str, Any]] = []
    epoch = start - 1
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        sums, n = _train_epoch(run, source, epoch)
        row = _epoch_row(cfg, epoch, sums, n, source.validate(), t0)
        history.append(row)
        improved = row["val_median_km"] < best
        best, bad = (row["val_median_km"], 0) if improved else (best, bad + 1)
        if info.main:
            _record_epoch(run, out, row, epoch, best, bad, improved)
        if info.world > 1:
            dist.barrier()
        if cfg.early_stopping_patience and bad >= cfg.early_stopping_patience:
            break
    return {
        "epochs_run": epoch + 1,
        "best_median_km": best,
        "history": history,
        "output_dir": str(out),
        "model": model,
        "rank": info.rank,
    }
