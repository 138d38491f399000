"""The corpus's cases for issue 25's evidence defects: outputs named over inputs, bad dates, corrupt caches,
claims that start with ``-``, a truncated mp4 index, bad Python API arguments, SIGTERM mid-run and claims or
evaluation CSVs of 2 GB.

Cases of two more kinds run through this module's command line (``python -m tests.hostile.corpus``):

* "api": ``--run-api NAME`` calls ``API_CALLS[NAME]``, which must raise :class:`InputError` (printed as
  one ``error:`` line, exit status 2);
* "signal": ``--run-signal ARGV...`` starts ``geoforensics ARGV``, sends it SIGTERM once it is at work
  and exits 0 when it stopped as Ctrl-C stops it (status 143, no traceback), 1 otherwise.

Cache cases each get a copy of a pristine cache (built once, by the first of them, files hard-linked: the
package replaces cache files by renaming, never in place) in which one file is damaged first.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geoforensics.paths import PROJECT_ROOT

if TYPE_CHECKING:
    from tests.hostile.corpus import Case

KAUAI = PROJECT_ROOT / "examples" / "kauai_with_european_birds.mp4"
SPAIN = (40.0, -4.0, 1500.0)
"""Where a correct answer for the eagle clip lies: (lat, lon, km)."""

BAD_DATES = ("2021-02-30", "0000-00-00", "99999-01-01", "yesterday", "2021-13", "-1", "",
             "\u0662\u0660\u0662\u0661-\u0660\u0665-\u0661\u0664", "2021-05-14garbage", "2021-05-14T25:99", "20210514")


def _api_calls(eagle: Path) -> dict[str, Callable[[], Any]]:
    import geoforensics
    from geoforensics.forensics.analysis import ForensicReport
    from geoforensics.forensics.results import ClaimCheck
    from geoforensics.prediction import GeoPrediction

    return {
        "locate-date-float": lambda: geoforensics.locate(eagle, date=2021.5),  # type: ignore[arg-type]
        "locate-top-k-0": lambda: geoforensics.locate(eagle, top_k=0),
        "locate-top-k-negative": lambda: geoforensics.locate(eagle, top_k=-1),
        "check-date-float": lambda: geoforensics.check(eagle, (40.0, -4.0), date=2021.5),  # type: ignore[arg-type]
        "prediction-from-empty-object": lambda: GeoPrediction.from_json("{}"),
        "report-from-a-list": lambda: ForensicReport.from_json("[]"),
        "claim-check-from-null": lambda: ClaimCheck.from_json("null"),
    }


API_NAMES = ("locate-date-float", "locate-top-k-0", "locate-top-k-negative", "check-date-float",
             "prediction-from-empty-object", "report-from-a-list", "claim-check-from-null")


FAST_API = ("locate-date-float", "report-from-a-list")


def run_api(name: str, eagle: Path) -> None:
    """Call the API case ``name`` (raises what it raises)."""
    _api_calls(eagle)[name]()


def run_signal(argv: list[str], settle_s: float = 1.0, wait_s: float = 4.0) -> int:
    """``geoforensics ARGV``, sent SIGTERM ``settle_s`` after it has a temporary folder (or after ``wait_s``
    at most); 0 when it then stopped with status 143 and no traceback, else 1 (why on stderr)."""
    tmp = Path(os.environ.get("TMPDIR") or "/tmp")
    before = set(tmp.iterdir())
    proc = subprocess.Popen([sys.executable, "-m", "geoforensics", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + wait_s
    while proc.poll() is None and time.monotonic() < deadline and set(tmp.iterdir()) == before:
        time.sleep(0.05)
    time.sleep(settle_s)
    if proc.poll() is not None:
        print(f"the command ended (status {proc.returncode}) before it could be stopped", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 143 or "Traceback" in err:
        print(f"status {proc.returncode} after SIGTERM:\n{err[-2000:]}", file=sys.stderr)
        return 1
    print(f"stopped by SIGTERM with status 143 in {time.monotonic() - t0:.1f} s")
    return 0


# ---------------------------------------------------------------- caches


def _pristine(root: Path, eagle: Path) -> Path:
    """A cache that ``locate`` of the eagle clip fills (built on first use, ~25 s)."""
    cache = root / "cache-pristine"
    done = cache / ".complete"
    if not done.exists():
        shutil.rmtree(cache, ignore_errors=True)
        env = {**os.environ, "GEOFORENSICS_CACHE": str(cache), "PYTHONPATH": str(PROJECT_ROOT)}
        subprocess.run([sys.executable, "-m", "geoforensics", "locate", str(eagle), "--max-duration", "6"],
                       env=env, check=True, capture_output=True, timeout=600, cwd=PROJECT_ROOT)
        done.write_text("")
    return cache


def _damage(path: Path, how: str) -> None:
    """Replace ``path`` (a new inode: the pristine copy keeps its bytes) by a damaged version."""
    data = path.read_bytes()
    path.unlink()
    if how == "fifo":
        os.mkfifo(path)
        return
    if how == "empty":
        new = b""
    elif how == "truncated":
        new = data[: len(data) // 3]
    elif how == "garbage":
        new = os.urandom(min(len(data), 4096))
    else:  # "altered": a valid .npy header over changed data, the size unchanged
        head = 128
        new = data[:head] + bytes(255 - b for b in data[head : head + 65536]) + data[head + 65536 :]
    path.write_bytes(new)


def _cache_copy(root: Path, eagle: Path, dest: Path, pattern: str, how: str) -> Callable[[], None]:
    def prepare() -> None:
        pristine = _pristine(root, eagle)
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(pristine, dest, copy_function=os.link)
        for target in sorted(dest.glob(pattern)):
            _damage(target, how)

    return prepare


CACHE_FILES = {
    "ranges": "ranges/*-????????????????????.npy",
    "richness": "ranges/*.richness.npy",
    "galleries": "galleries/*.npy",
    "priors": "priors/*.npy",
}


# ---------------------------------------------------------------- the cases


def evidence_cases(root: Path, eagle: Path, case: type[Case]) -> list[Case]:
    """Issue 25's evidence cases (outputs, dates, caches, claims, moov, API, signals)."""
    d = root / "evidence"
    d.mkdir(exist_ok=True)
    return [
        *_output_cases(d, eagle, case),
        *_date_cases(eagle, case),
        *_cache_cases(root, d, eagle, case),
        *_claim_cases(d, eagle, case),
        *_signal_cases(d, case),
        *_big_table_cases(d, case),
        *[case(f"api/{name}", "Python API", kind="api", argv=[name], fast=name in FAST_API) for name in API_NAMES],
    ]


def _output_cases(d: Path, eagle: Path, case: type[Case]) -> list[Case]:
    video = d / "x.mp4"
    shutil.copy(KAUAI, video)
    claims = d / "c.csv"
    claims.write_text(f"file,latitude,longitude\n{eagle},40,-4\n")
    earlier = d / "earlier.json"
    earlier.write_text('{"earlier": "results"}\n')
    broken = d / "broken.mp3"
    broken.write_bytes(eagle.read_bytes()[:3000])
    mp3 = d / "e.mp3"
    shutil.copy(eagle, mp3)
    return [
        case("outputs/analyze-video-over-input", "outputs", kind="argv",
             argv=["analyze", str(video), "--video", str(video)],
             message="it is an input of this run", unchanged=(video,), fast=True),
        case("outputs/check-json-over-claims", "outputs", kind="argv",
             argv=["check", "--claims", str(claims), "--json", str(claims)], message="refusing to overwrite",
             unchanged=(claims,), fast=True),
        case("outputs/failed-locate-keeps-earlier-json", "outputs", kind="argv",
             argv=["locate", str(broken), "--json", str(earlier)], message="not a readable audio", unchanged=(earlier,),
             fast=True),
        case("outputs/locate-csv-over-input", "outputs", kind="argv", argv=["locate", str(mp3), "--csv", str(mp3)],
             message="refusing to overwrite", unchanged=(mp3,)),
    ]


def _date_cases(eagle: Path, case: type[Case]) -> list[Case]:
    cases = []
    for i, date in enumerate(BAD_DATES):
        command = "analyze" if i % 3 == 2 else "check"
        cases.append(case(f"dates/{command}-{i:02d}", "dates", kind="argv",
                          argv=[command, str(eagle), "--claim", "Sydney", f"--date={date}"],
                          message=r"argument --date: .*(date|empty)", fast=i in (0, 8)))
    return cases


def _cache_cases(root: Path, d: Path, eagle: Path, case: type[Case]) -> list[Case]:
    cases = []
    kinds = [(name, how) for name in CACHE_FILES for how in ("empty", "truncated", "garbage", "altered")]
    for name, how in [*kinds, ("richness", "fifo")]:
        dest = d / f"cache-{name}-{how}"
        out = d / f"cache-{name}-{how}.json"
        cases.append(case(
            f"caches/{name}-{how}", "caches", kind="argv", expect="ok", isolate=True,
            argv=["locate", str(eagle), "--max-duration", "6", "--json", str(out)],
            env={"GEOFORENSICS_CACHE": str(dest)}, prepare=_cache_copy(root, eagle, dest, CACHE_FILES[name], how),
            result=out, species="Aquila adalberti", near=SPAIN,
        ))
    return cases


def _claim_cases(d: Path, eagle: Path, case: type[Case]) -> list[Case]:
    from geoforensics.ffmpeg import ffmpeg_exe

    moov_last = d / "moov-last.mp4"
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", "-i", str(KAUAI), "-c", "copy", str(moov_last)], check=True,
                   timeout=120)
    truncated = d / "moov-truncated.mp4"
    truncated.write_bytes(moov_last.read_bytes()[: moov_last.stat().st_size * 3 // 4])
    moov_last.unlink()
    return [
        case("claims/southern-lat-lon", "claims", kind="argv", expect="ok", fast=True,
             argv=["check", str(eagle), "--claim", "-33.9,151.2", "--max-duration", "6"], species="MISMATCH"),
        case("claims/equals-form", "claims", kind="argv", expect="ok",
             argv=["check", str(eagle), "--claim=-33.9,151.2", "--max-duration", "6"], species="MISMATCH"),
        case("truncated/moov-at-the-end", "truncated", kind="argv", argv=["locate", str(truncated)],
             message="truncated or incomplete", fast=True),
    ]


def _big_table_cases(d: Path, case: type[Case]) -> list[Case]:
    """Claims and evaluation CSVs of 2 GB (sparse: no disk used), NUL bytes or a header then NULs."""
    cases = []
    for name, head in (("nul", b""), ("header-then-nul", b"file,latitude,longitude\n")):
        big = d / f"{name}-2gb.csv"
        with open(big, "wb") as f:
            f.write(head)
            f.truncate(2 << 30)
        cases += [
            case(f"big-tables/claims-{name}", "big tables", kind="argv", argv=["check", "--claims", str(big)],
                 message="larger than 512 MB", fast=name == "nul"),
            case(f"big-tables/evaluate-{name}", "big tables", kind="argv", argv=["evaluate", str(big), str(big)],
                 message="larger than 512 MB"),
        ]
    return cases


def _signal_cases(d: Path, case: type[Case]) -> list[Case]:
    video, with_video, json_out = d / "stopped.mp4", d / "stopped-with-video.json", d / "stopped.json"
    return [
        case("signals/analyze-video", "signals", kind="signal", expect="ok", isolate=True,
             argv=["analyze", str(KAUAI), "--video", str(video), "--json", str(with_video)], absent=(video,),
             whole=(with_video,)),
        case("signals/analyze-json", "signals", kind="signal", expect="ok", isolate=True,
             argv=["analyze", str(KAUAI), "--json", str(json_out)], whole=(json_out,)),
    ]
