import numpy as np
import pytest
import signals

from utagoe.dsp.envelope import compress_log_gain, harmonic_log_amplitude, interpolate_unvoiced

RATE = 48000
FFT = 2048
HZ = signals.bin_frequencies_hz(sample_rate_hz=RATE, fft_size=FFT)


def test_harmonic_envelope_removes_ripple_at_the_analysis_f0():
    f0 = 300.0
    smooth = signals.broad_formant_log_amplitude(sample_rate_hz=RATE, fft_size=FFT, centre_hz=800.0, width_hz=600.0)
    ripple = signals.harmonic_ripple_log_amplitude(f0, sample_rate_hz=RATE, fft_size=FFT, depth=1.5)
    la = np.tile(smooth + ripple, (3, 1))
    out = harmonic_log_amplitude(la, np.array([f0, f0, 0.0]), sample_rate_hz=RATE)
    band = (HZ > 300) & (HZ < 4000)
    # on the harmonics it agrees with the input; between them it follows the peaks
    k = np.round(np.arange(2, 12) * f0 / (RATE / FFT)).astype(int)
    np.testing.assert_allclose(out[0, k], la[0, k], atol=0.05)
    assert np.max(np.abs(out[0, band] - (smooth[band] + 1.5))) < 0.2
    # an unvoiced frame is returned as it was, in the vocoder's single precision
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out[2], la[2].astype(np.float32))


def test_harmonic_peak_search_finds_the_ripple_when_the_pitch_is_a_little_off():
    f0 = 500.0  # a high voice: the ripple is deep and its harmonics far apart
    smooth = signals.broad_formant_log_amplitude(sample_rate_hz=RATE, fft_size=FFT, centre_hz=800.0, width_hz=600.0)
    ripple = signals.harmonic_ripple_log_amplitude(f0, sample_rate_hz=RATE, fft_size=FFT, depth=1.5)
    la = (smooth + ripple)[None, :]
    band = (HZ > 500) & (HZ < 3000)
    for guess in (f0 * 1.04, f0 / 1.04):  # the model's pitch 70 cents off the ripple's
        exact = harmonic_log_amplitude(la, np.array([guess]), sample_rate_hz=RATE)
        peaks = harmonic_log_amplitude(la, np.array([guess]), sample_rate_hz=RATE, peak_search=0.5)
        # sampled at the guessed harmonics the envelope falls into the valleys;
        # searching half a harmonic around each one finds the peaks again (on
        # the formant's steep skirt it leans a little towards the higher side)
        assert np.min(exact[0, band] - (smooth[band] + 1.5)) < -1.0
        err = peaks[0, band] - (smooth[band] + 1.5)
        assert np.min(err) > -0.5 and np.max(err) < 0.7  # (straight joins on the steep skirt)
        near = band & (HZ < 2000)
        assert np.max(np.abs(err[near[band]])) < 0.2
    # on the right pitch it stays within the ripple's peaks
    on = harmonic_log_amplitude(la, np.array([f0]), sample_rate_hz=RATE, peak_search=0.5)[0, band]
    assert np.min(on - (smooth[band] + 1.5)) > -0.1


def test_harmonic_envelope_checks_shapes():
    with pytest.raises(ValueError):
        harmonic_log_amplitude(np.zeros((2, 5)), np.zeros(3), sample_rate_hz=RATE)


def test_interpolate_unvoiced_fills_gaps_geometrically():
    f = interpolate_unvoiced(np.array([0.0, 200.0, 0.0, 800.0, -np.inf]))
    np.testing.assert_allclose(f, [200, 200, 400, 800, 800])
    assert np.all(interpolate_unvoiced(np.zeros(4)) == 0)


def test_compress_log_gain_halves_slow_swings_and_spares_fast_ones():
    n = 400
    level = np.where(np.arange(n) < 200, 4.0, 2.0)       # two notes 2 nepers apart
    mask = np.ones(n, dtype=bool)
    g = compress_log_gain(level, mask, ratio=0.5, smooth_frames=20)
    after = level + g
    assert after[100] - after[300] == pytest.approx(1.0, abs=0.01)
    # nothing changes at ratio 1 or without masked frames
    assert np.all(compress_log_gain(level, mask, ratio=1.0, smooth_frames=20) == 0)
    assert np.all(compress_log_gain(level, np.zeros(n, bool), ratio=0.5, smooth_frames=20) == 0)
    # unmasked frames (consonants, rests) move with the level around them
    mask2 = mask.copy()
    mask2[90:110] = False
    g2 = compress_log_gain(np.where(mask2, level, -5.0), mask2, ratio=0.5, smooth_frames=20)
    assert g2[100] == pytest.approx(g2[80], abs=0.01)


def test_running_max_matches_a_plain_sliding_maximum():
    from utagoe.dsp.envelope import running_max

    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 37))
    for half in (0, 1, 2, 3, 5, 8, 12, 40):
        pad = np.concatenate([np.repeat(x[:, :1], half, 1), x, np.repeat(x[:, -1:], half, 1)], 1)
        want = np.stack([pad[:, i:i + 2 * half + 1].max(1) for i in range(x.shape[1])], 1)
        np.testing.assert_array_equal(running_max(x, half), want)
    np.testing.assert_array_equal(running_max(x[:, :1], 4), x[:, :1])
    assert running_max(np.zeros((0, 5)), 2).shape == (0, 5)
