"""Settings and the model check their fields when they are made, naming the field."""
import math

import pytest

import utagoe
from utagoe.errors import InvalidValueError, UtagoeError
from utagoe.expression.pitch import PitchSettings
from utagoe.model import Note, PitchPoint, Project, Tempo, TimeSignature, Track, Vibrato
from utagoe.settings import (MixSettings, PhraseSettings, RenderSettings, VoiceSettings,
                             effective_workers)
from utagoe.timing.align import TimingSettings
from utagoe.voices.hts.tuning import HTSTuning

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("make, field", [
    (lambda: MixSettings(peak_dbfs=NAN), "MixSettings.peak_dbfs"),
    (lambda: MixSettings(peak_dbfs=3.0), "MixSettings.peak_dbfs"),
    (lambda: MixSettings(sample_rate_hz=0), "MixSettings.sample_rate_hz"),
    (lambda: MixSettings(sample_rate_hz=44100.5), "MixSettings.sample_rate_hz"),
    (lambda: PhraseSettings(rest_margin_s=-1.0), "PhraseSettings.rest_margin_s"),
    (lambda: PhraseSettings(lead_in_s=INF), "PhraseSettings.lead_in_s"),
    (lambda: VoiceSettings(vocoder="mlsa"), "VoiceSettings.vocoder"),
    (lambda: HTSTuning(gv_max_ratio=0.0), "HTSTuning.gv_max_ratio"),
    (lambda: HTSTuning(duration_fit="fast"), "HTSTuning.duration_fit"),
    (lambda: HTSTuning(postfilter_beta=-1.0), "HTSTuning.postfilter_beta"),
    (lambda: HTSTuning(harmonic_envelope=1), "HTSTuning.harmonic_envelope"),
    (lambda: HTSTuning(use_gv="no"), "HTSTuning.use_gv"),
    (lambda: HTSTuning(envelope_fft_size=1023), "HTSTuning.envelope_fft_size"),
    (lambda: HTSTuning(envelope_fft_size=32), "HTSTuning.envelope_fft_size"),
    (lambda: HTSTuning(envelope_fft_size=1024.0), "HTSTuning.envelope_fft_size"),
    (lambda: RenderSettings(workers=0), "RenderSettings.workers"),
    (lambda: RenderSettings(max_duration_s=NAN), "RenderSettings.max_duration_s"),
    (lambda: RenderSettings(language=""), "RenderSettings.language"),
    (lambda: RenderSettings(lenient_lyrics="yes"), "RenderSettings.lenient_lyrics"),
    (lambda: RenderSettings(mix=None), "RenderSettings.mix"),
    (lambda: PitchSettings(vibrato_rate_hz=0.0), "PitchSettings.vibrato_rate_hz"),
    (lambda: PitchSettings(drift_period_s=0.0), "PitchSettings.drift_period_s"),
    (lambda: PitchSettings(vibrato_depth_cents=NAN), "PitchSettings.vibrato_depth_cents"),
    (lambda: TimingSettings(consonant_scale=-1.0), "TimingSettings.consonant_scale"),
    (lambda: TimingSettings(vowel_lead_s=INF), "TimingSettings.vowel_lead_s"),
    (lambda: Tempo(0, 0.0), "Tempo.bpm"),
    (lambda: Tempo(0, NAN), "Tempo.bpm"),
    (lambda: Tempo(-1, 120.0), "Tempo.tick"),
    (lambda: Note(-480, 480, 60, "a"), "Note.start_ticks"),
    (lambda: Note(0, 0, 60, "a"), "Note.duration_ticks"),
    (lambda: Note(0, 480, 128, "a"), "Note.pitch"),
    (lambda: Note(0, 480, 60.5, "a"), "Note.pitch"),
    (lambda: Note(0, 480, 60, None), "Note.lyric"),
    (lambda: TimeSignature(0, 0, 4), "TimeSignature.numerator"),
    (lambda: Track("v", (), pan=2.0), "Track.pan"),
    (lambda: Track("v", (), volume_db=NAN), "Track.volume_db"),
    (lambda: Vibrato(50, 0.0, 20), "Vibrato.period_ms"),
    (lambda: PitchPoint(NAN, 0.0), "PitchPoint.offset_ms"),
    (lambda: Project(("not a track",)), "Project.tracks[0]"),
])
def test_a_bad_field_is_refused_where_it_is_given_naming_it(make, field):
    with pytest.raises(InvalidValueError) as err:
        make()
    assert str(err.value).startswith(field)
    assert isinstance(err.value, UtagoeError) and isinstance(err.value, ValueError)


def test_defaults_are_valid_and_nested_by_stage():
    s = RenderSettings()
    assert s.mix.sample_rate_hz == 48000 and s.mix.peak_dbfs == -1.0
    assert s.voice.vocoder == "utagoe" and s.voice.hts.gv_max_ratio == 2.0
    assert s.phrase.rest_margin_s == 0.3 and s.timing.vowel_lead_s == 0.03


def test_settings_and_options_are_importable_from_utagoe():
    for name in ("RenderSettings", "ReadOptions", "RenderCache", "CancelToken", "VoiceSettings",
                 "PitchSettings", "TimingSettings", "MixSettings", "PhraseSettings", "HTSTuning",
                 "RenderResult"):
        assert getattr(utagoe, name).__name__ == name
    with pytest.raises(AttributeError):
        utagoe.no_such_thing  # noqa: B018


def test_no_public_name_is_shadowed_by_a_subpackage():
    import importlib
    import pkgutil
    import types

    for mod in pkgutil.walk_packages(utagoe.__path__, "utagoe."):
        if not mod.name.endswith("__main__"):
            importlib.import_module(mod.name)
    for name in utagoe.__all__:
        assert not isinstance(getattr(utagoe, name), types.ModuleType), name


def test_workers_are_capped_at_the_cores():
    import os

    assert effective_workers(100_000) == min(os.cpu_count() or 1, 64)
    assert effective_workers(1) == 1


def test_lists_given_to_the_model_become_tuples():
    t = Track("v", [Note(0, 480, 60, "a")])
    p = Project([t], tempos=[Tempo(0, 100.0)])
    assert isinstance(t.notes, tuple) and isinstance(p.tracks, tuple) and isinstance(p.tempos, tuple)
    hash(p.tempos)


def test_absurd_values_are_refused_by_name_not_by_python():
    with pytest.raises(InvalidValueError, match=r"^Tempo.bpm must be a finite number > 0, got 1000"):
        Tempo(0, 10 ** 400)
    with pytest.raises(InvalidValueError, match=r"^Track.notes must be a sequence, got None"):
        Track("v", None)
    with pytest.raises(InvalidValueError, match=r"^Track.notes\[0\] must be a Note"):
        Track("v", ["a"])


def test_the_hts_envelope_searches_half_a_harmonic_for_its_peaks_by_default():
    # measured (benchmarks/bench_vowels.py): the vowels come out clearer, most on high notes
    assert HTSTuning().harmonic_envelope is True
    assert HTSTuning().harmonic_peak_search == 0.5
