"""A pitch bend and a vibrato drawn in a .ust are what the built-in singer sings."""
import numpy as np
import pytest

from utagoe.dsp.world import harvest_f0_hz
from utagoe.formats import default_registry
from utagoe.model.units import hz_to_midi
from utagoe.rendering.engine import render_project

# 120 bpm: 480 ticks = 0.5 s. Rest 0-0.5 s, ら on C4 0.5-1.5 s, ら on G4 1.5-3.0 s.
# The G4 note's drawn bend starts 100 ms before it on C4's height (PBS -700
# cents, as tenths of a semitone: -70) and glides up over 300 ms in a straight
# line (the automatic portamento would take under 100 ms); its last half
# carries a 150 ms, 80-cent vibrato.
UST = ("[#SETTING]\r\nTempo=120\r\nMode2=True\r\n"
       "[#0000]\r\nLength=480\r\nLyric=R\r\nNoteNum=60\r\n"
       "[#0001]\r\nLength=960\r\nLyric=ら\r\nNoteNum=60\r\nPBS=-40;0\r\nPBW=80\r\n"
       "[#0002]\r\nLength=1440\r\nLyric=ら\r\nNoteNum=67\r\n"
       "PBS=-100;-70\r\nPBW=300\r\nPBY=0\r\nPBM=s\r\n"
       "VBR=50,150,80,0,0,0,0,0\r\n").encode()


@pytest.fixture(scope="module")
def sung(builtin_voices):
    voices = builtin_voices
    project = default_registry().read_bytes(UST, name="bend.ust")
    audio = render_project(project, voices=voices).audio
    f0 = harvest_f0_hz(audio.samples[0].astype(np.float64), sample_rate_hz=audio.sample_rate,
                       frame_period_s=0.005)
    t = np.arange(len(f0)) * 0.005
    return t, f0


def _median_midi(t, f0, a, b):
    sel = (t >= a) & (t < b) & (f0 > 0)
    assert sel.sum() > 0.8 * (b - a) / 0.005
    return float(np.median(hz_to_midi(f0[sel])))


def test_the_drawn_bend_glides_slowly_in_a_straight_line(sung):
    t, f0 = sung
    assert _median_midi(t, f0, 1.44, 1.46) == pytest.approx(61.2, abs=0.6)  # a sixth of the way
    assert _median_midi(t, f0, 1.54, 1.56) == pytest.approx(63.5, abs=0.6)  # half way up
    assert _median_midi(t, f0, 1.75, 2.2) == pytest.approx(67.0, abs=0.3)   # on G4


def test_the_drawn_vibrato_is_sung_at_its_rate_and_depth(sung):
    t, f0 = sung
    sel = (t >= 2.3) & (t < 2.9) & (f0 > 0)
    cents = (hz_to_midi(f0[sel]) - 67.0) * 100
    depth = (np.percentile(cents, 95) - np.percentile(cents, 5)) / 2
    assert depth == pytest.approx(80, abs=25)
    c = cents - cents.mean()
    spectrum = np.abs(np.fft.rfft(c * np.hanning(len(c)), n=4096))
    rate_hz = np.fft.rfftfreq(4096, d=0.005)[np.argmax(spectrum)]
    assert rate_hz == pytest.approx(1000 / 150, abs=0.7)
    # no vibrato in the first half of the note
    early = (t >= 2.0) & (t < 2.2) & (f0 > 0)
    assert np.ptp(hz_to_midi(f0[early])) < 0.4
