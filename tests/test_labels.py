"""Raven selection tables and Audacity label tracks, read back the way those tools read them."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest

from geoforensics.errors import InputError
from geoforensics.geo.geodesy import haversine_km
from geoforensics.labels import (
    CLAIM_COLUMNS,
    EXTRA_COLUMNS,
    FILE_COLUMNS,
    RAVEN_COLUMNS,
    RecordingDetections,
    audacity_labels,
    detections,
    raven_table,
    write_labels,
)
from geoforensics.models.birdnet import Labels
from geoforensics.prediction import GeoPrediction, WindowPrediction
from geoforensics.scoring import WindowScores

LABELS = Labels(("Turdus merula", "Erithacus rubecula", "Human vocal", "Fringilla coelebs"),
                ("Eurasian Blackbird", "European Robin", "Human vocal", "Common Chaffinch"))


def read_raven(text: str) -> list[dict[str, str]]:
    """As Raven Pro reads a selection table: one tab-separated header of column names, then one row per
    selection with as many tab-separated fields; Selection a positive integer, times and frequencies numbers."""
    lines = text.split("\n")
    assert lines[-1] == "" and all(lines[:-1]), "rows end with a newline, no blank lines"
    header = lines[0].split("\t")
    assert header[: len(RAVEN_COLUMNS)] == list(RAVEN_COLUMNS)
    rows = []
    for line in lines[1:-1]:
        cells = line.split("\t")
        assert len(cells) == len(header)
        row = dict(zip(header, cells))
        assert int(row["Selection"]) == len(rows) + 1 and row["View"] == "Spectrogram 1" and row["Channel"] == "1"
        begin, end = float(row["Begin Time (s)"]), float(row["End Time (s)"])
        low, high = float(row["Low Freq (Hz)"]), float(row["High Freq (Hz)"])
        assert 0 <= begin < end and 0 <= low < high
        rows.append(row)
    return rows


def read_audacity(text: str) -> list[tuple[float, float, str, tuple[float, float] | None]]:
    """As Audacity imports a label track: ``start<TAB>end<TAB>label`` lines, each optionally followed by
    a spectral-selection line ``\\<TAB>low<TAB>high``."""
    out: list[tuple[float, float, str, tuple[float, float] | None]] = []
    for line in text.splitlines():
        fields = line.split("\t")
        if fields[0] == "\\":
            assert len(fields) == 3 and out and out[-1][3] is None
            out[-1] = (*out[-1][:3], (float(fields[1]), float(fields[2])))
            continue
        assert len(fields) == 3, f"three tab fields: {line!r}"
        start, end = float(fields[0]), float(fields[1])
        assert 0 <= start <= end
        out.append((start, end, fields[2], None))
    return out


@pytest.fixture
def scores() -> WindowScores:
    s = np.zeros((4, 4), np.float32)
    s[0, 0], s[1, 0], s[1, 1], s[2, 2], s[3, 3] = 0.9, 0.6, 0.8, 0.95, 0.04
    return WindowScores(np.array([0.0, 1.5, 3.0, 4.5]), np.array([3.0, 4.5, 6.0, 7.5]), s, duration_s=7.5)


@pytest.fixture
def prediction() -> GeoPrediction:
    pred = GeoPrediction.from_probs(np.array([[52.0, 5.0], [48.0, 2.0]]), [0.8, 0.2], names=False)
    pred.windows = [
        WindowPrediction(0.0, 3.0, 52.0, 5.0),
        WindowPrediction(1.5, 4.5, 48.0, 2.0),
        WindowPrediction(3.0, 6.0),
        WindowPrediction(4.5, 7.5),
    ]
    return pred


def test_detections_list_each_window_and_species_with_its_places(scores, prediction):
    found = detections(scores, LABELS, threshold=0.5, prediction=prediction)
    assert [(d.begin_s, d.scientific_name) for d in found] == [
        (0.0, "Turdus merula"), (1.5, "Erithacus rubecula"), (1.5, "Turdus merula")]  # human voice left out
    assert found[0].km_from_clip_guess == 0.0
    assert found[1].km_from_clip_guess == pytest.approx(float(haversine_km((52.0, 5.0), (48.0, 2.0))), abs=0.1)
    assert 490 < found[1].km_from_clip_guess < 500
    assert found[1].window_lat == 48.0 and found[1].lives_at_claim is None
    assert len(detections(scores, LABELS, threshold=0.5, species_only=False)) == 4
    with pytest.raises(InputError, match="threshold"):
        detections(scores, LABELS, threshold=0.0)


def test_raven_table_reads_back_as_raven_does(scores, prediction, tmp_path: Path):
    claim = {"Turdus merula": (0.82, True), "Erithacus rubecula": (0.03, False)}
    found = detections(scores, LABELS, threshold=0.5, prediction=prediction, at_claim=claim)
    [out] = write_labels(tmp_path / "clip.selections.txt", "raven", [RecordingDetections("/data/clip.wav", found, 7.5)])
    rows = read_raven(out.read_text(encoding="utf-8"))
    header = out.read_text().split("\n")[0].split("\t")
    assert header == list(RAVEN_COLUMNS + EXTRA_COLUMNS + CLAIM_COLUMNS)
    assert [(r["Begin Time (s)"], r["Species"], r["Lives At Claim"]) for r in rows] == [
        ("0.000000", "Turdus merula", "yes"), ("1.500000", "Erithacus rubecula", "no"),
        ("1.500000", "Turdus merula", "yes")]
    assert rows[1]["Occurrence At Claim"] == "0.0300"
    assert float(rows[1]["Km From Clip Guess"]) == pytest.approx(float(haversine_km((52.0, 5.0), (48.0, 2.0))),
                                                                 abs=0.05)
    # the package's own reader of real Raven tables (WABAD's annotations) reads it too
    from geoforensics.data.base import read_table

    table_header, table_rows = read_table(out)
    assert table_header == header and [r["Common Name"] for _, r in table_rows] == [
        "Eurasian Blackbird", "European Robin", "Eurasian Blackbird"]


def test_a_raven_table_of_many_files_places_each_selection_in_its_file(scores, prediction):
    first = RecordingDetections("/cards/A/20210514_053000.WAV", detections(scores, LABELS, threshold=0.5), 7.5)
    second = RecordingDetections("/cards/B/SMM01234_20210514_060000.wav", detections(scores, LABELS, threshold=0.85),
                                 60.0)
    rows = read_raven(raven_table([first, second]))
    assert list(rows[0])[len(RAVEN_COLUMNS): len(RAVEN_COLUMNS) + 3] == list(FILE_COLUMNS)
    assert [r["Begin File"] for r in rows] == ["20210514_053000.WAV"] * 3 + ["SMM01234_20210514_060000.wav"]
    last = rows[-1]
    assert last["Begin Path"] == "/cards/B/SMM01234_20210514_060000.wav"
    assert float(last["File Offset (s)"]) == 0.0 and float(last["Begin Time (s)"]) == 7.5  # after the first file
    assert "Window Lat" in last and last["Window Lat"] == "" and "Lives At Claim" not in last


def test_audacity_labels_read_back_as_audacity_does(scores, prediction, tmp_path: Path):
    claim = {"Turdus merula": (0.82, True), "Erithacus rubecula": (0.03, False)}
    found = detections(scores, LABELS, threshold=0.5, prediction=prediction, at_claim=claim)
    labels = read_audacity(audacity_labels(found))
    assert [(s, e) for s, e, _, _ in labels] == [(0.0, 3.0), (1.5, 4.5), (1.5, 4.5)]
    assert labels[0][3] == (0.0, 15000.0)
    assert labels[0][2] == "Eurasian Blackbird (Turdus merula) 0.90; window guess 52.00, 5.00, 0 km from the " \
        "clip's guess; lives at the claimed place (occurrence 0.82)"
    assert "not at the claimed place (occurrence 0.03)" in labels[1][2]
    assert all(f is None for *_, f in read_audacity(audacity_labels(found, frequencies=False)))

    one = write_labels(tmp_path / "clip.txt", "audacity", [RecordingDetections("clip.wav", found, 7.5)])
    assert len(read_audacity(one[0].read_text())) == 3
    many = write_labels(tmp_path / "tracks", "audacity",
                        [RecordingDetections("a/x.wav", found), RecordingDetections("b/x.wav", [])])
    assert [p.name for p in many] == ["x.wav.txt", "x.wav.2.txt"] and many[1].read_text() == ""
    with pytest.raises(InputError, match="folder"):
        write_labels(one[0], "audacity", [RecordingDetections("a.wav"), RecordingDetections("b.wav")])
    with pytest.raises(InputError, match="raven or audacity"):
        write_labels(tmp_path / "x.txt", "praat", [])


def test_text_that_would_break_a_row_or_fool_a_reader_is_shown_escaped(scores, tmp_path: Path):
    odd = Labels(("Turdus\tmerula", "B b", "C c", "D d"), ("Black\nbird", "b", "c", "d"))
    found = detections(scores, odd, threshold=0.5)
    recordings = [RecordingDetections("dir/with\ttab\u202e\udcff.wav", found, 7.5), RecordingDetections("y.wav")]
    [out] = write_labels(tmp_path / "odd.txt", "raven", recordings)
    rows = read_raven(out.read_text(encoding="utf-8"))
    assert rows[0]["Species"] == "Turdus\\tmerula" and rows[0]["Begin Path"] == "dir/with\\ttab\\u202e\\xff.wav"
    assert read_audacity(audacity_labels(found))[0][2].startswith("Black\\nbird (Turdus\\tmerula)")


@pytest.mark.slow
def test_a_real_clip_gives_its_eagle_where_it_lives(tmp_path: Path):
    # XC148645: Spanish Imperial Eagle, recorded in Spain at (39.84, -6.00) per the examples' attribution.
    from geoforensics.evidence import score_audio
    from geoforensics.geolocators.registry import get_geolocator
    from geoforensics.models.birdnet import load_labels
    from geoforensics.paths import shipped_file

    clip = shipped_file("examples", "XC148645.mp3")
    ws = score_audio(clip)
    pred = get_geolocator("species-ranges").predict_from_scores(ws)
    found = detections(ws, load_labels(), threshold=0.5, prediction=pred)
    eagle = [d for d in found if d.scientific_name == "Aquila adalberti"]
    assert len(eagle) >= 5 and all(d.window_lat is not None for d in eagle)
    assert all(float(haversine_km((d.window_lat, d.window_lon), (39.84, -6.0))) < 1500 for d in eagle)
    table = raven_table([RecordingDetections(str(clip), found, ws.duration_s)])
    rows = read_raven(table)
    assert sum(r["Species"] == "Aquila adalberti" for r in rows) == len(eagle)
    assert len(read_audacity(audacity_labels(found))) == len(found)
    assert list(csv.reader(io.StringIO(table), delimiter="\t"))[0][0] == "Selection"
