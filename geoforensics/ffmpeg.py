"""The one door to ffmpeg: its binary, the safe way to open a user's file, the file check, the
``ffmpeg -i`` probe, and the user-facing reason when ffmpeg fails.

Shared by ``audio`` (decoding) and ``media`` (frames, URL fetching, metadata), so they all refuse the
same files in the same words. The probe keeps the stream layout only; container tags are parsed
from the same report by ``media.metadata``, for display, and by nothing else.
"""

from __future__ import annotations

import functools
import os
import re
import stat
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .errors import InputError

# Demuxers ffmpeg may use on user files: containers only, never playlists (hls, concat) that open other files or URLs.
DEMUXERS = "mov,matroska,avi,mp3,flac,ogg,wav,aac,mpegts,flv,aiff,w64,asf"

PROBE_TIMEOUT_S: float = 30.0

_MB = 1_000_000


@functools.cache
def ffmpeg_exe() -> str:
    """Path of the ffmpeg binary shipped by imageio-ffmpeg (no system ffmpeg needed)."""
    import imageio_ffmpeg

    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def _url(path: Path) -> str:
    return f"file:{path.resolve()}"


def input_args(source: str | os.PathLike[str] | MediaFile) -> list[str]:
    """ffmpeg arguments opening ``source`` as a local media file only: the ``file:`` prefix stops a name
    such as ``http:...`` being read as a protocol, and the whitelists stop playlists or reference files
    from pulling in URLs or other files.

    A path's first bytes are checked first (:func:`content_problem`): InputError "could not read
    NAME: not a readable audio or video file (it is ...)" for executables, archives, images,
    documents and text (playlists included), which ffmpeg's mp3 and aac demuxers would otherwise
    "decode" as noise. A :class:`MediaFile` was checked when it was opened.
    """
    if isinstance(source, MediaFile):
        p = source.path
    else:
        p = Path(source)
        problem = content_problem(p)
        if problem is not None:
            raise InputError(f"could not read {p.name}: {problem}")
    return ["-protocol_whitelist", "file", "-format_whitelist", DEMUXERS, "-i", _url(p)]


SNIFF_BYTES = 4096
"""How much of a file :func:`content_problem` reads."""

SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x7fELF", "an ELF executable"),
    (0, b"MZ", "a Windows executable"),
    (0, b"\xfe\xed\xfa\xce", "a Mach-O executable"),
    (0, b"\xfe\xed\xfa\xcf", "a Mach-O executable"),
    (0, b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (0, b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (0, b"\xca\xfe\xba\xbe", "an executable or Java class file"),
    (0, b"#!", "a script"),
    (0, b"PK\x03\x04", "a zip archive"),
    (0, b"PK\x05\x06", "a zip archive"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"BZh", "a bzip2 archive"),
    (0, b"\xfd7zXZ\x00", "an xz archive"),
    (0, b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-zip archive"),
    (0, b"Rar!\x1a\x07", "a RAR archive"),
    (257, b"ustar", "a tar archive"),
    (0, b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (0, b"\xff\xd8\xff", "a JPEG image"),
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"%PDF-", "a PDF document"),
    (0, b"SQLite format 3\x00", "an SQLite database"),
)
"""(offset, magic bytes, what it is) of common files that are never audio or video."""

_TEXT_CONTROLS = frozenset(range(32)) - {9, 10, 12, 13}


def _is_text(head: bytes, whole_file: bool) -> bool:
    """True when ``head`` is UTF-8 text without control characters (a multi-byte character cut at the
    end of a partial read allowed)."""
    if not head or any(b in _TEXT_CONTROLS for b in head):
        return False
    for cut in range(1 if whole_file else 4):
        try:
            head[: len(head) - cut].decode("utf-8")
            return True
        except UnicodeDecodeError:
            continue
    return False


def content_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` is certainly not audio or video, judged from its first bytes, or None when it may be.

    The file is opened without blocking and read only when it is a regular file (a FIFO swapped in
    after :func:`check_file` never hangs the caller). The answer never quotes the file's contents.
    """
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as e:
        return f"cannot open it ({(e.strerror or 'error').lower()})"
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return "not a regular file"
        head = os.read(fd, SNIFF_BYTES)
    except OSError as e:
        return f"cannot read it ({(e.strerror or 'error').lower()})"
    finally:
        os.close(fd)
    for offset, magic, what in SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return f"not a readable audio or video file (it is {what})"
    if _is_text(head, whole_file=len(head) >= st.st_size):
        return "not a readable audio or video file (it is text: a playlist, a document, ...)"
    return None


LOW_SCORE = 5
"""Below this probe score ffmpeg has only guessed the format from a stray frame header (an executable
read as mp3, for instance): such files are refused. A real 30 ms mp3 scores 25."""

_LOW_SCORE_RE = re.compile(r"detected only with low score of (\d+)")

GUESSED_REASON = "not a readable audio or video file (ffmpeg could only guess its format)"


def guessed_format(stderr: str | bytes) -> bool:
    """True when ffmpeg's log (at level warning or more) says it guessed the format (score below :data:`LOW_SCORE`)."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return any(int(m.group(1)) < LOW_SCORE for m in _LOW_SCORE_RE.finditer(text))


def format_mb(n_bytes: int) -> str:
    """``n_bytes`` as a short megabyte figure ("500", "0.5")."""
    return f"{n_bytes / _MB:.3g}"


def check_file(path: str | os.PathLike[str], max_bytes: int | None = None) -> Path:
    """``path`` as a Path; InputError if it is missing, not a regular file, empty, or over ``max_bytes``.

    Messages name the file (never its folder or contents).
    """
    p = Path(os.fspath(path)).expanduser()
    if not p.exists():
        raise InputError(f"file not found: {p.name}")
    if not p.is_file():
        raise InputError(f"not a file: {p.name}")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"{p.name} is empty (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise InputError(f"file larger than {format_mb(max_bytes)} MB: {p.name}")
    return p


KNOWN_REASONS: tuple[tuple[str, str], ...] = (
    ("Format not on whitelist", "not a readable audio or video file (not a format geoforensics opens)"),
    ("matches no streams", "it has no audio stream"),
    ("does not contain any stream", "it has no audio stream"),
    ("No such file or directory", "file not found"),
    ("Permission denied", "permission denied"),
    ("moov atom not found", "the file is truncated or incomplete (moov atom not found)"),
    ("Invalid data found when processing input", "not a readable audio or video file (invalid data)"),
    ("Failed to find two consecutive MPEG audio frames", "not a readable audio or video file (invalid data)"),
    ("End of file", "the file ends before any audio"),
    ("Decoder not found", "its audio codec is not supported"),
    ("Unsupported codec", "its audio codec is not supported"),
)
"""ffmpeg messages (first match wins) and what to tell the user instead."""

_LOG_PREFIX = re.compile(r"^\[[^\]]*@ 0x[0-9a-f]+\]\s*")
_OPEN_ERROR = re.compile(r"Error opening input(?: files?)?: (.+)$")


def ffmpeg_reason(
    stderr: str | bytes, path: str | os.PathLike[str] | None = None, fallback: str = "ffmpeg could not read it"
) -> str:
    """A short, one-line, user-facing reason from ffmpeg's error output; ``path`` is shown by its name only."""
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    for needle, reason in KNOWN_REASONS:
        if needle in text:
            return reason
    lines = [_LOG_PREFIX.sub("", ln).strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and "output file" not in ln.lower()]
    opened = [m.group(1) for ln in lines if (m := _OPEN_ERROR.match(ln))]
    lines = opened or [ln for ln in lines if not ln.startswith("Error opening")]
    if not lines:
        return fallback
    reason = lines[-1]
    if path is not None:
        p = Path(os.fspath(path))
        for shown in (_url(p), str(p.resolve()), str(p)):
            reason = reason.replace(shown, p.name)
    return reason.rstrip(".")[:200]


def run_ffmpeg(cmd: list[str], path: Path, what: str, timeout_s: float) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` (stdin closed, output captured); InputError "``what`` NAME timed out" past ``timeout_s``."""
    try:
        # run() kills and reaps ffmpeg when the timeout expires.
        return subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise InputError(f"{what} {path.name} timed out after {timeout_s:g} s") from None


class FfmpegStream:
    """A running ffmpeg whose standard output the caller reads as it comes (``with FfmpegStream(cmd, t) as
    run: run.stdout.read(...)``). Its stderr is drained in the background (the last 64 KiB kept in
    ``stderr``); past ``timeout_s`` it is killed and ``timed_out`` is set. Leaving the block closes the
    pipes and reaps the process, whatever happened."""

    def __init__(self, cmd: list[str], timeout_s: float) -> None:
        self.cmd, self.timeout_s = cmd, timeout_s
        self.timed_out = False
        self._errors: list[bytes] = []

    def __enter__(self) -> FfmpegStream:
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.stdout: IO[bytes] = self.proc.stdout
        err = self.proc.stderr
        self._drain = threading.Thread(target=lambda: self._errors.append(err.read()[-65536:]), daemon=True)
        self._timer = threading.Timer(self.timeout_s, self._kill)
        self._timer.start()
        self._drain.start()
        return self

    def _kill(self) -> None:
        self.timed_out = True
        self.proc.kill()

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self.stdout.close()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._drain.join(timeout=5)
        assert self.proc.stderr is not None
        self.proc.stderr.close()

    @property
    def stderr(self) -> bytes:
        return b"".join(self._errors)


def input_report(
    path: str | os.PathLike[str], timeout_s: float = PROBE_TIMEOUT_S, output_args: tuple[str, ...] = (),
    *, checked: bool = False,
) -> tuple[str, bytes]:
    """``ffmpeg -i path [output_args]``: the report on the input (stderr up to any output) and stdout.

    The input's URL is replaced by the file's name in the report. InputError if the file is missing,
    empty or unreadable, or ffmpeg runs past ``timeout_s``. ``checked``: the caller ran :func:`check_file`.
    """
    p = Path(path) if checked else check_file(path)
    proc = run_ffmpeg([ffmpeg_exe(), "-hide_banner", "-nostdin", *input_args(p), *output_args], p, "reading", timeout_s)
    text = proc.stderr.decode("utf-8", "replace")
    report = text.split("\nOutput #0", 1)[0].replace(_url(p), p.name.replace("\n", " "))
    if "Input #0" not in report:
        raise InputError(f"could not read {p.name}: {ffmpeg_reason(text, p)}")
    if guessed_format(report):
        raise InputError(f"could not read {p.name}: {GUESSED_REASON}")
    return report, proc.stdout


@dataclass(frozen=True)
class StreamInfo:
    """One stream as ``ffmpeg -i`` lists it (fields it does not state are None)."""

    index: int
    kind: str  # "audio", "video", "subtitle", "data" or "attachment"
    codec: str | None = None
    sample_rate: int | None = None
    channels: int | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    cover_art: bool = False  # a still picture attached to an audio file (an mp3's or m4a's cover)
    kbps: float | None = field(default=None, compare=False)  # the bit rate ffmpeg states (an estimate, so not compared)


@dataclass(frozen=True)
class MediaInfo:
    """The streams and duration of a media file. Never carries container or stream tags."""

    streams: tuple[StreamInfo, ...]
    duration_s: float | None

    @property
    def audio_streams(self) -> list[StreamInfo]:
        return [s for s in self.streams if s.kind == "audio"]

    @property
    def video_streams(self) -> list[StreamInfo]:
        """Real video streams (cover art left out)."""
        return [s for s in self.streams if s.kind == "video" and not s.cover_art]

    @property
    def audio(self) -> StreamInfo | None:
        """The first audio stream (the one decoding reads), or None."""
        return next(iter(self.audio_streams), None)

    @property
    def video(self) -> StreamInfo | None:
        """The first real video stream (the one frames come from), or None."""
        return next(iter(self.video_streams), None)

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def has_video(self) -> bool:
        return self.video is not None


_DURATION = re.compile(r"^\s+Duration: (?:(\d+):(\d+):(\d+(?:\.\d+)?)|N/A)", re.M)
_STREAM = re.compile(
    r"^\s+Stream #\d+:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio|Subtitle|Data|Attachment): (.*)$", re.M
)
_RATE = re.compile(r"^(\d+(?:\.\d+)?)(k?) (fps|tbr)$")
_SIZE = re.compile(r"^(\d+)x(\d+)(?:\s|$)")
_HZ = re.compile(r"^(\d+) Hz$")
_CHANNELS = re.compile(r"^(\d+) channels")
_KBPS = re.compile(r"^(\d+(?:\.\d+)?) kb/s")
_LAYOUTS = {"mono": 1, "stereo": 2, "2.1": 3, "quad": 4, "4.0": 4, "5.0": 5, "5.1": 6, "6.1": 7, "7.1": 8}


def _top_level_fields(desc: str) -> list[str]:
    """Split ffmpeg's stream description at commas outside brackets."""
    fields, depth, start = [], 0, 0
    for i, ch in enumerate(desc):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            fields.append(desc[start:i].strip())
            start = i + 1
    fields.append(desc[start:].strip())
    return fields


def _rate(field: str) -> float | None:
    m = _RATE.match(field)
    return float(m.group(1)) * (1000 if m.group(2) else 1) if m else None


def _stream(index: int, kind: str, desc: str) -> StreamInfo:
    fields = _top_level_fields(desc)
    info: dict[str, Any] = {"codec": fields[0].split(" ", 1)[0] or None}
    fps = tbr = None
    for f in fields[1:]:
        if (hz := _HZ.match(f)) is not None:
            info["sample_rate"] = int(hz.group(1))
        elif f.split("(", 1)[0] in _LAYOUTS:
            info["channels"] = _LAYOUTS[f.split("(", 1)[0]]
        elif (ch := _CHANNELS.match(f)) is not None:
            info["channels"] = int(ch.group(1))
        elif (size := _SIZE.match(f)) is not None and "width" not in info:
            info["width"], info["height"] = int(size.group(1)), int(size.group(2))
        elif f.endswith(" fps"):
            fps = _rate(f)
        elif f.endswith(" tbr"):
            tbr = _rate(f)
        elif (kbps := _KBPS.match(f)) is not None:
            info["kbps"] = float(kbps.group(1))
    if kind == "video":
        info["fps"] = fps if fps is not None else tbr
    return StreamInfo(index, kind, cover_art=kind == "video" and "(attached pic)" in desc, **info)


def parse_report(report: str) -> MediaInfo:
    """Streams and duration from ``ffmpeg -i``'s report on one input (tag lines are skipped)."""
    duration = None
    m = _DURATION.search(report)
    if m and m.group(1) is not None:
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
    streams = tuple(_stream(int(i), kind.lower(), desc.strip()) for i, kind, desc in _STREAM.findall(report))
    return MediaInfo(streams, duration)


@dataclass(frozen=True)
class MediaFile:
    """A user's media file, opened once by :func:`open_media`: checked (exists, regular, not empty, within
    the size limit, its first bytes not those of a non-media file) and probed (streams and duration).

    Functions that read a file (``audio.decode.decode_audio``, ``media.frames.extract_frames``,
    ``media.metadata.display_metadata``) take a MediaFile in place of a path and then neither check nor
    probe it again. The tag text the probe saw is kept for ``media.metadata`` alone, which shows it and
    never passes it to a prediction; ``info`` carries no tags.
    """

    path: Path
    info: MediaInfo
    size_bytes: int
    tag_report: str = field(default="", repr=False, compare=False)
    tag_ffmetadata: str = field(default="", repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def damaged(self) -> bool:
        """Whether the probe found signs of a truncated or damaged container (see :data:`DAMAGE_SIGNS`)."""
        return self.info.duration_s is None and any(sign in self.tag_report for sign in DAMAGE_SIGNS)

    def missing(self, kind: str = "audio") -> str:
        """Why there is no ``kind`` stream to read ("audio", "audio or video"), naming a damaged file as such:
        "it has no audio stream", "it looks truncated or damaged (its index lists no readable audio stream)"."""
        if self.damaged:
            return f"it looks truncated or damaged (its index lists no readable {kind} stream)"
        return f"it has no {kind} stream"


DAMAGE_SIGNS = ("timescale not set", "partial file", ": Data: none", "Invalid data found")
"""``ffmpeg -i`` report lines of a container whose index was cut short (an mp4 truncated inside its moov atom
lists a stream with no codec and no timescale)."""

TAG_OUTPUT = ("-vn", "-an", "-sn", "-dn", "-f", "ffmetadata", "-")
"""Output arguments with which ``ffmpeg -i`` also writes the container's tags (ffmetadata) to stdout."""


def open_media(
    source: str | os.PathLike[str] | MediaFile, max_bytes: int | None = None, timeout_s: float = PROBE_TIMEOUT_S
) -> MediaFile:
    """Check and probe a media file once (see :class:`MediaFile`); a MediaFile is returned as it is.

    One ``ffmpeg -i`` gives the streams, the duration and the tag text. InputError for a missing, empty,
    too large or unreadable file, a file that is not audio or video, or ffmpeg running past ``timeout_s``.
    """
    if isinstance(source, MediaFile):
        return source
    p = check_file(source, max_bytes)
    report, ffmetadata = input_report(p, timeout_s, TAG_OUTPUT, checked=True)
    return MediaFile(p, parse_report(report), p.stat().st_size, report, ffmetadata.decode("utf-8", "replace"))


def probe(path: str | os.PathLike[str], timeout_s: float = PROBE_TIMEOUT_S) -> MediaInfo:
    """Streams and duration of a media file, parsed from ``ffmpeg -i`` (no ffprobe ships). Tags are skipped.

    ``duration_s`` is None where the container does not say. InputError for a missing, empty or
    unreadable file, or when ffmpeg runs past ``timeout_s``.
    """
    report, _ = input_report(path, timeout_s)
    return parse_report(report)
