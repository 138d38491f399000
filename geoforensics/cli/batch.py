"""``geoforensics batch INPUT... --out OUT.csv``: locate a whole archive on Ray, resumable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..batch import LocateSpec, run_batch
from ..errors import InputError
from ..text import safe
from .exports import add_export_options, check_labels
from .locate import geolocator_options
from .options import output_file, shared

ORDER = 12

SUFFIXES = (".csv", ".parquet")
_writable = output_file("--out", SUFFIXES)


def _out(text: str) -> str:
    """The type of ``--out``: a .csv or .parquet path that is a regular file if it exists (never a FIFO,
    which would block the run for ever, nor a folder) and can be written, as ``--csv``/``--json`` check."""
    if Path(text).suffix.lower() not in SUFFIXES:
        raise argparse.ArgumentTypeError(f"{safe(text)}: name a .csv or .parquet file")
    if Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"{safe(text)} is a folder")
    return _writable(text)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "batch",
        help="geolocate many recordings on Ray (local or a cluster), resumable",
        description=(
            "Geolocate every recording named by the inputs with the same models and options as `locate`, on a "
            "pool of Ray workers (each loads the models once), writing one row per recording to OUT as it "
            "finishes: audio_id,latitude,longitude (the benchmark's format), then confidence, 50 %/90 % region "
            "radii, top species and score, place, date, seconds, error, path. Run it again with the same OUT to "
            "resume: recordings already in OUT are skipped. A recording that fails gets a row with its error and "
            "the batch goes on. One batch at a time per OUT (a second one is refused), and each recording is in "
            "OUT once. Without --address a local Ray is started on 127.0.0.1 with at most one worker per CPU and "
            "per GB of free memory, and stopped at the end, even if the batch is killed; with --address the run "
            "joins that cluster, whose nodes must all see the input paths (a shared filesystem). Ctrl-C or SIGTERM "
            "stops it cleanly: run the same command again to go on. Container tags are never read."
        ),
        parents=shared(
            "date", "top_k", "model", "gallery", "max_duration", "prior", "prior_weight", "address", "workers"
        ),
    )
    p.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="audio/video files, folders (searched recursively; a dataset folder such as one with labels.csv is "
        "read as that dataset), or dataset files (manifest CSV, iNatSounds JSON, XCDC CSV); a dataset's own "
        "recording dates are used where it has them, --date elsewhere",
    )
    p.add_argument(
        "--out", required=True, type=_out, metavar="OUT",
        help="result file, .csv or .parquet (appended to; in a CSV, a text cell that a spreadsheet would run as a "
        "formula gets a leading apostrophe)",
    )
    p.add_argument(
        "--claims", metavar="CLAIMS.csv",
        help="a deployment's place for each file: columns file,latitude,longitude[,date] (other columns ignored); "
        "its files join the inputs, and each row of OUT then holds the claim check's verdict, mismatch score "
        "and range flags (species heard that are unlikely there and then)",
    )
    add_export_options(p)
    p.add_argument("--retry-failed", action="store_true", help="try again the recordings OUT holds as failed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.inputs and not args.claims:
        raise InputError("name the recordings: files, folders or datasets, or a --claims CSV")
    labels = check_labels(args)
    spec = LocateSpec.of(args.model, top_k=args.top_k, max_duration_s=args.max_duration, cache=labels is not None,
                         **geolocator_options(args))
    try:
        summary = run_batch(
            args.inputs,
            args.out,
            spec,
            date=args.date,
            claims=args.claims,
            filename_dates=not args.no_filename_date,
            address=args.address,
            workers=args.workers,
            retry_failed=args.retry_failed,
            progress=not args.quiet,
        )
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: Ray is stopped and OUT closed by now
        print(f"geoforensics batch: interrupted; the rows done are in {safe(args.out)}: run the same command again "
              "to go on", file=sys.stderr)
        raise
    print(f"{summary.line()}; results in {args.out}", file=sys.stderr)
    gis = [path for path in (args.geojson, args.kml) if path]
    from ..batch.exports import write_batch_exports  # lazy: loads shapely

    for path in write_batch_exports(args.out, spec, gis=gis, labels=labels, threshold=args.label_threshold):
        print(f"wrote {safe(path)}", file=sys.stderr)
    return 1 if summary.failed else 0
