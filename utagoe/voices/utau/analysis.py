"""WORLD analysis of UTAU samples, and the cache that keeps it between runs.

A voicebank's samples are analysed once (:func:`analyse_samples`: F0, spectral
envelope and aperiodicity on a 5 ms grid at 44.1 kHz) and the resampler
(:mod:`.resampler`) sings every note from that analysis.

F0
--
Harvest (WORLD), 70-1100 Hz. Measured on the shared Iona (CV, 3-4.5 s) and ALYS
(VCV, 7 s) samples: Harvest takes 0.13-0.2 s per second of sample, DIO with
StoneMask 0.03-0.05 s, and the two agree within 50 cents on 97.3-99.9% of the
frames both call voiced; but DIO leaves more voiced frames unvoiced at vowel
onsets and ends (up to 67 more per file) and jumps more within vowels (up to 6
jumps of over 200 cents per file, Harvest up to 2 on the same files but one).
D4C (0.14 s per second of sample) costs as much as Harvest anyway, and the
analysis is made once per sample and cached, so Harvest it is: the whole
analysis (Harvest, CheapTrick, D4C) of the 20 shared samples (96 s) took 0.26 s
per second of sample on one core.

Harvest also calls voiced the edges of unvoiced consonants (the /s/ of "sa");
D4C marks those frames aperiodic at every frequency, and a frame it does is
taken as unvoiced (F0 0): a consonant stays a consonant whatever pitch is sung.

The disk cache
--------------
One ``.npz`` per sample in the cache folder (:func:`default_cache_folder`),
named by its key: the SHA-256 of the wav file's bytes and of everything the
analysis depends on (:data:`ANALYSIS_VERSION`, the rate, the frame period, the
F0 range, the D4C threshold, the storage coding, the pyworld version). A
changed wav is analysed again; a renamed or copied one is not. Stored:

* F0 as float32;
* the envelope in dB, every second bin (513 of 1025), as uint8 steps of
  100/255 dB below each frame's maximum (float32); the odd bins are the mean of
  their neighbours in dB, and anything more than 100 dB below the frame's
  maximum reads as -100 dB. Measured against the unquantised envelope on
  frames within 40 dB of the loudest, 0-16 kHz: a mean log-spectral distance of
  0.11 dB on ALYS (F0 277 Hz), 0.24 dB at 110 Hz and 0.40 dB at 79 Hz (the same
  voice re-synthesised lower; CheapTrick's envelope has finer detail at a low F0).
  WORLD's own ``code_spectral_envelope`` needs 160 coefficients for 0.8 dB;
* the aperiodicity as WORLD's band coding (5 bands at 44.1 kHz, float32), which
  gives D4C's output back within 0.02 dB on average, 0.11 dB at worst.

That is 541 bytes a frame, about 108 kB per second of sample (a 7 s VCV sample:
about 0.8 MB; a voicebank's worth of 1000 s of samples: about 110 MB). Files
are written through a temporary name and renamed (:func:`utagoe.fileio.write_atomic`),
and checked when read: a damaged, truncated or foreign file is analysed again
and rewritten (and said in :attr:`AnalysisCache.problems`), never trusted. A
folder that cannot be written leaves the cache in memory only, with one problem
said; singing goes on.

What :meth:`AnalysisCache.get` hands out is always the stored form decoded, on
the first call as on later ones, so a render sounds the same from a cold cache
as from a warm one (byte for byte).
"""
from __future__ import annotations

import hashlib
import io
import json
import math
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import InvalidValueError, VoiceError
from ...fileio import cache_folder, describe_os_error, read_limited, save_cache_npz

#: the rate every analysis is made at (samples at other rates are resampled to it)
ANALYSIS_RATE_HZ = 44100
#: the analysis frame period: frame k at k * FRAME_PERIOD_S from the file's start
FRAME_PERIOD_S = 0.005
#: part of the cache key; bump when the analysis or its stored form changes
ANALYSIS_VERSION = 1

#: the longest sample analysed; longer ones are refused (an analysis holds about 3.3 MB a second)
MAX_SAMPLE_S = 60.0
#: the largest sample file read
MAX_SAMPLE_BYTES = 64 * 2**20
#: more channels than this is not a voice sample
MAX_CHANNELS = 8
#: Harvest's F0 search range
F0_FLOOR_HZ = 70.0
F0_CEIL_HZ = 1100.0
#: D4C's voicing threshold (WORLD's default)
D4C_THRESHOLD = 0.85
#: a frame whose aperiodicity is above this at every bin is unvoiced
_ALL_NOISE = 0.999

# the stored envelope: every ENV_BIN_STEP-th bin, uint8 steps of ENV_RANGE_DB / 255 dB
ENV_BIN_STEP = 2
ENV_RANGE_DB = 100.0
_DB_STEP = ENV_RANGE_DB / 255.0
_FORMAT = "utagoe-utau-analysis"

#: the memory cache's default bound (a decoded analysis takes about 3.3 MB per second of sample)
DEFAULT_MEMORY_LIMIT_BYTES = 256 * 2**20


@dataclass(frozen=True, slots=True, eq=False)
class SampleAnalysis:
    """The WORLD analysis of one sample, on a ``frame_period_s`` grid (frame k at
    ``k * frame_period_s`` from the file's start). The arrays are read-only."""

    sample_rate_hz: int          # always ANALYSIS_RATE_HZ
    frame_period_s: float
    f0_hz: np.ndarray            # (frames,), 0 = unvoiced
    envelope: np.ndarray         # (frames, bins) WORLD power spectral envelope, float64
    aperiodicity: np.ndarray     # (frames, bins), 0 periodic .. 1 noise, float64
    duration_ms: float           # of the source file

    def __post_init__(self) -> None:
        f0 = np.asarray(self.f0_hz, dtype=np.float64)
        env = np.asarray(self.envelope, dtype=np.float64)
        ap = np.asarray(self.aperiodicity, dtype=np.float64)
        if f0.ndim != 1 or env.ndim != 2 or env.shape != ap.shape or env.shape[0] != f0.shape[0]:
            raise InvalidValueError(
                f"SampleAnalysis: shapes do not agree: f0 {f0.shape}, envelope {env.shape}, "
                f"aperiodicity {ap.shape}")
        if f0.shape[0] == 0:
            raise InvalidValueError("SampleAnalysis: no frames")
        if self.sample_rate_hz <= 0 or not self.frame_period_s > 0:
            raise InvalidValueError(
                f"SampleAnalysis: rate {self.sample_rate_hz} and frame period {self.frame_period_s} "
                "must be > 0")
        for name, arr in (("f0_hz", f0), ("envelope", env), ("aperiodicity", ap)):
            view = arr.view()  # read-only here; the caller's own array stays as it was
            view.setflags(write=False)
            object.__setattr__(self, name, view)

    @property
    def frames(self) -> int:
        return int(self.f0_hz.shape[0])

    @property
    def bins(self) -> int:
        return int(self.envelope.shape[1])

    @property
    def nbytes(self) -> int:
        return int(self.f0_hz.nbytes + self.envelope.nbytes + self.aperiodicity.nbytes)


# --------------------------------------------------------------------------- analysis


def _mono(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples)
    if x.ndim == 2:  # (frames, channels), as soundfile reads
        if not 1 <= x.shape[1] <= MAX_CHANNELS:
            raise InvalidValueError(
                f"samples must be (frames,) or (frames, channels) with 1-{MAX_CHANNELS} channels, "
                f"got shape {x.shape}")
        x = x.mean(axis=1, dtype=np.float64)
    elif x.ndim != 1:
        raise InvalidValueError(f"samples must be (frames,) or (frames, channels), got shape {x.shape}")
    return np.asarray(x, dtype=np.float64)


def _too_long(duration_s: float) -> str:
    return f"it is {duration_s:.1f} s long; a sample may be at most {MAX_SAMPLE_S:g} s"


def analyse_samples(samples: np.ndarray, *, sample_rate_hz: int) -> SampleAnalysis:
    """The WORLD analysis of a sample at :data:`ANALYSIS_RATE_HZ` (other rates are
    resampled to it). ``samples``: float, (frames,) or (frames, channels), channels
    averaged. Pure. Raises VoiceError for no audio, non-finite samples or more
    than :data:`MAX_SAMPLE_S` seconds."""
    from scipy.signal import resample_poly

    from ...dsp.world import cheaptrick_envelope, d4c_aperiodicity, harvest_f0_hz

    if isinstance(sample_rate_hz, bool) or not isinstance(sample_rate_hz, (int, np.integer)) \
            or sample_rate_hz <= 0:
        raise InvalidValueError(f"sample_rate_hz must be an integer > 0, got {sample_rate_hz!r}")
    x = _mono(samples)
    if x.size == 0:
        raise VoiceError("it holds no audio")
    duration_s = x.size / sample_rate_hz
    if duration_s > MAX_SAMPLE_S:
        raise VoiceError(_too_long(duration_s))
    if not np.all(np.isfinite(x)):
        raise VoiceError("it holds samples that are not finite numbers (NaN or infinity)")
    rate = int(sample_rate_hz)
    if rate != ANALYSIS_RATE_HZ:
        g = math.gcd(ANALYSIS_RATE_HZ, rate)
        x = resample_poly(x, ANALYSIS_RATE_HZ // g, rate // g)
    x = np.ascontiguousarray(x, dtype=np.float64)
    kw: dict[str, Any] = {"sample_rate_hz": ANALYSIS_RATE_HZ, "frame_period_s": FRAME_PERIOD_S}
    f0 = harvest_f0_hz(x, f0_floor_hz=F0_FLOOR_HZ, f0_ceil_hz=F0_CEIL_HZ, **kw)
    env = cheaptrick_envelope(x, f0, **kw)
    ap = d4c_aperiodicity(x, f0, threshold=D4C_THRESHOLD, **kw)
    f0 = np.where(np.min(ap, axis=1) > _ALL_NOISE, 0.0, f0)
    return SampleAnalysis(ANALYSIS_RATE_HZ, FRAME_PERIOD_S, f0, env, ap, 1000.0 * duration_s)


# --------------------------------------------------------------------------- reading samples


def _why(exc: BaseException) -> str:
    """soundfile's reason, without the Python object it names."""
    text = str(exc).strip() or type(exc).__name__
    if text.startswith("Error opening"):
        text = text.rsplit(": ", 1)[-1]
    return text.rstrip(".")


def _decode_wav(data: bytes, path: Path) -> tuple[np.ndarray, int]:
    import soundfile

    def fail(why: str) -> VoiceError:
        return VoiceError(f"cannot read {path}: {why}")

    try:
        with soundfile.SoundFile(io.BytesIO(data)) as f:
            rate, frames, channels = int(f.samplerate), int(f.frames), int(f.channels)
            if rate <= 0:
                raise fail(f"its sample rate is {rate} Hz")
            if not 1 <= channels <= MAX_CHANNELS:
                raise fail(f"it has {channels} channels (at most {MAX_CHANNELS})")
            if frames / rate > MAX_SAMPLE_S:
                raise fail(_too_long(frames / rate))
            x = f.read(dtype="float64", always_2d=True)
    except VoiceError:
        raise
    except Exception as exc:  # noqa: BLE001  (soundfile's errors: not a sound file, damaged, truncated)
        raise fail(f"not a sound file that can be read ({_why(exc)})") from None
    if x.shape[0] == 0:
        raise fail("it holds no audio")
    return (x[:, 0] if x.shape[1] == 1 else x.mean(axis=1)), rate


def _read_bytes(path: Path) -> bytes:
    return read_limited(path, limit=MAX_SAMPLE_BYTES,
                        error=lambda p, why: VoiceError(f"cannot read {p}: {why}"))


def read_sample(path: Path) -> tuple[np.ndarray, int]:
    """The sample at ``path`` as mono float64 samples (channels averaged) and its rate.
    Raises VoiceError ``cannot read <path>: <why>`` for a missing, unreadable,
    empty, too long (:data:`MAX_SAMPLE_S`) or too large file."""
    p = Path(path)
    return _decode_wav(_read_bytes(p), p)


# --------------------------------------------------------------------------- stored form


def _settings_text() -> str:
    from ...dsp.world import pyworld_version

    return (f"{_FORMAT} v{ANALYSIS_VERSION} rate={ANALYSIS_RATE_HZ} period={FRAME_PERIOD_S!r} "
            f"harvest={F0_FLOOR_HZ!r}-{F0_CEIL_HZ!r} d4c={D4C_THRESHOLD!r} unvoiced>{_ALL_NOISE!r} "
            f"env=u8/{ENV_BIN_STEP}/{ENV_RANGE_DB!r}dB ap=world-bands pyworld={pyworld_version()}")


def analysis_key(wav_bytes: bytes) -> str:
    """The cache key of a sample: SHA-256 (hex) of its bytes and of the analysis settings."""
    h = hashlib.sha256()
    h.update(_settings_text().encode())
    h.update(b"\0")
    h.update(hashlib.sha256(wav_bytes).digest())
    return h.hexdigest()


def _encode(a: SampleAnalysis) -> dict[str, np.ndarray]:
    from ...dsp.world import code_aperiodicity

    db = 10.0 * np.log10(np.maximum(a.envelope[:, ::ENV_BIN_STEP], 1e-30))
    top = db.max(axis=1)
    code = np.clip(np.rint((top[:, None] - db) / _DB_STEP), 0, 255).astype(np.uint8)
    return {
        "f0_hz": a.f0_hz.astype(np.float32),
        "env_top_db": top.astype(np.float32),
        "env_code": code,
        "ap_bands_db": code_aperiodicity(a.aperiodicity, sample_rate_hz=a.sample_rate_hz).astype(np.float32),
    }


def _meta(a: SampleAnalysis, key: str) -> dict[str, Any]:
    return {"format": _FORMAT, "version": ANALYSIS_VERSION, "key": key,
            "sample_rate_hz": a.sample_rate_hz, "frame_period_s": a.frame_period_s,
            "frames": a.frames, "bins": a.bins, "duration_ms": a.duration_ms}


def _decode(arrays: Mapping[str, np.ndarray], *, duration_ms: float, bins: int) -> SampleAnalysis:
    from ...dsp.world import decode_aperiodicity

    top = arrays["env_top_db"].astype(np.float64)
    db_kept = top[:, None] - arrays["env_code"].astype(np.float64) * _DB_STEP
    db = np.empty((len(top), bins))
    db[:, ::ENV_BIN_STEP] = db_kept
    db[:, 1::ENV_BIN_STEP] = 0.5 * (db_kept[:, :-1] + db_kept[:, 1:])
    env = np.power(10.0, db / 10.0)
    ap = np.clip(decode_aperiodicity(arrays["ap_bands_db"].astype(np.float64),
                                     sample_rate_hz=ANALYSIS_RATE_HZ), 0.0, 1.0)
    return SampleAnalysis(ANALYSIS_RATE_HZ, FRAME_PERIOD_S, arrays["f0_hz"].astype(np.float64),
                          env, ap, float(duration_ms))


def _expected_bins() -> int:
    from ...dsp.world import world_fft_size

    return world_fft_size(sample_rate_hz=ANALYSIS_RATE_HZ) // 2 + 1


class _Damaged(Exception):
    """A stored analysis that cannot be trusted (the text says why)."""


def _load(path: Path, key: str) -> SampleAnalysis:
    """The analysis stored at ``path`` for ``key``; raises _Damaged if it is not exactly that."""
    bins = _expected_bins()
    kept = (bins - 1) // ENV_BIN_STEP + 1
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            want = {"meta", "f0_hz", "env_top_db", "env_code", "ap_bands_db"}
            if names != want:
                raise _Damaged(f"holds {sorted(names)}")
            meta = json.loads(str(z["meta"][()]))
            arrays = {n: z[n] for n in want - {"meta"}}
    except _Damaged:
        raise
    except OSError as exc:
        raise _Damaged(f"cannot be read: {describe_os_error(exc)}") from None
    except Exception as exc:  # noqa: BLE001  (not a zip, truncated, bad JSON, bad array header)
        raise _Damaged(type(exc).__name__) from None
    if not isinstance(meta, dict):
        raise _Damaged("no description")
    expected = {"format": _FORMAT, "version": ANALYSIS_VERSION, "key": key,
                "sample_rate_hz": ANALYSIS_RATE_HZ, "frame_period_s": FRAME_PERIOD_S, "bins": bins}
    for k, v in expected.items():
        if meta.get(k) != v:
            raise _Damaged(f"{k} is {meta.get(k)!r}, not {v!r}")
    frames, duration_ms = meta.get("frames"), meta.get("duration_ms")
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
        raise _Damaged(f"frames is {frames!r}")
    if not isinstance(duration_ms, (int, float)) or not 0 < duration_ms <= 1000 * MAX_SAMPLE_S:
        raise _Damaged(f"duration is {duration_ms!r}")
    if abs((frames - 1) * 1000 * FRAME_PERIOD_S - duration_ms) > 2000 * FRAME_PERIOD_S:
        raise _Damaged(f"{frames} frames do not fit {duration_ms} ms")
    shapes = {"f0_hz": ((frames,), np.float32), "env_top_db": ((frames,), np.float32),
              "env_code": ((frames, kept), np.uint8)}
    for name, (shape, dtype) in shapes.items():
        a = arrays[name]
        if a.shape != shape or a.dtype != dtype:
            raise _Damaged(f"{name} is {a.dtype}{a.shape}, not {np.dtype(dtype)}{shape}")
    ap = arrays["ap_bands_db"]
    if ap.dtype != np.float32 or ap.ndim != 2 or ap.shape[0] != frames or not 1 <= ap.shape[1] <= 64:
        raise _Damaged(f"ap_bands_db is {ap.dtype}{ap.shape}")
    for name in ("f0_hz", "env_top_db", "ap_bands_db"):
        if not np.all(np.isfinite(arrays[name])):
            raise _Damaged(f"{name} holds non-finite values")
    f0 = arrays["f0_hz"]
    if np.any(f0 < 0) or np.any(f0 > 2 * F0_CEIL_HZ):
        raise _Damaged("F0 out of range")
    if np.any(arrays["env_top_db"] < -400) or np.any(arrays["env_top_db"] > 200) or np.any(ap > 1):
        raise _Damaged("levels out of range")
    return _decode(arrays, duration_ms=float(duration_ms), bins=bins)


# --------------------------------------------------------------------------- the cache


def default_cache_folder(environ: Mapping[str, str] | None = None) -> Path:
    """Where analyses are kept: ``utau-analysis`` among utagoe's caches
    (:func:`utagoe.fileio.cache_folder`: ``$UTAGOE_CACHE_DIR``, else the XDG cache
    folder, else ``~/.cache/utagoe``)."""
    return cache_folder("utau-analysis", environ)


def _exists(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a folder that cannot be searched: as good as absent
        return False


class AnalysisCache:
    """The analyses of samples, by the content of their files: in memory (least
    recently used first out, at most ``memory_limit_bytes`` of decoded analyses),
    then on disk in ``folder`` (None: memory only), else analysed and stored.

    ``hits`` counts analyses found (memory or disk; ``memory_hits`` and
    ``disk_hits`` apart), ``misses`` the samples analysed. ``problems`` lists,
    once each, what did not work but did not stop singing (a cache folder that
    cannot be written, a damaged cache file analysed again). Every :meth:`get`
    reads the file and hashes it (about 1 ms for a 1 MB sample), so an edited
    sample is never sung from an old analysis. Not for use by several threads at
    once; a pickled cache (sent to a worker process) keeps its folder and bound
    but none of its memory.
    """

    def __init__(self, folder: Path | None, *,
                 memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES) -> None:
        if isinstance(memory_limit_bytes, bool) or not isinstance(memory_limit_bytes, int) \
                or memory_limit_bytes < 0:
            raise InvalidValueError(
                f"AnalysisCache.memory_limit_bytes must be an integer >= 0, got {memory_limit_bytes!r}")
        self.folder = None if folder is None else Path(folder)
        self.memory_limit_bytes = memory_limit_bytes
        self.hits = 0
        self.misses = 0
        self.memory_hits = 0
        self.disk_hits = 0
        self.problems: list[str] = []
        self._memory: OrderedDict[str, SampleAnalysis] = OrderedDict()
        self._memory_bytes = 0
        self._disk_ok = self.folder is not None

    def __getstate__(self) -> dict[str, Any]:
        return {"folder": self.folder, "memory_limit_bytes": self.memory_limit_bytes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["folder"], memory_limit_bytes=state["memory_limit_bytes"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return (f"AnalysisCache({self.folder!r}, hits={self.hits}, misses={self.misses}, "
                f"in memory={len(self._memory)})")

    def path_for(self, key: str) -> Path | None:
        """The file an analysis with this key is stored in (None: memory only)."""
        return None if self.folder is None else self.folder / f"{key}.npz"

    def get(self, wav_path: Path) -> SampleAnalysis:
        """The analysis of the sample at ``wav_path``. Raises VoiceError
        ``cannot read <path>: <why>`` if the sample cannot be read or is refused."""
        path = Path(wav_path)
        data = _read_bytes(path)
        key = analysis_key(data)
        found = self._memory.get(key)
        if found is not None:
            self._memory.move_to_end(key)
            self.hits += 1
            self.memory_hits += 1
            return found
        stored = self.path_for(key)
        if stored is not None and _exists(stored):
            try:
                analysis = _load(stored, key)
            except _Damaged as why:
                self._problem(f"{stored}: a damaged analysis cache file ({why}) was ignored and "
                              f"{path.name} analysed again")
            else:
                self.hits += 1
                self.disk_hits += 1
                self._remember(key, analysis)
                return analysis
        samples, rate = _decode_wav(data, path)
        try:
            raw = analyse_samples(samples, sample_rate_hz=rate)
        except VoiceError as exc:
            raise VoiceError(f"cannot read {path}: {exc}") from None
        arrays = _encode(raw)
        analysis = _decode(arrays, duration_ms=raw.duration_ms, bins=raw.bins)
        self.misses += 1
        if stored is not None and self._disk_ok:
            self._store(stored, arrays, _meta(analysis, key))
        self._remember(key, analysis)
        return analysis

    def clear_memory(self) -> None:
        """Forget the analyses held in memory (the disk cache stays)."""
        self._memory.clear()
        self._memory_bytes = 0

    # -- inside ----------------------------------------------------------------------

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)

    def _remember(self, key: str, analysis: SampleAnalysis) -> None:
        self._memory[key] = analysis
        self._memory_bytes += analysis.nbytes
        while self._memory_bytes > self.memory_limit_bytes and len(self._memory) > 1:
            _, old = self._memory.popitem(last=False)
            self._memory_bytes -= old.nbytes
        if self._memory_bytes > self.memory_limit_bytes:  # the newest alone is over the bound
            self.clear_memory()

    def _store(self, path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        why = save_cache_npz(path, {"meta": np.array(json.dumps(meta, sort_keys=True)), **arrays})
        if why is not None:
            self._disk_ok = False
            self._problem(f"the analysis cache folder {path.parent} cannot be written ({why}); "
                          "samples are analysed again in every run until it can")


__all__ = [
    "ANALYSIS_RATE_HZ", "ANALYSIS_VERSION", "FRAME_PERIOD_S", "MAX_SAMPLE_S", "AnalysisCache",
    "SampleAnalysis", "analyse_samples", "analysis_key", "default_cache_folder", "read_sample",
]
