"""The app's handlers called directly: real files in, figures, tables and one-line errors out."""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pandas as pd
import plotly.graph_objects as go
import pytest

import geoforensics
from geoforensics.dates import parse_date
from geoforensics.errors import InputError, MissingWeightsError
from geoforensics.forensics.analysis import ForensicReport
from geoforensics.media.fetch import fetch_url
from geoforensics.ui import forensics_tab
from geoforensics.ui.audio_tab import audio_species_range, locate_audio, prepare_audio_downloads
from geoforensics.ui.errors import user_errors
from geoforensics.ui.exports import EXPORTS
from geoforensics.ui.forensics_tab import (
    METADATA_TITLE,
    analyze,
    evidence_video,
    metadata_rows,
    prepare_downloads,
    report_files,
    show_species_range,
)
from geoforensics.ui.limits import limits_text
from geoforensics.ui.multimodal_tab import CLIP_COMMAND, clip_status, query_audio, query_image, query_text
from geoforensics.ui.tables import evidence_rows

from .conftest import EAGLE, no_progress

EUROPE = dict(lat=(35.0, 72.0), lon=(-25.0, 45.0))


def in_europe(point: tuple[float, float]) -> bool:
    return EUROPE["lat"][0] <= point[0] <= EUROPE["lat"][1] and EUROPE["lon"][0] <= point[1] <= EUROPE["lon"][1]


def error_text(excinfo: pytest.ExceptionInfo) -> str:
    msg = excinfo.value.message
    assert "\n" not in msg and "Traceback" not in msg
    return msg


@pytest.fixture(scope="module")
def demo_result(demo_video: Path) -> tuple:
    return analyze(str(demo_video), "", "", 2.0, progress=no_progress)


def test_analyze_demo_video(demo_result):
    verdict, fig, image_panel, timeline, evidence, species, metadata, files, raw, report, *_ = demo_result
    assert isinstance(report, ForensicReport) and report.has_video
    assert in_europe(report.audio.point)
    assert isinstance(fig, go.Figure)
    audio_guess = [t for t in fig.data if t.name == "Audio guess"]
    assert len(audio_guess) == 1 and in_europe((audio_guess[0].lat[0], audio_guess[0].lon[0]))
    assert report.verdict.text.split(":", 1)[1].strip()[1:30] in verdict and report.verdict.level.upper() in verdict
    assert "km" in verdict
    if report.image is None:
        assert "not available" in image_panel and CLIP_COMMAND in image_panel
    assert isinstance(timeline, go.Figure) and any(isinstance(t, go.Bar) for t in timeline.data)
    assert isinstance(evidence, pd.DataFrame) and evidence.iloc[0]["species"] == "Cyanistes caeruleus"
    assert ("Eurasian Blue Tit (Cyanistes caeruleus)", "Cyanistes caeruleus") in species.choices
    assert metadata == [["encoder", metadata[0][1]]]  # the demo video's tags were stripped
    assert files is None  # written only when asked for
    files = prepare_downloads("", report)
    assert [Path(f).name.split(".", 1)[1] for f in files] == ["json", "html", "geojson", "kml", "selections.txt"]
    rows = Path(files[4]).read_text().splitlines()
    assert rows[0].startswith("Selection\tView\tChannel") and any("Cyanistes caeruleus" in r for r in rows[1:])
    assert (ForensicReport is type(report)
            and geoforensics.GeoPrediction.from_dict(raw["audio"]).point == pytest.approx(report.audio.point))
    assert "window.PlotlyGeoAssets" in Path(files[1]).read_text()


def test_evidence_video_and_report_are_made_on_request(demo_result, demo_video):
    report = demo_result.report
    (video,) = evidence_video(report, str(demo_video), progress=no_progress)
    assert Path(video).name == "kauai_with_european_birds_evidence.mp4" and Path(video).stat().st_size > 100_000
    png, pdf = report_files(report)
    assert Path(png).suffix == ".png" and Path(pdf).read_bytes().startswith(b"%PDF-")
    with pytest.raises(gr.Error, match="No analysis yet"):
        evidence_video(None, str(demo_video), progress=no_progress)
    with pytest.raises(gr.Error, match="the clip that was analysed"):
        evidence_video(report, None, progress=no_progress)
    with pytest.raises(gr.Error, match="the clip that was analysed"):
        evidence_video(report, str(EAGLE), progress=no_progress)
    with pytest.raises(gr.Error, match="No analysis yet"):
        report_files(None)


@pytest.fixture()
def eagle_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """EAGLE served over HTTP on 127.0.0.1, which the app's fetcher is told to allow (it refuses loopback)."""
    root = tmp_path / "www"
    root.mkdir()
    shutil.copy(EAGLE, root / "eagle.mp3")
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda self, *a: None})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(quiet, directory=str(root)))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    host = f"127.0.0.1:{srv.server_address[1]}"
    monkeypatch.setattr(forensics_tab, "fetch_url", functools.partial(fetch_url, allow_hosts=frozenset({host})))
    yield f"http://{host}/eagle.mp3"
    srv.shutdown()
    srv.server_close()


def test_a_url_analysis_keeps_its_download_for_the_evidence_video(eagle_url, monkeypatch):
    *_, report, _, _, _, _, kept = analyze(None, eagle_url, "", 2.0, "Plasencia, Spain", progress=no_progress)
    assert report.source == "eagle.mp3" and report.verdict.level == "consistent"
    assert kept is not None and EXPORTS.root is not None and Path(kept).parent.parent == EXPORTS.root
    assert Path(kept).read_bytes() == EAGLE.read_bytes()
    (video,) = evidence_video(report, None, kept, progress=no_progress)
    assert Path(video).name == "eagle_evidence.mp4" and Path(video).stat().st_size > 100_000
    monkeypatch.setattr(forensics_tab, "KEEP_FETCHED_BYTES", 1000)
    *_, report, _, _, _, _, kept = analyze(None, eagle_url, "", 2.0, progress=no_progress)
    assert kept is None  # too large to keep: the request folder took it away
    with pytest.raises(gr.Error, match="kept for an hour when under"):
        evidence_video(report, None, kept, progress=no_progress)


def test_species_range_redraws_the_map(demo_result):
    report = demo_result.report
    fig = show_species_range("Cyanistes caeruleus", report)
    ranges = [t for t in fig.data if (t.name or "").startswith("Range: ")]
    assert len(ranges) == 1 and "Eurasian Blue Tit" in ranges[0].name
    assert len(ranges[0].lat) > 100
    assert not any((t.name or "").startswith("Range: ") for t in show_species_range("", report).data)
    with pytest.raises(gr.Error) as e:
        show_species_range("Nonexistus fakeus", report)
    assert "unknown species" in error_text(e)


def test_text_renamed_mp4_is_one_line_error(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("this is not a video\n" * 20)
    with pytest.raises(gr.Error) as e:
        analyze(str(bad), "", "", 2.0, progress=no_progress)
    assert "notes.mp4" in error_text(e)


@pytest.mark.parametrize("upload,url", [(None, ""), (None, "   "), ("", None)])
def test_empty_input(upload, url):
    with pytest.raises(gr.Error) as e:
        analyze(upload, url, "", 2.0, progress=no_progress)
    assert "upload" in error_text(e).lower()


def test_empty_file(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(gr.Error) as e:
        analyze(str(empty), "", "", 2.0, progress=no_progress)
    assert "empty" in error_text(e)


@pytest.mark.parametrize(
    "url,expected",
    [
        ("http://127.0.0.1/x", "private/loopback"),
        ("http://[::1]:8080/v.mp4", "private/loopback"),
        ("http://10.0.0.7/clip.mp4", "private/loopback"),
        ("file:///etc/passwd", "only http(s)"),
        ("ftp://example.com/a.mp3", "only http(s)"),
    ],
)
def test_url_refused(url, expected):
    with pytest.raises(gr.Error) as e:
        analyze(None, url, "", 2.0, progress=no_progress)
    assert expected in error_text(e)


def test_file_and_url_together(demo_video):
    with pytest.raises(gr.Error) as e:
        analyze(str(demo_video), "https://example.com/v.mp4", "", 2.0, progress=no_progress)
    assert "not both" in error_text(e)


def test_unsupported_extension(tmp_path):
    f = tmp_path / "doc.pdf"
    f.write_bytes(b"%PDF-1.4 nothing")
    with pytest.raises(gr.Error) as e:
        analyze(str(f), "", "", 2.0, progress=no_progress)
    assert "unsupported file type" in error_text(e)


def test_bad_date():
    with pytest.raises(gr.Error) as e:
        locate_audio(str(EAGLE), "17/05/2024")
    assert "YYYY-MM-DD" in error_text(e)
    assert str(parse_date(" 2024-05 ")) == "2024-05" and parse_date("") is None
    with pytest.raises(InputError):
        parse_date("2024-02-30")


@pytest.mark.parametrize("every,expected", [(0.01, "between 0.1 and 600 seconds"), ("often", "a number of seconds")])
def test_bad_frame_interval(every, expected):
    with pytest.raises(gr.Error) as e:
        analyze(None, "", "", every, progress=no_progress)
    assert expected in error_text(e)


@pytest.mark.parametrize("error", [InputError("unreadable date 'x': use YYYY-MM-DD"),
                                   MissingWeightsError("run `fetch`")])
def test_geoforensics_errors_are_shown_and_not_logged(error, caplog):
    @user_errors("Testing")
    def handler() -> None:
        raise error

    with pytest.raises(gr.Error) as e:
        handler()
    assert error_text(e) == str(error) and not caplog.records


@pytest.mark.parametrize("error", [ValueError("shapes (3,) and (4,) not aligned"), KeyError("secret")])
def test_other_errors_are_internal_even_value_errors(error, caplog):
    @user_errors("Testing")
    def handler() -> None:
        raise error

    with pytest.raises(gr.Error) as e:
        handler()
    msg = error_text(e)
    assert msg.startswith("Testing failed because of an internal error (ref ") and str(error) not in msg
    ref = msg.split("(ref ", 1)[1].split(")", 1)[0]
    assert ref in caplog.text and str(error) in caplog.text and "Traceback" in caplog.text


def test_unexpected_error_is_generic_and_logged(caplog):
    @user_errors("Testing")
    def boom() -> None:
        raise RuntimeError("secret internals\n  File 'x.py', line 1")

    with pytest.raises(gr.Error) as e:
        boom()
    msg = error_text(e)
    assert "internal error" in msg and "secret" not in msg
    assert "secret internals" in caplog.text and "Traceback" in caplog.text


def test_locate_audio_matches_python_api():
    summary, fig, timeline, evidence, species, files, raw, pred, name = locate_audio(str(EAGLE), "")
    direct = geoforensics.locate(EAGLE)
    assert raw["point"] == pytest.approx(list(direct.point))
    assert pred.point == pytest.approx(direct.point)
    assert evidence_rows(pred)[0][:2] == ["Aquila adalberti", direct.evidence[0].common_name]
    assert "Spanish" in summary and "km" in summary
    assert [t for t in fig.data if t.name == "Audio guess"]
    assert any(t.name.startswith("Range:") for t in audio_species_range("Aquila adalberti", pred).data)
    assert files is None and name == EAGLE.name
    json_path, html_path, geojson, kml = (Path(f) for f in prepare_audio_downloads("Aquila adalberti", pred, name))
    assert geojson.name == "XC148645.geojson" and kml.name == "XC148645.kml"
    assert (json_path.name == "XC148645.json"
            and geoforensics.GeoPrediction.from_json(json_path.read_text()).point == pytest.approx(direct.point))
    assert html_path.name == "XC148645_map.html" and "Range: " in html_path.read_text()
    with pytest.raises(gr.Error) as e:
        locate_audio(None, "")
    assert "No audio" in error_text(e)


def test_multimodal_audio_works_and_clip_side_says_why():
    summary, fig, top, raw = query_audio(str(EAGLE), "2013-04-03")
    assert in_europe(tuple(raw["point"])) and len(top) == 5
    ok, msg = clip_status("text")
    if ok:
        pytest.skip("CLIP weights present here: the 'not available' path cannot be shown")
    assert msg.startswith("text queries not available") and CLIP_COMMAND in msg
    with pytest.raises(gr.Error) as e:
        query_text("a rainforest")
    assert CLIP_COMMAND in error_text(e)
    with pytest.raises(gr.Error) as e:
        query_image(str(Path(__file__)))
    assert "not available" in error_text(e)


def test_metadata_panel_rows_and_limits():
    rows = metadata_rows({"title": "T", "gps": (48.8584, 2.2945), "other": {"genre": "x"}})
    assert rows == [["title", "T"], ["gps (claimed)", "48.85840, 2.29450"], ["genre", "x"]]
    assert metadata_rows({}) == [["(none)", "the file carries no tags"]]
    assert "never used" in METADATA_TITLE
    assert "500 MB" in limits_text() and "30 min" in limits_text()


def test_analyze_audio_only_file():
    verdict, _, image_panel, _, _, _, metadata, _, raw, report, *_ = analyze(str(EAGLE), "", "", 2.0,
                                                                            progress=no_progress)
    assert not report.has_video and "AUDIO ONLY" in verdict and "no video stream" in image_panel
    assert in_europe(report.audio.point) and raw["audio"]["evidence"][0]["scientific_name"] == "Aquila adalberti"
    assert "title" in [tag for tag, _ in metadata]  # the file's own tags, shown in their own panel
