"""AG-CLIP geolocator: window embeddings in the GeoCLIP location space -> retrieval over a gallery.

Per window the AG-CLIP model predicts a unit 512-d location embedding; window embeddings are pooled
("mean": the paper's average, Sec. 3; "max"; "kmeans": largest of k=5 clusters, Sec. 4.3;
"scores-max" embeds the max-pooled BirdNET scores; "transformer": a trained pooler, Supp. A.6),
compared by cosine similarity (times the model's logit scale) with the gallery's embeddings by the
model's location encoder (frozen GeoCLIP by default; see :mod:`geoforensics.models.location_encoders`),
and turned into a
:class:`~geoforensics.prediction.GeoPrediction`. With the ``birdnet`` encoder the BirdNET scores
of the windows also give the species evidence.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..audio.decode import array_samples, decode_audio, load_array
from ..audio.windows import split_windows
from ..defaults import GALLERY, MAX_DURATION_S, TOP_K, WINDOW
from ..errors import GeoforensicsError, InputError
from ..evidence import ClipEvidence, score_audio, source_duration
from ..ffmpeg import open_media
from ..geo.galleries import get_gallery
from ..models.agclip import embed_clip
from ..models.birdnet import load_labels
from ..models.pooling import load_pooler
from ..models.registry import get_model
from ..prediction import GeoPrediction, SpeciesEvidence, WindowPrediction
from ..scoring import WindowScores, cut_note
from .base import prediction_options


class AGCLIPGeolocator:
    """Audio -> AG-CLIP window embeddings -> pooled -> similarity with gallery GeoCLIP embeddings."""

    modality = "audio"

    def __init__(
        self,
        model: Any = "birdnet-sim-v1",
        gallery: str | np.ndarray = GALLERY,
        pooling: str = "mean",
        point_method: str = "argmax",
        max_duration_s: float = MAX_DURATION_S,
        evidence_threshold: float = 0.1,
        top_species: int = 10,
        pooler: Any = None,
    ) -> None:
        """``model``: a shipped head's tag, a checkpoint path (both loaded once per process through the
        model registry) or an :class:`~geoforensics.models.agclip.AGCLIPModel`. ``pooling="transformer"``
        needs ``pooler``: a :class:`~geoforensics.models.pooling.TransformerPooler` or the path of one
        saved by ``geoforensics train-pooler``."""
        named = isinstance(model, (str, Path))
        self.model = get_model("agclip", pretrained=model) if named else model
        self.model.eval()
        self.name = f"agclip:{model}" if named else "agclip"
        if isinstance(gallery, str):
            self.gallery_name = gallery
            self._gallery = np.asarray(get_gallery(gallery).latlon, dtype=np.float64)
        else:
            self.gallery_name = "custom"
            self._gallery = np.asarray(gallery, dtype=np.float64)
        self.gallery_emb = self.model.location_encoder.gallery_embeddings(self._gallery, self.gallery_name)
        self.pooling = pooling
        self.pooler = self._load_pooler(pooling, pooler)
        self.point_method = point_method
        self.max_duration_s = max_duration_s
        self.evidence_threshold = evidence_threshold
        self.top_species = top_species

    def _load_pooler(self, pooling: str, pooler: Any) -> Any:
        """The transformer pooler for ``pooling="transformer"`` (loaded from a path), else None."""
        if pooling != "transformer":
            return None

        if pooler is None:
            raise GeoforensicsError(
                "pooling 'transformer' needs pooler=PATH (train one with `geoforensics train-pooler`)"
            )
        p = load_pooler(pooler) if isinstance(pooler, (str, Path)) else pooler
        dim = getattr(getattr(self.model, "config", None), "embed_dim", p.config.dim)
        if p.config.dim != dim:
            raise GeoforensicsError(f"the pooler reads {p.config.dim}-d embeddings but the model makes {dim}-d ones")
        return p.eval()

    @property
    def gallery(self) -> np.ndarray:
        return self._gallery

    def window_inputs(
        self, inputs: Any, sample_rate: int | None = None, max_duration_s: float | None = None
    ) -> tuple[torch.Tensor, WindowScores | None, np.ndarray, np.ndarray, float | None]:
        """Model inputs per window, the BirdNET scores (birdnet encoder), window start/end seconds and the
        whole recording's length. Files and arrays are analysed up to ``max_duration_s`` (default: the
        instance's)."""
        max_s = max_duration_s or self.max_duration_s
        if self.model.input_kind == "birdnet":
            ws = score_audio(inputs, sample_rate=sample_rate, max_duration_s=max_s)
            return torch.from_numpy(np.asarray(ws.scores, np.float32)), ws, ws.starts_s, ws.ends_s, ws.source_duration_s
        if isinstance(inputs, (WindowScores, ClipEvidence)):
            raise InputError("this AG-CLIP model reads mel images: pass a file or an audio array, not BirdNET scores")
        from ..audio.mel import get_mel_pipeline  # torchaudio, loaded for the mel models only

        mel = get_mel_pipeline()
        sr = mel.config.sample_rate
        if isinstance(inputs, np.ndarray):
            if sample_rate is None:
                raise InputError("pass sample_rate with an audio array")
            audio = load_array(inputs, sample_rate, sr, max_duration_s=max_s)
            total: float | None = array_samples(inputs) / float(sample_rate)
        else:
            media = open_media(inputs)
            audio = decode_audio(media, sr, max_duration_s=max_s)
            total = source_duration(len(audio) / sr, max_s, media.info.duration_s)
        wins = split_windows(audio, sr, WINDOW)
        return mel(wins.data), None, wins.starts_s, wins.ends_s, total

    def log_scores(self, emb: torch.Tensor) -> np.ndarray:
        """Gallery log-scores of one or more embeddings [.., 512]: logit scale x cosine similarity."""
        with torch.no_grad():
            scores: np.ndarray = (
                (float(self.model.logit_scale()) * (emb.float() @ self.gallery_emb.T)).numpy().astype(np.float64)
            )
            return scores

    def predict(
        self,
        inputs: Any,
        *,
        k: int = TOP_K,
        date: Any = None,
        sample_rate: int | None = None,
        max_duration_s: float | None = None,
        light: bool = False,
    ) -> GeoPrediction:
        """Geolocate a file path, an audio array (with ``sample_rate``) or :class:`WindowScores`,
        up to ``max_duration_s`` of audio. The model does not use ``date``. ``light``: no per-window
        guesses or species evidence."""
        t0 = time.perf_counter()
        x, ws, starts, ends, total = self.window_inputs(inputs, sample_rate, max_duration_s)
        t1 = time.perf_counter()
        clip, emb = embed_clip(self.model, x, self.pooling, self.pooler)
        log_s = self.log_scores(clip)
        pred = GeoPrediction.from_log_scores(
            self._gallery, log_s, point_method=self.point_method, model=self.name, modality="audio",
            **prediction_options(k, light),
        )
        pred.confidence = float(1.0 - pred.entropy_ratio())
        pred.version = f"{self.name}|{self.gallery_name}|pool {self.pooling}"
        pred.timings = {**(ws.timings if ws is not None else {}), "features_s": t1 - t0}
        if not light:
            self._add_windows(pred, emb, ws, starts, ends)
        note = cut_note(ws.duration_s if ws is not None else float(ends[-1]) if len(ends) else 0.0, total)
        if note is not None:
            pred.notes.append(note)
        pred.timings["locate_s"] = time.perf_counter() - t1
        return pred

    def _add_windows(self, pred: GeoPrediction, emb: torch.Tensor, ws: WindowScores | None, starts: np.ndarray,
                     ends: np.ndarray) -> None:
        """Each window's own guess (for the timeline) and, with BirdNET scores, the species evidence."""
        per = self.log_scores(emb)
        windows = []
        for w in range(len(per)):
            i = int(np.argmax(per[w]))
            p = np.exp(per[w] - per[w].max())
            windows.append(WindowPrediction(float(starts[w]), float(ends[w]), float(self._gallery[i, 0]),
                                            float(self._gallery[i, 1]), float(1.0 / p.sum())))
        pred.windows = windows
        if ws is not None:
            pred.evidence = self._evidence(ws)
            for w, wp in enumerate(pred.windows):
                top = int(np.argmax(ws.scores[w]))
                wp.label, wp.score = self._labels().common[top], float(ws.scores[w, top])

    def _labels(self) -> Any:
        return load_labels()

    def _evidence(self, ws: WindowScores) -> list[SpeciesEvidence]:
        """The top species BirdNET hears (max over windows), with the windows where each passes the threshold."""
        labels = self._labels()
        q = ws.scores.max(0) if len(ws.scores) else np.zeros(ws.scores.shape[1])
        q = np.where(labels.is_species, q, 0.0)
        idx = [int(i) for i in np.argsort(-q)[: self.top_species] if q[i] >= self.evidence_threshold]
        return [
            SpeciesEvidence(
                scientific_name=labels.scientific[i],
                common_name=labels.common[i],
                score=float(q[i]),
                windows=[int(w) for w in np.where(ws.scores[:, i] >= self.evidence_threshold)[0]],
            )
            for i in idx
        ]
