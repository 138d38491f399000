"""The paper's AG-CLIP ablations (Table 2b location encoder / checklist, Table 2c transformer pooling,
Table A7 resampling, Table A8 month loss, and a GeoCLAP-style jointly trained location tower), each
trained with ``geoforensics train`` on the same simulated BirdNET scores and the same short budget, then
evaluated on xc-dev with the Table-1 machinery.

    .venv/bin/python benchmarks/agclip_ablations.py [--epochs 12] [--steps 60] [--variants base month-0.8 ...]

Every variant is ``configs/agclip_birdnet_sim.yaml`` with one change (listed in :data:`VARIANTS`),
trained for ``--epochs`` x ``--steps`` batches of 128 (the shipped head had 40 x 60), so the rows
compare variants at one budget; the "base" row is the shipped recipe at that budget, not the shipped
head. Checkpoints go to ``runs/ablations/<variant>/best.pt`` (re-used unless ``--retrain``). Prints and
saves ``benchmarks/results/agclip_ablations.md``/``.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import machine, save_results  # noqa: E402
from geoforensics.evaluation.table1 import (  # noqa: E402
    TableSystem,
    load_samples,
    markdown_table,
    register_agclip_checkpoint,
    register_table1_system,
    run_table1,
)

BASE_CONFIG = ROOT / "configs" / "agclip_birdnet_sim.yaml"
RUNS = ROOT / "runs" / "ablations"

VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "base": ("GeoCLIP + checklist, separate decoders (the shipped recipe)", {}),
    "range-encoder": ("SINR-style: range-model species vector as location encoder (Table 2b)",
                      {"model.location_encoder": "range"}),
    # in-batch negatives only: a queue of detached outputs of a tower that keeps changing made the
    # contrastive loss climb to chance (ln 4,224) within 12 epochs; with queue 0 it falls
    "geoclap-style": ("GeoCLAP-style: location tower (RFF MLP) trained jointly from scratch, in-batch negatives",
                      {"model.location_encoder": "learned-rff", "model.queue_size": 0}),
    "resample-location-1/n": ("resampling by location, w ~ 1/n (Table A7)",
                              {"data.resample": "location", "data.resample_power": 1.0}),
    "resample-location-1/sqrt(n)": ("resampling by location, w ~ 1/sqrt(n) (Table A7)",
                                    {"data.resample": "location", "data.resample_power": 0.5}),
    # Auxiliary losses reach the location output only through shared trainable parameters; the BirdNET
    # encoder is frozen, so they are ablated on the joint decoder (one hidden layer shared by all outputs).
    "joint": ("GeoCLIP + checklist, joint decoder (authors' release)", {"model.decoder": "joint"}),
    "joint-no-checklist": ("joint decoder, no checklist loss (Table 2b)",
                           {"model.decoder": "joint", "model.bce_weight": 0.0}),
    "joint-month-0.8": ("joint decoder + month loss, weight 0.8 (Table A8)",
                        {"model.decoder": "joint", "model.month_weight": 0.8}),
    "joint-month-5.0": ("joint decoder + month loss, weight 5.0 (Table A8)",
                        {"model.decoder": "joint", "model.month_weight": 5.0}),
}


def train_variant(name: str, overrides: dict[str, Any], epochs: int, steps: int, retrain: bool,
                  seed: int = 0) -> tuple[Path, float]:
    """``best.pt`` of the variant at ``seed`` (trained unless present) and the training seconds (0 when re-used)."""
    from geoforensics.train.config import load_config
    from geoforensics.train.loop import train

    out = RUNS / (name.replace("/", "_") + (f"-seed{seed}" if seed else ""))
    best = out / "best.pt"
    if best.is_file() and not retrain:
        return best, 0.0
    if retrain and out.exists():
        for f in out.iterdir():
            f.unlink()
    cfg = load_config(BASE_CONFIG, {**overrides, "seed": seed, "epochs": epochs, "sim.steps_per_epoch": steps,
                                    "output_dir": str(out), "progress": False, "resume": False,
                                    "warmup_epochs": min(2, max(epochs // 6, 1))})
    t0 = time.perf_counter()
    result = train(cfg)
    secs = time.perf_counter() - t0
    print(f"{name} (seed {seed}): {result['epochs_run']} epochs, "
          f"simulated-val median {result['best_median_km']:,.0f} km, {secs:.0f} s",
          file=sys.stderr, flush=True)
    return best, secs


def train_transformer(head: Path, epochs: int, retrain: bool) -> tuple[Path, float]:
    """A transformer pooler (Supp. A.6) on top of the frozen ``head``, via ``geoforensics train-pooler``."""
    from geoforensics.cli import main as cli

    out = head.parent / "transformer-pooler.pt"
    if out.is_file() and not retrain:
        return out, 0.0
    t0 = time.perf_counter()
    rc = cli(["train-pooler", "--head", str(head), "--output", str(out), "--epochs", str(epochs), "--device", "cpu"])
    if rc != 0:
        raise SystemExit(f"train-pooler failed ({rc})")
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    global RUNS
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "xc-dev"), help="evaluation dataset")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS), metavar="NAME",
                    help=f"variants to train and evaluate (default all: {', '.join(VARIANTS)})")
    ap.add_argument("--epochs", type=int, default=12, help="epochs per variant (default 12)")
    ap.add_argument("--steps", type=int, default=60, help="batches of 128 per epoch (default 60)")
    ap.add_argument("--transformer", action="store_true", help="also train a transformer pooler on the base head")
    ap.add_argument("--pooler-epochs", type=int, default=10, help="epochs of the transformer pooler (paper: 50)")
    ap.add_argument("--seeds", type=int, default=1, help="train each variant with seeds 0..N-1 and report mean ± std")
    ap.add_argument("--retrain", action="store_true",
                    help="train again even if runs/ablations/<variant>/best.pt exists")
    ap.add_argument("--runs", default=str(RUNS), help="folder of the variants' training runs")
    ap.add_argument("--limit", type=int, default=0, help="evaluate on the first N recordings only")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "agclip_ablations"), help="output path stem")
    args = ap.parse_args(argv)
    RUNS = Path(args.runs).resolve()

    samples = load_samples(args.data, limit=args.limit)
    keys, info = [], {}
    per_seed: dict[str, list[str]] = {}
    for name in args.variants:
        label, overrides = VARIANTS[name]
        for seed in range(args.seeds):
            ckpt, secs = train_variant(name, overrides, args.epochs, args.steps, args.retrain, seed)
            key = register_agclip_checkpoint(name if seed == 0 else f"{name} seed {seed}", ckpt).key
            per_seed.setdefault(name, []).append(key)
            if seed == 0:
                keys.append(key)
                info[key] = {"variant": name, "description": label, "overrides": overrides, "train_seconds": [],
                             "checkpoint": str(ckpt)}
            info[per_seed[name][0]]["train_seconds"].append(round(secs, 1))
    if args.transformer:
        base, _ = train_variant("base", {}, args.epochs, args.steps, False)
        ckpt, secs = train_transformer(base, args.pooler_epochs, args.retrain)
        from geoforensics.evaluation.table1 import _opts

        system = register_table1_system(TableSystem(
            "agclip-base-transformer", "Retrieve", "AG-CLIP (base, transformer pooling)", "agclip", feed="scores",
            options=_opts(model=str(base), pooling="transformer", pooler=str(ckpt), gallery="land-1")))
        keys.append(system.key)
        info[system.key] = {"variant": "transformer", "description": "transformer pooling (Supp. A.6) on the base head",
                            "train_seconds": [round(secs, 1)], "checkpoint": str(ckpt)}
    results = run_table1(samples, keys)
    for r in results:
        seeds_keys = per_seed.get(info[r.system.key]["variant"], [])
        if len(seeds_keys) > 1:
            r.seed_metrics = [r.metrics] + [x.metrics for x in run_table1(samples, seeds_keys[1:])]
    n = len(samples)
    lines = [
        f"# AG-CLIP ablations on {Path(args.data).name} ({n} recordings)",
        "",
        f"Each variant: `{BASE_CONFIG.relative_to(ROOT)}` with one change, {args.epochs} epochs x {args.steps} "
        "batches of 128 simulated BirdNET score vectors (the shipped head: 40 x 60), best epoch by simulated "
        "validation median; evaluated on real xc-dev BirdNET scores, mean-pooled windows, land-1 gallery.",
        f"Command: `.venv/bin/python benchmarks/agclip_ablations.py --epochs {args.epochs} --steps {args.steps}"
        + (f" --seeds {args.seeds}" if args.seeds > 1 else "")
        + (f" --transformer --pooler-epochs {args.pooler_epochs}" if args.transformer else "") + "`",
        f"Machine: {machine()}.",
        "",
        markdown_table(results, n),
        "",
        "| row | change | training s (per seed; 0 = re-used) |",
        "|---|---|---|",
    ]
    for r in results:
        i = info[r.system.key]
        secs = ", ".join(f"{t:.0f}" for t in i["train_seconds"])
        lines.append(f"| {r.system.row_name} | {i['description']} | {secs} |")
    text = "\n".join(lines) + "\n"
    save_results(args.out, text, {
        "n": n, "epochs": args.epochs, "steps": args.steps, "machine": machine(),
        "rows": {r.system.key: {**info[r.system.key], **r.metrics,
                                **({"seeds": r.seed_metrics} if len(r.seed_metrics) > 1 else {})} for r in results}})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
