"""The command line: ``utagoe render song.musicxml -o song.wav``.

Every command goes through the Python API (:mod:`utagoe.api`). Every problem
ends in one line, ``utagoe: error: ...``, and exit status 2; SIGTERM, SIGHUP
and Ctrl-C end a command cleanly (workers stopped, no partial file left).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import TextIO

# The command works in parallel by processes (``-j``); BLAS threads only spin
# beside it (a one-note render: 0.9 s of CPU with them, 0.5 s without). Set
# before numpy is first imported; a user's own setting wins.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from .display import safe_message  # noqa: E402
from .errors import UtagoeError  # noqa: E402


class ProgressBar:
    """A one-line bar on stderr, drawn only for renders long enough to need one."""

    def __init__(self, stream: TextIO, *, min_total: int = 4, width: int = 30) -> None:
        self.stream = stream
        self.min_total = min_total
        self.width = width
        self.t0 = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if total < self.min_total:
            return
        self.shown = True
        filled = int(self.width * done / total) if total else self.width
        bar = "#" * filled + "-" * (self.width - filled)
        el = time.monotonic() - self.t0
        self.stream.write(f"\rrendering [{bar}] {done}/{total} phrases {el:5.1f}s")
        self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: unwind (so workers stop and temporary files go)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _warn(text: str) -> None:
    print(f"warning: {safe_message(text)}", file=sys.stderr)


def _read_options(args, *, keep_tracks_without_lyrics: bool = False):
    from .formats.options import ReadOptions

    return ReadOptions(part=args.part, verse=args.verse, voice=args.voice, lenient=args.lenient,
                       encoding=args.encoding, default_lyric=args.default_lyric,
                       keep_tracks_without_lyrics=keep_tracks_without_lyrics)


def _inputs(args) -> list[str]:
    return args.input if isinstance(args.input, list) else [args.input]


def _check_output(args, out: Path) -> None:
    """Before any work: the output must not be an input and must be writable."""
    from .fileio import check_output_path, same_file

    if any(same_file(i, out) for i in _inputs(args)):
        raise UtagoeError(f"{out}: the output would overwrite the input")
    check_output_path(out)


#: the CLI's --sample-format: soundfile's subtype
SAMPLE_FORMATS = {"16": "PCM_16", "24": "PCM_24", "float": "FLOAT"}


def _track_ref(text: str) -> int | str:
    text = text.strip()
    return int(text) if text.isdigit() else text


def _track_value(option: str, text: str) -> tuple[int | str, str]:
    """``TRACK=VALUE`` of a per-track option, TRACK a number or a track name."""
    track, sep, value = text.rpartition("=")
    if not sep or not track.strip() or not value.strip():
        raise UtagoeError(f"{option} wants TRACK=VALUE (TRACK a number from 'utagoe info', or "
                          f"a track's name), got {text!r}")
    return _track_ref(track), value.strip()


def _number(option: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise UtagoeError(f"{option} wants a number, got {text!r}") from None


def _track_settings(args, project) -> tuple[str | None, tuple]:
    """The singer for every track (``--singer NAME``) and the per-track choices
    (``--singer N=NAME``, ``--gain``, ``--pan``, ``--mute``, ``--solo``), one
    :class:`TrackSettings` per track, in the order first named."""
    from .rendering.plan import tracks_named
    from .settings import TrackSettings

    everyone: str | None = None
    choices: dict[int | str, dict] = {}

    def choice(track: int | str) -> dict:
        # one entry per track, whether named by number or by name (a name that
        # names no track, or several, stays a name: the plan says what is wrong)
        if isinstance(track, str):
            hits = tracks_named(project, track)
            if len(hits) == 1:
                track = hits[0] + 1
        return choices.setdefault(track, {})

    listing = ", ".join(f"{i} ({t.name!r})" for i, t in enumerate(project.tracks, 1))
    for text in args.singer or ():
        track, sep, name = text.partition("=")
        if not sep or os.path.exists(text):   # NAME (or a folder): every track's singer
            if everyone is not None and everyone != text:
                raise UtagoeError(f"--singer is given twice for every track ({everyone!r}, "
                                  f"{text!r}); name a track with --singer TRACK=NAME")
            everyone = text
            continue
        ref = _track_ref(track)
        if not isinstance(ref, int) and not tracks_named(project, track.strip()):
            raise UtagoeError(f"--singer {text!r}: no track is named {track.strip()!r}; the "
                              f"tracks: {listing}")
        if not name.strip():
            raise UtagoeError(f"--singer {text!r}: no singer named after '='")
        choice(ref)["singer"] = name.strip()
    for text in args.gain or ():
        track, value = _track_value("--gain", text)
        choice(track)["gain_db"] = _number("--gain", value)
    for text in args.pan or ():
        track, value = _track_value("--pan", text)
        choice(track)["pan"] = _number("--pan", value)
    for text in args.mute or ():
        choice(_track_ref(text))["mute"] = True
    for text in args.solo or ():
        choice(_track_ref(text))["solo"] = True
    return everyone, tuple(TrackSettings(track, **fields) for track, fields in choices.items())


def _cmd_render(args) -> int:
    import utagoe

    from .api import render_to_file
    from .audio import AUDIO_FORMATS
    from .expression.pitch import PitchSettings
    from .settings import ControlSettings, MixSettings, RenderSettings, VoiceSettings

    out = Path(args.output)
    if out.suffix.lower() not in AUDIO_FORMATS:
        raise UtagoeError(f"{out}: the output must be a {' or '.join(AUDIO_FORMATS)} file")
    _check_output(args, out)
    if args.jobs < 1:
        raise UtagoeError(f"--jobs must be at least 1, got {args.jobs}")
    subtype = SAMPLE_FORMATS[args.sample_format]
    if out.suffix.lower() == ".flac" and subtype == "FLOAT":
        raise UtagoeError(f"{out}: FLAC holds 16- or 24-bit samples; use --sample-format 16 or 24, "
                          "or a .wav file for float samples")
    stems_dir = Path(args.stems) if args.stems is not None else None
    if stems_dir is not None and not stems_dir.is_dir():
        raise UtagoeError(f"--stems {stems_dir}: no such folder (make it first)")
    controls = ControlSettings(dynamics_db=args.dynamics, breathiness=args.breathiness,
                               gender=args.gender, tension=args.tension, voicing=args.voicing,
                               velocity_pct=args.velocity)
    mix = MixSettings(sample_rate_hz=args.sample_rate, peak_dbfs=args.peak,
                      loudness_lufs=args.loudness, master_gain_db=args.master_gain,
                      limiter=not args.no_limiter, channels=args.channels,
                      balance_tracks=not args.no_balance)
    project = utagoe.load_set(args.input, _read_options(args), format=args.format)
    singer, tracks = _track_settings(args, project)
    settings = RenderSettings(lenient_lyrics=args.lenient, workers=args.jobs,
                              voice=VoiceSettings(vocoder=args.vocoder),
                              pitch=PitchSettings(style=args.pitch_style), controls=controls,
                              mix=mix, tracks=tracks)
    show_bar = args.progress or (not args.quiet and sys.stderr.isatty())
    bar = ProgressBar(sys.stderr, min_total=1 if args.progress else 8)
    t0 = time.monotonic()
    try:
        # streamed to the file: the song is never held whole
        result = render_to_file(project, out, singer, settings=settings,
                                progress=bar if show_bar else None, subtype=subtype,
                                stems_dir=stems_dir)
    finally:
        bar.close()
    el = time.monotonic() - t0
    for w in result.warnings:
        _warn(w)
    if not args.quiet:
        dur = result.duration_s
        level = f", {result.loudness_lufs:.1f} LUFS" if result.loudness_lufs is not None else ""
        print(f"{out}: {dur:.1f} s at {result.sample_rate} Hz{level}, rendered in {el:.1f} s "
              f"({el / max(dur, 1e-9):.3f} of real time)", file=sys.stderr)
        if len(result.tracks) > 1:
            for number, name, singer in result.tracks:
                print(f"  track {number} ({safe_message(repr(name))}): {singer}", file=sys.stderr)
        for stem in result.stems:
            print(f"  stem {stem}", file=sys.stderr)
    return 0


def _cmd_singers(args) -> int:
    import utagoe

    action = getattr(args, "action", None)
    if action == "add":
        info = utagoe.install_voicebank(args.folder, name=args.name)
        print(f"installed {info.name!r} ({info.display_name}); sing with --singer {info.name}")
        return 0
    if action == "add-folder":
        folder = utagoe.add_voice_folder(args.folder)
        print(f"voice folder {folder} added: a UST's VoiceDir inside it now finds its voicebank")
        return 0
    if action == "remove":
        utagoe.remove_voicebank(args.name)
        print(f"removed {args.name!r} (its files are untouched)")
        return 0
    if action == "show":
        print(utagoe.describe_singer(args.singer))
        return 0
    reg = utagoe.voice_registry()
    for s in reg.infos():
        print(f"{s.name}\t{s.display_name}\tlanguage: {s.language}\tlicence: {s.licence}")
        print(f"\tcredit: {s.credit}")
        if s.description:
            print(f"\t{s.description}")
    for w in reg.warnings:
        _warn(w)
    return 0


def _cmd_info(args) -> int:
    import utagoe

    from .report import format_report

    project = utagoe.load(args.input, _read_options(args, keep_tracks_without_lyrics=True),
                          format=args.format)
    print(format_report(utagoe.describe(project)))
    return 0


def _cmd_convert(args) -> int:
    import utagoe

    from .formats import default_registry

    out = Path(args.output)
    writer = default_registry().writer_for(out, args.to)
    _check_output(args, out)
    project = utagoe.load_set(args.input, _read_options(args, keep_tracks_without_lyrics=True),
                              format=args.format)
    utagoe.save(project, out, format=writer.name)
    for w in project.warnings:
        _warn(w)
    has_drawn = any(n.pitch_points or n.vibrato for t in project.tracks for n in t.notes)
    has_curves = any(t.curves for t in project.tracks)
    if not writer.keeps_expression and (has_drawn or has_curves):
        _warn(f"{writer.name} cannot hold pitch curves, vibratos, expression curves, track "
              "volume and pan; they are left out")
    if any(n.portamento_ms is not None or n.portamento_offset_ms is not None or n.tuning_cents
           for t in project.tracks for n in t.notes):
        _warn(f"{writer.name} cannot hold the notes' own portamento and tuning offsets; "
              "they are left out")
    if not args.quiet:
        n = sum(len(t.notes) for t in project.tracks)
        print(f"{out}: {writer.name}, {len(project.tracks)} track(s), {n} notes", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser; its help lists what the registries hold (formats, writers,
    singers, vocoders), never a hand-written copy."""
    from .dsp.vocoders import VOCODERS
    from .expression.pitch import PITCH_STYLES
    from .formats import default_registry
    from .voices.registry import default_voices

    formats = default_registry()
    in_exts = " ".join(e for r in formats.readers for e in r.extensions)
    out_exts = " ".join(e for w in formats.writers for e in w.extensions)
    # plug-ins are listed by 'utagoe singers' (asking installed packages for them
    # costs tens of milliseconds on every command)
    singer_names = ", ".join(default_voices(plugins=False).names())

    p = argparse.ArgumentParser(prog="utagoe", description="utagoe (歌声): a singing voice synthesizer")
    sub = p.add_subparsers(dest="command", required=True)

    def score_opts(sp, several: bool = False):
        if several:   # a UST set: one .ust per singer
            sp.add_argument("input", nargs="+",
                            help=f"score file(s): {in_exts}; several files (a UST set, one per "
                                 "singer) are sung together, on the first file's tempo")
        else:
            sp.add_argument("input", help=f"score file: {in_exts}")
        sp.add_argument("--part", type=_part, default=None,
                        help="part or track: number (1 = the first that has notes, as 'utagoe "
                             "info' lists them) or id/name (default: every track with lyrics)")
        sp.add_argument("--verse", type=int, default=None, help="verse (lyric line) to sing, 1 = first")
        sp.add_argument("--voice", type=int, default=None, help="voice within the part, 1 = first")
        sp.add_argument("--lenient", action="store_true",
                        help="sing unknown lyrics as the nearest vowel and skip repairable problems, with warnings")
        sp.add_argument("--encoding", default=None,
                        help="text encoding of lyrics in MIDI or UST files, e.g. shift_jis, utf-8, gbk "
                             "(default: detected)")
        sp.add_argument("--default-lyric", default=None, metavar="SYLLABLE",
                        help="sing tracks that have no lyrics on this syllable, e.g. ら")
        sp.add_argument("--format", default=None,
                        help=f"input format instead of detecting it: {', '.join(formats.names())}")

    r = sub.add_parser("render", help="sing a score to a WAV or FLAC file")
    score_opts(r, several=True)
    r.add_argument("-o", "--output", required=True, help="output .wav or .flac")
    r.add_argument("--singer", action="append", metavar="[TRACK=]NAME",
                   help=f"singer: {singer_names}, a plug-in's voice, or an UTAU voicebank folder "
                        "(see 'utagoe singers'); NAME alone for every track, TRACK=NAME for one "
                        "track (its number in 'utagoe info', or its name); repeat for each track")
    r.add_argument("--vocoder", default="utagoe", choices=VOCODERS,
                   help="vocoder that turns the singer's frames into sound (default: utagoe)")
    r.add_argument("--pitch-style", default="natural", choices=PITCH_STYLES,
                   help="automatic pitch: 'natural' (default: transitions shaped by the "
                        "interval, vibrato that varies from note to note, fine fluctuation), "
                        "'expressive' (more of all that), 'plain' (steps with short transitions, "
                        "no vibrato or drift: for drawing everything yourself)")
    voice = r.add_argument_group("voice controls (OpenUtau's units; a project's own curves add to them)")
    voice.add_argument("--dynamics", type=float, default=0.0, metavar="DB",
                       help="louder or softer singing, with its brightness: -24..12 dB (default 0)")
    voice.add_argument("--breathiness", type=float, default=0.0, metavar="N",
                       help="-100 (clean) .. 100 (breathy, near a whisper); default 0")
    voice.add_argument("--gender", type=float, default=0.0, metavar="N",
                       help="formant shift: -100 (brighter, younger) .. 100 (deeper); default 0")
    voice.add_argument("--tension", type=float, default=0.0, metavar="N",
                       help="-100 (lax, soft) .. 100 (pressed, bright); default 0")
    voice.add_argument("--voicing", type=float, default=100.0, metavar="N",
                       help="100 (voiced, default) .. 0 (a whisper)")
    voice.add_argument("--velocity", type=float, default=100.0, metavar="PCT",
                       help="consonant speed: 0..200 %% (200: consonants half as long); default 100")
    tracks = r.add_argument_group("tracks (TRACK: its number in 'utagoe info', or its name)")
    tracks.add_argument("--mute", action="append", metavar="TRACK", help="leave a track out (repeat)")
    tracks.add_argument("--solo", action="append", metavar="TRACK",
                        help="sing only the soloed tracks (repeat; a track muted in the file "
                             "sings when soloed)")
    tracks.add_argument("--gain", action="append", metavar="TRACK=DB",
                        help="a track's level in the mix, added to its own volume (repeat)")
    tracks.add_argument("--pan", action="append", metavar="TRACK=PAN",
                        help="a track's place: -1 (left) .. 0 (centre) .. 1 (right); equal power")
    master = r.add_argument_group("the mix")
    master.add_argument("--loudness", type=float, default=None, metavar="LUFS",
                        help="scale the mix to this integrated loudness (ITU-R BS.1770), e.g. -16; "
                             "default: to its peak")
    master.add_argument("--peak", type=float, default=-1.0, metavar="DBFS",
                        help="the mix's peak without --loudness, and the limiter's ceiling "
                             "(default -1)")
    master.add_argument("--master-gain", type=float, default=0.0, metavar="DB",
                        help="gain on the whole mix after it is scaled (default 0)")
    master.add_argument("--no-balance", action="store_true",
                        help="mix the tracks at the levels their singers give them (by default "
                             "several tracks are first brought to one loudness, then each takes "
                             "its volume and --gain)")
    master.add_argument("--no-limiter", action="store_true",
                        help="no limiter: samples over --peak may clip")
    master.add_argument("--channels", type=int, choices=(1, 2), default=None,
                        help="1 (mono) or 2 (stereo); default: mono for one centred track, "
                             "else stereo")
    master.add_argument("--sample-rate", type=int, default=48000, metavar="HZ",
                        help="the output's sample rate (default 48000; others are resampled "
                             "with a polyphase filter)")
    master.add_argument("--sample-format", choices=tuple(SAMPLE_FORMATS), default="16",
                        help="16- or 24-bit integers, or 32-bit float (.wav only); default 16")
    master.add_argument("--stems", default=None, metavar="DIR",
                        help="also write each track to DIR, one file per track named after it "
                             "(at its gain and pan and the mix's scale: the stems add up to the "
                             "mix before its limiter)")
    r.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="processes that sing phrases at once (default and most: one per core; "
                        "the output is the same whatever the number)")
    r.add_argument("--progress", action="store_true",
                   help="always show the progress bar (by default only on a terminal)")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")
    r.set_defaults(func=_cmd_render)

    s = sub.add_parser("singers", help="list the installed singers with their licence and credit; "
                                       "install UTAU voicebanks")
    s.set_defaults(func=_cmd_singers, action=None)
    sa = s.add_subparsers(dest="action")
    add = sa.add_parser("add", help="install an UTAU voicebank folder (its files stay where they are)")
    add.add_argument("folder", help="the voicebank folder (holding oto.ini, here or in sub-folders)")
    add.add_argument("--name", default=None, help="name to sing it by (default: the folder's name)")
    addf = sa.add_parser("add-folder", help="a folder of voicebanks (UTAU's voice folder): a UST's "
                                            "VoiceDir inside it is followed")
    addf.add_argument("folder")
    rm = sa.add_parser("remove", help="forget an installed voicebank (nothing is deleted)")
    rm.add_argument("name")
    show = sa.add_parser("show", help="a singer's details, readme and terms of use")
    show.add_argument("singer", help="a singer name or voicebank folder")

    i = sub.add_parser("info", help="print what a score holds and what of it will be sung")
    score_opts(i)
    i.set_defaults(func=_cmd_info)

    c = sub.add_parser("convert", help=f"convert a score (or a UST set, one file per singer, "
                                       f"into one project): to {out_exts}")
    score_opts(c, several=True)
    c.add_argument("output", help=f"output file: {out_exts}")
    c.add_argument("--to", default=None,
                   help=f"output format instead of the output's extension: "
                        f"{', '.join(w.name for w in formats.writers)}")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")
    c.set_defaults(func=_cmd_convert)
    return p


def _part(text: str):
    return int(text) if text.isdigit() else text


def _on_signal(signum, frame) -> None:
    raise Terminated(signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handled = [getattr(signal, n) for n in ("SIGTERM", "SIGHUP") if hasattr(signal, n)]
    previous = {}
    for sig in handled:
        try:
            previous[sig] = signal.signal(sig, _on_signal)
        except ValueError:  # not the main thread: leave signals alone
            pass
    try:
        return args.func(args)
    except UtagoeError as exc:
        print(f"utagoe: error: {safe_message(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `utagoe info song.ust | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        from .fileio import describe_os_error

        where = exc.filename or "utagoe"
        print(f"utagoe: error: {safe_message(str(where))}: {describe_os_error(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("utagoe: error: out of memory (the score is too large to render here)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("utagoe: interrupted", file=sys.stderr)
        return 130
    except Terminated as exc:
        name = signal.Signals(exc.signum).name
        print(f"utagoe: stopped by {name}", file=sys.stderr)
        return 128 + exc.signum
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


if __name__ == "__main__":
    sys.exit(main())
