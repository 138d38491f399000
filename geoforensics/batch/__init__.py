"""Batch geolocation at scale: many recordings -> the ``locate`` path on Ray workers -> a growing result file.

    geoforensics batch INPUT... --out OUT.csv|OUT.parquet [--address ADDR] [--workers N] [locate's options]

* :mod:`.inputs`: files, folders and datasets -> :class:`BatchInput` rows (id, path, date);
* :mod:`.engine`: Ray Data with a pool of actors, each holding the geolocator, rows out as they
  finish; a local Ray on 127.0.0.1 or a running cluster;
* :mod:`.sinks`: the CSV or Parquet OUT, resumable: a second run skips the ids already in it.

Nothing here imports Ray until a batch runs (``pip install 'geoforensics[scale]'``); ``locate`` and
``import geoforensics`` never do. On a cluster, every node needs geoforensics installed and must see
the input files under the same paths (a shared filesystem), since only paths are sent to the workers.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ..dates import parse_date
from ..scoring import WindowScores, store_scores
from .engine import LocateSpec, check_model, locate_many, ray_session, score_many
from .inputs import BatchInput, collect_inputs
from .sinks import COLUMNS, RESULT_COLUMNS, open_sink, read_results

__all__ = [
    "BatchInput",
    "BatchSummary",
    "COLUMNS",
    "LocateSpec",
    "RESULT_COLUMNS",
    "cache_scores",
    "collect_inputs",
    "locate_rows",
    "read_results",
    "run_batch",
]


@dataclass
class BatchSummary:
    """What a batch did: recordings named, already in OUT (skipped; ``failed_before`` of them as
    failures), located, failed, and dataset rows without an audio file."""

    total: int = 0
    skipped: int = 0
    located: int = 0
    failed: int = 0
    no_audio: int = 0
    workers: int = 0
    failed_before: int = 0

    def line(self) -> str:
        parts = [f"{self.located} located", f"{self.failed} failed", f"{self.skipped} already in OUT"]
        if self.failed_before:
            parts[-1] += f" ({self.failed_before} of them failed: --retry-failed tries them again)"
        if self.no_audio:
            parts.append(f"{self.no_audio} dataset rows without audio left out")
        return f"{self.total} recordings: " + ", ".join(parts)


def locate_rows(
    items: list[BatchInput],
    spec: LocateSpec,
    *,
    address: str | None = None,
    workers: int | None = None,
    on_start: Callable[[int], Any] | None = None,
) -> Iterator[dict[str, Any]]:
    """Result rows of ``items`` as they finish, on a local Ray (``address`` None) or a cluster.

    ``on_start(n)`` is called with the number of actors once Ray is up. A generator: Ray is shut
    down (or the cluster left) when it is exhausted or closed.
    """
    check_model(spec.model)
    if not items:
        return
    with ray_session(address, workers) as n:
        n = min(n, len(items))
        if on_start:
            on_start(n)
        yield from locate_many(items, spec, workers=n)


def run_batch(
    inputs: list[str],
    out: str,
    spec: LocateSpec,
    *,
    date: str | None = None,
    claims: str | None = None,
    filename_dates: bool = True,
    address: str | None = None,
    workers: int | None = None,
    retry_failed: bool = False,
    progress: bool = True,
) -> BatchSummary:
    """Locate every recording named by ``inputs`` and the ``claims`` CSV not yet in ``out``, appending a row
    per recording as it finishes, with the check of its claimed place when the CSV gives one (see the
    package docstring and :mod:`.inputs`)."""
    parsed = parse_date(date)
    date = None if parsed is None else str(parsed)
    check_model(spec.model)
    items, no_audio = collect_inputs(inputs, date, claims=claims, filename_dates=filename_dates)
    summary = BatchSummary(total=len(items), no_audio=no_audio)
    with open_sink(out, retry_failed=retry_failed) as sink:
        done = sink.done()
        todo = [i for i in items if i.audio_id not in done]
        summary.skipped = len(items) - len(todo)
        summary.failed_before = sum(1 for i in items if done.get(i.audio_id))
        bar = None

        def start(n: int) -> None:
            nonlocal bar
            summary.workers = n
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=len(todo), desc=f"locating on {n} worker{'s' * (n > 1)}", unit="file", file=sys.stderr)

        try:
            for row in locate_rows(todo, spec, address=address, workers=workers, on_start=start):
                if not sink.write(row):
                    continue  # a recording Ray ran twice (its worker died after the row left): in OUT already
                if row.get("error"):
                    summary.failed += 1
                    message = f"{row['audio_id']}: error: {row['error']}"
                    if bar is not None:
                        bar.write(message, file=sys.stderr)
                    else:
                        print(message, file=sys.stderr)
                else:
                    summary.located += 1
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(failed=summary.failed, refresh=False)
        finally:
            if bar is not None:
                bar.close()
    return summary


def cache_scores(
    paths: list[str],
    *,
    max_duration_s: float | None,
    address: str | None = None,
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, str]:
    """BirdNET window scores of ``paths`` computed on Ray workers and put into this machine's scores
    cache (:func:`geoforensics.scoring.store_scores`), so that :func:`~geoforensics.evidence.cached_scores`
    then reads them here. Returns the errors by path of the files that failed (they are left to the
    caller, who will meet them again)."""
    import numpy as np


    errors: dict[str, str] = {}
    if not paths:
        return errors
    with ray_session(address, workers) as n:
        n = min(n, len(paths))
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(paths), desc=f"BirdNET scores on {n} worker{'s' * (n > 1)}", unit="file",
                       file=sys.stderr)
        for row in score_many(paths, max_duration_s=max_duration_s, workers=n):
            if row["error"]:
                errors[row["path"]] = row["error"]
            else:
                ws = WindowScores(np.asarray(row["starts_s"]), np.asarray(row["ends_s"]),
                                  np.asarray(row["scores"], np.float32), float(row["duration_s"]))
                store_scores(row["path"], ws, max_duration_s=max_duration_s)
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.close()
    return errors
