"""utagoe.dsp.banded: SPD banded systems solved by block cyclic reduction."""
from __future__ import annotations

import numpy as np
import pytest

from utagoe.dsp.banded import solve_spd_banded


def _dense(band: np.ndarray) -> np.ndarray:
    width, length = band.shape
    m = np.zeros((length, length))
    for j in range(width):
        for t in range(length - j):
            m[t + j, t] = m[t, t + j] = band[j, t]
    return m


def _random_spd_band(rng, n_sys: int, p: int, length: int) -> np.ndarray:
    band = rng.standard_normal((n_sys, p + 1, length)) * 0.5
    band[:, 0] = np.abs(band[:, 0]) + 2.0 * p + 1.0   # diagonally dominant, so positive definite
    return band


@pytest.mark.parametrize("p", [1, 2, 3, 4])
@pytest.mark.parametrize("length", [1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 64, 257])
def test_matches_a_dense_solve(p, length):
    rng = np.random.default_rng(100 * p + length)
    band = _random_spd_band(rng, 3, p, length)
    rhs = rng.standard_normal((3, length))
    x = solve_spd_banded(band, rhs)
    assert x.shape == (3, length)
    for d in range(3):
        ref = np.linalg.solve(_dense(band[d]), rhs[d])
        np.testing.assert_allclose(x[d], ref, rtol=1e-11, atol=1e-12)


def test_matches_lapack_on_trajectory_normal_equations():
    """The systems the HTS parameter generation meets: W' U^-1 W for the static,
    delta and acceleration windows, with precisions over five orders of magnitude."""
    from scipy.linalg import solveh_banded

    from utagoe.voices.hts.generate import _normal_equations

    class Win:
        def __init__(self, left, coefficients):
            self.left, self.coefficients = left, np.array(coefficients)
            self.right = left + len(coefficients) - 1

    windows = [Win(0, [1.0]), Win(-1, [-0.5, 0.0, 0.5]), Win(-1, [1.0, -2.0, 1.0])]
    rng = np.random.default_rng(7)
    mean = rng.standard_normal((3, 5, 3001))
    ivar = 10.0 ** rng.uniform(-2, 3, (3, 5, 3001))
    band, rhs = _normal_equations(mean, ivar, windows)
    x = solve_spd_banded(band, rhs)
    ref = np.array([solveh_banded(band[d], rhs[d], lower=True) for d in range(5)])
    assert np.max(np.abs(x - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_empty_and_bad_shapes():
    assert solve_spd_banded(np.zeros((2, 3, 0)), np.zeros((2, 0))).shape == (2, 0)
    with pytest.raises(ValueError, match="band"):
        solve_spd_banded(np.zeros((2, 3, 5)), np.zeros((2, 4)))


def test_rendering_does_not_import_scipy():
    """A render's start-up must stay light: scipy (linalg, fft, special) costs
    about a fifth of a one-note render. Checked in a fresh interpreter."""
    import subprocess
    import sys
    code = ("import sys\n"
            "import utagoe.voices.hts.singer, utagoe.dsp.vocoder, utagoe.rendering.engine, utagoe.cli\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'pyworld')))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
