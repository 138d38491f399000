"""``geoforensics train --config FILE``: train AG-CLIP (also under ``torchrun`` for DDP)."""

from __future__ import annotations

import argparse

from ..errors import InputError
from ..text import safe
from .options import number

ORDER = 60


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "train",
        help="train an AG-CLIP model from a YAML config",
        description=(
            "Train AG-CLIP (audio encoder + location and checklist decoders) as the paper does; see "
            "configs/agclip_paper.yaml. Run under `torchrun --nproc_per_node N -m geoforensics train ...` "
            "for DistributedDataParallel (gloo on CPU, nccl on GPU). Resumes from OUTPUT/last.pt."
        ),
    )
    p.add_argument("--config", required=True, metavar="FILE", help="YAML training config")
    p.add_argument("--output", metavar="DIR", help="output folder (overrides output_dir)")
    p.add_argument("--epochs", type=number(int, 1, 1_000_000), help="override epochs")
    p.add_argument("--no-resume", action="store_true", help="start afresh even if OUTPUT/last.pt exists")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a config field (dotted keys, YAML values)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import yaml

    from ..train.config import load_config  # lazy: loads torch
    from ..train.loop import train  # lazy: loads torch

    overrides = {}
    for item in args.set:
        if "=" not in item:
            raise InputError(f"--set expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        overrides[k] = yaml.safe_load(v)
    if args.output:
        overrides["output_dir"] = args.output
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.no_resume:
        overrides["resume"] = False
    result = train(load_config(args.config, overrides))
    if result["rank"] == 0:
        print(f"trained {result['epochs_run']} epochs; best validation median {result['best_median_km']:,.0f} km; "
              f"{safe(result['output_dir'])}")
    return 0
