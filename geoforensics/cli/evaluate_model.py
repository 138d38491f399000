"""``geoforensics evaluate-model --model NAME --data DIR``: run a geolocator on a dataset, print the paper's table."""

from __future__ import annotations

import argparse

from .options import csv_out, number, open_output, shared, text_to_stdout
from .text import safe

ORDER = 45


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate-model",
        help="geolocate every recording of a dataset and print the paper's metrics",
        description=(
            "Run a registered geolocator (e.g. species-ranges, agclip:birdnet-sim-v1, or agclip:PATH.pt for a "
            "training checkpoint) on every recording of a dataset folder/file and print median/mean km "
            "and %% within 1/25/200/750/2500 km."
        ),
        parents=shared("model", "gallery", "csv"),
    )
    p.add_argument("--data", required=True, metavar="DIR", help="dataset (folder with labels.csv, iNatSounds JSON, ...)")
    p.add_argument("--limit", type=number(int, 0), default=0, metavar="N", help="only the first N recordings (0 = all)")
    p.add_argument("--out", dest="csv", type=csv_out, help=argparse.SUPPRESS)  # the old name of --csv
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    import numpy as np

    from ..data import open_dataset
    from ..evaluation.evaluate import PointsWriter
    from ..geo.geodesy import haversine_km
    from ..geo.metrics import format_metrics_row, geolocation_metrics, metrics_table_header
    from ..geolocators.registry import get_geolocator

    geo = get_geolocator(args.model, gallery=args.gallery)
    recs = [r for r in open_dataset(args.data) if r.audio_path is not None][: args.limit or None]
    pred, true = [], []
    for i, r in enumerate(recs):
        p = geo.predict(r.audio_path)
        pred.append(p.point)
        true.append((r.lat, r.lon))
        print(f"[{i + 1}/{len(recs)}] {safe(r.id)}: {haversine_km(p.point, (r.lat, r.lon)):,.0f} km", file=sys.stderr)
    err = haversine_km(np.array(pred), np.array(true))
    if text_to_stdout(args):
        print(metrics_table_header(with_n=True))
        print(format_metrics_row(safe(args.model), geolocation_metrics(err), n=len(recs)))
    with open_output(args.csv) as out:
        if out is not None:
            PointsWriter(out, flush=False).write_all([r.id for r in recs], pred)
    return 0
