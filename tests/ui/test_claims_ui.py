"""The forensics tab's claim box, called directly with real files: typed claims, ambiguous names, the
file's own tag, map clicks, the species table at the claimed place, splices on the timeline, downloads."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import gradio as gr
import pandas as pd
import pytest

from geoforensics.ffmpeg import ffmpeg_exe
from geoforensics.forensics.analysis import ForensicReport
from geoforensics.ui.forensics_tab import (
    CLAIM_HEADERS,
    EXAMPLES,
    ClaimOutputs,
    analyze,
    check_claim,
    map_click,
    pick_alternative,
    prepare_downloads,
    use_file_tag,
)

from .conftest import EAGLE, no_progress
from .conftest import EXAMPLES as EXAMPLES_DIR

XC_SINGAPORE = EXAMPLES_DIR / "XC175831.mp3"


def run(upload: Path, claim: str = "") -> dict:
    return analyze(str(upload), "", "", 5.0, claim, progress=no_progress)._asdict()


def named(out: ClaimOutputs) -> dict:
    return out._asdict()


def table(update: gr.Dataframe) -> pd.DataFrame:
    v = update.value
    return pd.DataFrame(v["data"], columns=v["headers"])


def error_text(excinfo: pytest.ExceptionInfo) -> str:
    msg = excinfo.value.message
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def claimed_traces(fig) -> list:
    return [t for t in fig.data if (t.name or "").startswith("Claimed place")]


@pytest.fixture(scope="module")
def flagship(demo_video: Path) -> dict:
    claim, _ = EXAMPLES[demo_video.name]
    return run(demo_video, claim)


@pytest.fixture(scope="module")
def tagged(demo_video: Path, tmp_path_factory) -> dict:
    dest = tmp_path_factory.mktemp("tag") / "tagged.mp4"
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(demo_video),
                    "-c", "copy", "-metadata", "location=+21.9789-159.3711/", str(dest)], check=True)
    return run(dest)


def test_the_flagship_example_is_a_mismatch_with_the_blue_tit_in_the_table(flagship):
    assert EXAMPLES["kauai_with_european_birds.mp4"][0] == "Lihue, Kauai, Hawaii"
    verdict = flagship["verdict"]
    assert '<span class="gf-badge gf-mismatch">MISMATCH</span>' in verdict
    assert "The sound does not fit the claimed place, Lihue, Hawaii, United States" in verdict
    assert "Eurasian Blue Tit \\(heard at 0.99" in verdict and "does not live there" in verdict  # escaped Markdown
    assert "**Mains hum:**" in verdict and "**Splice:** no change of place" in verdict
    rows = table(flagship["claim_table"])
    assert list(rows.columns) == CLAIM_HEADERS
    first = rows.iloc[0]
    assert first["species"] == "Eurasian Blue Tit (Cyanistes caeruleus)" and first["lives there?"] == "no"
    assert first["confidence"] > 0.9 and first["windows heard"] >= 10 and first["nearest place it lives (km)"] > 4000
    assert "Lihue, Hawaii, United States (your claim): MISMATCH" in flagship["claim_table"].label
    (star,) = [t for t in claimed_traces(flagship["map"]) if t.mode == "markers"]
    assert star.marker.symbol == "star" and (star.lat[0], star.lon[0]) == pytest.approx((21.98, -159.37), abs=0.01)
    assert any((t.name or "").endswith("km tolerance") for t in flagship["map"].data)
    assert flagship["alternatives"].visible is False and flagship["tag_button"].interactive is False
    raw = flagship["raw"]
    assert (raw["verdict"]["level"] == "mismatch"
            and raw["claims"][0]["evidence"][0]["common_name"] == "Eurasian Blue Tit")


def test_the_downloads_carry_the_claims(flagship):
    assert flagship["downloads"] is None  # written only when asked for
    json_path, html_path, geojson, _, labels = (Path(f) for f in prepare_downloads("", flagship["report"]))
    claims = [f for f in json.loads(geojson.read_text())["features"] if f["properties"]["kind"] == "claim"]
    assert [c["properties"]["verdict"] for c in claims] == ["mismatch"]
    # not at Lihue
    assert any(r.endswith("\tno") and "Cyanistes caeruleus" in r for r in labels.read_text().splitlines())
    d = json.loads(json_path.read_text())
    assert d["claims"][0]["verdict"] == "mismatch" and d["verdict"]["basis"] == "typed"
    assert ForensicReport.from_dict(d).claims[0].evidence[0].common_name == "Eurasian Blue Tit"
    page = html_path.read_text()
    assert "Your claim: MISMATCH: the sound does not fit Lihue, Hawaii, United States" in page
    assert "Claimed place (your claim): MISMATCH" in page and "window.PlotlyGeoAssets" in page


def test_the_matched_example_is_consistent():
    claim, _ = EXAMPLES[EAGLE.name]
    out = run(EAGLE, claim)
    assert '<span class="gf-badge gf-consistent">CONSISTENT</span>' in out["verdict"]
    assert "Plasencia, Extremadura, Spain" in out["verdict"]
    rows = table(out["claim_table"])
    assert rows.iloc[0]["species"] == "Spanish Eagle (Aquila adalberti)" and rows.iloc[0]["lives there?"] == "yes"
    assert rows.iloc[0]["nearest place it lives (km)"] < 120  # the nearest point of the 1° gallery


def test_the_masked_example_says_what_covers_the_birds():
    clip = EXAMPLES_DIR / "eagle_under_music.mp4"
    claim, _ = EXAMPLES[clip.name]
    out = run(clip, claim)
    assert '<span class="gf-badge gf-consistent">CONSISTENT</span>' in out["verdict"]
    assert "**Soundtrack:** birds audible in 5 of 16 windows; music covers the rest" in out["verdict"]
    assert "soundtrack: music" in [t.name for t in out["timeline"].data]


def test_more_claims_without_listening_again(flagship):
    report = flagship["report"]
    out = named(check_claim("Stockholm", "", report))
    assert out["claim"] == "Stockholm" and "CONSISTENT" in out["verdict"] and "Stockholm, Sweden" in out["verdict"]
    assert out["report"].checker is report.checker and out["raw"]["claims"][0]["claim"]["label"] == "Stockholm, Sweden"
    assert table(out["claim_table"]).iloc[0]["lives there?"] == "yes"
    cleared = named(check_claim("   ", "", report))
    assert (cleared["report"].claims == [] and "INCONCLUSIVE" in cleared["verdict"]
            and "click the map" in cleared["verdict"])
    assert table(cleared["claim_table"]).empty
    kept = named(check_claim("Stockholm", "Cyanistes caeruleus", report))  # a species range stays drawn
    assert any((t.name or "").startswith("Range: Eurasian Blue Tit") for t in kept["map"].data)


def test_an_ambiguous_name_lists_its_alternatives_to_pick_from(flagship):
    out = named(check_claim("Paris", "", flagship["report"]))
    radio = out["alternatives"]
    assert radio.visible is True and radio.value == "Paris, Ile-de-France, France"
    labels = [c[0] for c in radio.choices]
    assert labels[0] == "Paris, Ile-de-France, France" and "Paris, Texas, United States" in labels
    assert "CONSISTENT" in out["verdict"]
    texas = labels.index("Paris, Texas, United States")
    picked = named(pick_alternative(texas, out["candidates"], "", out["report"]))
    assert picked["claim"] == "Paris, Texas, United States" and "MISMATCH" in picked["verdict"]
    assert picked["alternatives"] == gr.skip() and picked["candidates"] == gr.skip()  # the list stays to pick again
    assert picked["report"].claims[0].claim.lat == pytest.approx(33.66, abs=0.1)


def test_a_map_click_sets_the_claim(flagship):
    out = named(map_click("22.05, -159.5 @1733000000000", "", flagship["report"]))  # as the page script writes it
    assert out["claim"] == "22.0500, -159.5000" and "MISMATCH" in out["verdict"]
    assert out["report"].claims[0].claim.source == "map" and "(your map click)" in out["claim_table"].label
    with pytest.raises(gr.Error) as e:
        map_click("22.05, -159.5", "", None)
    assert "analyse a clip first" in error_text(e)


def test_a_tagged_file_offers_its_tag(tagged, flagship):
    button = tagged["tag_button"]
    assert button.interactive is True and "21.9789, -159.3711" in button.value
    assert flagship["tag_button"].interactive is False
    assert "MISMATCH" in tagged["verdict"] and "GPS tag" in tagged["verdict"]  # no claim typed: the tag is the headline
    stockholm = named(check_claim("Stockholm", "", tagged["report"]))
    assert ("CONSISTENT" in stockholm["verdict"] and "Also tested" in stockholm["verdict"]
            and "the file says" in stockholm["verdict"])
    back = named(use_file_tag("", stockholm["report"]))
    assert back["claim"] == "21.9789, -159.3711" and back["report"].headline_claim.claim.source == "file tag"
    assert ("the place in the file's GPS tag" in back["verdict"]
            and "(the file says): MISMATCH" in back["claim_table"].label)
    with pytest.raises(gr.Error) as e:
        use_file_tag("", flagship["report"])
    assert "no GPS tag" in error_text(e)


@pytest.mark.parametrize(
    "claim, message",
    [("91, 0", "latitude"), ("zzqxv nowhere land", "no place called 'zzqxv nowhere land'"), ("x" * 300, "too long")],
)
def test_bad_claim_text_is_a_clean_error(claim, message, demo_video, flagship):
    with pytest.raises(gr.Error) as e:
        analyze(str(demo_video), "", "", 5.0, claim, progress=no_progress)
    assert message in error_text(e)
    with pytest.raises(gr.Error) as e:
        check_claim(claim, "", flagship["report"])
    assert message in error_text(e)


def test_a_claim_before_any_analysis_says_what_to_do():
    with pytest.raises(gr.Error) as e:
        check_claim("Stockholm", "", None)
    assert "press Analyze" in error_text(e)


def test_untrusted_text_is_escaped(flagship):
    """Typed text reaches the page in the claim's label and in error messages (Gradio renders both as HTML)."""
    out = named(check_claim("Stockholm, <img src=x onerror=alert(1)>", "", flagship["report"]))
    verdict = out["verdict"]
    assert "matched none of them" in verdict and "\\<img" in verdict and not re.search(r"(?<!\\)<img", verdict)
    with pytest.raises(gr.Error) as e:
        check_claim("Stockholmx <img src=x onerror=alert(1)>", "", flagship["report"])
    assert "<img" not in error_text(e) and "&lt;img src=x onerror=alert(1)&gt;" in error_text(e)


def test_a_splice_is_shaded_on_the_timeline(tmp_path):
    spliced = tmp_path / "spain_then_singapore.wav"
    subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
         "-i", str(EAGLE), "-i", str(XC_SINGAPORE),
         "-filter_complex",
         "[0:a]atrim=0:15,asetpts=N/SR/TB[a];[1:a]atrim=0:15,asetpts=N/SR/TB[b];[a][b]concat=n=2:v=0:a=1[o]",
         "-map", "[o]", "-ac", "1", "-ar", "48000", str(spliced)],
        check=True,
    )
    out = run(spliced, "Singapore")
    splice = out["report"].splice
    assert splice.detected and 12 <= splice.change_s <= 16
    assert "**Splice:** the soundtrack changes place at" in out["verdict"]
    spans = [s for s in out["timeline"].layout.shapes if s.type == "rect"]
    assert len(spans) >= 2 and spans[0].x1 == pytest.approx(splice.change_s)
    labels = [a.text for a in out["timeline"].layout.annotations if (a.text or "").startswith(("before", "after"))]
    assert labels[0].startswith(f"before {splice.change_s:.1f} s: ") and "ES" in labels[0] and "MY" in labels[1]
