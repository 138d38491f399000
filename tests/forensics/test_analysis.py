"""``analyze_media`` with claims: the user's, the file's own GPS tag and the picture's guess, on real clips."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from geoforensics.errors import InputError
from geoforensics.ffmpeg import ffmpeg_exe
from geoforensics.forensics import analysis as A
from geoforensics.forensics import claims as C
from geoforensics.forensics.analysis import ForensicReport, analyze_media
from geoforensics.paths import PROJECT_ROOT

KAUAI = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"
EAGLE = PROJECT_ROOT / "examples" / "XC148645.mp3"
LIHUE_TAG = "+21.9789-159.3711/"


def tagged_copy(src: Path, dest: Path, location: str) -> Path:
    """``src`` with its streams copied and an ISO 6709 ``location`` tag written into the container."""
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-c", "copy",
                    "-metadata", f"location={location}", str(dest)], check=True)
    return dest


@pytest.fixture(scope="module")
def flagship() -> ForensicReport:
    return analyze_media(KAUAI, claim="Lihue, Kauai, Hawaii")


@pytest.fixture(scope="module")
def tagged(tmp_path_factory) -> ForensicReport:
    return analyze_media(tagged_copy(KAUAI, tmp_path_factory.mktemp("tag") / "tagged.mp4", LIHUE_TAG))


def test_the_flagship_is_a_mismatch_offline_with_its_reasons(flagship):
    assert flagship.image is None  # no CLIP weights here: the verdict stands on the sound alone
    v = flagship.verdict
    assert v.level == "mismatch" and v.basis == "typed"
    assert v.text.startswith("mismatch: the sound does not fit the claimed place, Lihue, Hawaii, United States")
    (check,) = flagship.claims
    assert check is flagship.user_claim is flagship.headline_claim
    assert check.claim.source == "typed" and check.file == KAUAI.name
    assert check.evidence[0].common_name == "Eurasian Blue Tit" and not check.evidence[0].lives_here
    assert check.evidence[0].nearest_km > 4000
    assert "Eurasian Blue Tit (heard at 0.99" in check.text and "does not live there" in check.text
    assert flagship.splice is not None and not flagship.splice.detected
    assert flagship.hum is not None and flagship.hum.verdict == "none"


class FfmpegRuns:
    """Every ffmpeg process started and every first-bytes check, by kind: "probe" (``ffmpeg -i`` without an
    output), "audio" (a decode to PCM), "frames" (a decode to pictures)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import subprocess as sp

        import geoforensics.ffmpeg as F

        self.runs: list[str] = []
        self.sniffs: list[str] = []
        real_popen, real_sniff = sp.Popen, F.content_problem
        record = self.runs.append

        def kind(cmd: list[str]) -> str:
            text = " ".join(map(str, cmd))
            return "audio" if "pcm_f32le" in text else "frames" if "image2pipe" in text else "probe"

        class Popen(real_popen):  # type: ignore[misc, valid-type]
            def __init__(self, cmd, *a, **k):
                if "ffmpeg" in str(cmd[0]):
                    record(kind(cmd))
                super().__init__(cmd, *a, **k)

        def sniff(path):
            self.sniffs.append(str(path))
            return real_sniff(path)

        monkeypatch.setattr(sp, "Popen", Popen)  # subprocess.run starts its process through it too
        monkeypatch.setattr(F, "content_problem", sniff)


def test_the_sound_is_scored_once_and_its_prediction_is_the_audio_guess(monkeypatch):
    import geoforensics.api

    gathered: list[object] = []
    real = A.gather_evidence

    def counting(*args, **kwargs):
        gathered.append(real(*args, **kwargs))
        return gathered[-1]

    def no_second_locate(*args, **kwargs):
        raise AssertionError("the audio was located twice")

    monkeypatch.setattr(A, "gather_evidence", counting)
    monkeypatch.setattr(geoforensics.api, "locate", no_second_locate)
    report = analyze_media(EAGLE, claim="Plasencia, Spain", max_duration_s=30)
    assert len(gathered) == 1 and report.checker is not None and report.audio is report.checker.prediction
    assert report.verdict.level == "consistent" and report.claims[0].claim.label == "Plasencia, Extremadura, Spain"
    assert report.audio.evidence[0].scientific_name == "Aquila adalberti"


def test_a_cut_analysis_says_so_and_probes_the_file_once(monkeypatch):
    runs = FfmpegRuns(monkeypatch)
    report = analyze_media(EAGLE, max_duration_s=10)
    assert any(n.startswith("analysed the first 10 s of 25 s") for n in report.audio.notes), report.audio.notes
    assert sorted(runs.runs) == ["audio", "probe"] and runs.sniffs == [str(EAGLE)]


def test_more_claims_are_answered_from_the_stored_report(flagship):
    stockholm = flagship.with_claim("Stockholm")
    assert stockholm.verdict.level == "consistent" and stockholm.claims[0].claim.label == "Stockholm, Sweden"
    assert flagship.verdict.level == "mismatch"  # the original is left as it was
    clicked = flagship.with_claim(C.Claim(22.05, -159.5, "map", C.point_label(22.05, -159.5)))
    assert (clicked.verdict.level == "mismatch" and clicked.verdict.basis == "map"
            and "Hawaii" in clicked.claims[0].claim.label)
    none = flagship.with_claim(None)
    assert none.claims == [] and none.verdict.level == "inconclusive" and none.verdict.basis == "none"
    assert A.CLAIM_PROMPT in none.verdict.text
    with pytest.raises(InputError, match="user's claim"):
        flagship.with_claim(C.Claim(1, 1, "file tag"))


def test_the_file_tag_is_a_claim_never_a_prediction_input(tagged, flagship):
    assert tagged.metadata["gps"] == pytest.approx((21.9789, -159.3711))
    (check,) = tagged.claims
    assert check is tagged.file_claim and check.claim.source == "file tag" and tagged.user_claim is None
    assert check.claim.label == "21.9789, -159.3711 (near Lihue, Hawaii, US)"
    assert tagged.verdict.level == "mismatch" and tagged.verdict.basis == "file tag"
    assert "the place in the file's GPS tag" in tagged.verdict.text
    assert tagged.audio.point == pytest.approx(flagship.audio.point)  # the tag changed nothing in the guess
    both = tagged.with_claim("Stockholm")
    assert [c.claim.source for c in both.claims] == ["typed", "file tag"]
    assert both.verdict.basis == "typed" and both.verdict.level == "consistent"


def test_without_claim_or_clip_the_audio_stands_alone_and_asks_for_a_claim():
    report = analyze_media(EAGLE, max_duration_s=30)
    assert report.claims == [] and report.checker is not None
    assert report.verdict.level == "inconclusive" and report.verdict.basis == "none"
    assert report.verdict.text.startswith("inconclusive: no picture to compare with; type the place")


def test_a_bad_claim_fails_before_any_work():
    with pytest.raises(InputError, match="latitude"):
        analyze_media(Path("/nonexistent/clip.mp4"), claim="91, 0")
    with pytest.raises(InputError, match="no place called"):
        analyze_media(Path("/nonexistent/clip.mp4"), claim="zzqxv nowhere land")


def test_json_round_trip(flagship, tagged):
    for report in (flagship, tagged):
        again = ForensicReport.from_json(report.to_json(surface="full"))
        assert json.loads(again.to_json(surface="none")) == json.loads(report.to_json(surface="none"))
        assert again.claims == report.claims and again.verdict == report.verdict and again.checker is None
    d = flagship.to_dict()
    assert d["claims"][0]["verdict"] == "mismatch" and d["claims"][0]["claim"]["source"] == "typed"
    assert d["verdict"]["basis"] == "typed" and d["splice"]["detected"] is False
    with pytest.raises(InputError, match="analyse the clip again"):
        ForensicReport.from_dict(d).with_claim("Stockholm")


def test_with_clip_the_picture_is_tested_as_a_claim_too(tiny_clip_env):
    """With (tiny random) CLIP weights the picture's guess is one more claim and, with no other, the
    headline is the sound against the picture."""
    report = analyze_media(KAUAI, frame_every_s=10)
    assert report.image is not None and report.comparison is not None
    (check,) = report.claims
    assert (check.claim.source == "image guess"
            and (check.claim.lat, check.claim.lon) == pytest.approx(report.image.point))
    assert report.verdict is report.comparison and report.verdict.basis == "image"
    claimed = report.with_claim("Lihue, Hawaii")
    assert [c.claim.source for c in claimed.claims] == ["typed", "image guess"]
    assert claimed.verdict.level == "mismatch" and claimed.comparison is report.comparison


def test_one_analysis_of_a_video_with_a_claim_probes_decodes_and_reads_frames_once(monkeypatch, tiny_clip_env):
    """One clip, one pass: one safety check and probe (streams, duration and the display-only tags), one
    audio decode, one frame pass; the claim, the file's tag, the picture's guess and the metadata panel
    all come from them."""
    runs = FfmpegRuns(monkeypatch)
    report = analyze_media(KAUAI, claim="Lihue, Hawaii", frame_every_s=10)
    assert sorted(runs.runs) == ["audio", "frames", "probe"], runs.runs
    assert runs.sniffs == [str(KAUAI)]
    assert report.image is not None and report.verdict.level == "mismatch"
    assert [c.claim.source for c in report.claims] == ["typed", "image guess"]


def test_the_soundtrack_is_described_in_the_report_its_lines_and_its_timeline():
    from geoforensics.viz.report import content_spans, report_notes, report_timeline

    report = analyze_media(PROJECT_ROOT / "examples" / "eagle_under_music.mp4", claim="Sydney")
    soundtrack = report.to_dict()["soundtrack"]
    assert soundtrack["summary"] == "birds audible in 5 of 16 windows; music covers the rest"
    assert soundtrack["masked_reason"] is None and report.verdict.level == "mismatch"
    first, last = soundtrack["windows"][0], soundtrack["windows"][-1]
    assert (first["dominant"], first["audible"]) == ("animal", True) and last["dominant"] == "music"
    assert "Soundtrack: birds audible in 5 of 16 windows; music covers the rest" in report_notes(report)
    assert [s.kind for s in content_spans(report)] == [w["dominant"] for w in soundtrack["windows"]]
    band = [t for t in report_timeline(report).data if t.name and t.name.startswith("soundtrack: ")]
    assert ({t.name: len(t.x) for t in band}["soundtrack: music"]
            == sum(w["dominant"] == "music" for w in soundtrack["windows"]))
