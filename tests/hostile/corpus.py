"""The hostile-input corpus (issue 14), generated at test time: nothing binary is committed.

``build_corpus(root)`` writes every case's files under ``root`` (a few seconds, about 80 MB) and
returns the cases. Each :class:`Case` says what to run and what a correct outcome is:

* ``kind`` "file": ``geoforensics locate FILE`` and ``geoforensics analyze FILE``;
  "array": ``geoforensics.locate(ARRAY, sample_rate=RATE)`` on the array ``ARRAYS[array]()``;
  "argv": ``geoforensics ARGV...``.
* ``expect`` "refuse": a clean refusal (exit status 2, one ``error:`` line matching ``message``, no
  traceback); "ok": a result (exit 0, strict JSON, a point on the globe; ``species`` must lead the
  evidence, ``note`` must be among the notes); "either": one of the two (truncated files, say).
* ``watch``: files that must never be opened (what playlists and CSVs point at).
* ``fast``: part of the default test run; the rest runs with ``-m hostile``
  (``tests/hostile/test_corpus.py``) and in ``benchmarks/hostile_inputs.py``.
* ``isolate``: run in a subprocess with a timeout (FIFOs, device files), never in the test process.
* kinds "api" and "signal", and the checks ``env``, ``prepare``, ``result``, ``near``, ``absent`` and
  ``whole``: issue 25's evidence cases, see :mod:`tests.hostile.evidence_cases` and :func:`guarded`.

Every run must also leave no file in the temporary folder and print only terminal-safe text.
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geoforensics.ffmpeg import ffmpeg_exe
from geoforensics.paths import PROJECT_ROOT
from tests.hostile.evidence_cases import evidence_cases, run_api, run_signal

EAGLE = PROJECT_ROOT / "examples" / "XC148645.mp3"
"""A real recording (Spanish Imperial Eagle, Aquila adalberti): what "ok" cases must still find."""
EAGLE_SPECIES = "Aquila adalberti"

REFUSED_FILE = r"could not read|cannot decode|no audio|not a file|file not found|is empty|not a readable|no such file"


@dataclass
class Case:
    name: str
    category: str
    kind: str = "file"
    path: Path | None = None
    argv: list[str] | None = None
    array: str | None = None
    rate: object = 48000
    expect: str = "refuse"
    message: str | None = None
    species: str | None = None
    note: str | None = None
    watch: tuple[Path, ...] = ()
    fast: bool = False
    isolate: bool = False
    max_duration: float | None = None
    extra: list[str] = field(default_factory=list)
    # batch and evidence cases (issue 25), see batch_cases(), evidence_cases() and guarded()
    unchanged: tuple[Path, ...] = ()
    hold: Path | None = None
    csv_ids: tuple[Path, tuple[str, ...]] | None = None
    env: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[], None] | None = None
    result: Path | None = None
    near: tuple[float, float, float] | None = None
    absent: tuple[Path, ...] = ()
    whole: tuple[Path, ...] = ()

    def python_args(self) -> list[str]:
        """What follows ``python`` to run an "argv", "api" or "signal" case in a subprocess."""
        if self.kind == "api":
            return ["-m", "tests.hostile.corpus", "--run-api", *(self.argv or [])]
        if self.kind == "signal":
            return ["-m", "tests.hostile.corpus", "--run-signal", *(self.argv or [])]
        return ["-m", "geoforensics", *(self.argv or [])]


def ffmpeg(*args: str) -> None:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], capture_output=True, timeout=120
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode("utf-8", "replace"))


# ---------------------------------------------------------------- arrays (built in the process that runs them)


def _tone(rate: int, seconds: float = 4.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.3 * np.sin(2 * np.pi * 2500 * t)).astype(np.float32)


ARRAYS: dict[str, Callable[[], np.ndarray]] = {
    "tone-1k": lambda: _tone(1000),
    "tone-12001": lambda: _tone(12001),
    "tone-44101": lambda: _tone(44101),
    "tone-47999": lambda: _tone(47999),
    "tone-767999": lambda: _tone(767999, 2.0),
    "tone-768k": lambda: _tone(768000, 2.0),
    "tone-16k": lambda: _tone(16000),
    "tiny": lambda: np.zeros(10, np.float32),
    "empty": lambda: np.zeros(0, np.float32),
    "nan": lambda: np.full(48000, np.nan, np.float32),
    "inf": lambda: np.full(48000, np.inf, np.float32),
    "one-nan": lambda: np.where(np.arange(48000) == 100, np.nan, 0.1).astype(np.float32),
    "huge-float64": lambda: np.full(48000, 1e300),
    "three-d": lambda: np.zeros((2, 2, 48000), np.float32),
    "strings": lambda: np.array(["a", "b"]),
    "objects": lambda: np.array([object(), object()]),
    "booleans": lambda: np.ones(48000, bool),
    "complex": lambda: np.ones(48000, np.complex64),
    "int16-stereo": lambda: (np.stack([_tone(44100), _tone(44100)], 1) * 32767).astype(np.int16),
    "uint8": lambda: ((_tone(22050) + 1) * 127).astype(np.uint8),
    "64-channels": lambda: np.tile(_tone(48000, 2.0), (64, 1)),
    "two-hours-44k": lambda: np.broadcast_to(np.float32(0.01), (7200 * 44100,)),
    "two-hours-44101": lambda: np.broadcast_to(np.float32(0.01), (7200 * 44101,)),
}


# ---------------------------------------------------------------- WAV headers


def wav_bytes(
    *, tag: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16, byte_rate: int | None = None,
    block_align: int | None = None, data: bytes = b"", riff_size: int | None = None, data_size: int | None = None,
    fmt_size: int = 16, chunks: tuple[str, ...] = ("fmt", "data"), extra: bytes = b"",
) -> bytes:
    """A WAV file with every header field settable, however absurd."""
    block = block_align if block_align is not None else (channels * bits // 8) & 0xFFFF
    rate_b = byte_rate if byte_rate is not None else (rate * block) & 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", tag & 0xFFFF, channels & 0xFFFF, rate & 0xFFFFFFFF, rate_b, block, bits & 0xFFFF)
    fmt = fmt.ljust(min(fmt_size, 64), b"\0")
    parts = {
        "fmt": b"fmt " + struct.pack("<I", fmt_size & 0xFFFFFFFF) + fmt,
        "data": b"data" + struct.pack("<I", (len(data) if data_size is None else data_size) & 0xFFFFFFFF) + data,
        "list": b"LIST" + struct.pack("<I", 0xFFFFFFF0) + b"INFOISFT" + struct.pack("<I", 4) + b"abcd",
        "junk": b"JUNK" + struct.pack("<I", 8) + b"\0" * 8,
    }
    body = b"WAVE" + b"".join(parts[c] for c in chunks) + extra
    size = len(body) if riff_size is None else riff_size
    return b"RIFF" + struct.pack("<I", size & 0xFFFFFFFF) + body


def pcm16(seconds: float = 1.0, rate: int = 16000, channels: int = 1) -> bytes:
    t = np.arange(int(rate * seconds)) / max(rate, 1)
    x = np.repeat((0.3 * np.sin(2 * np.pi * 2500 * t))[:, None], channels, 1)
    return (x * 32767).astype("<i2").tobytes()


def float_wav(samples: np.ndarray, rate: int = 16000) -> bytes:
    return wav_bytes(tag=3, bits=32, rate=rate, data=samples.astype("<f4").tobytes())


# ---------------------------------------------------------------- the corpus


FORMATS: dict[str, list[str]] = {
    "wav": ["-c:a", "pcm_s16le"],
    "flac": ["-c:a", "flac"],
    "mp3": ["-c:a", "libmp3lame", "-b:a", "64k"],
    "ogg": ["-c:a", "libvorbis"],
    "opus": ["-c:a", "libopus", "-b:a", "32k"],
    "m4a": ["-c:a", "aac", "-b:a", "64k"],
    "aac": ["-c:a", "aac", "-b:a", "64k", "-f", "adts"],
    "aiff": ["-c:a", "pcm_s16be"],
    "wma": ["-c:a", "wmav2", "-f", "asf"],
}
VIDEO_FORMATS: dict[str, list[str]] = {
    "mp4": ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"],
    "mov": ["-c:v", "mpeg4", "-c:a", "aac"],
    "mkv": ["-c:v", "mpeg4", "-c:a", "libvorbis"],
    "webm": ["-c:v", "libvpx", "-deadline", "realtime", "-c:a", "libopus"],
    "avi": ["-c:v", "mpeg4", "-c:a", "libmp3lame"],
    "ts": ["-c:v", "mpeg4", "-c:a", "aac", "-f", "mpegts"],
    "flv": ["-c:v", "flv", "-c:a", "libmp3lame", "-ar", "44100"],
}


@dataclass
class _Builder:
    """What the sections of :func:`build_corpus` share: the folder, the random source, the files cases point at
    and the cases so far."""

    root: Path
    rng: np.random.Generator
    canary: Path
    passwd: Path
    watch: tuple[Path, ...]
    eagle: Path
    good: dict[str, Path] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)

    def noise(self, n: int) -> bytes:
        """``n`` random bytes."""
        return self.rng.integers(0, 256, n, dtype=np.uint8).tobytes()

    def add(self, case: Case) -> None:
        """Append ``case`` to the corpus."""
        self.cases.append(case)


def build_corpus(root: Path) -> list[Case]:
    """Write the corpus under ``root`` (created) and return its cases (>= 200)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(14)
    secret = root / "secret"
    secret.mkdir(exist_ok=True)
    canary = secret / "canary.txt"
    canary.write_text("CANARY-7f3a9: this file must never be opened\n")
    passwd = Path("/etc/passwd")
    watch = (canary, passwd, Path("/etc/shadow"))
    b = _Builder(root, rng, canary, passwd, watch, eagle=root / "base" / "source.mp3")
    _valid_media(b)
    _empty_files(b)
    _random_bytes(b)
    _truncated(b)
    _wav_headers(b)
    _nan_audio(b)
    _playlists(b)
    _symlinks(b)
    _special_files(b)
    _odd_names(b)
    _binaries(b)
    _huge_durations(b)
    _many_channels(b)
    _tags(b)
    _arrays(b)
    _bad_csvs(b)
    _options_and_urls(b)
    cases = b.cases
    cases += batch_cases(root, b.eagle, str(b.good["mp3"]))
    cases += evidence_cases(root, EAGLE, Case)
    return cases


def _valid_media(b: _Builder) -> None:
    """Real audio in every container: the eagle clip in each audio and video format."""
    base = b.root / "base"
    base.mkdir(exist_ok=True)
    ffmpeg("-i", str(EAGLE), "-t", "9", "-c", "copy", str(b.eagle))
    for ext, codec in FORMATS.items():
        b.good[ext] = base / f"eagle.{ext}"
        ffmpeg("-i", str(b.eagle), *codec, str(b.good[ext]))
    for ext, codec in VIDEO_FORMATS.items():
        b.good[ext] = base / f"eagle.{ext}"
        ffmpeg("-f", "lavfi", "-i", "testsrc=size=96x64:rate=5:duration=9", "-i", str(b.eagle),
               "-map", "0:v", "-map", "1:a", *codec, "-shortest", str(b.good[ext]))
    for ext, path in sorted(b.good.items()):
        b.add(Case(f"valid/{ext}", "valid media", path=path, expect="ok", species=EAGLE_SPECIES, fast=ext == "mp4"))


def _empty_files(b: _Builder) -> None:
    """Empty files under each extension, 4 kB of zeros and a single space."""
    d = b.root / "empty"
    d.mkdir(exist_ok=True)
    for ext in ("wav", "mp3", "flac", "ogg", "m4a", "mp4", "mkv", "webm", "opus", "aac", "mov", "avi", "noext"):
        p = d / (f"empty.{ext}" if ext != "noext" else "empty")
        p.touch()
        b.add(Case(f"empty/{ext}", "empty", path=p, message=r"is empty \(0 bytes\)", fast=ext == "wav"))
    p = d / "blank.mp3"
    p.write_bytes(b"\0" * 4096)
    b.add(Case("empty/zeros-4k", "empty", path=p, message=REFUSED_FILE))
    p = d / "space.wav"
    p.write_bytes(b" ")
    b.add(Case("empty/one-space", "empty", path=p, message=REFUSED_FILE))


def _random_bytes(b: _Builder) -> None:
    """Random bytes of three sizes under media extensions."""
    d = b.root / "random"
    d.mkdir(exist_ok=True)
    for ext in ("wav", "mp3", "flac", "ogg", "m4a", "mp4", "mkv", "aac", "ts", "bin"):
        for size in (1, 1000, 200_000):
            p = d / f"random{size}.{ext}"
            p.write_bytes(b.rng.integers(0, 256, size, dtype=np.uint8).tobytes())
            b.add(Case(f"random/{ext}-{size}", "random bytes", path=p, message=REFUSED_FILE,
                       fast=(ext, size) == ("mp3", 200_000)))


def _truncated(b: _Builder) -> None:
    """Truncated files of each format."""
    d = b.root / "truncated"
    d.mkdir(exist_ok=True)
    for ext, path in sorted(b.good.items()):
        data = path.read_bytes()
        for label, n in (("10B", 10), ("100B", 100), ("1pct", len(data) // 100), ("50pct", len(data) // 2),
                         ("99pct", len(data) * 99 // 100)):
            p = d / f"cut-{label}.{ext}"
            p.write_bytes(data[:n])
            b.add(Case(f"truncated/{ext}-{label}", "truncated", path=p, expect="either", message=REFUSED_FILE,
                       fast=(ext, label) in (("mp3", "50pct"), ("mp4", "1pct"))))


def _wav_headers(b: _Builder) -> None:
    """Absurd WAV headers."""
    d = b.root / "wavheaders"
    d.mkdir(exist_ok=True)
    one_s = pcm16(1.0)
    headers = {
        "riff-size-4GB": dict(data=one_s, riff_size=0xFFFFFFFF),
        "data-size-4GB": dict(data=one_s, data_size=0xFFFFFFFF),
        "data-size-0": dict(data=one_s, data_size=0),
        "zero-channels": dict(channels=0, data=one_s),
        "65535-channels": dict(channels=65535, data=one_s),
        "rate-0": dict(rate=0, data=one_s),
        "rate-1Hz": dict(rate=1, data=one_s),
        "rate-7Hz": dict(rate=7, data=one_s),
        "rate-4GHz": dict(rate=0xFFFFFFFF, data=one_s),
        "rate-44101": dict(rate=44101, data=pcm16(2.0, 44101)),
        "rate-767999": dict(rate=767999, data=pcm16(0.5, 767999)),
        "bits-0": dict(bits=0, data=one_s),
        "bits-255": dict(bits=255, data=one_s),
        "bits-7": dict(bits=7, data=one_s),
        "block-align-0": dict(block_align=0, data=one_s),
        "byte-rate-0": dict(byte_rate=0, data=one_s),
        "unknown-format-tag": dict(tag=0x1234, data=one_s),
        "extensible-without-extension": dict(tag=0xFFFE, data=one_s),
        "fmt-size-4GB": dict(fmt_size=0xFFFFFFFF, data=one_s),
        "fmt-size-2": dict(fmt_size=2, data=one_s),
        "no-fmt": dict(chunks=("data",), data=one_s),
        "no-data": dict(chunks=("fmt",)),
        "data-before-fmt": dict(chunks=("data", "fmt"), data=one_s),
        "huge-list-chunk": dict(chunks=("fmt", "list", "data"), data=one_s),
        "header-only": dict(data=b""),
        "odd-byte-data": dict(data=one_s[:-1]),
        "trailing-garbage": dict(data=one_s, extra=b.noise(5000)),
    }
    absurd_ok = {"riff-size-4GB", "data-size-4GB", "rate-44101", "rate-767999", "huge-list-chunk", "odd-byte-data",
                 "trailing-garbage", "block-align-0", "byte-rate-0", "rate-1Hz", "rate-7Hz", "data-size-0", "bits-7",
                 "data-before-fmt"}
    for label, kw in headers.items():
        p = d / f"{label}.wav"
        p.write_bytes(wav_bytes(**kw))
        b.add(Case(f"wav-header/{label}", "absurd WAV header", path=p,
                   expect="either" if label in absurd_ok else "refuse",
                   message=REFUSED_FILE, fast=label in ("65535-channels", "data-size-4GB")))


def _nan_audio(b: _Builder) -> None:
    """NaN and infinite samples in files."""
    d = b.root / "nan"
    d.mkdir(exist_ok=True)
    n = 16000 * 4
    for label, x in {
        "all-nan": np.full(n, np.nan), "all-inf": np.full(n, np.inf), "minus-inf": np.full(n, -np.inf),
        "some-nan": np.where(np.arange(n) % 97 == 0, np.nan, 0.2 * np.sin(np.arange(n))),
        "huge": np.full(n, 3e38), "denormal": np.full(n, 1e-45),
        "full-scale-square": np.sign(np.sin(np.arange(n) / 5.0)),
    }.items():
        p = d / f"{label}.wav"
        p.write_bytes(float_wav(x))
        b.add(Case(f"nan-audio/{label}", "NaN/inf audio", path=p, expect="ok", fast=label == "all-nan"))


def _playlists(b: _Builder) -> None:
    """Playlists and reference files that point at files never to be opened."""
    d = b.root / "playlists"
    d.mkdir(exist_ok=True)
    targets = [str(b.canary), "/etc/passwd", f"file://{b.canary}", "http://127.0.0.1:9/x.ts", "http://169.254.169.254/latest/meta-data/"]
    bodies = {
        "m3u": lambda t: f"#EXTM3U\n#EXTINF:10,\n{t}\n",
        "hls": lambda t: f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{t}\n#EXT-X-ENDLIST\n",
        "concat": lambda t: f"ffconcat version 1.0\nfile '{t}'\n",
        "pls": lambda t: f"[playlist]\nFile1={t}\nNumberOfEntries=1\n",
        "sdp": lambda t: "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=audio 9 RTP/AVP 0\n",
    }
    for kind, body in bodies.items():
        for i, target in enumerate(targets if kind != "sdp" else targets[:1]):
            for ext in ("m3u8", "mp4") if kind != "sdp" else ("sdp", "mp3"):
                p = d / f"{kind}{i}.{ext}"
                p.write_text(body(target))
                b.add(Case(f"playlist/{kind}-{i}.{ext}", "playlist", path=p, message=REFUSED_FILE, watch=b.watch,
                           fast=(kind, i, ext) in (("hls", 1, "m3u8"), ("concat", 0, "mp4"))))
    # a binary-looking concat script (a NUL after the header) still never opens its target
    p = d / "concat-nul.mp4"
    p.write_bytes(f"ffconcat version 1.0\nfile '{b.canary}'\n".encode() + b"\0" * 64)
    b.add(Case("playlist/concat-with-nul.mp4", "playlist", path=p, message=REFUSED_FILE, watch=b.watch))


def _symlinks(b: _Builder) -> None:
    """Symlinks to secrets, devices, a folder, nowhere and each other."""
    d = b.root / "symlinks"
    d.mkdir(exist_ok=True)
    (b.root / "empty-folder").mkdir(exist_ok=True)
    links = {
        "to-passwd.mp3": b.passwd, "to-valid.mp3": b.eagle, "dangling.mp3": d / "nowhere.mp3",
        "to-folder.mp3": b.root / "empty-folder",
        "to-dev-zero.wav": Path("/dev/zero"), "to-dev-urandom.wav": Path("/dev/urandom"),
        "to-proc-environ.wav": Path("/proc/self/environ"),
        "to-canary.mp3": b.canary,
    }
    for name, target in links.items():
        p = d / name
        if p.is_symlink() or p.exists():
            p.unlink()
        p.symlink_to(target)
        b.add(Case(f"symlink/{name}", "symlink", path=p, expect="ok" if name == "to-valid.mp3" else "refuse",
                   species=EAGLE_SPECIES if name == "to-valid.mp3" else None, message=REFUSED_FILE,
                   isolate=name.startswith("to-dev") or name.startswith("to-proc"),
                   fast=name in ("to-passwd.mp3", "to-dev-zero.wav")))
    loop_a, loop_b = d / "loop-a.mp3", d / "loop-b.mp3"
    for p, t in ((loop_a, loop_b), (loop_b, loop_a)):
        if p.is_symlink():
            p.unlink()
        p.symlink_to(t)
    b.add(Case("symlink/loop.mp3", "symlink", path=loop_a, message=REFUSED_FILE))


def _special_files(b: _Builder) -> None:
    """FIFOs and other special files."""
    d = b.root / "special"
    d.mkdir(exist_ok=True)
    for name in ("pipe.wav", "pipe.mp4"):
        p = d / name
        if not p.exists():
            os.mkfifo(p)
        b.add(Case(f"special/fifo-{name}", "FIFO", path=p, message="not a file", isolate=True, fast=name == "pipe.wav"))
    b.add(Case("special/folder", "FIFO", path=d, message="not a file|no audio or video files"))
    b.add(Case("special/dev-null", "FIFO", path=Path("/dev/null"), message="not a file", isolate=True))


def _odd_names(b: _Builder) -> None:
    """Odd names: valid audio."""
    d = b.root / "names"
    d.mkdir(exist_ok=True)
    names = [
        "with spaces.mp3", "été 東京 🐦.mp3", "new\nline.mp3", "-i.mp3", "--help.mp3", "-.mp3", "http:evil.mp3",
        "file:x.mp3", "concat:a.mp3|b.mp3", "pipe:1.mp3", "$(touch pwned).mp3", "`id`.mp3", "a;b&c|d.mp3",
        "%s%n%x.mp3", "esc\x1b[2J\x1b]0;t\x07.mp3", "rtl\u202egnp.mp3", "x" * 240 + ".mp3", ".hidden.mp3",
        "UPPER.MP3", "no-extension", "quote'\"s.mp3", "back\\slash.mp3", "\udcff-undecodable.mp3",
    ]
    for i, name in enumerate(names):
        try:
            p = d / name
            shutil.copy(b.eagle, p)
        except (OSError, UnicodeEncodeError):
            continue
        b.add(Case(f"name/{i:02d}", "odd file name", path=p, expect="ok", species=EAGLE_SPECIES,
                   fast=i in (2, 14)))


def _binaries(b: _Builder) -> None:
    """Non-media binaries under media names."""
    d = b.root / "binaries"
    d.mkdir(exist_ok=True)
    blobs: dict[str, bytes] = {}
    for exe in ("ls", "sh", "cat"):
        found = shutil.which(exe)
        if found:
            blobs[f"elf-{exe}"] = Path(found).read_bytes()[:400_000]
    libs = (sorted(Path("/usr/lib/x86_64-linux-gnu").glob("libxshmfence.so*"))
            or sorted(Path("/lib/x86_64-linux-gnu").glob("libm.so*")))
    if libs:
        blobs["shared-library"] = libs[0].read_bytes()[:400_000]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.txt", "hello" * 1000)
    blobs["zip"] = buf.getvalue()
    blobs["gzip"] = gzip.compress(b.noise(10_000))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 5
        t.addfile(info, io.BytesIO(b"hello"))
    blobs["tar"] = buf.getvalue()
    png = d / "img.png"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=1:duration=1", "-frames:v", "1", str(png))
    blobs["png"] = png.read_bytes()
    jpg = d / "img.jpg"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=1:duration=1", "-frames:v", "1", str(jpg))
    blobs["jpeg"] = jpg.read_bytes()
    blobs["gif"] = b"GIF89a" + b.noise(2000)
    blobs["pdf"] = b"%PDF-1.7\n" + b.noise(5000)
    db = d / "db.sqlite"
    db.unlink(missing_ok=True)
    with sqlite3.connect(db) as c:
        c.execute("create table t(x)")
    blobs["sqlite"] = db.read_bytes()
    blobs["python-bytecode"] = b"\xa7\r\r\n" + b"\0" * 12 + b.noise(3000)
    blobs["wasm"] = b"\0asm\x01\0\0\0" + b.noise(3000)
    blobs["text"] = ("meet at the harbour at dawn\n" * 200).encode()
    blobs["html"] = b"<!DOCTYPE html><html><body><audio src='file:///etc/passwd'></audio></body></html>\n"
    blobs["json"] = b'{"audio": "file:///etc/passwd"}\n'
    for label, blob in blobs.items():
        for ext in ("mp3", "wav", "mp4"):
            p = d / f"{label}.{ext}"
            p.write_bytes(blob)
            b.add(Case(f"binary/{label}.{ext}", "non-media file", path=p, message=REFUSED_FILE,
                       fast=(label, ext) in (("elf-ls", "mp3"), ("zip", "wav"))))


def _huge_durations(b: _Builder) -> None:
    """Huge durations, real and claimed by headers."""
    d = b.root / "long"
    d.mkdir(exist_ok=True)
    chunk = d / "chunk.mp3"
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=2500:sample_rate=8000:duration=10", "-b:a", "8k", "-write_xing", "0",
           "-id3v2_version", "0", "-f", "mp3", str(chunk))
    three_h = d / "three-hours.mp3"
    three_h.write_bytes(chunk.read_bytes() * 1080)
    b.add(Case("long/three-hours.mp3", "huge duration", path=three_h, expect="ok",
               note=r"analysed the first 600 s of 1[01],\d\d\d s"))
    b.add(Case("long/three-hours.mp3-max-30s", "huge duration", path=three_h, expect="ok", max_duration=30,
               note=r"analysed the first 30 s of 1[01],\d\d\d s", fast=True))
    long_wav = d / "two-hours-silence.wav"
    with open(long_wav, "wb") as f:
        f.write(wav_bytes(rate=8000, bits=8, data=b"", data_size=7200 * 8000))
        f.truncate(44 + 7200 * 8000)  # sparse: no disk used
    b.add(Case("long/two-hours-sparse.wav", "huge duration", path=long_wav, expect="ok",
               note=r"analysed the first 600 s of 7,200 s"))
    claims = d / "claims-100h.wav"
    claims.write_bytes(wav_bytes(data=pcm16(3.0), data_size=100 * 3600 * 32000))
    b.add(Case("long/header-claims-100h.wav", "huge duration", path=claims, expect="either"))
    # an mp4 whose movie header claims 1000 hours
    mp4 = b.good["mp4"].read_bytes()
    i = mp4.find(b"mvhd")
    if i > 0:
        patched = bytearray(mp4)
        version = patched[i + 4]
        off = i + 4 + 4 + (16 if version == 1 else 8)
        timescale = struct.unpack(">I", patched[off : off + 4])[0]
        struct.pack_into(">I", patched, off + 4, min(0xFFFFFFFF, timescale * 3600 * 1000))
        p = d / "mvhd-1000h.mp4"
        p.write_bytes(bytes(patched))
        b.add(Case("long/mp4-header-claims-1000h", "huge duration", path=p, expect="either"))


def _many_channels(b: _Builder) -> None:
    """Many channels."""
    d = b.root / "channels"
    d.mkdir(exist_ok=True)
    for ch in (3, 9, 16, 32, 64, 65, 255):
        p = d / f"c{ch}.wav"
        p.write_bytes(wav_bytes(channels=ch, rate=16000, data=pcm16(2.0, 16000, ch)))
        b.add(Case(f"channels/{ch}", "many channels", path=p, expect="ok" if ch <= 64 else "refuse",
                   message=r"at most 64", fast=ch in (64, 255)))
    p = d / "eagle-64ch.wav"
    ffmpeg("-i", str(b.eagle), "-t", "5", "-af", "pan=mono|c0=c0", "-ar", "48000", str(d / "m.wav"))
    x = np.frombuffer((d / "m.wav").read_bytes()[44:], "<i2")
    p.write_bytes(wav_bytes(channels=64, rate=48000, data=np.repeat(x[:, None], 64, 1).tobytes()))
    b.add(Case("channels/eagle-64", "many channels", path=p, expect="ok", species=EAGLE_SPECIES))


def _tags(b: _Builder) -> None:
    """Escape sequences and oddities in tags."""
    d = b.root / "tags"
    d.mkdir(exist_ok=True)
    tags = {
        "escapes": {"title": "\x1b]0;pwned\x07\x1b[2J\x1b[31mred", "comment": "nice\ngps: 1.000, 2.000\r\x9b2J"},
        "bidi": {"title": "abc\u202egnp.exe", "artist": "\u2066x\u2069\u200b"},
        "forged-gps": {"comment": "x\nlocation: +48.8584+002.2945/", "description": "\n  gps: (10.0, 20.0)"},
        "long-tag": {"comment": "A" * 100_000},
        "many-tags": {f"k{i}": f"v{i}\x1b[{i}m" for i in range(300)},
        "paths-in-tags": {"title": "file:///etc/passwd", "comment": str(b.canary)},
    }
    for label, meta in tags.items():
        p = d / f"{label}.mp3"
        args = []
        for k, v in meta.items():
            args += ["-metadata", f"{k}={v}"]
        ffmpeg("-i", str(b.eagle), "-c", "copy", *args, str(p))
        b.add(Case(f"tags/{label}", "escape sequences in tags", path=p, expect="ok", species=EAGLE_SPECIES,
                   watch=b.watch, fast=label == "escapes"))


def _arrays(b: _Builder) -> None:
    """Arrays: odd sample rates, bad values."""
    array_cases = [
        ("tone-16k", 16000, "ok"), ("tone-1k", 1000, "ok"), ("tone-12001", 12001, "ok"), ("tone-44101", 44101, "ok"),
        ("tone-47999", 47999, "ok"), ("tone-767999", 767999, "ok"), ("tone-768k", 768000, "ok"),
        ("tone-16k", 1, "refuse"), ("tone-16k", 999, "refuse"), ("tone-16k", 768001, "refuse"),
        ("tone-16k", 1e12, "refuse"),
        ("tone-16k", 0, "refuse"), ("tone-16k", -16000, "refuse"), ("tone-16k", float("nan"), "refuse"),
        ("tone-16k", 44100.5, "refuse"), ("tone-16k", "16000", "refuse"), ("tone-16k", None, "refuse"),
        ("tiny", 16000, "ok"), ("empty", 16000, "refuse"), ("nan", 48000, "refuse"), ("inf", 48000, "refuse"),
        ("one-nan", 48000, "refuse"), ("huge-float64", 48000, "refuse"), ("three-d", 48000, "refuse"),
        ("strings", 48000, "refuse"), ("objects", 48000, "refuse"), ("booleans", 48000, "refuse"),
        ("complex", 48000, "refuse"),
        ("int16-stereo", 44100, "ok"), ("uint8", 22050, "ok"), ("64-channels", 48000, "ok"),
        ("two-hours-44k", 44100, "ok"), ("two-hours-44101", 44101, "ok"),
    ]
    for array, rate, expect in array_cases:
        note = r"analysed the first 600 s of 7,200 s" if array.startswith("two-hours") else None
        b.add(Case(f"array/{array}@{rate!r}", "array input", kind="array", array=array, rate=rate, expect=expect,
                   note=note, message=r"sample_rate|empty|NaN|1-D or 2-D|numeric|whole number",
                   fast=(array, rate) in (("tone-44101", 44101), ("tone-16k", 1))))
    b.add(Case("array/two-hours-44k@44100-max-30s", "array input", kind="array", array="two-hours-44k", rate=44100,
               expect="ok", max_duration=30, note=r"analysed the first 30 s of 7,200 s", fast=True))


def _bad_csvs(b: _Builder) -> None:
    """Bad CSVs: galleries and evaluation inputs."""
    d = b.root / "csv"
    d.mkdir(exist_ok=True)
    shadow = d / "shadow"
    shadow.write_text("root:$6$s3cr3tHash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n")
    csvs = {
        "empty.csv": b"", "header-only.csv": b"lat,lon\n", "no-lat.csv": b"a,b\n1,2\n",
        "nan.csv": b"lat,lon\nnan,1\n", "inf.csv": b"lat,lon\n1,inf\n", "out-of-range.csv": b"lat,lon\n91,0\n",
        "text-coords.csv": b"lat,lon\nsecret-value,2\n", "nul.csv": b"lat,lon\n1\x00,2\n",
        "latin1.csv": b"lat,lon\n1,2\n\xe9\xe8,3\n",
        "huge-field.csv": b"lat,lon\n" + b"1" * 200_000 + b",2\n", "short-row.csv": b"lat,lon\n1\n",
        "quoted-newline.csv": b'lat,lon\n"1\n2",3\n', "binary.csv": b.noise(3000),
        "bom-valid.csv": "\ufefflat,lon\n10,20\n".encode(),
        "too-many-rows.csv": b"lat,lon\n"
        + b"".join(f"{i % 80}.{i % 997},{i % 170}.{i % 991}\n".encode() for i in range(300_001)),
    }
    for name, body in csvs.items():
        (d / name).write_bytes(body)
    for name in [*csvs, "shadow", "missing.csv"]:
        path = d / name
        expect = "ok" if name == "bom-valid.csv" else "refuse"
        b.add(Case(f"gallery-csv/{name}", "bad CSV", kind="argv", expect=expect,
                   argv=["locate", str(b.good["mp3"]), "--gallery", f"csv:{path}", "--top-k", "1"],
                   message=r"location CSV|gallery|CSV", species=EAGLE_SPECIES if expect == "ok" else None,
                   fast=name in ("shadow", "too-many-rows.csv")))
    fifo = d / "fifo.csv"
    if not fifo.exists():
        os.mkfifo(fifo)
    b.add(Case("gallery-csv/fifo", "bad CSV", kind="argv",
               argv=["locate", str(b.good["mp3"]), "--gallery", f"csv:{fifo}"], message="not a file", isolate=True))
    b.add(Case("gallery-csv/dev-zero", "bad CSV", kind="argv",
               argv=["locate", str(b.good["mp3"]), "--gallery", "csv:/dev/zero"], message="not a file", isolate=True))
    gold = d / "gold.csv"
    gold.write_text("audio_id,latitude,longitude\na,1,2\nb,3,4\n")
    for name in ("shadow", "empty.csv", "nan.csv", "latin1.csv", "huge-field.csv", "binary.csv"):
        b.add(Case(f"evaluate-csv/{name}", "bad CSV", kind="argv", argv=["evaluate", str(d / name), str(gold)],
                   message=r"predictions|CSV", fast=name == "shadow"))
    dup = d / "dup.csv"
    dup.write_text("audio_id,latitude,longitude\na,1,2\na,3,4\n")
    b.add(Case("evaluate-csv/duplicate-ids", "bad CSV", kind="argv", argv=["evaluate", str(dup), str(gold)],
               message="more than once"))


def _options_and_urls(b: _Builder) -> None:
    """Bad options and hostile URLs (some name files of :func:`_bad_csvs`)."""
    d = b.root / "csv"
    gold = d / "gold.csv"
    clip = str(b.good["mp3"])
    options = [
        ["locate", clip, "--gallery", "uniform-0.001"], ["locate", clip, "--gallery", "land-0.1"],
        ["locate", clip, "--gallery", "h3:" + str(gold) + ":8:5000"],
        ["locate", clip, "--prior", "inat-test-density", "--prior-weight", "nan"],
        ["locate", clip, "--prior-weight=-1e9"], ["locate", clip, "--top-k", "-5"],
        ["locate", clip, "--top-k", "100000"],
        ["locate", clip, "--max-duration", "inf"], ["locate", clip, "--max-duration", "0"],
        ["locate", clip, "--date", "2024-13-45"],
        ["locate", clip, "--model", "no-such-model"], ["analyze", clip, "--frame-every", "nan"],
        ["analyze", clip, "--max-frames", "-1"],
        ["locate", clip, "--csv", str(d / "shadow" / "out.csv")], ["locate", clip, "--json", str(b.eagle)],
        ["analyze", clip, "--html", str(d / "missing-parent-file.txt" / "x" / "m.html")],
    ]
    (d / "missing-parent-file.txt").write_text("x")
    for i, argv in enumerate(options):
        b.add(Case(f"option/{i:02d}-{argv[2].lstrip('-')}", "bad option", kind="argv", argv=argv,
                   message=r"error", fast=i == 0))
    urls = [
        "http://127.0.0.1/x.mp4", "http://169.254.169.254/latest/meta-data/", "http://0x7f000001/", "http://2130706433/",
        "http://0177.0.0.1/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "file:///etc/passwd", "ftp://example.com/a.mp3",
        "gopher://127.0.0.1:70/_", "data:audio/wav;base64,UklGRg==", "http://user:pw@example.com/a.mp4",
    ]
    for i, url in enumerate(urls):
        b.add(Case(f"url/{i:02d}", "hostile URL", kind="argv", argv=["analyze", url],
                   message=r"only http|private/loopback|user name", fast=i == 1))


# ---------------------------------------------------------------- batch OUT, Ray and CSV injection (issue 25)
#
# Every case here is an "argv" case with three optional checks (run by ``guarded`` around the case):
# ``unchanged`` files keep their bytes (sha256), ``hold`` is a batch OUT whose lock another batch (a
# subprocess) holds while the case runs, and ``csv_ids`` is a CSV the case writes, whose ids must read
# back as given with no cell left that a spreadsheet would run as a formula.

FORMULA_NAMES = ('=HYPERLINK("x.example","click")', "+SUM(1,2)", "-2+3", "@cmd")
"""File names (without .mp3) that a spreadsheet would run as formulas if written raw into a CSV cell."""


def batch_cases(root: Path, eagle: Path, clip: str) -> list[Case]:
    """The cases of issue 25: odd and busy ``batch --out`` files, a dead ``--address``, too many workers,
    and file names that are spreadsheet formulas, through ``batch`` and ``locate --csv``."""
    from geoforensics.batch.sinks import COLUMNS

    d = root / "batch"
    d.mkdir(exist_ok=True)
    cases: list[Case] = []
    header = ",".join(COLUMNS).encode() + b"\n"
    given = f"eagle,39.5,-4.4,0.4,250.0,4600.0,Aquila adalberti,Spanish Eagle,0.99,x,,1.0,,{eagle}"
    row = (given + "," * (len(COLUMNS) - given.count(",") - 1) + "\n").encode()  # the later columns empty
    outs = {
        "not-utf8.csv": header + b"eagle,39.5,-4.4" + b",\xff" * (len(COLUMNS) - 3) + b"\n",
        "short-row.csv": header + b"eagle,39.5,-4.4\n",
        "300kb-field.csv": header + b"eagle,39.5,-4.4,0.4," + b"9" * 300_000 + b"," * (len(COLUMNS) - 5) + b"\n",
        "other-csv.csv": b"file,lat,lon\neagle.mp3,1,2\n",
        "locked.csv": header + row,
    }
    fast = {"short-row.csv", "locked.csv"}
    for name, body in outs.items():
        out = d / name
        out.write_bytes(body)
        category = "concurrent batches" if name == "locked.csv" else "batch OUT"
        add = Case(f"batch-out/{name}", category, kind="argv", argv=["batch", clip, "--out", str(out), "--quiet"],
                   message=r"not a batch result file|line 2|another batch", unchanged=(out,), fast=name in fast,
                   hold=out if name == "locked.csv" else None)
        cases.append(add)
    dup = d / "duplicated.csv"
    dup.write_bytes(header + row + row)  # two runs at once before OUT was locked: the next keeps one row
    cases.append(Case("batch-out/duplicated.csv", "batch OUT", kind="argv", expect="ok", fast=True,
                      argv=["batch", clip, "--out", str(dup), "--quiet"], csv_ids=(dup, ("eagle",))))
    fifo = d / "o.csv"
    if not fifo.exists():
        os.mkfifo(fifo)
    cases.append(Case("batch-out/fifo", "batch OUT", kind="argv", argv=["batch", clip, "--out", str(fifo), "--quiet"],
                      message="not a regular file", isolate=True, fast=True))
    cases.append(Case("batch-address/dead", "Ray cluster", kind="argv", isolate=True, fast=True,
                      argv=["batch", clip, "--out", str(d / "never.csv"), "--address", "127.0.0.1:1", "--quiet"],
                      message=r"no Ray cluster answers at 127\.0\.0\.1:1"))
    many = d / "workers-16.csv"
    many.unlink(missing_ok=True)
    cases.append(Case("batch-workers/16", "Ray cluster", kind="argv", expect="ok", isolate=True,
                      argv=["batch", clip, "--out", str(many), "--workers", "16", "--max-duration", "15", "--quiet"],
                      csv_ids=(many, (Path(clip).stem,))))
    names = d / "formula-names"
    names.mkdir(exist_ok=True)
    for name in FORMULA_NAMES:
        shutil.copy(eagle, names / f"{name}.mp3")
    located = d / "formula-locate.csv"
    cases.append(Case("csv-injection/locate", "CSV injection", kind="argv", expect="ok", species=EAGLE_SPECIES,
                      fast=True, argv=["locate", str(names), "--csv", str(located), "--max-duration", "5"],
                      csv_ids=(located, FORMULA_NAMES)))
    batched = d / "formula-batch.csv"
    batched.unlink(missing_ok=True)
    cases.append(Case("csv-injection/batch", "CSV injection", kind="argv", expect="ok", isolate=True,
                      argv=["batch", str(names), "--out", str(batched), "--max-duration", "5", "--quiet"],
                      csv_ids=(batched, FORMULA_NAMES)))
    return cases


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def digests(case: Case) -> dict[Path, str]:
    """sha256 of each of the case's ``unchanged`` files."""
    import hashlib

    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in case.unchanged}


def _prepare(case: Case) -> None:
    """What a case needs before it runs: its ``prepare`` step, and no ``absent`` or ``whole`` file yet."""
    if case.prepare is not None:
        case.prepare()
    for p in (*case.absent, *case.whole):
        p.unlink(missing_ok=True)


def _check_outputs(case: Case, before: dict[Path, str]) -> None:
    """The checks of :func:`guarded` after a run (AssertionError when one fails)."""
    import json

    changed = [p.name for p in before if digests(case)[p] != before[p]]
    assert not changed, f"{case.name} changed {changed}"
    left = [p.name for p in case.absent if os.path.lexists(p)]
    assert not left, f"{case.name} left {left}"
    for p in case.whole:
        if p.exists():
            json.loads(p.read_text())  # an output that exists is whole
    if case.result is not None:
        _check_result_file(case, case.result)
    if case.csv_ids is not None:
        _check_csv_ids(*case.csv_ids)


def _check_result_file(case: Case, path: Path) -> None:
    """``locate --json`` wrote one prediction: ``species`` first in its evidence, its point ``near``."""
    import json

    from geoforensics.geo.geodesy import haversine_km

    assert path.exists(), f"{case.name} wrote no {path.name}"
    d = json.loads(path.read_text().splitlines()[0])
    if case.species:
        assert d["evidence"] and d["evidence"][0]["scientific_name"] == case.species, d["evidence"][:2]
    if case.near is not None:
        lat, lon, km = case.near
        away = float(haversine_km(tuple(d["point"]), (lat, lon)))
        assert away <= km, f"{case.name}: the answer {d['point']} is {away:,.0f} km from ({lat}, {lon})"


def _check_csv_ids(path: Path, ids: tuple[str, ...]) -> None:
    """A CSV we wrote: no cell a spreadsheet would run, and exactly ``ids`` as its ids."""
    import csv

    from geoforensics.evaluation.evaluate import FORMULA_STARTS, read_points_csv

    with open(path, newline="", encoding="utf-8") as f:
        cells = [c for r in csv.reader(f) for c in r]
    assert not [c for c in cells if c.startswith(FORMULA_STARTS) and not _number(c)], "a cell a spreadsheet would run"
    got = read_points_csv(path).ids
    assert sorted(got) == sorted(ids) and len(got) == len(set(got)), got


@contextmanager
def guarded(case: Case) -> Iterator[None]:
    """Run a case with its checks: first its ``prepare`` step; another batch holds ``hold`` meanwhile;
    afterwards the ``unchanged`` files are as they were, no ``absent`` file exists, each ``whole`` file
    that exists is whole JSON, the ``result`` file holds a correct answer and the ``csv_ids`` CSV reads
    back as expected (AssertionError otherwise)."""
    import sys

    _prepare(case)
    before = digests(case)
    holder = None
    if case.hold is not None:
        code = (f"import sys\nfrom geoforensics.batch.sinks import open_sink\ns = open_sink({str(case.hold)!r})\n"
                "print('held', flush=True)\nsys.stdin.read()\n")
        holder = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  text=True, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    try:
        yield
    finally:
        if holder is not None and holder.stdin is not None:
            holder.stdin.close()
            holder.wait(timeout=60)
    _check_outputs(case, before)


def run_array(name: str, rate: object, top_k: int = 3) -> str:
    """``geoforensics.locate`` of the array ``ARRAYS[name]()`` at ``rate``: the result as strict JSON."""

    from geoforensics import locate

    pred = locate(ARRAYS[name](), sample_rate=rate, top_k=top_k)
    return pred.to_json(surface="none")


def main() -> None:
    import argparse
    import collections
    import json
    import sys

    parser = argparse.ArgumentParser(description="Write the hostile-input corpus to a folder and list its cases.")
    parser.add_argument("folder", type=Path, nargs="?")
    parser.add_argument("--run-array", nargs=2, metavar=("NAME", "RATE_JSON"),
                        help="locate one array case and print JSON")
    parser.add_argument("--run-api", metavar="NAME", help="call one Python API case (evidence_cases.API_NAMES)")
    parser.add_argument("--run-signal", nargs=argparse.REMAINDER, metavar="ARGV",
                        help="run geoforensics ARGV and stop it with SIGTERM while it works")
    args = parser.parse_args()
    if args.run_signal:
        sys.exit(run_signal(args.run_signal))
    if args.run_api:
        from geoforensics.errors import GeoforensicsError

        try:
            run_api(args.run_api, EAGLE)
        except GeoforensicsError as e:
            print(f"api: error: {e}", file=sys.stderr)
            sys.exit(2)
        return
    if args.run_array:
        from geoforensics.errors import GeoforensicsError

        try:
            print(run_array(args.run_array[0], json.loads(args.run_array[1])))
        except GeoforensicsError as e:
            print(f"locate: error: {e}", file=sys.stderr)
            sys.exit(2)
        return
    if args.folder is None:
        parser.error("give a folder")
    cases = build_corpus(args.folder)
    for category, n in collections.Counter(c.category for c in cases).items():
        print(f"{n:4d}  {category}")
    print(f"{len(cases):4d}  cases ({sum(c.fast for c in cases)} in the fast subset)")


if __name__ == "__main__":
    main()
