"""``geoforensics evaluate-model --model NAME --data DIR``: run a geolocator on a dataset, print the paper's table."""

from __future__ import annotations

import argparse
from typing import Any

from ..batch import BatchInput, LocateSpec, locate_rows
from ..data import open_dataset
from ..errors import InputError
from ..evaluation.evaluate import PointsWriter
from ..geo.geodesy import haversine_km
from ..geo.metrics import format_metrics_row, geolocation_metrics, metrics_table_header
from ..geolocators.registry import get_geolocator
from ..text import safe
from .options import csv_out, number, open_output, shared, text_to_stdout

ORDER = 45


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "evaluate-model",
        help="geolocate every recording of a dataset and print the paper's metrics",
        description=(
            "Run a registered geolocator (e.g. species-ranges, agclip:birdnet-sim-v1, or agclip:PATH.pt for a "
            "training checkpoint) on every recording of a dataset folder/file and print median/mean km "
            "and %% within 1/25/200/750/2500 km."
        ),
        parents=shared("model", "gallery", "csv", "address", "workers"),
    )
    p.add_argument("--data", required=True, metavar="DIR",
                   help="dataset (folder with labels.csv, iNatSounds JSON, ...)")
    p.add_argument("--limit", type=number(int, 0), default=0, metavar="N", help="only the first N recordings (0 = all)")
    p.add_argument("--out", dest="csv", type=csv_out, help=argparse.SUPPRESS)  # the old name of --csv
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    import numpy as np


    geo = get_geolocator(args.model, gallery=args.gallery)
    recs = [r for r in open_dataset(args.data) if r.audio_path is not None][: args.limit or None]
    pred, true = [], []
    if args.address or args.workers:
        pred, true = points_on_ray(args, recs), [(r.lat, r.lon) for r in recs]
    else:
        for i, r in enumerate(recs):
            p = geo.predict(r.audio_path)
            pred.append(p.point)
            true.append((r.lat, r.lon))
            print(f"[{i + 1}/{len(recs)}] {safe(r.id)}: {haversine_km(p.point, (r.lat, r.lon)):,.0f} km",
                  file=sys.stderr)
    err = haversine_km(np.array(pred), np.array(true))
    if text_to_stdout(args):
        print(metrics_table_header(with_n=True))
        print(format_metrics_row(safe(args.model), geolocation_metrics(err), n=len(recs)))
    with open_output(args.csv) as out:
        if out is not None:
            PointsWriter(out, flush=False).write_all([r.id for r in recs], pred)
    return 0


def points_on_ray(args: argparse.Namespace, recs: list[Any]) -> list[tuple[float, float]]:
    """The predicted (lat, lon) of each recording, in order, from Ray workers (``--address``/``--workers``),
    asked exactly as the local loop asks (no date, the geolocator's own duration cap)."""
    import sys


    spec = LocateSpec.of(args.model, max_duration_s=None, gallery=args.gallery)
    items = [BatchInput(r.id, str(r.audio_path)) for r in recs]
    true = {r.id: (r.lat, r.lon) for r in recs}
    points: dict[str, tuple[float, float]] = {}
    errors: list[str] = []
    for row in locate_rows(items, spec, address=args.address, workers=args.workers):
        if row["error"]:
            errors.append(f"{row['audio_id']}: {row['error']}")
            continue
        points[row["audio_id"]] = (float(row["latitude"]), float(row["longitude"]))
        km = haversine_km(points[row["audio_id"]], true[row["audio_id"]])
        print(f"[{len(points)}/{len(recs)}] {row['audio_id']}: {km:,.0f} km", file=sys.stderr)
    if errors:
        raise InputError(f"{len(errors)} recording(s) failed: " + "; ".join(errors[:5]))
    return [points[r.id] for r in recs]
