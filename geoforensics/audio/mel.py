"""The one mel-spectrogram pipeline shared by training, inference and the app, so inputs cannot drift.

``agclip-mel-v1`` reproduces the spectrogram images of the AG-CLIP authors' release
(``setup/get_spectrograms.py`` and ``src/dataset.py`` in cvl-umass/nat-sound2loc-code), which the
released weights were trained on:

1. STFT without centring or padding: periodic Hann window of 512 samples, hop 128, each frame
   zero-padded to a 1024-point FFT (``scipy.signal.stft(..., boundary=None, padded=False)``);
2. magnitude ``|X| * 2 / sum(window)``, so a full-scale sine peaks near 1 (0 dB);
3. 128 mel bands from 0 to 11025 Hz, HTK mel scale ``1127 ln(1 + f / 700)``, unnormalised triangles
   linear in mel (TensorFlow's ``linear_to_mel_weight_matrix``), applied to the magnitudes;
4. ``20 log10(max(mel, 1e-10))`` against a fixed reference of 1.0 (not the window's maximum: a
   quiet recording stays dark), clipped to [-100, 0] dB;
5. mapped to [0, 255] and truncated to integer levels (the authors store uint8);
6. frequency axis flipped so low frequencies are at the bottom row, as in an image of a spectrogram;
7. resized to 224 x 224 with bilinear interpolation without antialiasing (torchvision 0.15's
   ``Resize`` on tensors) and repeated to 3 identical channels.

The paper's text gives 50 Hz as the lowest frequency, but the released extraction script uses 0 Hz;
the weights follow the script. :meth:`MelPipeline.normalize` applies the authors' mean and std.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from geoforensics.audio.decode import load_array
from geoforensics.errors import InputError
from geoforensics.registry import Registry

MEL_SCALES = ("htk", "slaney")


@dataclass(frozen=True)
class MelConfig:
    """Every setting of a mel pipeline. Defaults: the AG-CLIP authors' released spectrograms.

    ``mel_scale``: ``"htk"`` is the authors' (TensorFlow-style, triangles linear in mel, no area
    normalisation); ``"slaney"`` is librosa's default (Slaney scale and norm, via torchaudio).
    ``power``: the filterbank is applied to ``|STFT| ** power`` and dB is ``20 / power * log10``.
    ``ref``: dB reference; None means the maximum of each window (librosa's ``ref=np.max``).
    ``quantize``: truncate image levels to integers like the authors' uint8 arrays.
    ``mean``/``std``: the authors' input normalisation after dividing the image by 255.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 512
    hop_length: int = 128
    n_mels: int = 128
    f_min: float = 0.0
    f_max: float = 11025.0
    mel_scale: str = "htk"
    power: float = 1.0
    ref: float | None = 1.0
    amin: float = 1e-10
    db_min: float = -100.0
    db_max: float = 0.0
    quantize: bool = True
    image_size: int = 224
    channels: int = 3
    mean: float = 0.3342
    std: float = 0.1529

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.hop_length <= 0 or self.n_mels <= 0:
            raise ValueError("sample_rate, hop_length and n_mels must be positive")
        if not 0 < self.win_length <= self.n_fft:
            raise ValueError(f"win_length must be in (0, n_fft={self.n_fft}], got {self.win_length}")
        if not 0 <= self.f_min < self.f_max <= self.sample_rate / 2:
            raise ValueError(f"need 0 <= f_min < f_max <= sample_rate / 2, got {self.f_min}, {self.f_max}")
        if self.mel_scale not in MEL_SCALES:
            raise ValueError(f"mel_scale must be one of {MEL_SCALES}, got {self.mel_scale!r}")
        if self.power <= 0 or self.amin <= 0 or (self.ref is not None and self.ref <= 0):
            raise ValueError("power, amin and ref must be positive")
        if self.db_min >= self.db_max:
            raise ValueError(f"db_min must be below db_max, got {self.db_min}, {self.db_max}")
        if self.image_size <= 0 or self.channels <= 0 or self.std <= 0:
            raise ValueError("image_size, channels and std must be positive")

    @property
    def n_freqs(self) -> int:
        """Bins of the one-sided FFT."""
        return self.n_fft // 2 + 1

    def n_frames(self, num_samples: int) -> int:
        """STFT frames for a waveform of ``num_samples`` (shorter than one window: padded to one frame)."""
        return 1 + (max(num_samples, self.win_length) - self.win_length) // self.hop_length


def _htk_hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


def _htk_mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * np.expm1(np.asarray(m, dtype=np.float64) / 1127.0)


_SLANEY_F_SP = 200.0 / 3
_SLANEY_MIN_LOG_HZ = 1000.0
_SLANEY_MIN_LOG_MEL = _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP
_SLANEY_LOGSTEP = math.log(6.4) / 27.0


def _slaney_hz_to_mel(f: np.ndarray | float) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    log_part = _SLANEY_MIN_LOG_MEL + np.log(np.maximum(f, _SLANEY_MIN_LOG_HZ) / _SLANEY_MIN_LOG_HZ) / _SLANEY_LOGSTEP
    return np.where(f >= _SLANEY_MIN_LOG_HZ, log_part, f / _SLANEY_F_SP)


def _slaney_mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    log_part = _SLANEY_MIN_LOG_HZ * np.exp(_SLANEY_LOGSTEP * (np.maximum(m, _SLANEY_MIN_LOG_MEL) - _SLANEY_MIN_LOG_MEL))
    return np.where(m >= _SLANEY_MIN_LOG_MEL, log_part, m * _SLANEY_F_SP)


def hz_to_mel(f: np.ndarray | float, scale: str = "htk") -> np.ndarray:
    """Frequency in Hz to mels on the ``"htk"`` or ``"slaney"`` scale."""
    return _htk_hz_to_mel(f) if scale == "htk" else _slaney_hz_to_mel(f)


def mel_filterbank(config: MelConfig) -> np.ndarray:
    """Filterbank ``[n_freqs, n_mels]`` (float64) that maps FFT bins to mel bands."""
    if config.mel_scale == "slaney":
        import torchaudio.functional as AF

        fb = AF.melscale_fbanks(
            config.n_freqs, config.f_min, config.f_max, config.n_mels, config.sample_rate,
            norm="slaney", mel_scale="slaney",
        )
        fb64: np.ndarray = fb.numpy().astype(np.float64)
        return fb64
    freqs = np.linspace(0.0, config.sample_rate / 2, config.n_freqs)
    bins_mel = _htk_hz_to_mel(freqs[1:])[:, None]
    edges = np.linspace(_htk_hz_to_mel(config.f_min), _htk_hz_to_mel(config.f_max), config.n_mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    # The DC bin gets no weight, as in TensorFlow's HTK filterbank.
    return np.vstack([np.zeros((1, config.n_mels)), weights])


def band_centers_hz(config: MelConfig) -> np.ndarray:
    """Centre frequency of each mel band, lowest first."""
    to_mel, to_hz = (
        (_htk_hz_to_mel, _htk_mel_to_hz) if config.mel_scale == "htk" else (_slaney_hz_to_mel, _slaney_mel_to_hz)
    )
    edges = np.linspace(to_mel(config.f_min), to_mel(config.f_max), config.n_mels + 2)
    return to_hz(edges[1:-1])


class MelPipeline(torch.nn.Module):
    """Waveforms at ``config.sample_rate`` to spectrogram images; see the module docstring for each step.

    Holds no trainable parameters. Move it with ``.to(device)``; inputs follow the pipeline's device.
    """

    window: torch.Tensor
    fbank: torch.Tensor

    def __init__(self, config: MelConfig | None = None, name: str | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else MelConfig()
        self.name = name
        self.register_buffer(
            "window", torch.hann_window(self.config.win_length, periodic=True, dtype=torch.float32), persistent=False
        )
        self.register_buffer(
            "fbank", torch.from_numpy(mel_filterbank(self.config)).to(torch.float32), persistent=False
        )
        self.eval()

    def extra_repr(self) -> str:
        return f"name={self.name!r}, config={self.config}"

    def _as_batch(self, waveforms: torch.Tensor | np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(waveforms)
        if x.ndim == 1:
            x = x.unsqueeze(0)
        if x.ndim != 2:
            raise InputError(f"expected waveforms [batch, samples] or [samples], got shape {tuple(x.shape)}")
        if x.shape[0] == 0 or x.shape[1] == 0:
            raise InputError(f"no audio to transform (shape {tuple(x.shape)})")
        if not x.is_floating_point():
            raise InputError(f"waveforms must be real float samples, got dtype {x.dtype}")
        x = x.to(device=self.window.device, dtype=torch.float32)
        if not bool(torch.isfinite(x).all()):
            raise InputError("the audio contains NaN or infinite values")
        return x

    def spectrogram(self, waveforms: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Clipped dB mel spectrogram ``[B, n_mels, frames]``, row 0 the lowest band (not flipped, not resized).

        Waveforms shorter than one STFT window are zero-padded to one frame.
        """
        cfg = self.config
        x = self._as_batch(waveforms)
        if x.shape[-1] < cfg.win_length:
            x = F.pad(x, (0, cfg.win_length - x.shape[-1]))
        frames = x.unfold(-1, cfg.win_length, cfg.hop_length)
        spec = torch.fft.rfft(frames * self.window, n=cfg.n_fft)
        mag = spec.abs() * (2.0 / self.window.sum())
        if cfg.power != 1.0:
            mag = mag.pow(cfg.power)
        mel = torch.matmul(mag, self.fbank)
        scale = 20.0 / cfg.power
        db = scale * torch.log10(mel.clamp_min(cfg.amin))
        if cfg.ref is None:
            db = db - db.amax(dim=(-2, -1), keepdim=True)
        else:
            db = db - scale * math.log10(max(cfg.amin, cfg.ref))
        return db.clamp(cfg.db_min, cfg.db_max).transpose(1, 2).contiguous()

    def forward(self, waveforms: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Images ``[B, channels, image_size, image_size]`` float32 in [0, 255], low frequencies at the bottom."""
        cfg = self.config
        db = self.spectrogram(waveforms)
        img = (db - cfg.db_min) * (255.0 / (cfg.db_max - cfg.db_min))
        if cfg.quantize:
            img = torch.floor(img)
        img = img.flip(1).unsqueeze(1)
        img = F.interpolate(
            img, size=(cfg.image_size, cfg.image_size), mode="bilinear", align_corners=False, antialias=False
        )
        return img.clamp(0.0, 255.0).expand(-1, cfg.channels, -1, -1).contiguous()

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """Model input from :meth:`forward`'s images: ``(images / 255 - mean) / std``."""
        return (images / 255.0 - self.config.mean) / self.config.std

    @torch.no_grad()
    def from_audio(self, audio: np.ndarray, sample_rate: int) -> torch.Tensor:
        """Images from a numpy waveform at any rate: mono ``[T]`` or a batch of windows ``[B, T]``.

        Resamples to ``config.sample_rate`` with torchaudio, then calls :meth:`forward`.
        """
        x = np.asarray(audio)
        if x.ndim == 1:
            mono: torch.Tensor = self(load_array(x, sample_rate, self.config.sample_rate))
            return mono
        if x.ndim != 2 or x.size == 0:
            raise InputError(f"expected audio [samples] or [batch, samples], got shape {tuple(x.shape)}")
        rows = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32))
        if not bool(torch.isfinite(rows).all()):
            raise InputError("the audio contains NaN or infinite values")
        if int(sample_rate) != self.config.sample_rate:
            import torchaudio.functional as AF

            rows = AF.resample(rows, orig_freq=int(sample_rate), new_freq=self.config.sample_rate)
        images: torch.Tensor = self(rows)
        return images


DEFAULT_MEL_PIPELINE = "agclip-mel-v1"

MEL_PIPELINES: Registry[MelConfig] = Registry("mel pipeline")
"""Named, frozen configurations. Add a new name for new settings; never change an existing one."""
MEL_PIPELINES.register(
    DEFAULT_MEL_PIPELINE, MelConfig(),
    description="the AG-CLIP authors' spectrogram images: 128 HTK mel bands to 11,025 Hz, 224 x 224 (default)",
)


@functools.cache
def _build(name: str, config: MelConfig, device: str) -> MelPipeline:
    return MelPipeline(config, name=name).to(device)


def get_mel_pipeline(name: str = DEFAULT_MEL_PIPELINE, device: str | torch.device = "cpu") -> MelPipeline:
    """The named pipeline on ``device``, built once per process and shared (do not mutate it)."""
    return _build(name, MEL_PIPELINES[name], str(torch.device(device)))
