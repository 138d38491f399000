import numpy as np
import pytest
import scipy.signal
import torch

from geoforensics.audio import (
    DEFAULT_MEL_PIPELINE,
    MEL_PIPELINES,
    MelConfig,
    MelPipeline,
    band_centers_hz,
    get_mel_pipeline,
    split_windows,
)
from geoforensics.errors import InputError

SR = 22050
N3S = 3 * SR


def tone(hz: float, seconds: float = 3.0, sr: int = SR, amplitude: float = 0.5) -> np.ndarray:
    return (amplitude * np.sin(2 * np.pi * hz * np.arange(round(seconds * sr)) / sr)).astype(np.float32)


def htk_band_of(hz: float, n_mels: int = 128, f_min: float = 0.0, f_max: float = 11025.0) -> int:
    """Mel band whose centre is nearest to ``hz`` (HTK scale), computed independently of the package."""
    mel = lambda f: 2595.0 * np.log10(1.0 + f / 700.0)  # noqa: E731  (same curve as 1127 ln(1 + f/700))
    centres = np.linspace(mel(f_min), mel(f_max), n_mels + 2)[1:-1]
    return int(np.argmin(np.abs(centres - mel(hz))))


@pytest.fixture(scope="module")
def pipe() -> MelPipeline:
    return get_mel_pipeline()


def test_registry_defaults_are_the_authors_settings():
    cfg = MEL_PIPELINES[DEFAULT_MEL_PIPELINE]
    assert DEFAULT_MEL_PIPELINE == "agclip-mel-v1"
    assert (cfg.sample_rate, cfg.n_fft, cfg.win_length, cfg.hop_length, cfg.n_mels) == (22050, 1024, 512, 128, 128)
    assert (cfg.f_min, cfg.f_max, cfg.db_min, cfg.db_max, cfg.ref) == (0.0, 11025.0, -100.0, 0.0, 1.0)
    assert (cfg.image_size, cfg.channels, cfg.mel_scale) == (224, 3, "htk")


def test_pipeline_is_cached_per_process(pipe):
    assert get_mel_pipeline() is pipe
    assert get_mel_pipeline("agclip-mel-v1", device="cpu") is pipe
    with pytest.raises(InputError, match="unknown mel pipeline 'no-such-pipeline'; known: agclip-mel-v1"):
        get_mel_pipeline("no-such-pipeline")


def test_image_shape_range_dtype_and_channels(pipe):
    batch = torch.from_numpy(np.random.default_rng(0).uniform(-0.3, 0.3, (2, N3S)).astype(np.float32))
    img = pipe(batch)
    assert img.shape == (2, 3, 224, 224) and img.dtype == torch.float32
    assert float(img.min()) >= 0.0 and float(img.max()) <= 255.0
    assert float(img.max()) > 100  # white noise at -10 dBFS is far above the -100 dB floor
    assert torch.equal(img[:, 0], img[:, 1]) and torch.equal(img[:, 0], img[:, 2])


def test_spectrogram_shape_and_frame_count(pipe):
    spec = pipe.spectrogram(tone(1000))
    assert spec.shape == (1, 128, 513)  # 1 + (66150 - 512) // 128 frames, no centring
    assert pipe.config.n_frames(N3S) == 513
    assert float(spec.min()) >= -100 and float(spec.max()) <= 0


def test_1khz_tone_peaks_in_the_expected_mel_band(pipe):
    expected = htk_band_of(1000.0)
    spec = pipe.spectrogram(tone(1000))[0]
    assert int(spec.mean(dim=1).argmax()) == expected
    assert abs(band_centers_hz(pipe.config)[expected] - 1000) < 40
    # In the image low frequencies are at the bottom: band k lands near row (127 - k + 0.5) * 224 / 128 - 0.5.
    img = pipe(tone(1000))[0, 0]
    row = int(img.mean(dim=1).argmax())
    assert abs(row - ((127 - expected + 0.5) * 224 / 128 - 0.5)) <= 2


def test_higher_pitch_is_higher_in_the_image(pipe):
    rows = [int(pipe(tone(hz))[0, 0].mean(dim=1).argmax()) for hz in (500, 1000, 4000, 8000)]
    assert rows == sorted(rows, reverse=True)
    assert rows[0] > 150 and rows[-1] < 40


def test_silence_gives_the_floor_and_no_nan(pipe):
    spec = pipe.spectrogram(np.zeros(N3S, dtype=np.float32))
    assert torch.isfinite(spec).all() and torch.all(spec == -100)
    img = pipe(np.zeros((2, N3S), dtype=np.float32))
    assert torch.isfinite(img).all() and torch.all(img == 0)


def test_deterministic_and_batch_independent(pipe):
    rng = np.random.default_rng(1)
    a = (0.2 * rng.standard_normal(N3S)).astype(np.float32)
    b = tone(2500)
    batch = torch.from_numpy(np.stack([a, b]))
    assert torch.equal(pipe(batch), pipe(batch))
    torch.testing.assert_close(pipe.spectrogram(batch)[1], pipe.spectrogram(b)[0], atol=1e-3, rtol=0)
    assert float((pipe(batch)[0] - pipe(a)[0]).abs().mean()) < 0.05


def test_matches_the_authors_scipy_recipe(pipe):
    """scipy STFT (no boundary, no padding), |X| * 2 / sum(w), HTK triangles in mel, 20 log10, clip [-100, 0]."""
    x = (0.1 * np.random.default_rng(2).standard_normal(N3S)).astype(np.float32)
    window = scipy.signal.windows.hann(512, sym=False)
    _, _, z = scipy.signal.stft(
        x.astype(np.float64), fs=1, window=window, nperseg=512, noverlap=512 - 128, nfft=1024,
        detrend=False, return_onesided=True, boundary=None, padded=False, scaling="spectrum",
    )
    magnitude = np.abs(z) * 2.0  # scaling="spectrum" already divided by sum(w)
    mel = lambda f: 1127.0 * np.log(1.0 + f / 700.0)  # noqa: E731
    bins = mel(np.linspace(0, SR / 2, 513))[:, None]
    edges = np.linspace(mel(0.0), mel(11025.0), 130)
    weights = np.clip(np.minimum((bins - edges[:-2]) / (edges[1:-1] - edges[:-2]),
                                 (edges[2:] - bins) / (edges[2:] - edges[1:-1])), 0, None)
    weights[0] = 0
    expected = np.clip(20 * np.log10(np.maximum(weights.T @ magnitude, 1e-10)), -100, 0)
    got = pipe.spectrogram(x)[0].numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_short_input_is_padded_to_one_frame(pipe):
    spec = pipe.spectrogram(tone(1000, seconds=100 / SR))
    assert spec.shape == (1, 128, 1)
    assert pipe(tone(1000, seconds=0.01)).shape == (1, 3, 224, 224)


def test_from_audio_resamples(pipe):
    direct = pipe(tone(1000))
    resampled = pipe.from_audio(tone(1000, sr=44100), 44100)
    assert resampled.shape == (1, 3, 224, 224)
    assert int(resampled[0, 0].mean(dim=1).argmax()) == int(direct[0, 0].mean(dim=1).argmax())
    windows = split_windows(tone(3000, seconds=5, sr=16000), 16000)
    images = pipe.from_audio(windows.data, 16000)
    assert images.shape == (len(windows), 3, 224, 224)


def test_bad_waveforms(pipe):
    with pytest.raises(InputError, match="NaN"):
        pipe(np.array([0.0, np.nan] * 1000, dtype=np.float32))
    with pytest.raises(InputError, match="shape"):
        pipe(np.zeros((1, 2, 3), dtype=np.float32))
    with pytest.raises(InputError):
        pipe(np.zeros((1, 0), dtype=np.float32))
    with pytest.raises(InputError, match="float"):
        pipe(torch.zeros(1000, dtype=torch.int64))


def test_normalize_uses_the_authors_statistics(pipe):
    img = torch.full((1, 3, 2, 2), 0.3342 * 255)
    torch.testing.assert_close(pipe.normalize(img), torch.zeros_like(img), atol=1e-5, rtol=0)
    torch.testing.assert_close(pipe.normalize(torch.full((1,), 255.0)), torch.tensor([(1 - 0.3342) / 0.1529]))


def test_fixed_reference_keeps_quiet_recordings_dark():
    quiet = tone(1000, amplitude=1e-3)  # about -60 dB
    fixed = MelPipeline(MelConfig())(quiet)
    per_window = MelPipeline(MelConfig(ref=None))(quiet)
    assert float(fixed.max()) < 0.5 * 255
    assert float(per_window.max()) > 0.9 * 255


def test_slaney_variant_and_config_validation():
    slaney = MelPipeline(MelConfig(mel_scale="slaney", power=2.0, f_min=50.0))
    spec = slaney.spectrogram(tone(1000))[0]
    centres = band_centers_hz(slaney.config)
    assert abs(centres[int(spec.mean(dim=1).argmax())] - 1000) < 60
    with pytest.raises(ValueError):
        MelConfig(f_max=20000)
    with pytest.raises(ValueError):
        MelConfig(mel_scale="bark")
    with pytest.raises(ValueError):
        MelConfig(win_length=2048)
