#!/usr/bin/env python3
"""Build the reference fixtures the Swift `mel` tool is tested against.

Run from anywhere:
    python3 Tests/Fixtures/mel/make_mel_fixtures.py [--check-system-libs] [--out DIR]

Needs espeak-ng (apt) and, from PyPI, librosa==0.11.0, soundfile, soxr and
torch + torchaudio of the same release (e.g. torch==2.11.0 torchaudio==2.11.0;
a torchaudio built for another torch refuses to import).

Writes, next to this script: the test audio files, the expected log-mel arrays
(<case>.npy: float32, C order, shape [rows, n_mels]) and manifest.json, which
lists every case with its mel CLI flags, the resolved options and the exact
reference call.  Deterministic: the audio is espeak-ng speech (deterministic
for a given espeak-ng build) mixed with harmonic glides, noise bursts and
silence gaps drawn from fixed numpy seeds, and the two things libsndfile writes
from the clock or a random source are pinned after writing (the timestamp of
the PEAK chunk of float WAV files and the Ogg stream serial number).  A rerun
rewrites every file byte for byte (checked by --verify-rerun).

Reference definitions (what the Swift tool must reproduce):

  preset "librosa" (the tool's default), with the CLI's option names:
      y, _ = librosa.load(path, sr=SAMPLE_RATE)   # soundfile decode -> float32,
                          # mono = mean of channels (float32), then soxr 'soxr_hq'
                          # resample, length fixed to ceil(n * SAMPLE_RATE / sr)
      S = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT,
              hop_length=HOP_LENGTH, win_length=WIN_LENGTH, window="hann",
              center=CENTER, pad_mode=PAD_MODE, power=POWER, n_mels=N_MELS,
              fmin=FMIN, fmax=FMAX, htk=(MEL_SCALE == "htk"),
              norm=("slaney" or None))
      librosa.power_to_db(S, ref=(np.max or REF), amin=AMIN, top_db=TOP_DB).T
      defaults: 16000, 1024, 160, 1024, center, "constant", 2.0, 128, 0, 8000
      (= sample_rate / 2), slaney, slaney, ref max, amin 1e-10, top_db 80.
      dB is always 10*log10 (power_to_db), whatever --power is.

  preset "torchaudio":
      same waveform y as above, then
      torchaudio.transforms.MelSpectrogram(16000, n_fft=1024, hop_length=160,
          n_mels=128)      # periodic hann, center, reflect pad, htk mel, no norm
      torchaudio.transforms.AmplitudeToDB("power", top_db=80)   # ref 1.0
      transposed to [frames, 128].

For lossy files (ogg/vorbis, opus, mp3) the expected output is computed from
the file as decoded by python-soundfile's libsndfile, i.e. decoders are
compared, not encoders.

The long clip stores only every 50th frame (frame_step 50: rows are frames
0, 50, 100, ...); "frames" is always the full frame count.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402
import librosa  # noqa: E402
import scipy  # noqa: E402

# librosa warns for clips shorter than n_fft (the short cases are deliberate)
warnings.filterwarnings("ignore", message=r"n_fft=\d+ is too large")

HERE = Path(__file__).resolve().parent
SR = 16000
N_FFT = 1024
HOP = 160
N_MELS = 128
ESPEAK_SR = 22050

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore, surely.",
    "Peter Piper picked a peck of pickled peppers.",
    "How much wood would a woodchuck chuck?",
    "Seven hundred and forty two thousand, nine hundred and sixty one.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Is it really going to rain on Thursday afternoon?",
    "Zero, one, two, three, four, five, six, seven, eight, nine.",
    "A stitch in time saves nine, but only if you thread the needle first.",
    "Wow! That was absolutely extraordinary, wasn't it?",
    "Fresh fish, crisp chips, and a splash of vinegar.",
    "The ship sailed through the choppy, shimmering water at dawn.",
    "Judge the jury's jovial jest gently.",
    "Thirty three thin thistles thrust through thick thorns.",
    "Mel spectrograms map frequencies onto a perceptual scale.",
    "Hello? Is anybody there? I can hear you breathing.",
]
VOICES = ["en-us+m3", "en+f3", "en-gb-x-rp+m1", "en-us+f2", "en+klatt2", "en+m7",
          "en-gb+f4", "en-us+croak", "en+whisper", "en-gb-scotland+m2", "en+klatt4",
          "en-029+f5"]

_ESPEAK_CACHE = {}


def espeak(text, voice, speed, pitch):
    """espeak-ng speech as float64 at 22050 Hz."""
    key = (text, voice, speed, pitch)
    if key not in _ESPEAK_CACHE:
        with tempfile.TemporaryDirectory() as td:
            out = os.path.join(td, "s.wav")
            subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch),
                            "-w", out, text], check=True, capture_output=True)
            y, sr = sf.read(out, dtype="float64")
        assert sr == ESPEAK_SR, sr
        if y.ndim > 1:
            y = y.mean(axis=1)
        _ESPEAK_CACHE[key] = y
    return _ESPEAK_CACHE[key]


def to_rate(y, sr):
    if sr == ESPEAK_SR:
        return y.copy()
    return soxr.resample(y, ESPEAK_SR, sr, quality="VHQ")


def fade(n, sr, ms=5.0):
    w = np.ones(n)
    k = min(n // 2, int(sr * ms / 1000))
    if k > 0:
        r = 0.5 - 0.5 * np.cos(np.pi * np.arange(k) / k)
        w[:k] = r
        w[n - k:] = r[::-1]
    return w


def glide(sr, dur, rng):
    """Harmonic tone whose f0 glides (vowel-ish, harmonics up to Nyquist)."""
    n = int(dur * sr)
    t = np.arange(n) / sr
    f0a, f0b = rng.uniform(90, 320, size=2)
    f0 = f0a * (f0b / f0a) ** (t / dur)          # exponential glide
    f0 = f0 * (1 + 0.01 * np.sin(2 * np.pi * rng.uniform(4, 7) * t))  # vibrato
    phase = 2 * np.pi * np.cumsum(f0) / sr
    y = np.zeros(n)
    tilt = rng.uniform(0.6, 1.4)
    for k in range(1, 80):
        if k * max(f0a, f0b) * 1.02 >= sr / 2:
            break
        y += np.sin(k * phase + rng.uniform(0, 2 * np.pi)) / k ** tilt
    return y / np.max(np.abs(y)) * fade(n, sr, 20)


def noise_burst(sr, dur, rng):
    n = max(8, int(dur * sr))
    x = rng.standard_normal(n)
    kind = rng.integers(3)
    if kind == 1:                       # hiss: first difference (high-pass)
        x = np.diff(x, prepend=0.0)
    elif kind == 2:                     # rumble: leaky integrator (low-pass)
        x = scipy.signal.lfilter([1.0], [1.0, -0.97], x)
    return x / np.max(np.abs(x)) * fade(n, sr, 3)


def compose(sr, seconds, seed, noisy=True):
    """Speech-like mono mix of `seconds` at `sr`, peak ~0.85."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    out = np.zeros(n + 2 * sr * 8)
    t = int(rng.uniform(0.0, 0.15) * sr)
    first = True
    while t < n:
        r = rng.random()
        if first or r < 0.5:
            first = False
            text = TEXTS[rng.integers(len(TEXTS))]
            voice = VOICES[rng.integers(len(VOICES))]
            y = to_rate(espeak(text, voice, int(rng.integers(120, 240)), int(rng.integers(20, 80))), sr)
            y = y[: 8 * sr]
            out[t:t + len(y)] += rng.uniform(0.4, 1.0) * y
            t += len(y) - int(rng.uniform(0.0, 0.3) * sr)   # overlaps the next event a little
        elif r < 0.7:
            y = glide(sr, rng.uniform(0.25, 0.9), rng)
            out[t:t + len(y)] += rng.uniform(0.1, 0.5) * y
            t += len(y)
        elif r < 0.85:
            y = noise_burst(sr, rng.uniform(0.03, 0.25), rng)
            g = rng.uniform(0.05, 0.4) if noisy else rng.uniform(0.01, 0.05)
            out[t:t + len(y)] += g * y
            t += len(y)
        else:
            t += int(rng.uniform(0.08, 0.6) * sr)          # digital silence gap
    out = out[:n]
    return out * (0.85 / max(1e-9, np.max(np.abs(out))))


def make_signal(sr, channels, seconds, seed, noisy=True):
    a = compose(sr, seconds, seed, noisy)
    if channels == 1:
        return a
    b = compose(sr, seconds, seed + 1000, noisy)
    d = int(0.003 * sr)
    a_del = np.concatenate([np.zeros(d), a[:-d]])
    left = 0.7 * a + 0.3 * b
    right = 0.25 * a_del + 0.65 * b
    x = np.stack([left, right], axis=1)
    return x * (0.85 / np.max(np.abs(x)))


def short_signal(sr, nsamples, seed):
    """`nsamples` cut from the loudest part of a speech-like mix."""
    y = compose(sr, 2.5, seed)
    e = np.convolve(y ** 2, np.ones(nsamples), mode="valid")
    i = int(np.argmax(e))
    s = y[i:i + nsamples]
    return s * (0.8 / np.max(np.abs(s)))


# ----------------------------------------------------------------------------
# test audio: name, sample_rate, channels, duration (s, or int = samples),
# format, subtype, ext, seed
AUDIO = [
    ("wav16k_mono_pcm16", 16000, 1, 1.0, "WAV", "PCM_16", "wav", 11),
    ("wav8k_mono_pcm16", 8000, 1, 1.0, "WAV", "PCM_16", "wav", 12),
    ("wav8k_stereo_float", 8000, 2, 0.8, "WAV", "FLOAT", "wav", 13),
    ("wav22k_stereo_pcm16", 22050, 2, 1.0, "WAV", "PCM_16", "wav", 14),
    ("wav44k_mono_pcm16", 44100, 1, 1.0, "WAV", "PCM_16", "wav", 15),
    ("wav48k_mono_pcm24", 48000, 1, 0.6, "WAV", "PCM_24", "wav", 16),
    ("flac16k_stereo", 16000, 2, 1.0, "FLAC", "PCM_16", "flac", 17),
    ("flac22k_mono_24bit", 22050, 1, 1.0, "FLAC", "PCM_24", "flac", 18),
    ("flac44k_stereo", 44100, 2, 1.0, "FLAC", "PCM_16", "flac", 19),
    ("flac48k_stereo", 48000, 2, 1.0, "FLAC", "PCM_16", "flac", 20),
    ("ogg_vorbis44k_stereo", 44100, 2, 1.0, "OGG", "VORBIS", "ogg", 21),
    ("opus48k_mono", 48000, 1, 1.0, "OGG", "OPUS", "opus", 22),
    ("mp3_22k_stereo", 22050, 2, 1.0, "MP3", "MPEG_LAYER_III", "mp3", 23),
    ("short16k_300", 16000, 1, 300, "WAV", "PCM_16", "wav", 24),
    ("short16k_800", 16000, 1, 800, "WAV", "PCM_16", "wav", 25),
    ("short44k_stereo_1000", 44100, 2, 1000, "WAV", "PCM_16", "wav", 26),
    ("silence16k", 16000, 1, "silence", "WAV", "PCM_16", "wav", 0),
    ("long8k_flac", 8000, 1, 180.0, "FLAC", "PCM_16", "flac", 27),
]
AUDIO_BY_NAME = {a[0]: a for a in AUDIO}
LONG = "long8k_flac"
LONG_STEP = 50

LOSSY_OPTS = {  # compression_level / bitrate_mode passed to libsndfile
    "PCM_16": dict(compression_level=1.0),    # FLAC only (write_audio): level 8
    "PCM_24": dict(compression_level=1.0),
    "VORBIS": dict(compression_level=0.6),
    "OPUS": dict(compression_level=0.5),
    "MPEG_LAYER_III": dict(compression_level=0.7, bitrate_mode="CONSTANT"),
}
LOSSY = {"VORBIS", "OPUS", "MPEG_LAYER_III"}

# option variations a CLI test runs: case suffix, audio, mel CLI flags
OPTION_CASES = [
    ("ref1", "wav16k_mono_pcm16", ["--ref", "1.0"]),
    ("topdb_none", "wav16k_mono_pcm16", ["--top-db", "none"]),
    ("htk_nonorm", "wav16k_mono_pcm16", ["--mel-scale", "htk", "--norm", "none"]),
    ("mels80_fft512_hop128", "wav16k_mono_pcm16", ["--n-mels", "80", "--n-fft", "512", "--hop-length", "128"]),
    ("no_center", "wav16k_mono_pcm16", ["--no-center"]),
    ("power1", "wav16k_mono_pcm16", ["--power", "1.0"]),
    ("reflect", "wav16k_mono_pcm16", ["--pad-mode", "reflect"]),
    ("win400_fft512", "wav16k_mono_pcm16", ["--n-fft", "512", "--win-length", "400"]),
    ("fmin20_fmax7600", "wav16k_mono_pcm16", ["--fmin", "20", "--fmax", "7600"]),
    ("amin1e-5_topdb_none", "wav16k_mono_pcm16", ["--amin", "1e-5", "--top-db", "none"]),
    ("ref1_topdb_none", "wav16k_mono_pcm16", ["--ref", "1.0", "--top-db", "none"]),
    ("sr22050", "wav44k_mono_pcm16", ["--sample-rate", "22050"]),
    ("sr8000_no_center_hop320", "wav22k_stereo_pcm16", ["--sample-rate", "8000", "--no-center", "--hop-length", "320"]),
    ("reflect", "short16k_300", ["--pad-mode", "reflect"]),     # numpy reflects again and again
    ("mels80", "wav22k_stereo_pcm16", ["--preset", "torchaudio", "--n-mels", "80"]),
]
TORCHAUDIO_AUDIO = ["wav16k_mono_pcm16", "flac44k_stereo", "short16k_800", "silence16k"]

# runs the references refuse: audio, CLI flags, what the CLI should do, why
ERROR_CASES = [
    ("short16k_300", ["--no-center"], "error",
     "librosa: n_fft=1024 is longer than the 300 samples and center=False (librosa.stft raises ParameterError)"),
    ("short16k_300", ["--preset", "torchaudio"], "unspecified",
     "torch.stft(center=True, pad_mode='reflect') raises when the padding (n_fft/2 = 512) is not shorter "
     "than the input (300 samples); numpy's reflect (librosa, case short16k_300_reflect) mirrors repeatedly "
     "instead, which is a reasonable output for the CLI"),
]

PRESETS = {
    "librosa": dict(sample_rate=16000, n_fft=1024, win_length=None, hop_length=160, n_mels=128,
                    fmin=0.0, fmax=None, mel_scale="slaney", norm="slaney", power=2.0, center=True,
                    pad_mode="constant", ref="max", amin=1e-10, top_db=80.0),
}
PRESETS["torchaudio"] = dict(PRESETS["librosa"], mel_scale="htk", norm="none", pad_mode="reflect", ref=1.0)


def resolve(cli_args):
    """The options a list of mel CLI flags selects (fmax None -> sample_rate/2,
    win_length None -> n_fft), and the preset."""
    args = list(cli_args)
    preset = "librosa"
    if "--preset" in args:
        preset = args[args.index("--preset") + 1]
    o = dict(PRESETS[preset])
    i = 0
    ints = {"--sample-rate": "sample_rate", "--n-fft": "n_fft", "--win-length": "win_length",
            "--hop-length": "hop_length", "--n-mels": "n_mels"}
    floats = {"--fmin": "fmin", "--fmax": "fmax", "--power": "power", "--amin": "amin"}
    while i < len(args):
        a = args[i]
        if a in ("--center", "--no-center"):
            o["center"] = a == "--center"
            i += 1
            continue
        v = args[i + 1]
        if a in ints:
            o[ints[a]] = int(v)
        elif a in floats:
            o[floats[a]] = float(v)
        elif a == "--mel-scale":
            assert v in ("slaney", "htk")
            o["mel_scale"] = v
        elif a == "--norm":
            assert v in ("slaney", "none")
            o["norm"] = v
        elif a == "--pad-mode":
            assert v in ("constant", "reflect")
            o["pad_mode"] = v
        elif a == "--ref":
            o["ref"] = "max" if v == "max" else float(v)
        elif a == "--top-db":
            o["top_db"] = None if v == "none" else float(v)
        elif a != "--preset":
            raise ValueError(a)
        i += 2
    if o["win_length"] is None:
        o["win_length"] = o["n_fft"]
    if o["fmax"] is None:
        o["fmax"] = o["sample_rate"] / 2
    return preset, o


def cli_full(o, preset):
    """Every option spelled out (the preset's defaults included)."""
    return ["--preset", preset, "--sample-rate", str(o["sample_rate"]), "--n-fft", str(o["n_fft"]),
            "--win-length", str(o["win_length"]), "--hop-length", str(o["hop_length"]),
            "--n-mels", str(o["n_mels"]), "--fmin", repr(float(o["fmin"])), "--fmax", repr(float(o["fmax"])),
            "--mel-scale", o["mel_scale"], "--norm", o["norm"], "--power", repr(float(o["power"])),
            "--center" if o["center"] else "--no-center", "--pad-mode", o["pad_mode"],
            "--ref", o["ref"] if o["ref"] == "max" else repr(float(o["ref"])),
            "--amin", repr(float(o["amin"])),
            "--top-db", "none" if o["top_db"] is None else repr(float(o["top_db"]))]


def librosa_call(o):
    """The exact librosa code for options `o` (path = the audio file)."""
    norm = '"slaney"' if o["norm"] == "slaney" else "None"
    ref = "np.max" if o["ref"] == "max" else repr(float(o["ref"]))
    top = "None" if o["top_db"] is None else repr(float(o["top_db"]))
    return (f'y, _ = librosa.load(path, sr={o["sample_rate"]})\n'
            f'S = librosa.feature.melspectrogram(y=y, sr={o["sample_rate"]}, n_fft={o["n_fft"]}, '
            f'hop_length={o["hop_length"]}, win_length={o["win_length"]}, window="hann", '
            f'center={o["center"]}, pad_mode="{o["pad_mode"]}", power={float(o["power"])!r}, '
            f'n_mels={o["n_mels"]}, fmin={float(o["fmin"])!r}, fmax={float(o["fmax"])!r}, '
            f'htk={o["mel_scale"] == "htk"}, norm={norm})\n'
            f'expected = librosa.power_to_db(S, ref={ref}, amin={float(o["amin"])!r}, top_db={top}).T')


def torchaudio_call(o):
    assert o["ref"] != "max" and o["mel_scale"] == "htk" and o["norm"] == "none" and o["pad_mode"] == "reflect"
    top = "None" if o["top_db"] is None else repr(float(o["top_db"]))
    mel = (f'torchaudio.transforms.MelSpectrogram({o["sample_rate"]}, n_fft={o["n_fft"]}, '
           f'win_length={o["win_length"]}, hop_length={o["hop_length"]}, f_min={float(o["fmin"])!r}, '
           f'f_max={float(o["fmax"])!r}, n_mels={o["n_mels"]}, power={float(o["power"])!r}, '
           f'center={o["center"]})')
    if o["ref"] == 1.0 and o["amin"] == 1e-10:
        db = f'torchaudio.transforms.AmplitudeToDB("power", top_db={top})(M)'
    else:
        db = (f'torchaudio.functional.amplitude_to_DB(M, 10.0, {float(o["amin"])!r}, '
              f'math.log10(max({float(o["amin"])!r}, {float(o["ref"])!r})), {top})')
    return (f'y, _ = librosa.load(path, sr={o["sample_rate"]})\n'
            f'M = {mel}(torch.from_numpy(y))\n'
            f'expected = {db}.numpy().T')


def load(path, sr):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y, got = librosa.load(path, sr=sr)
    for w in caught:                            # no silent audioread fallback
        if "PySoundFile failed" in str(w.message):
            raise RuntimeError(f"soundfile could not decode {path}")
    assert got == sr and y.dtype == np.float32
    return y


def ref_librosa(y, o):
    S = librosa.feature.melspectrogram(
        y=y, sr=o["sample_rate"], n_fft=o["n_fft"], hop_length=o["hop_length"],
        win_length=o["win_length"], window="hann", center=o["center"], pad_mode=o["pad_mode"],
        power=o["power"], n_mels=o["n_mels"], fmin=o["fmin"], fmax=o["fmax"],
        htk=o["mel_scale"] == "htk", norm="slaney" if o["norm"] == "slaney" else None)
    ref = np.max if o["ref"] == "max" else o["ref"]
    return librosa.power_to_db(S, ref=ref, amin=o["amin"], top_db=o["top_db"]).T


def ref_torchaudio(y, o):
    import math
    import torch
    import torchaudio
    torch.set_num_threads(1)
    mel = torchaudio.transforms.MelSpectrogram(
        o["sample_rate"], n_fft=o["n_fft"], win_length=o["win_length"], hop_length=o["hop_length"],
        f_min=o["fmin"], f_max=o["fmax"], n_mels=o["n_mels"], power=o["power"], center=o["center"])
    with torch.no_grad():
        M = mel(torch.from_numpy(np.ascontiguousarray(y)))
        if o["ref"] == 1.0 and o["amin"] == 1e-10:
            D = torchaudio.transforms.AmplitudeToDB("power", top_db=o["top_db"])(M)
        else:
            D = torchaudio.functional.amplitude_to_DB(M, 10.0, o["amin"], math.log10(max(o["amin"], o["ref"])),
                                                      o["top_db"])
    return D.numpy().T


def reference(y, o, preset):
    return ref_librosa(y, o) if preset == "librosa" else ref_torchaudio(y, o)


# ----------------------------------------------------------------------------
# byte-for-byte reproducible files

_OGG_CRC = None


def _ogg_crc(data):
    global _OGG_CRC
    if _OGG_CRC is None:
        t = []
        for i in range(256):
            r = i << 24
            for _ in range(8):
                r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
            t.append(r & 0xFFFFFFFF)
        _OGG_CRC = t
    crc = 0
    for b in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC[((crc >> 24) ^ b) & 0xFF]
    return crc


def pin_ogg_serial(path, serial=0x62737161):
    """libsndfile draws the Ogg stream serial number at random: set a fixed one
    (and redo each page's CRC).  Decoding is unaffected."""
    b = bytearray(Path(path).read_bytes())
    off = 0
    while off < len(b):
        assert b[off:off + 4] == b"OggS", f"{path}: no Ogg page at {off}"
        nseg = b[off + 26]
        size = 27 + nseg + sum(b[off + 27:off + 27 + nseg])
        b[off + 14:off + 18] = serial.to_bytes(4, "little")
        b[off + 22:off + 26] = b"\0\0\0\0"
        b[off + 22:off + 26] = _ogg_crc(b[off:off + size]).to_bytes(4, "little")
        off += size
    Path(path).write_bytes(bytes(b))


def pin_wav_peak_time(path):
    """libsndfile's PEAK chunk (float WAV) holds the write time: zero it."""
    b = bytearray(Path(path).read_bytes())
    assert b[:4] == b"RIFF" and b[8:12] == b"WAVE"
    off = 12
    while off + 8 <= len(b):
        cid, size = bytes(b[off:off + 4]), int.from_bytes(b[off + 4:off + 8], "little")
        if cid == b"PEAK":
            b[off + 12:off + 16] = b"\0\0\0\0"      # after version (4 bytes): timestamp
        off += 8 + size + (size & 1)
    Path(path).write_bytes(bytes(b))


def write_audio(path, sig, sr, fmt, subtype):
    opts = LOSSY_OPTS.get(subtype, {}) if fmt in ("FLAC", "OGG", "MP3") else {}
    sf.write(path, sig.astype(np.float32), sr, format=fmt, subtype=subtype, **opts)
    if fmt == "OGG":
        pin_ogg_serial(path)
    elif fmt == "WAV":
        pin_wav_peak_time(path)


def long_signal(sr, seconds, seed):
    """Several minutes for the FLAC fixture kept small: 1.5-4 s speech-like
    passages (peak 0.15) between 1.5-5 s of digital silence (FLAC stores those
    almost for free), like a talk with pauses."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sr))
    out = np.zeros(n)
    t, k = 0, 0
    while t < n:
        seg = 0.15 * compose(sr, rng.uniform(1.5, 4.0), seed * 100 + k, noisy=False)
        out[t:t + len(seg)] = seg[:n - t]
        t += len(seg) + int(rng.uniform(1.5, 5.0) * sr)
        k += 1
    return out


def make_audio(name, sr, ch, dur, seed):
    if dur == "silence":
        return np.zeros(int(0.5 * sr)) if ch == 1 else np.zeros((int(0.5 * sr), ch))
    if isinstance(dur, int):
        sig = short_signal(sr, dur, seed)
        if ch == 2:
            sig = np.stack([sig, 0.6 * short_signal(sr, dur, seed + 1000)], axis=1)
        return sig
    if name == LONG:
        return long_signal(sr, dur, seed)
    return make_signal(sr, ch, dur, seed)


def versions():
    v = {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "librosa": librosa.__version__,
        "soxr": soxr.__version__,
        "libsoxr": soxr.__libsoxr_version__,
        "soundfile": sf.__version__,
        "libsndfile": sf.__libsndfile_version__,
    }
    try:
        import torch
        import torchaudio
        v["torch"] = torch.__version__
        v["torchaudio"] = torchaudio.__version__
    except Exception as e:  # noqa: BLE001
        v["torch"] = v["torchaudio"] = f"unavailable: {e}"
    try:
        v["espeak-ng"] = subprocess.run(["espeak-ng", "--version"], capture_output=True,
                                        text=True).stdout.split("Data at")[0].strip()
    except OSError:
        pass
    return v


# ----------------------------------------------------------------------------
# --check-system-libs: what the Swift tool links (Debian's libsndfile and
# libsoxr) against the Python wheels' bundled copies

_SYS_LOADER = r"""
import ctypes, ctypes.util, math, sys
import numpy as np

class SFInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]

class IOSpec(ctypes.Structure):
    _fields_ = [("itype", ctypes.c_int), ("otype", ctypes.c_int), ("scale", ctypes.c_double),
                ("e", ctypes.c_void_p), ("flags", ctypes.c_ulong)]

class QSpec(ctypes.Structure):
    _fields_ = [("precision", ctypes.c_double), ("phase_response", ctypes.c_double),
                ("passband_end", ctypes.c_double), ("stopband_begin", ctypes.c_double),
                ("e", ctypes.c_void_p), ("flags", ctypes.c_ulong)]

path, out, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
snd = ctypes.CDLL(ctypes.util.find_library("sndfile"))
snd.sf_open.restype = ctypes.c_void_p
snd.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SFInfo)]
snd.sf_readf_float.restype = ctypes.c_int64
snd.sf_readf_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
snd.sf_close.argtypes = [ctypes.c_void_p]
snd.sf_version_string.restype = ctypes.c_char_p
info = SFInfo()
h = snd.sf_open(path.encode(), 0x10, ctypes.byref(info))
if not h:
    sys.exit("system libsndfile cannot open " + path)
chunks = []
buf = np.empty((4096, info.channels), dtype=np.float32)
while True:
    got = snd.sf_readf_float(h, buf.ctypes.data, 4096)
    if got <= 0:
        break
    chunks.append(buf[:got].copy())
snd.sf_close(h)
x = np.concatenate(chunks) if chunks else np.zeros((0, info.channels), np.float32)
y = x.mean(axis=1, dtype=np.float32) if info.channels > 1 else x[:, 0].copy()

# as python-soxr's soxr.resample(y, sr, target, 'soxr_hq') calls libsoxr, then
# librosa.util.fix_length to ceil(n * target / sr)
sr = info.samplerate
if sr != target and len(y):
    sx = ctypes.CDLL(ctypes.util.find_library("soxr"))
    sx.soxr_io_spec.restype = IOSpec
    sx.soxr_io_spec.argtypes = [ctypes.c_int, ctypes.c_int]
    sx.soxr_quality_spec.restype = QSpec
    sx.soxr_quality_spec.argtypes = [ctypes.c_ulong, ctypes.c_ulong]
    sx.soxr_create.restype = ctypes.c_void_p
    sx.soxr_create.argtypes = [ctypes.c_double, ctypes.c_double, ctypes.c_uint, ctypes.POINTER(ctypes.c_char_p),
                               ctypes.POINTER(IOSpec), ctypes.POINTER(QSpec), ctypes.c_void_p]
    sx.soxr_process.restype = ctypes.c_char_p
    sx.soxr_process.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    sx.soxr_delete.argtypes = [ctypes.c_void_p]
    io = sx.soxr_io_spec(0, 0)                 # SOXR_FLOAT32_I in and out
    q = sx.soxr_quality_spec(4, 0)             # SOXR_HQ (20-bit), no flags
    err = ctypes.c_char_p()
    s = sx.soxr_create(float(sr), float(target), 1, ctypes.byref(err), ctypes.byref(io), ctypes.byref(q), None)
    assert not err.value, err.value
    olen = int(len(y) * target / sr) + 1
    o = np.zeros(olen, np.float32)
    pos, done = 0, ctypes.c_size_t()
    step = int(48000 * sr / target)
    for i in range(0, len(y), step):
        e = sx.soxr_process(s, y[i:].ctypes.data, min(step, len(y) - i), None,
                            o[pos:].ctypes.data, olen - pos, ctypes.byref(done))
        assert e is None, e
        pos += done.value
    e = sx.soxr_process(s, None, 0, None, o[pos:].ctypes.data, olen - pos, ctypes.byref(done))
    assert e is None, e
    pos += done.value
    sx.soxr_delete(s)
    n = int(math.ceil(len(y) * (float(target) / sr)))
    y = np.zeros(n, np.float32)
    y[:min(n, pos)] = o[:min(n, pos)]
np.save(out, y)
print(len(x), snd.sf_version_string().decode())
"""


def system_load(path, target):
    """librosa.load(path, sr=target) done with the system libsndfile and libsoxr
    (in a subprocess, away from the wheels' bundled copies)."""
    with tempfile.TemporaryDirectory() as td:
        npy = os.path.join(td, "y.npy")
        r = subprocess.run([sys.executable, "-c", _SYS_LOADER, str(path), npy, str(target)],
                           check=True, capture_output=True, text=True)
        n, ver = r.stdout.split(maxsplit=1)
        return np.load(npy), int(n), ver.strip()


def check_system_libs(case, path, o, preset, y_wheel, expected_full):
    ys, n_src, ver = system_load(path, o["sample_rate"])
    msg = f"  [{ver}] {case}: "
    if len(ys) != len(y_wheel):
        print(msg + f"{len(ys)} samples vs {len(y_wheel)} (system vs wheels)")
        return
    msg += f"max |Δsample| {np.max(np.abs(ys - y_wheel)) if len(ys) else 0:.3g}"
    m = reference(ys, o, preset)
    mask = expected_full > -60
    if mask.any():
        d = np.abs(m - expected_full)[mask]
        msg += f"; log-mel mean|Δ| {d.mean():.5f} dB, max|Δ| {d.max():.5f} dB (>-60 dB bins)"
    print(msg)


def stats(a, b):
    mask = a > -60
    if not mask.any():
        return 0.0, 0.0
    d = np.abs(a - b)[mask]
    return float(d.mean()), float(d.max())


# ----------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-system-libs", "--check-system-libsndfile", action="store_true",
                    help="also decode and resample every file with the system libsndfile and libsoxr "
                         "and report the differences")
    ap.add_argument("--out", default=str(HERE), help="output folder (default: this script's folder)")
    ap.add_argument("--verify-rerun", action="store_true",
                    help="generate a second time into a temporary folder and require identical files")
    args = ap.parse_args()
    out = Path(args.out)
    generate(out, args.check_system_libs)
    if args.verify_rerun:
        with tempfile.TemporaryDirectory() as td:
            generate(Path(td), False, quiet=True)
            mine = sorted(p.name for p in out.iterdir() if p.is_file() and p.name != Path(__file__).name)
            theirs = sorted(p.name for p in Path(td).iterdir() if p.is_file())
            assert mine == theirs, (set(mine) ^ set(theirs))
            bad = [n for n in mine if (out / n).read_bytes() != (Path(td) / n).read_bytes()]
            if bad:
                sys.exit(f"rerun differs: {bad}")
            print(f"rerun: all {len(mine)} files identical")


def generate(out, check_sys, quiet=False):
    say = (lambda *a: None) if quiet else print
    out.mkdir(parents=True, exist_ok=True)
    for p in out.iterdir():     # remove stale outputs of earlier runs
        if p.suffix in (".npy", ".wav", ".flac", ".ogg", ".opus", ".mp3") or p.name == "manifest.json":
            p.unlink()

    # the test audio
    audio_meta = {}
    for (name, sr, ch, dur, fmt, subtype, ext, seed) in AUDIO:
        path = out / f"{name}.{ext}"
        write_audio(path, make_audio(name, sr, ch, dur, seed), sr, fmt, subtype)
        info = sf.info(path)
        assert info.samplerate == sr and info.channels == ch, (info.samplerate, info.channels)
        audio_meta[name] = {"file": path.name, "sample_rate": sr, "channels": ch,
                            "format": f"{fmt}/{subtype}", "samples": int(info.frames),
                            "lossy": subtype in LOSSY, "bytes": path.stat().st_size}

    runs = [(name, name, []) for name, *_ in AUDIO]
    runs += [(f"{a}_torchaudio", a, ["--preset", "torchaudio"]) for a in TORCHAUDIO_AUDIO]
    runs += [(f"{a}_{suffix}", a, cli) for suffix, a, cli in OPTION_CASES]

    loaded = {}
    cases = []
    say(f"{'case':40s} {'preset':10s} {'rate':>6s} {'ch':>2s} {'frames':>6s} {'rows':>5s} {'range':>16s}")
    for case, aname, cli in runs:
        preset, o = resolve(cli)
        meta = audio_meta[aname]
        path = out / meta["file"]
        key = (aname, o["sample_rate"])
        if key not in loaded:
            loaded[key] = load(path, o["sample_rate"])
        y = loaded[key]
        full = reference(y, o, preset)
        n_frames = (1 + len(y) // o["hop_length"]) if o["center"] else (1 + (len(y) - o["n_fft"]) // o["hop_length"])
        assert full.shape == (n_frames, o["n_mels"]), (case, full.shape, n_frames)
        step = LONG_STEP if aname == LONG else 1
        rows = np.ascontiguousarray(full[::step], dtype=np.float32)
        exp = f"{case}.npy"
        np.save(out / exp, rows)
        entry = {
            "name": case,
            "audio": meta["file"],
            "preset": preset,
            "cli_args": cli,
            "cli_args_full": cli_full(o, preset),
            "options": o,
            "reference": librosa_call(o) if preset == "librosa" else torchaudio_call(o),
            "expected": exp,
            "shape": list(rows.shape),
            "frame_step": step,
            "frames": int(n_frames),
            "value_range": [float(rows.min()), float(rows.max())],
            "value_range_all_frames": [float(full.min()), float(full.max())],
            "source": {k: meta[k] for k in ("sample_rate", "channels", "format", "samples", "lossy")},
            "samples_resampled": int(len(y)),
        }
        if preset == "torchaudio":
            # the same analysis done by librosa (float64 FFT, slaney-free htk filters, numpy reflect pad)
            lo = dict(o)
            entry["librosa_equivalent_max_abs_db"] = round(stats(full, ref_librosa(y, lo))[1], 6)
        cases.append(entry)
        say(f"{case:40s} {preset:10s} {meta['sample_rate']:6d} {meta['channels']:2d} {n_frames:6d} "
            f"{rows.shape[0]:5d} {rows.min():8.2f}..{rows.max():6.2f}")
        if check_sys:
            check_system_libs(case, path, o, preset, y, full)

    errors = []
    for aname, cli, cli_expected, why in ERROR_CASES:
        preset, o = resolve(cli)
        y = load(out / audio_meta[aname]["file"], o["sample_rate"])
        try:
            reference(y, o, preset)
        except Exception as e:  # noqa: BLE001
            raised = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
        else:
            raise AssertionError(f"{aname} {cli}: the reference did not fail")
        errors.append({"audio": audio_meta[aname]["file"], "preset": preset, "cli_args": cli,
                       "options": o, "reference_raises": raised, "cli": cli_expected, "why": why})

    manifest = {
        "description": "Reference log-mel outputs for the Swift `mel` tool, made by make_mel_fixtures.py. "
                       "Each case: run `mel CLI_ARGS AUDIO` and compare its [frames, n_mels] float32 output, "
                       "rows 0, frame_step, 2*frame_step, ..., with EXPECTED.",
        "generator": "make_mel_fixtures.py",
        "versions": versions(),
        "presets": {
            "librosa": {"options": resolve([])[1], "reference": librosa_call(resolve([])[1])},
            "torchaudio": {"options": resolve(["--preset", "torchaudio"])[1],
                           "reference": torchaudio_call(resolve(["--preset", "torchaudio"])[1]),
                           "notes": "periodic hann window (torch.hann_window), center with reflect padding "
                                    "(torch.stft), htk mel filters without normalization built from "
                                    "torch.linspace(0, sample_rate // 2, n_fft // 2 + 1) in float32, "
                                    "dB = 10*log10(clamp(M, min=1e-10)) - 10*log10(max(1e-10, 1.0)), "
                                    "floor at max - top_db over the whole spectrogram"},
        },
        "tolerance": {"mean_abs_db": 0.01, "max_abs_db": 0.1, "over_bins_where_expected_above_db": -60.0},
        "decode_policy": "Audio is decoded to float32 by libsndfile (python-soundfile), channels averaged "
                         "in float32, then resampled by libsoxr at SOXR_HQ (librosa.load's default "
                         "res_type='soxr_hq') and cut or zero-padded to ceil(n * target / sr) samples. For "
                         "lossy files (ogg/vorbis, opus, mp3; source.lossy true) expected is computed from "
                         "the file as python-soundfile's bundled libsndfile decodes it, so decoders are "
                         "compared, not encoders; a different libsndfile/libvorbis/libopus/libmpg123 build "
                         "may differ by rounding, and the mp3/opus frame counts depend on the decoder's "
                         "delay and padding handling.",
        "notes": [
            "expected arrays are float32 [rows, n_mels]; rows = ceil(frames / frame_step); row r is frame r*frame_step; "
            "value_range is over the stored rows, value_range_all_frames over every frame",
            f"{LONG} ({AUDIO_BY_NAME[LONG][3]} s) stores every {LONG_STEP}th frame only",
            "frames = 1 + samples_resampled // hop_length with center, 1 + (samples_resampled - n_fft) // hop_length without",
            "dB is 10*log10 (librosa.power_to_db) whatever --power is",
            "options.fmax null never appears: an unset --fmax is sample_rate / 2; an unset --win-length is n_fft",
            "silence16k is digital silence: librosa with ref=max gives 0 dB everywhere "
            "(10*log10(max(amin, 0)) - 10*log10(max(amin, max=0)) = 0); torchaudio (ref 1.0) gives -100 dB",
            "short16k_300_reflect: numpy's reflect padding of a signal shorter than the pad mirrors repeatedly",
            "wav/flac PCM files are read by libsndfile as integer / 2^(bits-1) in float32",
        ],
        "error_cases": errors,
        "audio": list(audio_meta.values()),
        "cases": cases,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    files = [p for p in out.iterdir() if p.is_file() and p.suffix != ".py"]
    total = sum(p.stat().st_size for p in files)
    say(f"{len(cases)} cases, {len(errors)} error cases, {len(files)} files, {total / 1e6:.2f} MB")
    digest = hashlib.sha256()
    for p in sorted(files):
        digest.update(p.name.encode() + p.read_bytes())
    say(f"sha256 of all fixture files: {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
