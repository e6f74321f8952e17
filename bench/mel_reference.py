#!/usr/bin/env python3
"""Throughput of the reference log-mel pipelines the Swift `mel` tool is
measured against, on ONE core.

    python3 bench/mel_reference.py --impl librosa|torchaudio FILE_OR_FOLDER...

Does for every file the whole job the `mel` tool does with its defaults:
decode with soundfile (libsndfile) to float32, average the channels, resample
to 16 kHz with soxr 'soxr_hq' and fix the length to ceil(n * 16000 / sr)
(exactly what librosa.load(path, sr=16000) does), then

  --impl librosa:     librosa.feature.melspectrogram(n_fft=1024, hop_length=160,
                      n_mels=128, fmax=8000, pad_mode="constant", slaney)
                      + librosa.power_to_db(ref=np.max, amin=1e-10, top_db=80)
  --impl torchaudio:  torchaudio.transforms.MelSpectrogram(16000, n_fft=1024,
                      hop_length=160, n_mels=128)
                      + torchaudio.transforms.AmplitudeToDB("power", top_db=80)

The whole pipeline runs once on the first file before timing (imports, FFT
plans, numba/torch start-up).  Prints one JSON line:
{"impl", "audio_seconds", "wall_seconds", "x_realtime", "files"}.
"""
import os

# one core: before numpy/torch load their thread pools
for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402

SR = 16000
AUDIO_EXT = {".wav", ".flac", ".ogg", ".opus", ".mp3", ".aiff", ".aif", ".au"}


def expand(paths):
    """Files as given; folders searched recursively (sorted) for audio files."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXT
                          and not any(part.startswith(".") for part in f.relative_to(p).parts))
        else:
            out.append(p)
    return out


def load16k(path):
    """librosa.load(path, sr=16000), step by step. Returns (y, source seconds)."""
    with sf.SoundFile(path) as f:
        sr = f.samplerate
        x = f.read(dtype="float32", always_2d=True)     # [frames, channels]
    seconds = len(x) / sr
    y = x[:, 0] if x.shape[1] == 1 else np.mean(x.T, axis=0)   # librosa.to_mono, float32
    if sr != SR:
        n = int(math.ceil(y.shape[-1] * (float(SR) / sr)))    # librosa.resample's length rule
        y = soxr.resample(y, sr, SR, quality="soxr_hq")
        y = y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))
    return np.ascontiguousarray(y, dtype=np.float32), seconds


def make_librosa():
    import librosa

    def run(y):
        S = librosa.feature.melspectrogram(
            y=y, sr=SR, n_fft=1024, hop_length=160, win_length=1024, window="hann", center=True,
            pad_mode="constant", power=2.0, n_mels=128, fmin=0.0, fmax=8000, htk=False, norm="slaney")
        return librosa.power_to_db(S, ref=np.max, amin=1e-10, top_db=80.0).T
    return run


def make_torchaudio():
    import torch
    import torchaudio
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:            # already set once in this process
        pass
    mel = torchaudio.transforms.MelSpectrogram(SR, n_fft=1024, hop_length=160, n_mels=128)
    db = torchaudio.transforms.AmplitudeToDB("power", top_db=80)

    def run(y):
        with torch.inference_mode():
            return db(mel(torch.from_numpy(y))).numpy().T
    return run


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", help="audio files, or folders searched recursively")
    ap.add_argument("--impl", choices=("librosa", "torchaudio"), required=True)
    ap.add_argument("--cpu", type=int, default=None,
                    help="pin the process to this CPU (default: the first one it may use)")
    ap.add_argument("--check", action="store_true",
                    help="during the warm-up, require the decode step to equal librosa.load exactly")
    args = ap.parse_args()

    if hasattr(os, "sched_setaffinity"):
        cpu = args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})

    files = expand(args.paths)
    if not files:
        sys.exit("mel_reference.py: no audio files")
    mel = make_librosa() if args.impl == "librosa" else make_torchaudio()

    # warm-up: the whole job once, untimed
    y, _ = load16k(files[0])
    mel(y)
    if args.check:
        import librosa
        ref, _ = librosa.load(files[0], sr=SR)
        assert ref.shape == y.shape and np.array_equal(ref, y), "load16k differs from librosa.load"

    audio_seconds = 0.0
    t0 = time.perf_counter()
    for f in files:
        y, seconds = load16k(f)
        out = mel(y)
        assert out.shape == (1 + len(y) // 160, 128), (f, out.shape)
        audio_seconds += seconds
    wall = time.perf_counter() - t0
    print(json.dumps({"impl": args.impl, "audio_seconds": round(audio_seconds, 3),
                      "wall_seconds": round(wall, 4), "x_realtime": round(audio_seconds / wall, 2),
                      "files": len(files)}))


if __name__ == "__main__":
    main()
