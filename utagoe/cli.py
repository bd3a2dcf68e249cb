"""The command line: ``utagoe render song.musicxml -o song.wav``."""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .errors import UtagoeError


class ProgressBar:
    """A one-line bar on stderr, drawn only for renders long enough to need one."""

    def __init__(self, stream, *, min_total: int = 4, width: int = 30) -> None:
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


def _cmd_render(args) -> int:
    from .rendering.engine import render_project
    from .settings import RenderSettings

    out = Path(args.output)
    if out.suffix.lower() not in (".wav", ".flac"):
        raise UtagoeError(f"{out}: the output must be a .wav or .flac file")
    if Path(args.input).resolve() == out.resolve():
        raise UtagoeError(f"{out}: the output would overwrite the input")
    project = _load(args)
    if args.jobs < 1:
        raise UtagoeError(f"--jobs must be at least 1, got {args.jobs}")
    settings = RenderSettings(lenient_lyrics=args.lenient, workers=args.jobs)
    bar = ProgressBar(sys.stderr, min_total=1 if args.progress else 8)
    t0 = time.monotonic()
    try:
        result = render_project(project, singer=args.singer, settings=settings,
                                progress=None if args.quiet else bar)
    finally:
        bar.close()
    result.mix.save(out)
    el = time.monotonic() - t0
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    if not args.quiet:
        dur = result.mix.duration_s
        print(f"{out}: {dur:.1f} s at {result.mix.sample_rate} Hz, rendered in {el:.1f} s "
              f"({el / max(dur, 1e-9):.3f} of real time)", file=sys.stderr)
    return 0


def _cmd_singers(args) -> int:
    from .api import singers

    for s in singers():
        print(f"{s.name}\t{s.display_name}\tlanguage: {s.language}\tlicence: {s.licence}")
        print(f"\tcredit: {s.credit}")
    return 0


def _load(args):
    from .api import load

    return load(args.input, part=args.part, verse=args.verse, voice=args.voice,
                lenient=args.lenient, encoding=args.encoding, default_lyric=args.default_lyric,
                format=args.format)


def _cmd_info(args) -> int:
    from .formats import default_registry
    from .formats.registry import SNIFF_BYTES
    from .report import describe, format_report

    registry = default_registry()
    if args.format:
        fmt = registry.by_name(args.format).name
    else:
        with open(args.input, "rb") as f:
            head = f.read(SNIFF_BYTES)
        fmt = registry.lookup(args.input, head).name
    project = _load(args)
    print(format_report(describe(project, format_name=fmt)))
    return 0


def _cmd_convert(args) -> int:
    from .formats import default_registry

    registry = default_registry()
    out = Path(args.output)
    writer = registry.writer_for(out, args.to)
    if Path(args.input).resolve() == out.resolve():
        raise UtagoeError(f"{out}: the output would overwrite the input")
    if out.parent and not out.parent.exists():
        raise UtagoeError(f"{out}: folder {out.parent} does not exist")
    project = _load(args)
    registry.write(project, out, format_name=writer.name)
    for w in project.warnings:
        print(f"warning: {w}", file=sys.stderr)
    has_drawn = any(n.pitch_points or n.vibrato for t in project.tracks for n in t.notes)
    has_curves = any(t.curves for t in project.tracks)
    if not writer.keeps_expression and (has_drawn or has_curves):
        print(f"warning: {writer.name} cannot hold pitch curves, vibratos, expression "
              "curves, track volume and pan; they are left out", file=sys.stderr)
    if not args.quiet:
        n = sum(len(t.notes) for t in project.tracks)
        print(f"{out}: {writer.name}, {len(project.tracks)} track(s), {n} notes", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="utagoe", description="utagoe (歌声): a singing voice synthesizer")
    sub = p.add_subparsers(dest="command", required=True)

    def score_opts(sp):
        sp.add_argument("input", help="score file: .musicxml .xml .mxl .mid .ust .ustx .vsqx .svp")
        sp.add_argument("--part", type=_part, default=None,
                        help="part or track: number (1 = first, as 'utagoe info' lists them) or "
                             "id/name (default: every track with lyrics)")
        sp.add_argument("--verse", type=int, default=None, help="verse (lyric line) to sing, 1 = first")
        sp.add_argument("--voice", type=int, default=None, help="voice within the part, 1 = first")
        sp.add_argument("--lenient", action="store_true",
                        help="sing unknown lyrics as the nearest vowel and skip repairable problems, with warnings")
        sp.add_argument("--encoding", default=None,
                        help="text encoding of lyrics in MIDI or UST files, e.g. shift_jis, utf-8, gbk "
                             "(default: detected)")
        sp.add_argument("--default-lyric", default=None, metavar="SYLLABLE",
                        help="sing MIDI tracks that have no lyrics on this syllable, e.g. ら")
        sp.add_argument("--format", default=None,
                        help="input format (musicxml, midi, ust, ustx, vsqx, svp) instead of detecting it")

    r = sub.add_parser("render", help="sing a score to a WAV or FLAC file")
    score_opts(r)
    r.add_argument("-o", "--output", required=True, help="output .wav or .flac")
    r.add_argument("--singer", default=None, help="singer name (see 'utagoe singers')")
    r.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                   help="processes that sing phrases at once (default: one per core)")
    r.add_argument("--progress", action="store_true", help="always show the progress bar")
    r.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")
    r.set_defaults(func=_cmd_render)

    s = sub.add_parser("singers", help="list the installed singers with their licence and credit")
    s.set_defaults(func=_cmd_singers)

    i = sub.add_parser("info", help="print what a score holds and what of it will be sung")
    score_opts(i)
    i.set_defaults(func=_cmd_info)

    c = sub.add_parser("convert", help="convert a score: to .ustx, .musicxml or .mid")
    score_opts(c)
    c.add_argument("output", help="output file: .ustx, .musicxml (.xml) or .mid")
    c.add_argument("--to", default=None, help="output format (ustx, musicxml, midi) instead of "
                                              "the output's extension")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors and warnings")
    c.set_defaults(func=_cmd_convert)
    return p


def _part(text: str):
    return int(text) if text.isdigit() else text


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UtagoeError as exc:
        print(f"utagoe: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `utagoe info song.ust | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        why = {FileNotFoundError: "no such file", IsADirectoryError: "is a folder, not a file",
               PermissionError: "permission denied"}.get(type(exc), exc.strerror or str(exc))
        print(f"utagoe: error: {exc.filename or exc}: {why}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("utagoe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
