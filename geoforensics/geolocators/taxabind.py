"""A TaxaBind-*style* audio geolocator: implicit audio->location pairing through a shared space.

The paper's TaxaBind baseline (Sastry et al.) never sees geotagged audio: its audio encoder is
trained on audio-image pairs and its location encoder on geotagged images, and because both embed
into one shared space, audio->location retrieval works "through" the images. TaxaBind's weights are
not available offline, so this module rebuilds the *idea* from the parts the project already has:

    audio -> frozen BirdNET species scores (:func:`geoforensics.evidence.score_audio`)
          -> one text prompt per heard species ("a photo of a {common}, {scientific}")
          -> CLIP ViT-L/14 text features
          -> GeoCLIP's image head (CLIP image space -> GeoCLIP location space; ``TextGeolocator.embed``)
          -> combined over species -> cosine similarity x GeoCLIP's logit scale with the GeoCLIP
             embeddings of the gallery -> softmax -> :class:`GeoPrediction`.

**How it differs from TaxaBind.** The bridge between audio and the image space is *not* learned
from audio-image pairs, as in TaxaBind. Here it is (1) BirdNET naming the species heard and (2) CLIP's
text-image alignment turning those *names* into image-space features; the location side is GeoCLIP
(trained on geotagged photos) rather than TaxaBind's location encoder. So no geotagged audio is used,
as in TaxaBind, but everything the audio contributes passes through species names: sounds BirdNET
cannot name carry no information, and a species' embedding is whatever CLIP and GeoCLIP make of its
name (untested without the real CLIP weights, which are not on the development machine).

**Species selection.** Clip-level score q_s = max over windows (``pool_scores(..., "max")``) of
BirdNET's score, real species only (``Labels.is_species``). Species with q_s >= ``threshold``
(default 0.1) are used, best first, at most ``top_species``; if none pass, the ``fallback_top``
(default 3) best-scoring species are used, and a note says so.

**Combination (documented choice).** Each species s gives a unit embedding e_s in GeoCLIP's
location space. They are combined as the score-weighted mean of the unit embeddings, renormalised:
``e = normalise(sum_s w_s e_s)`` with ``w_s = q_s / sum_t q_t`` (uniform if every q is 0). This is
one query vector, as TaxaBind would produce from one audio embedding; a mixture of per-species
surfaces would be the alternative (it keeps each species' mode visible but never sharpens).

Per window, the same rule over the *clip's* selected species weighted by that window's scores gives
the window's location (None when none of them scores above 0 there); the window label is its top
BirdNET species. Text embeddings are cached in memory per prompt.

Without the CLIP ViT-L/14 weights, construction raises ``MissingWeightsError`` with
``geoforensics weights fetch clip-vit-l-14-openai`` (as the image and text geolocators do); with
``$GEOFORENSICS_CLIP_CONFIG=tiny-test`` a tiny random CLIP stands in (meaningless answers).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch

from ..defaults import GALLERY, MAX_DURATION_S, TOP_K
from ..errors import InputError
from ..evidence import score_audio
from ..models.birdnet import load_labels
from ..models.clip import ClipEncoder
from ..prediction import GeoPrediction, SpeciesEvidence, WindowPrediction
from ..scoring import WindowScores, pool_scores
from .base import prediction_options
from .image import CLIPSpaceGeolocator
from .text import TextGeolocator

DEFAULT_TEMPLATE = "a photo of a {common}, {scientific}"
BRIDGE_NOTE = (
    "TaxaBind-style: BirdNET species -> name prompts -> CLIP text -> GeoCLIP image head "
    "(species names and CLIP's text-image alignment replace TaxaBind's audio-image training)"
)


def weighted_mean_embedding(embeddings: torch.Tensor, weights: Any) -> torch.Tensor:
    """(512,) unit vector: ``normalise(sum_s w_s e_s)`` with ``w`` renormalised to sum 1 (uniform if all 0)."""
    w = torch.as_tensor(np.asarray(weights, dtype=np.float64), dtype=torch.float64).reshape(-1)
    if len(w) != len(embeddings) or len(w) == 0:
        raise InputError(f"{len(w)} weights for {len(embeddings)} embeddings")
    w = torch.clamp(w, min=0.0)
    w = w / w.sum() if float(w.sum()) > 0 else torch.full_like(w, 1.0 / len(w))
    mean = (w[:, None] * embeddings.double()).sum(dim=0)
    return torch.nn.functional.normalize(mean, dim=0).float()


class TaxaBindStyleGeolocator:
    """Audio -> BirdNET species -> species-name prompts -> CLIP text -> GeoCLIP image head -> gallery.

    See the module docstring for the rule and for how this differs from TaxaBind. ``clip`` defaults
    to CLIP ViT-L/14 from verified local weights (``MissingWeightsError`` when absent); tests pass a
    tiny random one. ``location_encoder``/``head`` may be injected to share loaded GeoCLIP parts.
    """

    name = "taxabind-style"
    modality = "audio"

    def __init__(
        self,
        gallery: str | Any = GALLERY,
        clip: ClipEncoder | None = None,
        threshold: float = 0.1,
        prompt_template: str = DEFAULT_TEMPLATE,
        top_species: int = 10,
        fallback_top: int = 3,
        point_method: str = "argmax",
        max_duration_s: float = MAX_DURATION_S,
        *,
        location_encoder: Any = None,
        head: Any = None,
        names: bool = True,
        clip_config: str | None = None,
    ) -> None:
        try:
            prompt_template.format(common="x", scientific="y")
        except (KeyError, IndexError, ValueError) as e:
            raise InputError(
                f"prompt_template may use only {{common}} and {{scientific}}: {prompt_template!r} ({e})"
            ) from None
        if top_species < 1 or fallback_top < 1:
            raise InputError("top_species and fallback_top must be at least 1")
        # CLIP loads first, so absent weights fail fast with the fetch command.
        self.text = TextGeolocator(
            clip=clip,
            gallery=gallery,
            location_encoder=location_encoder,
            head=head,
            point_method=point_method,
            names=names,
            clip_config=clip_config,
        )
        self.gallery_name = self.text.gallery_name
        self.threshold = float(threshold)
        self.prompt_template = prompt_template
        self.top_species = int(top_species)
        self.fallback_top = int(fallback_top)
        self.point_method = point_method
        self.max_duration_s = max_duration_s
        self.names = names
        self._prompt_cache: dict[str, torch.Tensor] = {}

    available = staticmethod(CLIPSpaceGeolocator.available)

    @property
    def gallery(self) -> np.ndarray:
        return self.text.gallery

    @property
    def clip(self) -> ClipEncoder:
        return self.text.clip

    def _labels(self) -> Any:
        return load_labels()

    def prompt(self, index: int) -> str:
        """The text prompt for BirdNET label ``index``."""
        labels = self._labels()
        return self.prompt_template.format(common=labels.common[index], scientific=labels.scientific[index])

    def species_embeddings(self, indices: Iterable[int]) -> torch.Tensor:
        """(S, 512) unit location-space embeddings of the prompts of BirdNET labels ``indices`` (memory-cached)."""
        prompts = [self.prompt(int(i)) for i in indices]
        todo = list(dict.fromkeys(p for p in prompts if p not in self._prompt_cache))
        if todo:
            for p, e in zip(todo, self.text.embed(todo)):
                self._prompt_cache[p] = e.detach().clone()
        if not prompts:
            return torch.zeros(0, 512)
        return torch.stack([self._prompt_cache[p] for p in prompts])

    def select_species(self, q: np.ndarray) -> tuple[np.ndarray, bool]:
        """(indices best first, fell_back): real species with ``q >= threshold`` (at most
        ``top_species``), else the ``fallback_top`` best."""
        q = np.asarray(q, dtype=np.float64)
        usable = self._labels().is_species
        if len(q) != len(usable):
            raise InputError(f"{len(q)} species scores for {len(usable)} BirdNET labels")
        qq = np.where(usable, q, -np.inf)
        order = np.argsort(-qq, kind="stable")
        passed = [int(i) for i in order[: self.top_species] if qq[i] >= self.threshold]
        if passed:
            return np.array(passed, dtype=int), False
        return np.array([int(i) for i in order[: self.fallback_top]], dtype=int), True

    def combined_embedding(self, indices: Sequence[int], weights: Any) -> torch.Tensor:
        """(512,) the score-weighted mean of the species' unit embeddings, renormalised."""
        return weighted_mean_embedding(self.species_embeddings(indices), weights)

    def log_scores(self, emb: torch.Tensor) -> np.ndarray:
        """Gallery log-scores of one or more embeddings [.., 512]: GeoCLIP logit scale x cosine similarity."""
        with torch.no_grad():
            return (
                self.text.logits(emb.reshape(-1, emb.shape[-1]).float()).double().numpy().reshape(*emb.shape[:-1], -1)
            )

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
        """Geolocate a file path, an audio array (with ``sample_rate``) or :class:`WindowScores`, up to
        ``max_duration_s`` of audio (default: the instance's). ``date`` is not used. ``light``: no
        per-window guesses or species evidence."""
        t0 = time.perf_counter()
        ws = score_audio(inputs, sample_rate=sample_rate, max_duration_s=max_duration_s or self.max_duration_s)
        scores = np.asarray(ws.scores, dtype=np.float64)
        if scores.ndim != 2:
            raise InputError(f"window scores must be (windows, species), not shape {scores.shape}")
        t1 = time.perf_counter()
        q = pool_scores(scores, "max")
        idx, fell_back = self.select_species(q)
        emb = self.species_embeddings(idx)
        clip_emb = weighted_mean_embedding(emb, q[idx])
        self.text.gallery_embeddings()
        pred = GeoPrediction.from_log_scores(
            self.gallery,
            self.log_scores(clip_emb),
            point_method=self.point_method,
            model=self.name,
            modality=self.modality,
            **prediction_options(k, light, self.names),
        )
        if not light:
            pred.evidence = self._evidence(scores, idx, q)
            pred.windows = self._windows(ws, scores, idx)
        notes = self.text._notes() + [BRIDGE_NOTE]
        if (cut := ws.cut_note()) is not None:
            notes.append(cut)
        if fell_back:
            notes.append(
                f"no species scored >= {self.threshold:g}: the {len(idx)} best-scoring species were used "
                "(weak evidence)"
            )
        pred.notes = notes + list(pred.notes or [])
        pred.confidence = float(1.0 - pred.entropy_ratio())
        pred.version = f"{self.name}|{self.clip.name}+geoclip|{self.gallery_name}"
        pred.timings = {**(ws.timings or {}), "features_s": t1 - t0, "locate_s": time.perf_counter() - t1}
        return pred

    def _evidence(self, scores: np.ndarray, idx: np.ndarray, q: np.ndarray) -> list[SpeciesEvidence]:
        labels = self._labels()
        w = np.clip(q[idx], 0.0, None)
        w = w / w.sum() if w.sum() > 0 else np.full(len(idx), 1.0 / max(len(idx), 1))
        return [
            SpeciesEvidence(
                scientific_name=labels.scientific[i],
                common_name=labels.common[i],
                score=float(q[i]),
                windows=[int(x) for x in np.where(scores[:, i] >= self.threshold)[0]],
                weight=float(wi),
            )
            for i, wi in zip(idx, w)
        ]

    def _windows(self, ws: WindowScores, scores: np.ndarray, idx: np.ndarray) -> list[WindowPrediction]:
        """Per window: its top BirdNET species as label; its location from the clip's species
        weighted by this window's scores (None where they all score 0)."""
        if len(scores) == 0:
            return []
        labels = self._labels()
        usable = labels.is_species
        emb = self.species_embeddings(idx)
        out = []
        for w in range(len(scores)):
            top = int(np.argmax(np.where(usable, scores[w], -np.inf)))
            wp = WindowPrediction(
                float(ws.starts_s[w]), float(ws.ends_s[w]), label=labels.common[top], score=float(scores[w, top])
            )
            sw = np.clip(scores[w, idx], 0.0, None)
            if sw.sum() > 0:
                s = self.log_scores(weighted_mean_embedding(emb, sw))
                j = int(np.argmax(s))
                p = np.exp(s - s.max())
                wp.lat, wp.lon, wp.prob = float(self.gallery[j, 0]), float(self.gallery[j, 1]), float(1.0 / p.sum())
            out.append(wp)
        return out
