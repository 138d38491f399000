"""``geoforensics table1 --data DIR --gold GOLD.csv --out OUTDIR``: the paper's Table 1 on a dataset."""

from __future__ import annotations

import argparse
import shlex
import sys

from ..batch import cache_scores
from ..data import open_dataset
from ..defaults import MAX_DURATION_S
from ..errors import InputError
from ..evaluation.aggregation import aggregation_markdown, aggregation_rows
from ..evaluation.evaluate import read_points_csv
from ..evaluation.table1 import (
    SYSTEMS,
    Sample,
    SystemResult,
    TableSystem,
    load_samples,
    register_agclip_checkpoint,
    run_table1,
    table1_systems,
    write_report,
)
from ..progress import print_progress
from ..text import safe
from .options import number, shared

ORDER = 45


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "table1",
        help="run the Table-1 systems on a dataset; write a Markdown table, a CDF plot and an error map",
        description=(
            "Run every Table-1 system (naive, species oracles, regression, H3 classification, species ranges; "
            "more when registered) on the recordings of DATA and write OUT/table1.md (median, mean, %% within "
            "1/25/200/750/2500 km), OUT/table1.json, OUT/predictions/*.csv (audio_id,latitude,longitude), "
            "OUT/cdf.png and OUT/error_map.png. Trained rows use k-fold cross-validation over DATA itself. "
            "BirdNET scores are cached per clip, so re-runs are fast. --gallery applies to the species-range and "
            "oracle rows."
        ),
        parents=shared("gallery", "address", "workers"),
    )
    p.add_argument("--data", required=True,
                   help="dataset folder or file (labels.csv manifest, iNatSounds JSON, XCDC, WABAD)")
    p.add_argument("--gold",
                   help="true locations audio_id,latitude,longitude to score against (default: the dataset's)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--systems", nargs="+", metavar="KEY", help="Table-1 system keys (default: all; see --list)")
    p.add_argument("--folds", type=number(int, 2), default=5,
                   help="cross-validation folds for trained rows (>= n: leave-one-out)")
    p.add_argument("--seed", type=number(int, 0, 2**32 - 1), default=0,
                   help="random seed (folds, naive draws, oracle corruption, training)")
    p.add_argument("--seeds", type=number(int, 1, 100), default=1,
                   help="repeat rows that use a seed (trained rows, naive, corrupted oracles) over this many seeds "
                        "and report mean ± std; predictions and plots are the first seed's")
    p.add_argument("--limit", type=number(int, 0), default=0, help="use only the first N recordings (0 = all)")
    p.add_argument("--aggregate", nargs="*", metavar="KEY",
                   help="add spatiotemporal aggregation tables for these systems")
    p.add_argument("--agclip-head", action="append", default=[], metavar="LABEL=PATH",
                   help="add a row for an AG-CLIP checkpoint (PATH or agclip:PATH; or a shipped head's tag), e.g. an "
                        "ablation from geoforensics train (repeatable)")
    p.add_argument("--list", action="store_true", help="list the Table-1 systems and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    added = _register_heads(args.agclip_head)
    systems = table1_systems()
    if added and args.systems:
        args.systems = list(args.systems) + [k for k in added if k not in args.systems]
    if args.list:
        _list_systems(systems)
        return 0
    _check_options(args)
    if args.address or args.workers:
        scores_on_ray(args)
    samples = load_samples(args.data, limit=args.limit, progress=print_progress)
    if args.gold:
        _use_gold(args, samples)
    gallery_keys = {
        "oracle-full", "oracle-corrupt50", "oracle-keep10", "species-annotated", "species-top1", "species-all"
    }
    overrides = {k: {"gallery": args.gallery} for k in gallery_keys}
    results = run_table1(samples, args.systems, folds=args.folds, seed=args.seed, overrides=overrides,
                         progress=print_progress, seeds=args.seeds)
    extra = [] if args.aggregate is None else _aggregation_sections(args.aggregate, results, samples)
    command = "geoforensics " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["table1"] else ""
    paths = write_report(args.out, samples, results, title=f"Table 1 on {args.data}", command=command,
                         gold=None, extra_sections=extra)
    print(safe(paths["markdown"].read_text(), multiline=True))
    return 0


def _register_heads(specs: list[str]) -> list[str]:
    """Register a row for each --agclip-head LABEL=PATH; their system keys."""
    added = []
    for spec in specs:
        label, sep, path = spec.partition("=")
        if not sep or not label or not path:
            raise InputError(f"--agclip-head {spec!r}: expected LABEL=PATH")
        added.append(register_agclip_checkpoint(label, path).key)
    return added


def _list_systems(systems: dict[str, TableSystem]) -> None:
    """Print the Table-1 systems (--list)."""
    for k, system in systems.items():
        trained = ", trained" if system.trains else ""
        print(safe(f"{k:20s} {system.row_name}  (geolocator {system.geolocator}, input {system.feed}{trained})"))


def _check_options(args: argparse.Namespace) -> None:
    """InputError for --seeds, --folds or --systems out of bounds."""
    if args.seeds < 1:
        raise InputError("--seeds must be at least 1")
    if args.folds < 2:
        raise InputError("--folds must be at least 2")
    for key in args.systems or ():
        if key not in SYSTEMS:
            raise SYSTEMS.unknown(key)


def _use_gold(args: argparse.Namespace, samples: list[Sample]) -> None:
    """Score against the true locations of --gold: set every sample's (lat, lon) from it."""
    gold = read_points_csv(args.gold, "gold")
    index = dict(zip(gold.ids, gold.latlon))
    missing = [s.id for s in samples if s.id not in index]
    if missing:
        raise InputError(f"{len(missing)} recording(s) of {args.data} are not in {args.gold} (e.g. {missing[:3]})")
    for s in samples:
        s.lat, s.lon = (float(v) for v in index[s.id])


def _aggregation_sections(keys: list[str], results: list[SystemResult], samples: list[Sample]) -> list[str]:
    """The --aggregate tables (Markdown) of systems ``keys`` (none named: every system that predicts)."""
    extra = []
    by_key = {r.system.key: r for r in results}
    for key in keys or [r.system.key for r in results if r.system.feed != "truth" and not r.skipped]:
        if key not in by_key or by_key[key].skipped:
            raise InputError(f"--aggregate {key}: not among the systems run")
        r = by_key[key]
        true = [(s.lat, s.lon) for s in samples]
        extra.append(aggregation_markdown(r.system.row_name,
                                          aggregation_rows(r.predictions, true, [s.date for s in samples])))
    return extra


def scores_on_ray(args: argparse.Namespace) -> None:
    """Compute the BirdNET scores of every recording on Ray workers (``--address``/``--workers``) into
    this machine's scores cache, which ``load_samples`` then reads."""
    recs = [r for r in list(open_dataset(args.data))[: args.limit or None] if r.audio_path is not None]
    errors = cache_scores([str(r.audio_path) for r in recs], max_duration_s=MAX_DURATION_S, address=args.address,
                          workers=args.workers)
    for path, error in errors.items():
        print_progress(0.0, f"scores of {path} failed on the workers: {error}")
