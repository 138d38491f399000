import datetime as dt

import numpy as np

from geoforensics.evaluation.aggregation import (
    aggregate_points,
    aggregation_rows,
    average_surfaces,
    group_keys,
    species_per_group,
    time_bin,
)
from geoforensics.prediction import GeoPrediction

GALLERY = np.array([[0.0, 0.0], [10.0, 10.0], [50.0, 5.0]])


def pred(probs, gallery=GALLERY):
    return GeoPrediction.from_probs(gallery, np.array(probs, float), names=False, region_masses=())


def test_time_bins():
    d = dt.date(2021, 5, 4)
    assert time_bin(d, "year") == 2021 and time_bin(d, "month") == (2021, 5)
    assert time_bin("2021-05-04", "week") == (2021, 18)
    assert time_bin(None, "month") is None and time_bin(None, "all") == "all"


def test_same_cell_and_week_grouped_and_surfaces_averaged():
    true = np.array([[50.0, 5.0], [50.001, 5.001], [50.0, 5.0], [0.0, 0.0]])
    dates = [dt.date(2021, 5, 4), dt.date(2021, 5, 5), dt.date(2022, 5, 4), dt.date(2021, 5, 4)]
    keys = group_keys(true, dates, 6, "week")
    assert keys[0] == keys[1] and keys[0] != keys[2] and keys[0] != keys[3]
    # two members: one sure of (10, 10), one split 0.45/0.55 -> mean favours (50, 5)
    preds = [pred([0.0, 0.6, 0.4]), pred([0.0, 0.05, 0.95]), pred([1, 0, 0]), pred([0, 1, 0])]
    pts = aggregate_points(preds, keys)
    assert np.allclose(pts[0], [50, 5]) and np.allclose(pts[1], [50, 5])
    assert np.allclose(pts[2], [0, 0]) and np.allclose(pts[3], [10, 10])
    rows = aggregation_rows(preds, true, dates, groupings=((6, "week"), (5, "all")))
    assert rows[0].name == "No grouping" and rows[1].name == "Resolution-6 + Week"
    assert rows[1].metrics["street"] == 0.5 and rows[0].metrics["street"] == 0.25
    assert rows[1].n_groups == 3 and rows[2].n_groups == 2
    assert species_per_group([("a",), ("b",), ("a",), ("a",)], keys) == {1: 2, 2: 1}


def test_different_galleries_are_pooled():
    a = pred([1.0], gallery=np.array([[1.0, 1.0]]))
    b = pred([0.5, 0.5], gallery=np.array([[1.0, 1.0], [2.0, 2.0]]))
    g, p = average_surfaces([a, b])
    assert np.allclose(g[np.argmax(p)], [1, 1]) and abs(p.sum() - 1) < 1e-9
