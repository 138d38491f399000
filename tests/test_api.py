"""The public Python API refuses bad arguments with one clear InputError, before any audio is read."""

from __future__ import annotations

import json

import numpy as np
import pytest

import geoforensics
from geoforensics.errors import InputError
from geoforensics.forensics.analysis import ForensicReport
from geoforensics.forensics.results import ClaimCheck
from geoforensics.paths import PROJECT_ROOT

EAGLE = PROJECT_ROOT / "examples" / "XC148645.mp3"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"top_k": 0}, "top_k must be from 1 to 100, got 0"),
        ({"top_k": -1}, "top_k must be from 1 to 100"),
        ({"top_k": 2.5}, "top_k must be a whole number"),
        ({"top_k": True}, "top_k must be a whole number"),
        ({"top_k": "five"}, "top_k must be a whole number"),
        ({"max_duration_s": 0}, "max_duration_s must be more than 0"),
        ({"max_duration_s": float("nan")}, "max_duration_s must be a finite number"),
        ({"max_duration_s": 10_000}, "at most 1800"),
        ({"date": 2021.5}, "a date is text"),
        ({"date": "2021-02-30"}, "no day 30"),
        ({"model": "no-such-model"}, "unknown model 'no-such-model'; known: "),
    ],
)
def test_locate_refuses_bad_arguments(kwargs, message, monkeypatch):
    import geoforensics.evidence

    monkeypatch.setattr(geoforensics.evidence, "decode_audio", lambda *a, **k: pytest.fail("decoded before checking"))
    with pytest.raises(InputError, match=message):
        geoforensics.locate(EAGLE, **kwargs)


def test_check_and_analyze_refuse_a_bad_date_and_claim_before_decoding(monkeypatch):
    import geoforensics.evidence

    monkeypatch.setattr(geoforensics.evidence, "decode_audio", lambda *a, **k: pytest.fail("decoded before checking"))
    with pytest.raises(InputError, match="a date is text"):
        geoforensics.check(EAGLE, "48.1, 11.6", date=2021.5)
    with pytest.raises(InputError, match="latitude"):
        geoforensics.analyze(EAGLE, claim="91, 0")
    with pytest.raises(InputError, match="sample_rate"):
        geoforensics.check(np.zeros(48000, np.float32), "48.1, 11.6")


@pytest.mark.parametrize("cls", [geoforensics.GeoPrediction, ClaimCheck, ForensicReport])
@pytest.mark.parametrize("text", ["{}", "[]", "not json", '{"point": "x"}', "null"])
def test_results_read_back_from_bad_json_are_input_errors(cls, text):
    with pytest.raises(InputError, match="not a geoforensics"):
        cls.from_json(text)


@pytest.mark.parametrize("cls", [geoforensics.GeoPrediction, ClaimCheck, ForensicReport])
@pytest.mark.parametrize(("text", "kind"), [("[]", "list"), ("null", "NoneType"), ("3", "int"), ('"x"', "str")])
def test_a_document_that_is_no_object_says_so(cls, text, kind):
    """Not Python's wording ("'list' object has no attribute 'get'"): what the document is."""
    with pytest.raises(InputError, match=f"expected a JSON object, got {kind}$"):
        cls.from_json(text)


def test_a_prediction_reads_back_from_its_own_json():
    pred = geoforensics.locate(EAGLE, max_duration_s=10)
    again = geoforensics.GeoPrediction.from_json(pred.to_json())
    assert again.point == pytest.approx(pred.point) and json.loads(again.to_json())["model"] == "species-ranges"
