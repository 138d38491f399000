"""``geoforensics train-pooler --output PATH.pt``: train the transformer pooling of Supp. A.6."""

from __future__ import annotations

import argparse

from ..errors import GeoforensicsError
from ..models.registry import create_model
from ..text import safe
from .options import number, shared

ORDER = 61


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "train-pooler",
        help="train a transformer to pool AG-CLIP window embeddings (Supp. A.6)",
        description=(
            "Train the transformer pooling of the paper's Supp. A.6 on a frozen AG-CLIP head: simulated clips "
            "of --min-windows..--max-windows BirdNET windows are embedded once by the head, and a transformer "
            "(6 layers, 8 heads, hidden 128, sequences of 32 windows) learns to pool them into one location "
            "embedding (contrastive loss, Adam lr 1e-3, weight decay 1e-3). Prints the loss per epoch and the "
            "validation median error on held-out simulated clips, next to mean pooling. Use the result with "
            "AGCLIPGeolocator(pooling='transformer', pooler=PATH). A quick CPU run: "
            "--epochs 10 --train-clips 1024 --layers 2. --gallery is the validation retrieval's."
        ),
        parents=shared("gallery"),
    )
    p.add_argument("--head", default="birdnet-sim-v1",
                   help="AG-CLIP head (shipped name or checkpoint .pt) reading BirdNET scores")
    p.add_argument("--output", required=True, metavar="PATH.pt", help="where to write the pooler")
    p.add_argument("--epochs", type=number(int, 1, 1_000_000), default=50, help="epochs (paper: 50)")
    p.add_argument("--steps-per-epoch", type=number(int, 1), default=None,
                   help="batches per epoch (default: one pass over the training clips)")
    p.add_argument("--batch-size", type=number(int, 2, 1_000_000), default=64,
                   help="clips per batch (in-batch negatives)")
    p.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0)
    p.add_argument("--train-clips", type=number(int, 2, 100_000_000), default=2048, help="simulated training clips")
    p.add_argument("--val-clips", type=number(int, 0, 100_000_000), default=256, help="held-out simulated clips")
    p.add_argument("--min-windows", type=number(int, 1, 10_000), default=4, help="fewest windows per simulated clip")
    p.add_argument("--max-windows", type=number(int, 1, 10_000), default=48, help="most windows per simulated clip")
    p.add_argument("--layers", type=number(int, 1, 64), default=6, help="transformer layers (paper: 6)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from ..models.pooling import TransformerPoolerConfig, save_pooler  # lazy: loads torch
    from ..train.pooling import train_pooler  # lazy: loads torch
    from ..train.simulate import ScoreSimulator, SimConfig  # lazy: loads torch

    out = Path(args.output)
    if out.suffix != ".pt":
        raise GeoforensicsError(f"--output must end in .pt, got {out}")
    if args.batch_size < 2:
        raise GeoforensicsError("--batch-size must be at least 2 (in-batch negatives)")
    model = create_model("agclip", pretrained=args.head)
    if model.input_kind != "birdnet":
        raise GeoforensicsError(
            f"head {args.head!r} reads {model.input_kind} inputs; simulated clips are BirdNET scores"
        )
    sim = ScoreSimulator(SimConfig(clip_prob=0.0))
    config = TransformerPoolerConfig(layers=args.layers)
    res = train_pooler(
        model,
        sim,
        config=config,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size,
        seed=args.seed,
        train_clips=args.train_clips,
        val_clips=args.val_clips,
        min_windows=args.min_windows,
        max_windows=args.max_windows,
        gallery=args.gallery,
        device=args.device,
        log=lambda line: print(line, flush=True),
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    save_pooler(
        out,
        res.pooler.cpu(),
        head=str(args.head),
        epochs=int(args.epochs),
        seed=int(args.seed),
        history=[{k: float(v) for k, v in row.items()} for row in res.history],
        val={k: float(v) for k, v in res.val.items()},
        val_mean_pooling={k: float(v) for k, v in res.val_mean_pooling.items()},
    )
    if res.val:
        v, b = res.val, res.val_mean_pooling
        print(
            f"validation ({args.val_clips} simulated clips, {safe(args.gallery)}): median {v['median_error']:,.0f} km, "
            f"continent {100 * v['continent']:.1f} %; mean pooling: median {b['median_error']:,.0f} km, "
            f"continent {100 * b['continent']:.1f} %"
        )
    print(f"saved {safe(out)}")
    return 0 if np.isfinite(res.history[-1]["loss"]) else 1
