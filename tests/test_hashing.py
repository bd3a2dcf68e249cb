"""Counter-based random numbers (utagoe.dsp.hashing): SplitMix64 as published,
keys that separate streams, and bytes uniform enough to be the vocoder's noise."""
import numpy as np
import pytest

from utagoe.dsp.hashing import mix64, splitmix64, stream_key


def test_splitmix64_gives_the_reference_outputs():
    # SplitMix64 seeded with 0 (the reference C code's first outputs)
    assert [int(x) for x in splitmix64(0, 3)] == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4,
                                                  0x06C45D188009454F]
    # a prefix of a longer stream is the shorter stream
    assert np.array_equal(splitmix64(12345, 1000)[:10], splitmix64(12345, 10))
    assert splitmix64(7, 0).shape == (0,)


def test_keys_separate_streams_and_refuse_negative_parts():
    keys = {stream_key(seed, block) for seed in range(50) for block in range(50)}
    assert len(keys) == 2500
    assert stream_key(3, 4) != stream_key(4, 3) and stream_key(3) != stream_key(3, 0)
    assert stream_key(3, 4) == stream_key(3, 4)
    with pytest.raises(ValueError):
        stream_key(1, -1)


def test_bytes_are_uniform_and_unrelated():
    b = splitmix64(stream_key(9, 2), 1 << 16).view(np.uint8)
    counts = np.bincount(b, minlength=256)
    expected = b.size / 256
    chi2 = float(np.sum((counts - expected) ** 2 / expected))
    assert chi2 < 350            # 255 degrees of freedom: p < 1e-4 above 330
    x = b.astype(np.float64) - 127.5
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 0.01
    other = splitmix64(stream_key(9, 3), 1 << 16).view(np.uint8).astype(np.float64) - 127.5
    assert abs(np.corrcoef(x, other)[0, 1]) < 0.01


def test_mix64_is_a_bijection_on_a_sample():
    x = np.arange(100000, dtype=np.uint64) * np.uint64(0x1234567)
    assert np.unique(mix64(x)).size == x.size
