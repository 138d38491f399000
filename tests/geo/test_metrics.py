import math

import numpy as np
import pytest

from geoforensics.geo.geodesy import EARTH_RADIUS_KM
from geoforensics.geo.metrics import (
    THRESHOLDS_KM,
    format_metrics_row,
    geolocation_metrics,
    metrics_from_points,
    metrics_table_header,
    paired_bootstrap,
    percent_within,
)

ERRORS = [0.0, 0.5, 1.0, 24.9, 25.0, 199.0, 200.0001, 750.0, 2499.0, 3000.0]


def test_thresholds_are_the_official_ones():
    assert THRESHOLDS_KM == {"street": 1, "city": 25, "region": 200, "country": 750, "continent": 2500}
    assert list(THRESHOLDS_KM) == ["street", "city", "region", "country", "continent"]


def test_known_errors_give_known_metrics():
    m = geolocation_metrics(ERRORS)
    assert list(m) == ["mean_error", "median_error", "street", "city", "region", "country", "continent"]
    assert m["mean_error"] == pytest.approx(sum(ERRORS) / 10)
    assert m["mean_error"] == pytest.approx(669.94001)
    assert m["median_error"] == pytest.approx((25.0 + 199.0) / 2)
    # a distance equal to a threshold counts as within it (<=), as the official evaluator does
    assert m["street"] == 0.3
    assert m["city"] == 0.5
    assert m["region"] == 0.6
    assert m["country"] == 0.8
    assert m["continent"] == 0.9


def test_empty_errors_refused():
    with pytest.raises(ValueError):
        geolocation_metrics([])


def test_metrics_from_points_one_degree_on_equator():
    one_degree = 2 * math.pi * EARTH_RADIUS_KM / 360
    pred = np.array([[0.0, 1.0], [0.0, 0.0]])
    true = np.array([[0.0, 0.0], [0.0, 0.0]])
    m = metrics_from_points(pred, true)
    assert one_degree == pytest.approx(111.19492664455873)
    assert m["mean_error"] == pytest.approx(one_degree / 2)
    assert m["median_error"] == pytest.approx(one_degree / 2)
    assert m["street"] == 0.5 and m["region"] == 1.0


def test_table_row_and_header_line_up():
    m = geolocation_metrics(ERRORS)
    row = format_metrics_row("sys", m, n=10)
    header = metrics_table_header(with_n=True).splitlines()[0]
    assert row.count("|") == header.count("|")
    assert row == "| sys | 10 | 112 | 670 | 30.0 | 50.0 | 60.0 | 80.0 | 90.0 |"


def test_paired_bootstrap_of_a_constant_shift_is_that_shift():
    base = np.linspace(100.0, 5000.0, 40)
    d, lo, hi = paired_bootstrap(base - 250.0, base)
    assert (d, lo, hi) == pytest.approx((-250.0, -250.0, -250.0))  # every resample moves by the same 250 km


def test_paired_bootstrap_interval_holds_the_change_and_follows_the_statistic():
    rng = np.random.default_rng(3)
    base = rng.uniform(0, 3000, 200)
    err = base * rng.uniform(0.5, 1.1, 200)  # better on most items
    d, lo, hi = paired_bootstrap(err, base)
    assert lo < d < hi < 0
    within = paired_bootstrap(err, base, lambda e: 100 * float(np.mean(e <= 200)))
    assert within[0] == 100 * (np.mean(err <= 200) - np.mean(base <= 200))
    assert paired_bootstrap(err, base, rng=7) == paired_bootstrap(err, base, rng=7)  # seeded: repeatable


def test_paired_bootstrap_refuses_unpaired_errors():
    with pytest.raises(ValueError, match="same shape"):
        paired_bootstrap(np.ones(3), np.ones(4))


def test_percent_within_counts_the_boundary_and_matches_the_region_metric():
    e = np.array([0.0, 199.0, 200.0, 201.0, 5000.0])
    assert percent_within(e, 200) == 60.0
    assert percent_within(e, 200) == 100 * geolocation_metrics(e)["region"]
    with pytest.raises(ValueError):
        percent_within([], 200)
