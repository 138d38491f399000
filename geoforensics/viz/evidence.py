"""The evidence video: the clip itself with what its sound says, to share with people who will not open a
JSON file.

Each frame holds the verdict (a banner), the clip's picture (for audio only, its spectrogram with a
playhead), a map whose marker follows the current window's guess against the claimed place, a caption
naming the window's species and where it points, and the per-window timeline with a playhead; a closing
card gives the verdict, the distances and the data sources with their licences.

The static parts are drawn once with matplotlib; each frame only pastes the picture and draws the playhead,
the marker and the caption (PIL), so a minute of clip renders in seconds. The user's file is decoded only
on the hardened ffmpeg path (``media.frames.VideoFrames``, ``media.export.mux_with_audio``): moviepy
sequences and encodes the frames we give it, and never opens the user's file. The source audio is copied
(AAC, MP3) or re-encoded to AAC, starting with the picture at 0 s.
"""

from __future__ import annotations

import math
import shutil
import tempfile
import textwrap
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image, ImageDraw, ImageFont

from ..atomic import atomic_path, check_writable, refuse_overwrite
from ..audio.decode import decode_audio
from ..defaults import EVIDENCE_SECONDS, EVIDENCE_SECONDS_LIMIT
from ..errors import GeoforensicsError, InputError
from ..ffmpeg import check_file, probe
from ..forensics.analysis import ForensicReport
from ..geo.places import place_name
from ..media.export import mux_with_audio
from ..media.frames import VideoFrames
from ..prediction import WindowPrediction
from ..progress import Progress
from ..text import drawable
from .report import report_sources, software_line, species_lines, summary_lines
from .static import (
    AUDIO_COLOR,
    AUDIO_DARK,
    VERDICT_COLORS,
    draw_report_map,
    draw_timeline,
    reference_point,
    window_distances,
    window_stride,
)

SIZE = (1280, 720)
"""Width and height of the video in pixels."""
FPS = 12.0
MAX_SECONDS = EVIDENCE_SECONDS
MAX_SECONDS_LIMIT = EVIDENCE_SECONDS_LIMIT
CARD_SECONDS = 6.0
MAX_BYTES = 20_000_000
SPECTROGRAM_RATE = 22_050
"""Sample rate (Hz) of the spectrogram an audio-only clip shows: up to 11 kHz, where birds sing."""
COPY_CODECS = ("aac", "mp3")
"""Audio codecs copied into the MP4 as they are; others are re-encoded to AAC."""

# Layout in pixels of a 1280 x 720 frame (x0, y0, x1, y1 from the top left); other sizes scale it.
_BANNER = (0, 0, 1280, 66)
_PICTURE = (10, 76, 650, 436)
_MAP = (662, 76, 1270, 436)
_CAPTION = (10, 440, 1270, 474)
_SPECIES = (72, 500, 1262, 572)
_KM = (72, 606, 1262, 684)


@dataclass(frozen=True)
class EvidenceVideo:
    """What :func:`render_evidence_video` wrote."""

    path: Path
    clip_s: float
    duration_s: float
    fps: float
    size: tuple[int, int]
    size_bytes: int
    audio: str
    render_s: float


def _box(box: tuple[int, int, int, int], scale: float) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (int(round(v * scale)) for v in box)
    return x0, y0, x1 - (x1 - x0) % 2, y1 - (y1 - y0) % 2


def _axes_rect(box: tuple[int, int, int, int], size: tuple[int, int]) -> tuple[float, float, float, float]:
    """A pixel box (top-left origin) as matplotlib figure fractions (left, bottom, width, height)."""
    w, h = size
    x0, y0, x1, y1 = box
    return x0 / w, 1 - y1 / h, (x1 - x0) / w, (y1 - y0) / h


def _figure(size: tuple[int, int]) -> Figure:
    """A figure of ``size`` pixels on its own Agg canvas (no pyplot, no global backend)."""
    fig = Figure(figsize=(SIZE[0] / 100, SIZE[1] / 100), dpi=100 * size[0] / SIZE[0], facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def _rgb(fig: Figure) -> np.ndarray:
    canvas = fig.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()  # type: ignore[no-untyped-call]
    return np.ascontiguousarray(np.asarray(canvas.buffer_rgba())[:, :, :3])  # type: ignore[no-untyped-call]


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans, the font matplotlib ships (no system fonts needed)."""
    from matplotlib import font_manager

    path = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal"))
    return ImageFont.truetype(path, size)


def _clock(t: float) -> str:
    return f"{int(t // 60)}:{int(t % 60):02d}"


def _verdict_banner(
    fig: Figure, report: ForensicReport, box: tuple[int, int, int, int], size: tuple[int, int], span_s: float
) -> None:
    color = VERDICT_COLORS.get(report.verdict.level, VERDICT_COLORS["inconclusive"])
    ax = fig.add_axes(_axes_rect(box, size))
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), 1, 1, color=color, transform=ax.transAxes))
    ax.text(0.012, 0.5, report.verdict.level.upper(), color="white", fontsize=20, fontweight="bold", va="center",
            ha="left", transform=ax.transAxes)
    text = drawable(report.verdict.text.split(": ", 1)[-1], 400)
    lines = textwrap.wrap(text, 100)
    lines = lines[:2] if len(lines) <= 2 else [lines[0], lines[1][:97] + "…"]
    ax.text(0.215, 0.62 if len(lines) > 1 else 0.5, "\n".join(lines), color="white", fontsize=11.5, va="center",
            ha="left", transform=ax.transAxes, linespacing=1.25, parse_math=False)
    ax.text(0.995, 0.06, f"geoforensics evidence · {drawable(report.source, 80)} · first {span_s:.0f} s", color="white",
            fontsize=8, va="bottom", ha="right", transform=ax.transAxes, alpha=0.9, parse_math=False)


@dataclass(frozen=True)
class _Panels:
    """The axes of the background that moving parts are placed on."""

    map: Axes
    species: Axes
    km: Axes
    spectrogram: Axes | None


def _spectrogram_db(audio: np.ndarray, rate: int) -> np.ndarray:
    """Power spectrogram in dB, ``[frequency, time]`` (1,024-sample Hann windows, half overlapping), the
    top 80 dB kept."""
    from scipy.signal import spectrogram

    _, _, power = spectrogram(audio, fs=rate, window="hann", nperseg=1024, noverlap=512, mode="psd")
    db = 10 * np.log10(power + 1e-12)
    clipped: np.ndarray = np.clip(db, db.max() - 80, None).astype(np.float32)
    return clipped


def _draw_spectrogram(ax: Axes, audio: np.ndarray, span_s: float, source: str) -> None:
    """The sound of an audio-only clip where its picture would be: time 0..``span_s`` across, 0 to
    11 kHz up (where birds sing)."""
    ax.imshow(_spectrogram_db(audio, SPECTROGRAM_RATE), origin="lower", aspect="auto", cmap="magma",
              interpolation="bilinear", extent=(0.0, len(audio) / SPECTROGRAM_RATE, 0.0, SPECTROGRAM_RATE / 2000))
    ax.set_xlim(0.0, span_s)
    ax.set_ylim(0.0, SPECTROGRAM_RATE / 2000)
    ax.set_yticks([0, 2, 4, 6, 8, 10])
    ax.tick_params(axis="y", direction="in", pad=-16, labelsize=8, colors="#e0e0e0", length=3)
    for label in ax.get_yticklabels():
        label.set_horizontalalignment("left")
    ax.text(0.01, 0.985, f"audio only: the sound of {drawable(source, 60)} (kHz up, time across)",
            transform=ax.transAxes, color="white", fontsize=9, va="top", ha="left", parse_math=False,
            bbox=dict(boxstyle="round,pad=0.2", fc="black", ec="none", alpha=0.55))


def _background(
    report: ForensicReport, size: tuple[int, int], span_s: float, sound: np.ndarray | None
) -> tuple[np.ndarray, _Panels]:
    """The static frame and the axes the moving parts are placed on; ``sound`` (mono at
    :data:`SPECTROGRAM_RATE`) is drawn as a spectrogram in the picture's place for an audio-only clip."""
    scale = size[0] / SIZE[0]
    fig = _figure(size)
    _verdict_banner(fig, report, _box(_BANNER, scale), size, span_s)
    pic = fig.add_axes(_axes_rect(_box(_PICTURE, scale), size), facecolor="black")
    pic.set_xticks([])
    pic.set_yticks([])
    if sound is not None and len(sound) >= 1024:
        _draw_spectrogram(pic, sound, span_s, report.source)
    ax_map = fig.add_axes(_axes_rect(_box(_MAP, scale), size))
    draw_report_map(ax_map, report, fontsize=8)
    ax_species = fig.add_axes(_axes_rect(_box(_SPECIES, scale), size))
    ax_km = fig.add_axes(_axes_rect(_box(_KM, scale), size))
    draw_timeline(ax_species, ax_km, report, span_s, fontsize=8)
    return _rgb(fig), _Panels(ax_map, ax_species, ax_km, pic if sound is not None and len(sound) >= 1024 else None)


def _card(report: ForensicReport, size: tuple[int, int], span_s: float) -> np.ndarray:
    """The closing card: verdict, claims with distances, the guesses, splice and hum, sources and licences."""
    fig = _figure(size)
    color = VERDICT_COLORS.get(report.verdict.level, VERDICT_COLORS["inconclusive"])
    fig.text(0.04, 0.93, f"What the sound of {drawable(report.source, 60)} says", fontsize=20, fontweight="bold",
             va="top", color="#212121", parse_math=False)
    fig.text(0.04, 0.855, report.verdict.level.upper(), fontsize=16, fontweight="bold", color="white", va="top",
             bbox=dict(boxstyle="round,pad=0.3", fc=color, ec="none"))
    verdict = "\n".join(textwrap.wrap(drawable(report.verdict.text.split(": ", 1)[-1], 400), 90)[:3])
    fig.text(0.215, 0.858, verdict, fontsize=12.5, va="top", color=color, linespacing=1.3, parse_math=False)
    y = 0.74
    for line in summary_lines(report):
        for i, part in enumerate(textwrap.wrap(drawable(line, 600), 150)[:2]):
            fig.text(0.04 if i == 0 else 0.055, y, ("• " if i == 0 else "") + part, fontsize=10.5, va="top",
                     color="#212121", parse_math=False)
            y -= 0.036
    species = species_lines(report)
    if species:
        y -= 0.01
        fig.text(0.04, y, "Species heard", fontsize=12, fontweight="bold", va="top", color="#212121")
        y -= 0.045
        for line in species[:5]:
            fig.text(0.04, y, "• " + drawable(line, 200), fontsize=10, va="top", color="#212121", parse_math=False)
            y -= 0.034
    y -= 0.02
    fig.text(0.04, y, "Data sources and licences", fontsize=12, fontweight="bold", va="top", color="#212121")
    y -= 0.045
    for line in report_sources(report):
        for i, part in enumerate(textwrap.wrap(drawable(line, 600), 160)[:2]):
            fig.text(0.04 if i == 0 else 0.055, y, ("• " if i == 0 else "") + part, fontsize=9.5, va="top",
                     color="#424242", parse_math=False)
            y -= 0.032
    footer = (f"The video shows the first {span_s:.0f} s of the clip. Container metadata (GPS tags, titles) is never "
              f"used by the predictions. Made with {software_line()}.")
    fig.text(0.04, 0.02, "\n".join(textwrap.wrap(footer, 190)), fontsize=8, color="#616161", va="bottom",
             parse_math=False)

    return _rgb(fig)


class _Frames:
    """The frame function of the main part: the background with the picture, playhead, marker and caption."""

    def __init__(self, background: np.ndarray, panels: _Panels, report: ForensicReport, span_s: float, fps: float,
                 picture: VideoFrames | None, progress: Progress, n_frames: int) -> None:
        self.bg, self.fps, self.span_s, self.picture = background, fps, span_s, picture
        self.progress, self.n_frames, self.drawn = progress, n_frames, 0
        h = background.shape[0]
        self.scale = background.shape[1] / SIZE[0]
        self.pic_box = _box(_PICTURE, self.scale)
        self.caption_box = _box(_CAPTION, self.scale)
        audio = report.audio
        self.windows: list[WindowPrediction] = [w for w in (audio.windows if audio else []) if w.start_s < span_s]
        self.stride = window_stride(self.windows)
        ax_map, ax_sp, ax_km = panels.map, panels.species, panels.km

        def to_px(ax: Axes, x: float, y: float) -> tuple[float, float]:
            px, py = ax.transData.transform((x, y))
            return float(px), float(h - py)

        self.x_at_0 = to_px(ax_sp, 0, 0)[0]
        self.px_per_s = to_px(ax_sp, 1, 0)[0] - self.x_at_0
        self.tl_top = to_px(ax_sp, 0, ax_sp.get_ylim()[1])[1]
        self.sp_bottom = to_px(ax_sp, 0, 0)[1]
        self.tl_bottom = to_px(ax_km, 0, 0)[1]
        self.spec_x: tuple[float, float] | None = None
        if panels.spectrogram is not None:
            x0 = to_px(panels.spectrogram, 0, 0)[0]
            self.spec_x = (x0, to_px(panels.spectrogram, 1, 0)[0] - x0)
        self.ref = reference_point(report)
        self.win_px = [
            to_px(ax_map, w.lon, w.lat) if w.lat is not None and w.lon is not None else None for w in self.windows
        ]
        km = window_distances(self.windows, self.ref) if self.ref is not None else np.full(len(self.windows), np.nan)
        self.captions = [self._caption(w, d) for w, d in zip(self.windows, km)]

    def _x(self, t: float) -> float:
        return self.x_at_0 + t * self.px_per_s

    def _caption(self, w: WindowPrediction, km: float) -> str:
        what = f"{w.label} ({w.score:.2f})" if w.label and w.score is not None else "no species recognised"
        if w.lat is None or w.lon is None:
            return f"{w.start_s:.1f}–{w.end_s:.1f} s: {what}; no location"
        where = f"points to {w.lat:.1f}, {w.lon:.1f} ({place_name(w.lat, w.lon)})"
        far = f", {km:,.0f} km from {self.ref.label}" if self.ref is not None and math.isfinite(km) else ""
        return f"{w.start_s:.1f}–{w.end_s:.1f} s: {what} {where}{far}"

    def current(self, t: float) -> int | None:
        """The window whose stride holds ``t`` (the last one until it ends), or None."""
        for i in range(len(self.windows) - 1, -1, -1):
            w = self.windows[i]
            if w.start_s <= t and (t < w.start_s + self.stride or (i == len(self.windows) - 1 and t < w.end_s)):
                return i
        return None

    def __call__(self, t: float) -> np.ndarray:
        frame = Image.fromarray(self.bg)
        if self.picture is not None:
            x0, y0, _, _ = self.pic_box
            frame.paste(Image.fromarray(self.picture.get(int(round(t * self.fps)))), (x0, y0))
        draw = ImageDraw.Draw(frame)
        s = self.scale
        if self.spec_x is not None:
            x0, y0, _, y1 = self.pic_box
            xs = self.spec_x[0] + min(t, self.span_s) * self.spec_x[1]
            draw.line((xs, y0, xs, y1), fill="white", width=max(1, round(2 * s)))
        i = self.current(t)
        if i is not None:
            w = self.windows[i]
            left, right = self._x(float(w.start_s)), self._x(min(float(w.start_s) + self.stride, self.span_s))
            draw.rectangle((left, self.tl_top, right, self.sp_bottom), outline="#212121", width=max(1, round(2 * s)))
            at = self.win_px[i]
            if at is not None:
                r = 9 * s
                draw.ellipse((at[0] - r - 3 * s, at[1] - r - 3 * s, at[0] + r + 3 * s, at[1] + r + 3 * s),
                             outline=AUDIO_DARK, width=max(1, round(2 * s)))
                draw.ellipse((at[0] - r, at[1] - r, at[0] + r, at[1] + r), fill=AUDIO_COLOR, outline="white",
                             width=max(1, round(2 * s)))
        x = self._x(min(t, self.span_s))
        draw.line((x, self.tl_top - 4 * s, x, self.tl_bottom), fill="#d50000", width=max(1, round(2 * s)))
        cx0, cy0, _, cy1 = self.caption_box
        clock = f"{_clock(t)} / {_clock(self.span_s)}"
        draw.text((cx0 + 4 * s, (cy0 + cy1) / 2), clock, fill="#212121", font=_font(round(17 * s), bold=True),
                  anchor="lm")
        text = drawable(self.captions[i], 160) if i is not None else "no window analysed here"
        draw.text((cx0 + 130 * s, (cy0 + cy1) / 2), text, fill="#212121", font=_font(round(15 * s)), anchor="lm")
        self.drawn += 1
        if self.drawn % 10 == 0:
            self.progress(0.05 + 0.85 * min(self.drawn / self.n_frames, 1.0),
                          f"drawing frame {self.drawn} of {self.n_frames}")
        return np.asarray(frame)


def _audio_plan(codec: str | None, kbps: float | None, span_s: float, max_bytes: int) -> tuple[bool, int]:
    """Copy the audio as it is, or re-encode it to AAC at what kb/s: copied when its codec plays in an
    MP4 and it takes under 40 % of ``max_bytes``."""
    est = kbps or 320.0
    if codec in COPY_CODECS and est * span_s * 125 <= 0.4 * max_bytes:
        return True, int(math.ceil(est))
    return False, int(max(32, min(128, 0.3 * max_bytes / (span_s * 125))))


def render_evidence_video(
    report: ForensicReport,
    source: str | Path,
    out: str | Path,
    *,
    max_seconds: float = MAX_SECONDS,
    fps: float = FPS,
    size: tuple[int, int] = SIZE,
    max_bytes: int = MAX_BYTES,
    progress: Progress | None = None,
) -> EvidenceVideo:
    """Write the evidence video of ``report`` for the clip ``source`` (the file it was made from) to
    ``out`` (MP4, H.264 + the source's audio): the first ``max_seconds`` of the clip, then a closing card.

    ``progress(fraction, message)`` is called as it goes. Nothing is left at ``out`` or in temp folders
    when it fails. :class:`InputError` for bad arguments or an unreadable source; :class:`GeoforensicsError`
    when the result would exceed ``max_bytes``.
    """
    from moviepy import ImageClip, VideoClip, concatenate_videoclips


    t0 = time.perf_counter()
    step = progress or (lambda f, msg: None)
    if not 0 < max_seconds <= MAX_SECONDS_LIMIT:
        raise InputError(f"the evidence video shows 0 to {MAX_SECONDS_LIMIT:g} s of the clip, not {max_seconds:g}")
    if not 1 <= fps <= 30:
        raise InputError(f"fps must be from 1 to 30, not {fps:g}")
    if size[0] < 320 or size[0] % 2 or size[1] % 2 or abs(size[0] / size[1] - 16 / 9) > 0.01:
        raise InputError(f"size must be even, 16:9 and at least 320 wide, not {size[0]} x {size[1]}")
    out = Path(out)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"the evidence video is an .mp4 file, not {out.name}")
    src = check_file(source)
    refuse_overwrite(out, [src], "the evidence video")
    check_writable(out, "the evidence video")
    step(0.01, "reading the clip")
    info = probe(src)
    known = info.duration_s or (
        max(w.end_s for w in report.audio.windows) if report.audio and report.audio.windows else None
    )
    span = min(max_seconds, known) if known else max_seconds
    if span <= 0:
        raise InputError(f"{src.name} has no duration to show")
    total = span + CARD_SECONDS
    n_frames = int(math.ceil(total * fps))
    copy, audio_kbps = _audio_plan(
        info.audio.codec if info.audio else None, info.audio.kbps if info.audio else None, span, max_bytes
    )
    audio_bits = audio_kbps * 1000 * span if info.audio else 0.0
    video_kbps = int(min(4000, max(100, (0.85 * max_bytes * 8 - audio_bits) / total / 1000)))

    step(0.02, "drawing the map and the timeline")
    sound = None if info.has_video else decode_audio(src, SPECTROGRAM_RATE, max_duration_s=span)
    background, panels = _background(report, size, span, sound)
    card = _card(report, size, span)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="geoforensics-video-") as tmp:
        picture_mp4, muxed = Path(tmp) / "picture.mp4", Path(tmp) / "evidence.mp4"
        x0, y0, x1, y1 = _box(_PICTURE, size[0] / SIZE[0])
        reader = VideoFrames(src, x1 - x0, y1 - y0, fps, span) if info.has_video else None
        try:
            if reader is not None:
                reader.__enter__()
            frames = _Frames(background, panels, report, span, fps, reader, step, n_frames)
            clip = concatenate_videoclips([VideoClip(frames, duration=span), ImageClip(card, duration=CARD_SECONDS)])
            clip.write_videofile(
                str(picture_mp4), fps=fps, codec="libx264", preset="veryfast", audio=False, threads=2, logger=None,
                ffmpeg_params=["-crf", "27", "-maxrate", f"{video_kbps}k", "-bufsize", f"{2 * video_kbps}k",
                               "-g", str(int(fps * 5))],
            )
            clip.close()
        finally:
            if reader is not None:
                reader.__exit__(None, None, None)
        step(0.93, "adding the sound")
        audio = mux_with_audio(picture_mp4, src, muxed, span_s=span, audio=info.audio, copy=copy, kbps=audio_kbps)
        n = muxed.stat().st_size
        if n > max_bytes:
            raise GeoforensicsError(f"the evidence video came out at {n / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB "
                                    "limit: show fewer seconds of the clip")



        with atomic_path(out) as final:
            shutil.move(str(muxed), final)
    step(1.0, "done")
    return EvidenceVideo(out, span, total, fps, size, n, audio, time.perf_counter() - t0)


__all__ = ["CARD_SECONDS", "FPS", "MAX_BYTES", "MAX_SECONDS", "SIZE", "EvidenceVideo", "render_evidence_video"]

