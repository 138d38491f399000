"""``geoforensics evaluate PRED.csv GOLD.csv``: the official benchmark's metrics for a prediction file."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..evaluation.evaluate import evaluate_points, read_points_csv
from ..geo.metrics import format_metrics_row, metrics_table_header
from ..text import safe
from .options import emit_json, shared, text_to_stdout

ORDER = 40


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="score a prediction CSV against a gold CSV (official benchmark metrics)",
        description=(
            "Score PRED against GOLD, both CSV files with columns audio_id,latitude,longitude and the same ids. "
            "Reports the mean and median great-circle error (Haversine, R = 6371 km) and the fraction of "
            "predictions within 1, 25, 200, 750 and 2500 km (street, city, region, country, continent), "
            "as the official nat-sound2loc benchmark evaluator does."
        ),
        parents=shared("json"),
    )
    p.add_argument("pred", metavar="PRED.csv", help="predictions: audio_id,latitude,longitude")
    p.add_argument("gold", metavar="GOLD.csv", help="true locations: audio_id,latitude,longitude")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    pred = read_points_csv(args.pred, "predictions")
    gold = read_points_csv(args.gold, "gold")
    metrics = evaluate_points(pred, gold)
    if text_to_stdout(args):
        print(metrics_table_header(with_n=True))
        print(format_metrics_row(safe(Path(args.pred).stem), metrics, n=len(gold.ids)))
    emit_json(args.json, metrics)
    return 0
