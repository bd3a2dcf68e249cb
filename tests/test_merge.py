"""Several score files as one song (a UST set: one .ust per singer)."""
from __future__ import annotations

from dataclasses import replace

import pytest

from utagoe.errors import InvalidValueError, ScoreFormatError
from utagoe.formats import ReadOptions, read_score
from utagoe.formats.merge import MIXED_FORMAT, merge_projects
from utagoe.formats.ust import read as read_ust
from utagoe.model import Note, PitchPoint, Project, Tempo, TimeSignature, Track, Vibrato
from utagoe.model.score import KeySignature, TrackCurve

# --------------------------------------------------------------------------------------
# USTs written inline


def ust(notes, *, tempo="120.00", project_name=None) -> bytes:
    """A UST of ``notes``: (length, lyric, note number, extra key=value lines)."""
    out = ["[#VERSION]", "UST Version1.2", "[#SETTING]", f"Tempo={tempo}"]
    if project_name:
        out.append(f"ProjectName={project_name}")
    for i, (length, lyric, num, *extra) in enumerate(notes):
        out += [f"[#{i:04d}]", f"Length={length}", f"Lyric={lyric}", f"NoteNum={num}", *extra]
    out.append("[#TRACKEND]")
    return ("\n".join(out) + "\n").encode("cp932")


def read(data: bytes, name: str) -> Project:
    p = read_ust(data, path=name, options=ReadOptions())
    return replace(p, source_format="ust")


SOPRANO = [(480, "さ", 72), (480, "く", 74), (960, "ら", 76), (480, "R", 60), (480, "あ", 72)]
ALTO = [(960, "は", 67), (480, "な", 65), (480, "よ", 64), (960, "R", 60), (480, "い", 64)]


def timing(track: Track) -> list[tuple[int, int, int, str]]:
    return [(n.start_ticks, n.duration_ticks, n.pitch, n.lyric) for n in track.notes]


# --------------------------------------------------------------------------------------


def test_two_usts_at_one_tempo_merge_to_two_tracks_on_the_same_ticks():
    sop = read(ust(SOPRANO), "soprano.ust")
    alto = read(ust(ALTO), "alto.ust")
    m = merge_projects([sop, alto], labels=["soprano", "alto"])
    assert len(m.tracks) == 2
    assert [timing(t) for t in m.tracks] == [timing(sop.tracks[0]), timing(alto.tracks[0])]
    assert m.tempos == sop.tempos == (Tempo(0, 120.0),)
    assert m.time_signatures == sop.time_signatures
    assert m.key_signatures == sop.key_signatures
    assert m.source_format == "ust"
    assert m.source_path == "soprano.ust"
    assert not any("tempo map" in w for w in m.warnings)
    # the inputs are not changed
    assert timing(alto.tracks[0]) == [(0, 960, 67, "は"), (960, 480, 65, "な"),
                                      (1440, 480, 64, "よ"), (2880, 480, 64, "い")]


def test_track_names_are_their_own_else_the_label_and_unique():
    sop = read(ust(SOPRANO, project_name="Duet"), "a.ust")
    alto = read(ust(ALTO, project_name="Duet"), "b.ust")
    assert sop.tracks[0].name == alto.tracks[0].name == "Duet"
    m = merge_projects([sop, alto], labels=["soprano", "alto"])
    assert [t.name for t in m.tracks] == ["Duet", "Duet (alto)"]
    three = merge_projects([sop, alto, alto], labels=["soprano", "alto", "alto"])
    assert [t.name for t in three.tracks] == ["Duet", "Duet (alto)", "Duet (alto) 2"]
    unnamed = Project((Track("", (Note(0, 480, 60, "あ"),)), Track(" ", (Note(0, 480, 64, "い"),))))
    m = merge_projects([unnamed, unnamed], labels=["left", "right"])
    assert [t.name for t in m.tracks] == ["left", "left 2", "right", "right 2"]
    # names differing only in case repeat too
    shout = Project((Track("DUET", (Note(0, 480, 60, "あ"),)),))
    m = merge_projects([sop, shout], labels=["soprano", "bass"])
    assert [t.name for t in m.tracks] == ["Duet", "DUET (bass)"]


def test_a_different_tempo_is_moved_onto_the_first_map_keeping_the_seconds():
    sop = read(ust(SOPRANO, tempo="120"), "soprano.ust")
    # the alto at 90 bpm, with a drawn pitch curve and its own vibrato on a note
    alto_notes = [*ALTO[:1], (480, "な", 65, "PBS=-40;-20", "PBW=60,30", "PBY=10"),
                  (480, "よ", 64, "VBR=65,180,35,20,20,0,0"), *ALTO[3:]]
    alto = read(ust(alto_notes, tempo="90"), "alto.ust")
    pitd = TrackCurve("pitd", (0, 960, 1440, 3000), (0.0, 50.0, -30.0, 0.0))
    alto = replace(alto, tracks=(replace(alto.tracks[0], curves=(pitd,)),))
    m = merge_projects([sop, alto], labels=["soprano", "alto"])
    assert m.tempos == (Tempo(0, 120.0),)
    old, new = alto.time_axis(), m.time_axis()
    tick_s = new.tick_to_seconds(1) - new.tick_to_seconds(0)
    moved = m.tracks[1]
    assert len(moved.notes) == len(alto.tracks[0].notes)
    for a, b in zip(alto.tracks[0].notes, moved.notes):
        assert abs(new.tick_to_seconds(b.start_ticks) - old.tick_to_seconds(a.start_ticks)) \
            <= tick_s / 2 + 1e-9
        assert abs(new.tick_to_seconds(b.end_ticks) - old.tick_to_seconds(a.end_ticks)) \
            <= tick_s / 2 + 1e-9
        # the note's own pitch points and vibrato are milliseconds from its start:
        # they travel with it
        assert (b.pitch, b.lyric, b.pitch_points, b.vibrato) == \
            (a.pitch, a.lyric, a.pitch_points, a.vibrato)
    # 90 -> 120 bpm: every tick count grows by 4/3
    assert timing(moved) == [(0, 1280, 67, "は"), (1280, 640, 65, "な"), (1920, 640, 64, "よ"),
                             (3840, 640, 64, "い")]
    assert moved.notes[1].pitch_points and isinstance(moved.notes[1].pitch_points[0], PitchPoint)
    assert isinstance(moved.notes[2].vibrato, Vibrato)
    # the curve moves with the notes
    assert moved.curves[0].ticks == (0, 1280, 1920, 4000)
    assert moved.curves[0].values == pitd.values
    # the first file is untouched; one warning names the re-timed file
    assert timing(m.tracks[0]) == timing(sop.tracks[0])
    said = [w for w in m.warnings if "tempo map" in w]
    assert said == [("alto: its tempo map differs from soprano's; its notes and curves are "
                     "moved onto soprano's tempo map, keeping their times in seconds (to the "
                     "nearest tick)")]


def test_tempo_changes_inside_a_file_are_followed():
    first = Project((Track("a", (Note(0, 1920, 60, "あ"),)),),
                    tempos=(Tempo(0, 120.0), Tempo(960, 60.0)))
    second = Project((Track("b", (Note(0, 480, 60, "い"), Note(1440, 480, 62, "う"))),),
                     tempos=(Tempo(0, 60.0), Tempo(480, 120.0)))
    m = merge_projects([first, second], labels=["one", "two"])
    old, new = second.time_axis(), m.time_axis()
    for a, b in zip(second.tracks[0].notes, m.tracks[1].notes):
        assert abs(new.tick_to_seconds(b.start_ticks) - old.tick_to_seconds(a.start_ticks)) < 1e-3
        assert abs(new.tick_to_seconds(b.end_ticks) - old.tick_to_seconds(a.end_ticks)) < 1e-3
    # a map that only repeats a tempo is the same map: nothing moves, nothing said
    same = replace(second, tempos=(Tempo(0, 120.0), Tempo(480, 120.0), Tempo(960, 60.0)))
    m = merge_projects([first, same], labels=["one", "same"])
    assert timing(m.tracks[1]) == timing(second.tracks[0]) and not m.warnings


def test_a_note_that_becomes_shorter_than_a_tick_is_dropped_and_counted():
    first = Project((Track("a", (Note(0, 480, 60, "あ"),)),), tempos=(Tempo(0, 10.0),))
    second = Project((Track("b", (Note(0, 1, 60, "い"), Note(480, 480, 62, "う"))),),
                     tempos=(Tempo(0, 200.0),))
    m = merge_projects([first, second], labels=["slow", "fast"])
    assert timing(m.tracks[1]) == [(24, 24, 62, "う")]
    assert any("1 note(s) shorter than a tick there dropped" in w for w in m.warnings)


def test_warnings_are_kept_with_their_label_and_formats_that_differ_are_mixed():
    a = Project((Track("a", (Note(0, 480, 60, "あ"),)),), warnings=("a.ust: one",),
                source_format="ust", source_path="a.ust", title="Song",
                time_signatures=(TimeSignature(0, 3, 4),), key_signatures=(KeySignature(0, 2),))
    b = Project((Track("b", (Note(0, 480, 60, "い"),)),), warnings=("b.ustx: two",),
                source_format="ustx", source_path="b.ustx", title="Other",
                time_signatures=(TimeSignature(0, 4, 4),))
    m = merge_projects([a, b], labels=["a", "b"])
    assert m.warnings == ("a: a.ust: one", "b: b.ustx: two")
    assert m.source_format == MIXED_FORMAT
    assert (m.source_path, m.title) == ("a.ust", "Song")
    assert m.time_signatures == (TimeSignature(0, 3, 4),)
    assert m.key_signatures == (KeySignature(0, 2),)
    one = merge_projects([b], labels=["b"])
    assert one.tracks == b.tracks and one.source_format == "ustx"


def test_no_projects_or_labels_that_do_not_match_are_errors():
    with pytest.raises(InvalidValueError, match="at least one project"):
        merge_projects([], labels=[])
    p = Project((Track("a", (Note(0, 480, 60, "あ"),)),))
    with pytest.raises(InvalidValueError, match="one label per project: 2 projects, 1 labels"):
        merge_projects([p, p], labels=["a"])
    with pytest.raises(InvalidValueError, match="projects\\[1\\] must be a Project"):
        merge_projects([p, "b.ust"], labels=["a", "b"])  # type: ignore[list-item]


# --------------------------------------------------------------------------------------
# Real USTs from ../shared/data


@pytest.mark.shared
def test_real_usts_merge(shared_data):
    files = sorted((shared_data / "ust").rglob("*.ust"))
    if not files:
        pytest.skip("no .ust files in ../shared/data/ust")
    projects: list[Project] = []
    labels: list[str] = []
    for f in files:
        try:
            projects.append(read_score(f, ReadOptions(lenient=True, default_lyric="ら")))
        except ScoreFormatError:
            continue
        labels.append(f.stem)
    assert len(projects) >= 5
    m = merge_projects(projects, labels=labels)
    assert len(m.tracks) == sum(len(p.tracks) for p in projects)
    assert len({t.name.casefold() for t in m.tracks}) == len(m.tracks)
    assert m.tempos == projects[0].tempos and m.source_format == "ust"
    first_axis, axis = projects[0].time_axis(), m.time_axis()
    assert first_axis.tempos == axis.tempos
    tick_s = max(60.0 / (t.bpm * 480) for t in axis.tempos)
    k = 0
    for p, label in zip(projects, labels):
        own = p.time_axis()
        for t in p.tracks:
            moved = m.tracks[k]
            k += 1
            # every note sounds when its own file says, within a tick
            sounding = [n for n in t.notes
                        if round(axis.seconds_to_tick(own.tick_to_seconds(n.end_ticks)))
                        > round(axis.seconds_to_tick(own.tick_to_seconds(n.start_ticks)))]
            assert len(moved.notes) == len(sounding)
            for a, b in zip(sounding, moved.notes):
                assert abs(axis.tick_to_seconds(b.start_ticks)
                           - own.tick_to_seconds(a.start_ticks)) <= tick_s
                assert b.lyric == a.lyric and b.pitch_points == a.pitch_points
        assert all(f"{label}: {w}" in m.warnings for w in p.warnings)
    assert k == len(m.tracks)
    assert any(w.startswith(tuple(f"{label}: its tempo map" for label in labels[1:]))
               for w in m.warnings)

