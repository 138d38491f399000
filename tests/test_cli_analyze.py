import json
import subprocess
import sys

import pytest

from geoforensics.cli import main
from geoforensics.paths import PROJECT_ROOT

DEMO = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"


def test_analyze_help():
    with pytest.raises(SystemExit) as e:
        main(["analyze", "--help"])
    assert e.value.code == 0


@pytest.mark.parametrize(
    "source, message",
    [
        ("ftp://example.com/a.mp3", "only http(s) URLs are allowed"),
        ("http://127.0.0.1/x.mp4", "private/loopback"),
    ],
)
def test_refused_urls(source, message, capsys):
    assert main(["analyze", source]) == 2
    assert message in capsys.readouterr().err


def test_demo_video_json_and_offline_html(tmp_path):
    html = tmp_path / "map.html"
    r = subprocess.run(
        [sys.executable, "-m", "geoforensics", "analyze", str(DEMO), "--json", "-", "--html", str(html), "--frame-every", "5"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["has_video"] is True
    assert report["audio"]["evidence"][0]["scientific_name"] == "Cyanistes caeruleus"
    lat, lon = report["audio"]["point"]
    assert 35 < lat < 70 and -15 < lon < 45  # the soundtrack is a Swedish Blue Tit
    assert report["verdict"]["level"] in {"inconclusive", "mismatch"}
    assert "container_metadata_display_only" in report
    text = html.read_text()
    assert "PlotlyGeoAssets" in text and "world_110m" in text


def test_bare_json_is_stdout_and_a_file_keeps_the_text(tmp_path, capsys):
    eagle = PROJECT_ROOT / "examples" / "XC148645.mp3"
    assert main(["analyze", str(eagle), "--max-duration", "30", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["source"] == "XC148645.mp3" and report["has_video"] is False
    assert report["audio"]["evidence"][0]["scientific_name"] == "Aquila adalberti"
    assert report["verdict"]["level"] == "inconclusive"
    out = tmp_path / "report.json"
    assert main(["analyze", str(eagle), "--max-duration", "30", "--json", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("XC148645.mp3: inconclusive") and f"wrote {out}" in captured.err
    again = json.loads(out.read_text())
    assert again["audio"]["point"] == pytest.approx(report["audio"]["point"])
    assert again["verdict"] == report["verdict"]


def test_claim_option_gives_the_verdict_and_its_evidence(tmp_path):
    out, html = tmp_path / "report.json", tmp_path / "map.html"
    r = subprocess.run(
        [sys.executable, "-m", "geoforensics", "analyze", str(DEMO), "--claim", "Lihue, Kauai, Hawaii",
         "--json", str(out), "--html", str(html), "--frame-every", "10"],
        capture_output=True, text=True, cwd=PROJECT_ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{DEMO.name}: mismatch: the sound does not fit the claimed place, Lihue, Hawaii")
    assert "Your claim: MISMATCH" in r.stdout and "Eurasian Blue Tit (heard at 0.99" in r.stdout
    report = json.loads(out.read_text())
    assert report["verdict"]["level"] == "mismatch" and report["verdict"]["basis"] == "typed"
    (claim,) = report["claims"]
    assert claim["claim"]["source"] == "typed" and claim["evidence"][0]["common_name"] == "Eurasian Blue Tit"
    page = html.read_text()
    assert "Claimed place (your claim): MISMATCH" in page and "Your claim: MISMATCH" in page


def test_a_bad_claim_is_refused_before_anything_else(capsys):
    assert main(["analyze", "https://example.com/v.mp4", "--claim", "zzqxv nowhere land"]) == 2
    assert "no place called 'zzqxv nowhere land'" in capsys.readouterr().err
