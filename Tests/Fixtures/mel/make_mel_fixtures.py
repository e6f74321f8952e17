#!/usr/bin/env python3
"""Build the reference fixtures the Swift `mel` tool is tested against.

Run from anywhere:  python3 Tests/Fixtures/mel/make_mel_fixtures.py [--check-system-libsndfile]

Writes, next to this script: test audio files, expected log-mel arrays (.npy,
float32, C order, shape [rows, 128]) and manifest.json.  Deterministic: the
test audio is espeak-ng speech (deterministic for a given espeak-ng build)
mixed with harmonic glides, noise bursts and silence gaps drawn from fixed
numpy seeds.  Rerunning rewrites every file.

Reference definitions (what the Swift tool must reproduce):

  preset "librosa" (the tool's default):
      y, _ = librosa.load(path, sr=16000)   # soundfile decode -> float32,
                                            # mono = mean of channels, then
                                            # soxr 'soxr_hq' resample,
                                            # length fixed to ceil(n*16000/sr)
      S = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=1024,
              hop_length=160, win_length=1024, window="hann", center=True,
              pad_mode="constant", power=2.0, n_mels=128, fmin=0.0,
              fmax=8000, htk=False, norm="slaney")
      librosa.power_to_db(S, ref=np.max, amin=1e-10, top_db=80.0).T

  preset "torchaudio":
      same 16 kHz waveform y as above, then
      torchaudio.transforms.MelSpectrogram(16000, n_fft=1024, hop_length=160,
          n_mels=128)      # periodic hann, center, reflect pad, htk mel, no norm
      torchaudio.transforms.AmplitudeToDB("power", top_db=80)   # ref 1.0
      transposed to [frames, 128].

For lossy files (ogg/vorbis, opus, mp3) the expected output is computed from
the file as decoded by python-soundfile's libsndfile, i.e. decoders are
compared, not encoders.

The long clip stores only every 50th frame (frame_step 50, rows
0, 50, 100, ...); "frames" is the full frame count.
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


# name, sample_rate, channels, duration (s, or int = samples), format, subtype, ext,
# seed, presets, frame_step
CASES = [
    ("wav16k_mono_pcm16", 16000, 1, 3.5, "WAV", "PCM_16", "wav", 11, ("librosa", "torchaudio"), 1),
    ("wav8k_mono_pcm16", 8000, 1, 3.0, "WAV", "PCM_16", "wav", 12, ("librosa",), 1),
    ("wav8k_stereo_float", 8000, 2, 3.0, "WAV", "FLOAT", "wav", 13, ("librosa",), 1),
    ("wav22k_stereo_pcm16", 22050, 2, 2.5, "WAV", "PCM_16", "wav", 14, ("librosa",), 1),
    ("wav44k_mono_pcm16", 44100, 1, 2.0, "WAV", "PCM_16", "wav", 15, ("librosa",), 1),
    ("wav48k_mono_float", 48000, 1, 2.0, "WAV", "FLOAT", "wav", 16, ("librosa",), 1),
    ("flac16k_stereo", 16000, 2, 3.0, "FLAC", "PCM_16", "flac", 17, ("librosa",), 1),
    ("flac22k_mono_24bit", 22050, 1, 3.0, "FLAC", "PCM_24", "flac", 18, ("librosa",), 1),
    ("flac44k_stereo", 44100, 2, 3.0, "FLAC", "PCM_16", "flac", 19, ("librosa", "torchaudio"), 1),
    ("flac48k_stereo", 48000, 2, 2.5, "FLAC", "PCM_16", "flac", 20, ("librosa",), 1),
    ("ogg_vorbis44k_stereo", 44100, 2, 3.0, "OGG", "VORBIS", "ogg", 21, ("librosa",), 1),
    ("opus48k_mono", 48000, 1, 3.0, "OGG", "OPUS", "opus", 22, ("librosa",), 1),
    ("mp3_22k_stereo", 22050, 2, 3.0, "MP3", "MPEG_LAYER_III", "mp3", 23, ("librosa",), 1),
    ("short16k_300", 16000, 1, 300, "WAV", "PCM_16", "wav", 24, ("librosa",), 1),
    ("short16k_800", 16000, 1, 800, "WAV", "PCM_16", "wav", 25, ("librosa", "torchaudio"), 1),
    ("short44k_stereo_1000", 44100, 2, 1000, "WAV", "PCM_16", "wav", 26, ("librosa",), 1),
    ("long22k_flac", 22050, 1, 210.0, "FLAC", "PCM_16", "flac", 27, ("librosa", "torchaudio"), 50),
]
# Cases whose torchaudio output is undefined: torch.stft(center=True,
# pad_mode="reflect") raises when the 16 kHz input has <= n_fft//2 samples.
TORCHAUDIO_ERRORS = ["short16k_300"]

LOSSY_OPTS = {  # compression_level / bitrate_mode passed to libsndfile
    "VORBIS": dict(compression_level=0.6),
    "OPUS": dict(compression_level=0.5),
    "MPEG_LAYER_III": dict(compression_level=0.7, bitrate_mode="CONSTANT"),
}


def load16(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y, sr = librosa.load(path, sr=SR)
    for w in caught:                            # no silent audioread fallback
        if "PySoundFile failed" in str(w.message):
            raise RuntimeError(f"soundfile could not decode {path}")
    assert sr == SR and y.dtype == np.float32
    return y


def ref_librosa(y):
    S = librosa.feature.melspectrogram(
        y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, win_length=N_FFT, window="hann",
        center=True, pad_mode="constant", power=2.0, n_mels=N_MELS, fmin=0.0,
        fmax=8000, htk=False, norm="slaney")
    return librosa.power_to_db(S, ref=np.max, amin=1e-10, top_db=80.0).T


_TA = {}


def ref_torchaudio(y):
    import torch
    import torchaudio
    if not _TA:
        torch.set_num_threads(1)
        _TA["mel"] = torchaudio.transforms.MelSpectrogram(SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS)
        _TA["db"] = torchaudio.transforms.AmplitudeToDB("power", top_db=80)
    with torch.no_grad():
        out = _TA["db"](_TA["mel"](torch.from_numpy(np.ascontiguousarray(y))))
    return out.numpy().T


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


_SYS_DECODER = r"""
import ctypes, ctypes.util, sys
import numpy as np

class SFInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int), ("channels", ctypes.c_int),
                ("format", ctypes.c_int), ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]

lib = ctypes.CDLL(ctypes.util.find_library("sndfile"))
lib.sf_open.restype = ctypes.c_void_p
lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SFInfo)]
lib.sf_readf_float.restype = ctypes.c_int64
lib.sf_readf_float.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
lib.sf_close.argtypes = [ctypes.c_void_p]
lib.sf_version_string.restype = ctypes.c_char_p
info = SFInfo()
h = lib.sf_open(sys.argv[1].encode(), 0x10, ctypes.byref(info))
if not h:
    sys.exit("system libsndfile cannot open " + sys.argv[1])
chunks = []
buf = np.empty((4096, info.channels), dtype=np.float32)
while True:
    got = lib.sf_readf_float(h, buf.ctypes.data, 4096)
    if got <= 0:
        break
    chunks.append(buf[:got].copy())
lib.sf_close(h)
x = np.concatenate(chunks) if chunks else np.zeros((0, info.channels), np.float32)
np.save(sys.argv[2], x)
print(info.samplerate, lib.sf_version_string().decode())
"""


def system_sndfile_decode(path):
    """Decode with the system libsndfile (what the Swift tool links), float32 [frames, ch].

    Runs in a subprocess so python-soundfile's bundled libsndfile is not in the way."""
    with tempfile.TemporaryDirectory() as td:
        npy = os.path.join(td, "x.npy")
        r = subprocess.run([sys.executable, "-c", _SYS_DECODER, str(path), npy],
                           check=True, capture_output=True, text=True)
        sr, ver = r.stdout.split()
        return np.load(npy), int(sr), ver


def check_system_decoder(case, path, expected_full):
    """Compare python-soundfile's decode with the system libsndfile's, and the
    resulting log-mel against the tolerance the Swift tests use."""
    ps, psr = sf.read(path, dtype="float32", always_2d=True)
    ss, ssr, ver = system_sndfile_decode(path)
    msg = f"  [{ver}] {case}: frames {len(ps)} vs {len(ss)} (python vs system)"
    if len(ps) == len(ss) and psr == ssr:
        msg += f", max |Δsample| {np.max(np.abs(ps - ss)) if len(ps) else 0:.3g}"
    y = ss.mean(axis=1) if ss.shape[1] > 1 else ss[:, 0]
    if ssr != SR:
        y = librosa.resample(y, orig_sr=ssr, target_sr=SR)
    m = ref_librosa(y.astype(np.float32))
    if m.shape == expected_full.shape:
        mask = expected_full > -60
        d = np.abs(m - expected_full)[mask]
        msg += f"; log-mel mean|Δ| {d.mean():.4f} dB, max|Δ| {d.max():.4f} dB (>-60 dB bins)"
    else:
        msg += f"; log-mel shape {m.shape} vs expected {expected_full.shape}"
    print(msg)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check-system-libsndfile", action="store_true",
                    help="also decode every file with the system libsndfile and report differences")
    ap.add_argument("--out", default=str(HERE), help="output folder (default: this script's folder)")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    # remove stale outputs of earlier runs
    for p in out.iterdir():
        if p.suffix in (".npy", ".wav", ".flac", ".ogg", ".opus", ".mp3") or p.name == "manifest.json":
            p.unlink()

    manifest_cases = []
    print(f"{'case':28s} {'preset':10s} {'rate':>6s} {'ch':>2s} {'frames':>7s} {'rows':>6s}  file")
    for (name, sr, ch, dur, fmt, subtype, ext, seed, presets, step) in CASES:
        if isinstance(dur, int):
            sig = short_signal(sr, dur, seed)
            if ch == 2:
                other = short_signal(sr, dur, seed + 1000)
                sig = np.stack([sig, 0.6 * other], axis=1)
        else:
            sig = make_signal(sr, ch, dur, seed, noisy=(step == 1))
        audio = f"{name}.{ext}"
        path = out / audio
        sf.write(path, sig.astype(np.float32), sr, format=fmt, subtype=subtype,
                 **LOSSY_OPTS.get(subtype, {}))
        info = sf.info(path)
        assert info.samplerate == sr and info.channels == ch, (info.samplerate, info.channels)
        y = load16(path)
        n_frames = 1 + len(y) // HOP
        for preset in presets:
            if preset == "torchaudio" and name in TORCHAUDIO_ERRORS:
                continue
            full = ref_librosa(y) if preset == "librosa" else ref_torchaudio(y)
            assert full.shape == (n_frames, N_MELS), full.shape
            rows = np.ascontiguousarray(full[::step], dtype=np.float32)
            exp = f"{name}.{preset}.npy"
            np.save(out / exp, rows)
            manifest_cases.append({
                "name": f"{name}" if preset == "librosa" else f"{name}_torchaudio",
                "audio": audio,
                "preset": preset,
                "expected": exp,
                "frame_step": step,
                "frames": int(n_frames),
                "sample_rate": int(sr),
                "channels": int(ch),
                "format": f"{fmt}/{subtype}",
                "source_samples": int(sf.info(path).frames),
                "samples_16k": int(len(y)),
            })
            print(f"{name:28s} {preset:10s} {sr:6d} {ch:2d} {n_frames:7d} {rows.shape[0]:6d}  {audio}")
            if args.check_system_libsndfile and preset == "librosa":
                check_system_decoder(name, path, full)

    manifest = {
        "description": "Reference log-mel outputs for the Swift `mel` tool; see make_mel_fixtures.py "
                       "for the exact librosa / torchaudio calls.",
        "generator": "make_mel_fixtures.py",
        "versions": versions(),
        "params": {"sr": SR, "n_fft": N_FFT, "hop_length": HOP, "win_length": N_FFT,
                   "n_mels": N_MELS, "librosa": {"fmin": 0.0, "fmax": 8000, "htk": False,
                                                 "norm": "slaney", "pad_mode": "constant",
                                                 "power": 2.0, "ref": "max", "amin": 1e-10,
                                                 "top_db": 80.0, "res_type": "soxr_hq"},
                   "torchaudio": {"f_min": 0.0, "f_max": 8000, "mel_scale": "htk", "norm": None,
                                  "pad_mode": "reflect", "window": "hann (periodic)",
                                  "power": 2.0, "stype": "power", "ref": 1.0,
                                  "amin": 1e-10, "top_db": 80.0}},
        "tolerance": {"mean_abs_db": 0.01, "max_abs_db": 0.1, "over_bins_where_expected_above_db": -60.0},
        "notes": [
            "expected arrays are float32 [rows, 128]; rows = ceil(frames / frame_step), rows are frames 0, step, 2*step, ...",
            "lossy cases (ogg/vorbis, opus, mp3): expected is computed from the file as python-soundfile's libsndfile decodes it",
            "torchaudio preset is undefined for short16k_300: torch.stft(center=True, pad_mode='reflect') raises when the "
            "16 kHz signal has <= n_fft/2 = 512 samples (reflect padding must be shorter than the input)",
        ],
        "torchaudio_error_cases": TORCHAUDIO_ERRORS,
        "cases": manifest_cases,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"{len(manifest_cases)} cases, folder size {total / 1e6:.2f} MB; versions: "
          + ", ".join(f"{k} {v}" for k, v in manifest['versions'].items() if k != 'espeak-ng'))
    digest = hashlib.sha256()
    for c in manifest_cases:
        digest.update((out / c["expected"]).read_bytes())
    print(f"sha256 of expected arrays: {digest.hexdigest()[:16]}")


if __name__ == "__main__":
    main()
