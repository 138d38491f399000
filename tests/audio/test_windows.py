import numpy as np
import pytest

from geoforensics.audio import WindowSpec, split_windows
from geoforensics.errors import InputError


def ramp(seconds: float, sr: int) -> np.ndarray:
    """Distinct non-zero samples, so a copied slice can be told from padding."""
    return np.arange(1, round(seconds * sr) + 1, dtype=np.float32)


def test_ten_seconds_at_1khz():
    sr = 1000
    audio = ramp(10, sr)
    w = split_windows(audio, sr)
    np.testing.assert_allclose(w.starts_s, [0, 1.5, 3, 4.5, 6, 7.5])
    np.testing.assert_allclose(w.ends_s, [3, 4.5, 6, 7.5, 9, 10])
    assert w.data.shape == (6, 3000) and w.data.dtype == np.float32
    assert w.sample_rate == sr and len(w) == 6 and w.window_samples == 3000
    for row, start in zip(w.data[:-1], w.starts_s[:-1]):
        i = round(start * sr)
        np.testing.assert_array_equal(row, audio[i : i + 3000])
    np.testing.assert_array_equal(w.data[-1, :2500], audio[7500:])
    np.testing.assert_array_equal(w.data[-1, 2500:], 0)


@pytest.mark.parametrize("n", [1, 2999, 3000, 3001, 4499, 4500, 4501, 7777, 10000, 12345])
def test_every_sample_covered_and_no_window_all_padding(n):
    sr = 1000
    w = split_windows(ramp(n / sr, sr), sr)
    covered = np.zeros(n, dtype=bool)
    for start, end in zip(w.starts_s, w.ends_s):
        a, b = round(start * sr), round(end * sr)
        assert b > a  # some real audio in every window
        covered[a:b] = True
    assert covered.all()
    assert np.all(np.diff(w.starts_s) > 0)
    # real samples are exactly the non-zero ones in this ramp
    assert np.count_nonzero(w.data) == sum(round((e - s) * sr) for s, e in zip(w.starts_s, w.ends_s))


def test_short_clip_gives_one_padded_window():
    w = split_windows(ramp(1.2, 1000), 1000)
    assert w.data.shape == (1, 3000)
    assert w.starts_s.tolist() == [0.0] and w.ends_s.tolist() == [1.2]
    assert np.count_nonzero(w.data[0, :1200]) == 1200 and not w.data[0, 1200:].any()


def test_exact_length_clips():
    one = split_windows(ramp(3, 1000), 1000)
    assert len(one) == 1 and one.ends_s.tolist() == [3.0] and np.all(one.data != 0)
    two = split_windows(ramp(4.5, 1000), 1000)
    assert two.starts_s.tolist() == [0.0, 1.5] and two.ends_s.tolist() == [3.0, 4.5]
    assert np.all(two.data != 0)


def test_shift_mode_ends_at_the_clip_end_without_padding():
    sr = 1000
    audio = ramp(10, sr)
    w = split_windows(audio, sr, WindowSpec(pad="shift"))
    np.testing.assert_allclose(w.starts_s, [0, 1.5, 3, 4.5, 6, 7])
    np.testing.assert_allclose(w.ends_s, [3, 4.5, 6, 7.5, 9, 10])
    np.testing.assert_array_equal(w.data[-1], audio[7000:])
    short = split_windows(ramp(1, sr), sr, WindowSpec(pad="shift"))
    assert len(short) == 1 and not short.data[0, 1000:].any()


def test_min_fraction_drops_a_short_tail():
    sr = 1000
    audio = ramp(9.2, sr)  # the tail window from 7.5 s holds 1.7 s of audio (57 %)
    assert len(split_windows(audio, sr, WindowSpec(min_fraction=0.5))) == 6
    kept = split_windows(audio, sr, WindowSpec(min_fraction=0.6))
    assert len(kept) == 5 and kept.ends_s[-1] == 9.0
    only = split_windows(ramp(0.5, sr), sr, WindowSpec(min_fraction=0.9))
    assert len(only) == 1


def test_custom_spec_and_copy_semantics():
    sr = 100
    audio = ramp(2, sr)
    w = split_windows(audio, sr, WindowSpec(window_s=0.5, stride_s=0.5))
    assert w.data.shape == (4, 50)
    np.testing.assert_array_equal(w.data.reshape(-1), audio)
    w.data[0, 0] = -1
    assert audio[0] == 1  # windows are a copy, not a view of the caller's audio


def test_bad_input():
    with pytest.raises(InputError, match="empty"):
        split_windows(np.zeros(0, dtype=np.float32), 1000)
    with pytest.raises(InputError, match="mono"):
        split_windows(np.zeros((2, 100), dtype=np.float32), 1000)
    with pytest.raises(ValueError):
        split_windows(np.zeros(10), 0)
    with pytest.raises(ValueError):
        WindowSpec(stride_s=0)
    with pytest.raises(ValueError):
        WindowSpec(pad="reflect")
    with pytest.raises(ValueError):
        WindowSpec(min_fraction=1.5)


def test_long_recording_is_fast():
    sr = 22050
    audio = np.random.default_rng(0).standard_normal(600 * sr).astype(np.float32)
    w = split_windows(audio, sr)
    assert len(w) == 399  # 1 + (600 - 3) // 1.5 full windows, the last ending exactly at 600 s
    assert w.ends_s[-1] == 600.0
    np.testing.assert_array_equal(w.data[123], audio[123 * 33075 : 123 * 33075 + 66150])
