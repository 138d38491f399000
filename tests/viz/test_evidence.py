"""The evidence video and the one-page report, made from the shipped examples and a generated clip, and
checked as a viewer would: its frames (banner, picture, playhead, closing card), its sound against the
source's, its size, and that nothing is left behind."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from geoforensics.audio.decode import decode_audio
from geoforensics.errors import GeoforensicsError, InputError
from geoforensics.ffmpeg import ffmpeg_exe, probe
from geoforensics.forensics.analysis import ForensicReport, analyze_media
from geoforensics.media.frames import extract_frames
from geoforensics.paths import PROJECT_ROOT
from geoforensics.viz.evidence import CARD_SECONDS, MAX_BYTES, EvidenceVideo, render_evidence_video
from geoforensics.viz.page import METADATA_TITLE, report_page, write_report_page

KAUAI = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"
EAGLE = PROJECT_ROOT / "examples" / "XC148645.mp3"
RED, GREEN = (0xC6, 0x28, 0x28), (0x2E, 0x7D, 0x32)
PLAYHEAD = (0xD5, 0x00, 0x00)
TIMELINE_ROWS = slice(610, 680)  # the distance panel, which the playhead crosses


@pytest.fixture(scope="module")
def temp_root(tmp_path_factory) -> Path:
    """The temp folder every render in this module uses, to see that each one leaves it empty."""
    root = tmp_path_factory.mktemp("tmp")
    old = tempfile.tempdir
    tempfile.tempdir = str(root)
    yield root
    tempfile.tempdir = old


@pytest.fixture(scope="module")
def flagship() -> ForensicReport:
    return analyze_media(KAUAI, claim="Lihue, Kauai, Hawaii")


@pytest.fixture(scope="module")
def eagle() -> ForensicReport:
    return analyze_media(EAGLE, claim="Plasencia, Spain")


def render(report: ForensicReport, source: Path, out: Path, **kw) -> tuple[EvidenceVideo, list[tuple[float, str]]]:
    seen: list[tuple[float, str]] = []
    video = render_evidence_video(report, source, out, progress=lambda f, msg: seen.append((f, msg)), **kw)
    return video, seen


@pytest.fixture(scope="module")
def flagship_video(flagship, temp_root, tmp_path_factory):
    return render(flagship, KAUAI, tmp_path_factory.mktemp("out") / "kauai evidence.mp4")


@pytest.fixture(scope="module")
def eagle_video(eagle, temp_root, tmp_path_factory):
    return render(eagle, EAGLE, tmp_path_factory.mktemp("out") / "eagle.mp4")


def frames_every(video: Path, every_s: float, folder: Path) -> dict[float, np.ndarray]:
    """Frames every ``every_s`` seconds, also saved as PNGs in ``folder`` (to look at)."""
    out = {}
    for f in extract_frames(video, every_s=every_s, max_frames=100, size=None):
        f.image.save(folder / f"{video.stem}-{f.t_s:04.1f}s.png")
        out[f.t_s] = np.asarray(f.image).astype(int)
    return out


def near(pixel: np.ndarray, rgb: tuple[int, int, int], tol: int = 30) -> bool:
    return bool(np.abs(pixel - np.array(rgb)).max() <= tol)


def playhead_x(frame: np.ndarray) -> float:
    """Mean column of the playhead's red in the distance panel."""
    band = frame[TIMELINE_ROWS]
    red = (band[..., 0] > 180) & (band[..., 1] < 60) & (band[..., 2] < 60)
    cols = np.nonzero(red.sum(axis=0) > 20)[0]
    assert len(cols), "no playhead"
    return float(cols.mean())


def lag_and_peak(a: np.ndarray, b: np.ndarray, rate: int, max_lag_s: float = 0.5) -> tuple[float, float]:
    """The lag (s) at which ``a`` best matches ``b`` (positive: ``a`` later) and the normalised peak."""
    n = min(len(a), len(b))
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    c = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    m = int(max_lag_s * rate)
    lags = np.r_[np.arange(0, m + 1), np.arange(-m, 0)]
    values = np.r_[c[: m + 1], c[-m:]]
    k = int(np.argmax(values))
    return lags[k] / rate, float(values[k] / np.sqrt((a**2).sum() * (b**2).sum()))


def assert_same_sound(video: EvidenceVideo, source: Path) -> None:
    rate = 16000
    ours = decode_audio(video.path, rate, max_duration_s=video.clip_s)
    theirs = decode_audio(source, rate, max_duration_s=video.clip_s)
    assert abs(len(ours) - len(theirs)) <= rate / video.fps  # the whole span, no more
    lag, peak = lag_and_peak(ours, theirs, rate)
    assert abs(lag) <= 1 / video.fps, f"audio off by {lag * 1000:.0f} ms"
    assert peak > 0.9, peak


def test_flagship_video_shows_the_clip_the_verdict_a_moving_playhead_and_the_card(flagship_video, tmp_path):
    video, seen = flagship_video
    assert video.path.is_file() and video.size_bytes == video.path.stat().st_size <= MAX_BYTES
    assert video.clip_s == pytest.approx(20.0) and video.duration_s == pytest.approx(20.0 + CARD_SECONDS)
    info = probe(video.path)
    assert info.video.codec == "h264" and (info.video.width, info.video.height) == (1280, 720)
    assert info.audio.codec == "aac" and video.audio == "copied (aac)"
    assert info.duration_s == pytest.approx(video.duration_s, abs=0.2)
    frames = frames_every(video.path, 4.0, tmp_path)
    assert sorted(frames) == [0.0, 4.0, 8.0, 12.0, 16.0, 20.0, 24.0]
    for t in (0.0, 8.0, 16.0):
        f = frames[t]
        assert near(f[10, 10], RED), "the banner is the mismatch red"
        assert f[150:400, 200:460].mean() > 60, "the picture of Kauai is in its panel"
    xs = [playhead_x(frames[t]) for t in (4.0, 8.0, 16.0)]
    speed = (xs[1] - xs[0]) / 4
    assert speed > 30 and xs[2] - xs[1] == pytest.approx(8 * speed, abs=3), xs  # it moves with time, evenly
    card = frames[24.0]
    assert card.mean() > 220 and not near(card[10, 10], RED), "the closing card is mostly white text"
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and any("frame" in m for _, m in seen)


def spectrogram_playhead_x(frame: np.ndarray) -> float:
    """Mean column of the white playhead across the spectrogram (rows below its caption)."""
    band = frame[150:420, 10:650]
    white = (band.min(axis=2) > 200)
    cols = np.nonzero(white.sum(axis=0) > 200)[0]
    assert len(cols), "no playhead on the spectrogram"
    return 10 + float(cols.mean())


def test_audio_only_video_shows_the_spectrogram_with_a_playhead_and_the_consistent_banner(eagle_video, tmp_path):
    video, _ = eagle_video
    assert video.audio == "copied (mp3)" and probe(video.path).audio.codec == "mp3"
    frames = frames_every(video.path, 5.0, tmp_path)
    f = frames[5.0]
    assert near(f[10, 10], GREEN)
    low, high = f[380:420, 20:640].mean(), f[100:140, 20:640].mean()
    assert low > high + 20, "the eagle's calls are loud below 2 kHz, quiet near 10 kHz"
    xs = [spectrogram_playhead_x(frames[t]) for t in (5.0, 10.0, 20.0)]
    speed = (xs[1] - xs[0]) / 5
    assert speed > 15 and xs[2] - xs[1] == pytest.approx(10 * speed, abs=3), xs
    assert playhead_x(frames[10.0]) > playhead_x(f)


@pytest.mark.parametrize("which", ["flagship", "eagle"])
def test_exported_audio_is_the_source_audio_at_zero_lag(which, flagship_video, eagle_video):
    video, _ = flagship_video if which == "flagship" else eagle_video
    assert_same_sound(video, KAUAI if which == "flagship" else EAGLE)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A 6 s clip of ffmpeg's test picture with PCM noise bursts, in Matroska (its audio needs re-encoding)."""
    path = tmp_path_factory.mktemp("gen") / "generated clip.mkv"
    rate = 48000
    rng = np.random.default_rng(0)
    x = np.zeros(6 * rate, dtype=np.float32)
    for start in rng.uniform(0, 5.7, 12):
        i = int(start * rate)
        x[i : i + rate // 10] = rng.normal(0, 0.3, rate // 10)
    wav = path.with_suffix(".raw")
    wav.write_bytes(x.tobytes())
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=6",
                    "-f", "f32le", "-ar", str(rate), "-ac", "1", "-i", str(wav), "-c:v", "libx264", "-c:a", "pcm_s16le",
                    "-shortest", str(path)], check=True)
    wav.unlink()
    return path


def test_generated_clip_audio_is_reencoded_in_step_with_the_picture(generated, temp_root, tmp_path):
    report = analyze_media(generated)
    video, _ = render(report, generated, tmp_path / "gen.mp4", max_seconds=4.0)
    assert video.clip_s == pytest.approx(4.0) and video.audio.startswith("re-encoded (AAC")
    assert probe(video.path).audio.codec == "aac"
    assert_same_sound(video, generated)
    frames = frames_every(video.path, 1.0, tmp_path)
    assert near(frames[1.0][10, 10], (0x42, 0x42, 0x42)), "no claim, no picture guess: an inconclusive banner"
    assert frames[1.0][100:400, 100:560].std() > 30, "the test picture's colours are in the panel"
    assert list(temp_root.iterdir()) == []


def test_a_hostile_file_name_is_drawn_as_text(temp_root, tmp_path):
    """``$...$`` in a name is not mathtext (an unparsable one used to stop the render) and control
    characters are drawn as visible escapes."""
    src = tmp_path / "x$\\frac$ $^$ \x1b[2J.mp3"
    src.write_bytes(EAGLE.read_bytes())
    report = analyze_media(src, claim="Plasencia, Spain")
    video, _ = render(report, src, tmp_path / "hostile.mp4", max_seconds=3.0)
    assert video.size_bytes > 10_000 and list(temp_root.iterdir()) == []
    page = write_report_page(report, tmp_path / "hostile.png")
    assert page.stat().st_size > 50_000


def test_failures_leave_nothing_behind(flagship, temp_root, tmp_path):
    out = tmp_path / "too big.mp4"
    with pytest.raises(GeoforensicsError, match="over the 0.05 MB limit"):
        render_evidence_video(flagship, KAUAI, out, max_bytes=50_000, max_seconds=3)
    assert not out.exists() and list(temp_root.iterdir()) == []
    with pytest.raises(InputError, match="mp4"):
        render_evidence_video(flagship, KAUAI, tmp_path / "x.avi")
    with pytest.raises(InputError, match="0 to 600 s"):
        render_evidence_video(flagship, KAUAI, out, max_seconds=0)
    with pytest.raises(InputError, match="not a readable audio or video file"):
        render_evidence_video(flagship, PROJECT_ROOT / "pyproject.toml", out)
    assert not out.exists() and list(temp_root.iterdir()) == []


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_report_page_files(flagship, tmp_path, suffix):
    out = write_report_page(flagship, tmp_path / f"report{suffix}",
                            command="geoforensics analyze kauai.mp4 --claim 'Lihue'")
    data = out.read_bytes()
    assert len(data) > 50_000 and not list(tmp_path.glob(".*part"))
    if suffix == ".png":
        with Image.open(out) as im:
            assert im.size == (1753, 1240)
            assert im.info["Description"].startswith("mismatch: the sound does not fit the claimed place, Lihue")
    else:
        assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF") and b"/Count 1" in data
        assert b"(mismatch: the sound does not fit the claimed place, Lihue" in data


def test_report_page_holds_verdict_species_metadata_panel_and_command(eagle):
    texts = [t.get_text() for t in report_page(eagle, command="geoforensics analyze XC148645.mp3").texts]
    joined = "\n".join(texts)
    assert "CONSISTENT" in texts and METADATA_TITLE in texts
    assert "Spanish Eagle (Aquila adalberti)" in texts and "yes" in texts
    assert "Reproduce: geoforensics analyze XC148645.mp3" in texts
    assert "artist: Patrik" in joined and "Xeno-canto XC148645 by Patrik Åberg" in joined
    default = [t.get_text() for t in report_page(eagle).texts]
    assert any(t.startswith("Reproduce: geoforensics analyze XC148645.mp3 --claim") for t in default)

