"""Mel-cepstrum to spectral envelope, checked against pysptk.mc2sp; LPF to aperiodicity."""
from __future__ import annotations

import numpy as np
import pytest
import signals

from utagoe.dsp.mcep import (
    lpf_to_aperiodicity,
    mcep_to_log_amplitude,
    mcep_to_power_envelope,
    warped_frequency,
)


@pytest.mark.parametrize("alpha", [0.0, 0.42, 0.55, 0.77])
@pytest.mark.parametrize("fft_size", [1024, 2048])
def test_power_envelope_matches_pysptk(alpha, fft_size):
    # (pysptk warps through a cepstrum truncated at fft_size/2 terms: with
    # alpha 0.77 and fft_size 512 that truncation alone costs ~1e-3; ours is
    # closed-form, see test_bins_do_not_depend_on_fft_size)
    pysptk = pytest.importorskip("pysptk", reason="pysptk is only the reference here")
    mc = signals.random_mel_cepstrum(40, order=34, seed=int(alpha * 100) + fft_size)
    ours = mcep_to_power_envelope(mc, alpha=alpha, fft_size=fft_size)
    ref = pysptk.mc2sp(np.ascontiguousarray(mc), alpha, fft_size)
    assert ours.shape == ref.shape == (40, fft_size // 2 + 1)
    np.testing.assert_allclose(np.log(ours), np.log(ref), rtol=0, atol=1e-10)


def test_bins_do_not_depend_on_fft_size():
    mc = signals.random_mel_cepstrum(6, order=34, seed=4)
    coarse = mcep_to_log_amplitude(mc, alpha=0.77, fft_size=512)
    fine = mcep_to_log_amplitude(mc, alpha=0.77, fft_size=4096)
    np.testing.assert_allclose(coarse, fine[:, ::8], rtol=0, atol=1e-12)


def test_log_amplitude_without_warping_is_the_cepstrum_fft():
    mc = signals.random_mel_cepstrum(5, order=20, seed=1)
    fft_size = 256
    # log|H(w)| = sum_m c_m cos(m w): the real part of the FFT of the one-sided cepstrum
    expected = np.fft.rfft(mc, n=fft_size, axis=1).real
    np.testing.assert_allclose(mcep_to_log_amplitude(mc, alpha=0.0, fft_size=fft_size), expected, atol=1e-12)
    # in single precision (the vocoder's), to single precision's accuracy
    single = mcep_to_log_amplitude(mc, alpha=0.0, fft_size=fft_size, dtype=np.float32)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, expected, atol=1e-5)


def test_shapes_and_power_relation():
    mc = signals.random_mel_cepstrum(3, order=10, seed=2)
    one = mcep_to_log_amplitude(mc[0], alpha=0.55, fft_size=64)
    assert one.shape == (33,)
    many = mcep_to_log_amplitude(mc, alpha=0.55, fft_size=64)
    np.testing.assert_allclose(many[0], one)
    np.testing.assert_allclose(mcep_to_power_envelope(mc, alpha=0.55, fft_size=64), np.exp(2 * many))
    # c0 is a pure gain: +1 in c0 is e^2 in power at every bin
    shifted = mc.copy()
    shifted[:, 0] += 1.0
    ratio = mcep_to_power_envelope(shifted, alpha=0.55, fft_size=64) / mcep_to_power_envelope(mc, alpha=0.55,
                                                                                               fft_size=64)
    np.testing.assert_allclose(ratio, np.e ** 2)


def test_warped_frequency():
    omega = np.linspace(0, np.pi, 101)
    beta = warped_frequency(omega, alpha=0.55)
    assert beta[0] == pytest.approx(0.0) and beta[-1] == pytest.approx(np.pi)
    assert np.all(np.diff(beta) > 0)
    assert np.all(beta[1:-1] > omega[1:-1])         # low frequencies stretched for alpha > 0
    np.testing.assert_allclose(warped_frequency(omega, alpha=0.0), omega)


def test_bad_arguments():
    mc = signals.random_mel_cepstrum(2, order=4, seed=3)
    with pytest.raises(ValueError):
        mcep_to_power_envelope(mc, alpha=1.0, fft_size=64)
    with pytest.raises(ValueError):
        mcep_to_power_envelope(mc, alpha=0.5, fft_size=63)
    with pytest.raises(ValueError):
        lpf_to_aperiodicity(np.zeros(31), fft_size=64)
    with pytest.raises(ValueError):
        lpf_to_aperiodicity(np.zeros((2, 31)), fft_size=16)


def test_lpf_to_aperiodicity():
    fft_size = 1024
    lowpass = signals.windowed_sinc_lowpass(31, cutoff_hz=6000.0, sample_rate_hz=48000)
    lpf = np.stack([lowpass, lowpass, np.eye(31)[15], np.zeros(31)])
    ap = lpf_to_aperiodicity(lpf, fft_size=fft_size, voiced=np.array([True, False, True, True]))
    assert ap.shape == (4, fft_size // 2 + 1)
    freqs_hz = signals.bin_frequencies_hz(sample_rate_hz=48000, fft_size=fft_size)
    assert np.all(ap[0, freqs_hz < 3000] < 0.05)       # periodic below the cut-off
    assert np.all(ap[0, freqs_hz > 10000] > 0.95)      # noise above it
    crossing = freqs_hz[np.argmin(np.abs(ap[0] - np.sqrt(0.5)))]
    assert 5000 < crossing < 7000
    assert np.all(ap[1] == 1.0)                         # unvoiced
    np.testing.assert_allclose(ap[2], 0.001)            # all-pass LPF: fully periodic (floored)
    np.testing.assert_allclose(ap[3], 1.0)              # no pulses at all
    single = lpf_to_aperiodicity(lpf, fft_size=fft_size, voiced=np.array([True, False, True, True]),
                                 dtype=np.float32)
    assert single.dtype == np.float32
    np.testing.assert_allclose(single, ap, rtol=1e-6)


def test_formant_emphasis_deepens_detail_and_keeps_energy():
    from utagoe.dsp.mcep import emphasize_formants

    mc = signals.random_mel_cepstrum(8, order=34, seed=11)
    same = emphasize_formants(mc, beta=0.0, alpha=0.55)
    np.testing.assert_array_equal(same, mc)
    out = emphasize_formants(mc, beta=0.5, alpha=0.55)
    assert out.shape == mc.shape
    np.testing.assert_allclose(out[:, 2:], 1.5 * mc[:, 2:])
    np.testing.assert_array_equal(out[:, 1], mc[:, 1])  # the tilt stays
    la0 = mcep_to_log_amplitude(mc, alpha=0.55, fft_size=512)
    la1 = mcep_to_log_amplitude(out, alpha=0.55, fft_size=512)
    # same energy per frame, and peaks stand further above valleys
    np.testing.assert_allclose(np.log(np.exp(2 * la1).mean(1)), np.log(np.exp(2 * la0).mean(1)), atol=1e-9)
    assert np.all(np.ptp(la1, axis=1) > np.ptp(la0, axis=1))
