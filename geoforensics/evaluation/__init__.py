"""Evaluation: the paper's metrics on prediction files and models, reports and plots."""

from .evaluate import (
    OFFICIAL_KEYS,
    Points,
    PointsWriter,
    evaluate_arrays,
    evaluate_files,
    evaluate_points,
    read_points_csv,
    write_points_csv,
)

__all__ = [
    "OFFICIAL_KEYS",
    "Points",
    "PointsWriter",
    "evaluate_arrays",
    "evaluate_files",
    "evaluate_points",
    "read_points_csv",
    "write_points_csv",
]
