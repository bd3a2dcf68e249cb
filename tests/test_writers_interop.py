"""What we write, read by another program (music21) and compared with real files."""
from __future__ import annotations

import pytest

from conftest import SHARED
from utagoe.formats import default_registry, read_score
from utagoe.model import Note, Project, Tempo, TimeSignature, Track

music21 = pytest.importorskip("music21")


def _events(path):
    mf = music21.midi.MidiFile()
    mf.open(str(path))
    mf.read()
    mf.close()
    tracks = []
    for t in mf.tracks:
        tick, evs = 0, []
        for e in t.events:
            if isinstance(e, music21.midi.DeltaTime):
                tick += e.time
            else:
                evs.append((tick, e.type.name))
        tracks.append(evs)
    return mf, tracks


def _lyric_then_note(events) -> bool:
    """Every note-on is preceded, at the same tick, by its lyric event."""
    ons = [i for i, (_, kind) in enumerate(events) if kind == "NOTE_ON"]
    return bool(ons) and all(i > 0 and events[i - 1] == (events[i][0], "LYRIC") for i in ons)


def song():
    notes = (Note(0, 480, 60, "か"), Note(480, 480, 62, "+"), Note(1440, 960, 64, "ふぁ"))
    return Project((Track("Lead", notes), Track("Harmony", (Note(0, 1920, 55, "あ"),))),
                   tempos=(Tempo(0, 96.0), Tempo(960, 120.0)),
                   time_signatures=(TimeSignature(0, 3, 4),), title="Song")


def test_music21_reads_our_midi_notes_lyrics_and_tempi(tmp_path):
    out = tmp_path / "song.mid"
    default_registry().write(song(), out)
    score = music21.converter.parse(str(out))
    parts = list(score.parts)
    assert len(parts) == 2
    lead = [(float(n.offset), n.pitch.midi, n.lyric) for n in parts[0].flatten().notes]
    # music21 reads our melisma mark "-" as a note without a syllable of its own
    assert lead == [(0.0, 60, "か"), (1.0, 62, ""), (3.0, 64, "ふぁ")]
    marks = {(float(m.getOffsetInHierarchy(score)), m.number)
             for m in score.recurse().getElementsByClass("MetronomeMark")}
    assert marks == {(0.0, 96.0), (2.0, 120.0)}
    mf, tracks = _events(out)
    assert mf.format == 1 and mf.ticksPerQuarterNote == 480
    assert {"SET_TEMPO", "TIME_SIGNATURE"} <= {k for _, k in tracks[0]}
    assert all(_lyric_then_note(t) for t in tracks[1:])


@pytest.mark.shared
def test_our_midi_has_the_layout_of_a_real_lyric_midi(tmp_path):
    real = SHARED / "midi" / "utaformatix-ts" / "standard.mid"
    if not real.is_file():
        pytest.skip("../shared/data/midi/utaformatix-ts/standard.mid is absent")
    real_mf, real_tracks = _events(real)
    ppq = real_mf.ticksPerQuarterNote
    sung = [t for t in real_tracks if any(k == "NOTE_ON" for _, k in t)]
    assert sung and all(_lyric_then_note(t) for t in sung)
    out = tmp_path / "again.mid"
    default_registry().write(read_score(real), out)
    _, ours = _events(out)
    ours_sung = [t for t in ours if any(k == "NOTE_ON" for _, k in t)]
    assert [[tk for tk, k in t if k == "NOTE_ON"] for t in ours_sung] == \
        [[tk * 480 // ppq for tk, k in t if k == "NOTE_ON"] for t in sung]
    assert all(_lyric_then_note(t) for t in ours_sung)
    again = music21.converter.parse(str(out))
    assert [n.lyric for n in again.recurse().notes] == ["ど", "れ", "み", "ふぁ", "そ", "ら", "し", "ど"]
