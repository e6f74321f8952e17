#!/usr/bin/env python3
"""Throughput of librosa's mel_to_audio, what `mel2wav` is measured against, on ONE core.

    python3 bench/mel2wav_reference.py [--iters 32] [--cpu N] FRAMES.mel

For every mel frame of the BSQT stream (as `mel` writes them, with their
analysis in the metadata) does what `mel2wav --iters N` does:

    M = librosa.db_to_power(dB.T)
    S = librosa.feature.inverse.mel_to_stft(M, sr, n_fft, power, fmin, fmax, htk, norm)
    y = librosa.griffinlim(S, n_iter=N, hop_length, win_length, n_fft, center,
                           pad_mode, momentum=0.99, random_state=RandomState(0))

(= librosa.feature.inverse.mel_to_audio with a seeded phase) and scales y to a
peak of 0.9.  The first frame runs once untimed (imports, numba).  Prints one
JSON line: {"impl", "audio_seconds", "wall_seconds", "x_realtime", "frames"}.
"""
import os

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS",
           "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import librosa  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Tests" / "Fixtures"))
import bsqt  # noqa: E402


def invert(db, a, iters):
    M = librosa.db_to_power(db.T)
    S = librosa.feature.inverse.mel_to_stft(M, sr=a["sample_rate"], n_fft=a["n_fft"], power=a["power"],
                                            fmin=a["fmin"], fmax=a["fmax"], htk=a["mel_scale"] == "htk",
                                            norm="slaney" if a["norm"] == "slaney" else None)
    y = librosa.griffinlim(S, n_iter=iters, hop_length=a["hop_length"], win_length=a["win_length"],
                           n_fft=a["n_fft"], center=a["center"], pad_mode=a["pad_mode"], momentum=0.99,
                           random_state=np.random.RandomState(0), dtype=np.float32)
    return y * (0.9 / np.abs(y).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("frames")
    ap.add_argument("--iters", type=int, default=32)
    ap.add_argument("--cpu", type=int, default=None)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu if args.cpu is not None else min(os.sched_getaffinity(0))})
    frames = list(bsqt.frames(Path(args.frames).read_bytes()))
    meta, db = frames[0]
    invert(db, meta["mel"], args.iters)
    seconds = 0.0
    t0 = time.perf_counter()
    for meta, db in frames:
        y = invert(db, meta["mel"], args.iters)
        seconds += len(y) / meta["mel"]["sample_rate"]
    wall = time.perf_counter() - t0
    print(json.dumps({"impl": "librosa", "audio_seconds": round(seconds, 3), "wall_seconds": round(wall, 4),
                      "x_realtime": round(seconds / wall, 3), "frames": len(frames)}))


if __name__ == "__main__":
    main()
