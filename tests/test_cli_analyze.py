import json
import subprocess
import sys

import pytest

from geoforensics.cli import main
from geoforensics.paths import PROJECT_ROOT

DEMO = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"


def test_analyze_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["analyze", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for option in ("--video OUT.mp4", "--video-seconds S", "--report OUT.png|OUT.pdf"):
        assert option in out


def test_evidence_video_and_report_page_from_the_command_line(tmp_path):
    video, page = tmp_path / "evidence.mp4", tmp_path / "report.pdf"
    r = subprocess.run(
        [sys.executable, "-m", "geoforensics", "analyze", str(DEMO), "--claim", "Lihue, Kauai, Hawaii",
         "--frame-every", "10", "--video", str(video), "--video-seconds", "5", "--report", str(page)],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert f"wrote {video}" in r.stderr and f"wrote {page}" in r.stderr
    from geoforensics.ffmpeg import probe

    info = probe(video)
    assert info.has_video and info.has_audio and info.duration_s == pytest.approx(5 + 6, abs=0.2)
    data = page.read_bytes()
    assert data.startswith(b"%PDF-") and b"(mismatch: the sound does not fit the claimed place, Lihue" in data
    assert sorted(tmp_path.iterdir()) == sorted([video, page])  # nothing else left in the working folder


@pytest.mark.parametrize(
    "args, message",
    [
        (["--report", "out.jpg"], "must end in .png or .pdf"),
        (["--video", "out.mp4", "--video-seconds", "0"], "must be more than 0 and at most 600"),
        (["--video", "out.mp4", "--video-seconds", "601"], "must be more than 0 and at most 600"),
    ],
)
def test_bad_video_and_report_options_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as e:
        main(["analyze", str(DEMO), *args])
    assert e.value.code == 2 and message in capsys.readouterr().err


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
        [sys.executable, "-m", "geoforensics", "analyze", str(DEMO), "--json", "-", "--html", str(html),
         "--frame-every", "5"],
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
