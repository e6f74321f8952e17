#!/usr/bin/env python3
"""Build the reference fixtures `mel2wav` and `wav-metrics` are tested against.

Run from anywhere:
    python3 Tests/Fixtures/wave/make_wave_fixtures.py

Needs, from PyPI, librosa==0.11.0 (with its numpy/scipy), soundfile and
pystoi==0.4.1.  Reuses the speech-like clips of ../mel/ (made by
../mel/make_mel_fixtures.py) and writes, next to this script:

mel2wav cases (vocoder_<name>.mel, vocoder_<name>.npy):
    the log-mel frame, computed here with librosa from the clip (not with the
    Swift `mel`), with the analysis in its metadata as `mel` records it, and
    the waveform librosa makes back from it:

        M = librosa.db_to_power(db)                 # times ref when ref is a number
        S = librosa.feature.inverse.mel_to_stft(M, sr=..., n_fft=..., power=...,
                fmin=..., fmax=..., htk=..., norm=...)
        y = librosa.griffinlim(S, n_iter=ITERS, hop_length=..., win_length=...,
                n_fft=..., center=..., pad_mode=..., momentum=MOMENTUM,
                init="random" with random_state=np.random.RandomState(SEED),
                or init=None for zero phase, dtype=np.float32)

    which is librosa.feature.inverse.mel_to_audio with a seeded phase
    (mel_to_audio itself draws from an unseeded generator). y is stored as
    librosa returns it; for ref=max frames mel2wav scales to a peak of 0.9,
    and the test scales y the same way.

wav-metrics cases (metrics_<name>_ref.wav, metrics_<name>_hyp.wav):
    a clip and a degraded copy (noise, filtering, gain, delay; some a little
    shorter), and in manifest.json the values computed here from the files as
    written, both cut to the shorter length:
        stoi  = pystoi.stoi(x, y, sr), estoi = pystoi.stoi(x, y, sr, extended=True)
        si_snr: 10 log10(|s|^2 / |y' - s|^2), s = <y', x'> x' / |x'|^2, x', y' zero-mean
        mcd: 13 MFCC-like cepstra of 1/2 ln max(M, 1e-8 max(M_ref)), M =
             melspectrogram(n_fft=1024, hop_length=sr // 100, n_mels=80, fmax=sr/2), by
             scipy.fft.dct(type=2, norm="ortho"), c0 dropped;
             mean over frames of 10/ln(10) * sqrt(2 * sum_d (c_d - c'_d)^2)

Deterministic (fixed seeds; ESTOI's tiny random jitter seeded too).
"""
import json
import sys
from pathlib import Path

import numpy as np
import scipy.fft
import scipy.optimize
import scipy.signal
import soundfile as sf
import librosa
import pystoi

HERE = Path(__file__).resolve().parent
MEL = HERE.parent / "mel"
sys.path.insert(0, str(HERE.parent))
import bsqt  # noqa: E402

DEFAULT = dict(sample_rate=16000, n_fft=1024, win_length=1024, hop_length=160, n_mels=128, fmin=0.0, fmax=8000.0,
               mel_scale="slaney", norm="slaney", power=2.0, center=True, pad_mode="constant",
               db={"ref": "max", "amin": 1e-10, "top_db": 80.0})

VOCODER_CASES = [
    # name, clip, analysis changes, mel2wav args, iters, momentum, init seed (None: zeros)
    ("default", "wav16k_mono_pcm16.wav", {}, [], 32, 0.99, 0),
    ("seed7_iters8", "wav16k_mono_pcm16.wav", {}, ["--seed", "7", "--iters", "8"], 8, 0.99, 7),
    ("ref1_fft512_hop128_mels80_reflect", "wav16k_mono_pcm16.wav",
     dict(n_fft=512, win_length=400, hop_length=128, n_mels=80, fmin=20.0, fmax=7600.0, pad_mode="reflect",
          db={"ref": 1.0, "amin": 1e-10, "top_db": None}),
     ["--seed", "3", "--momentum", "0.5", "--iters", "16"], 16, 0.5, 3),
    ("htk_power1", "wav8k_mono_pcm16.wav",
     dict(sample_rate=8000, fmax=4000.0, n_mels=64, mel_scale="htk", power=1.0),
     ["--seed", "5"], 32, 0.99, 5),
    # not exact (see "exact" in the manifest): with peak-1 triangles the NNLS starting
    # point misses scipy's pgtol and L-BFGS-B takes steps mel2wav does not reproduce,
    # and from zero phase Griffin-Lim is ill-conditioned (librosa's own output moves
    # by 4% of its peak when |S| moves by 1e-6)
    ("htk_nonorm_zeros", "wav8k_mono_pcm16.wav",
     dict(sample_rate=8000, fmax=4000.0, n_mels=64, mel_scale="htk", norm="none", power=1.0),
     ["--init-phase", "zeros"], 32, 0.99, None),
    ("short_no_center", "short16k_800.wav", dict(center=False, n_fft=256, win_length=256, hop_length=64, n_mels=32),
     ["--seed", "1"], 32, 0.99, 1),
]

METRIC_CASES = [
    # name, clip, degradation seed, snr dB, lowpass Hz, gain, delay samples, samples dropped at the end
    ("noisy16k", "wav16k_mono_pcm16.wav", 1, 5.0, None, 0.8, 0, 0),
    ("filtered8k", "wav8k_mono_pcm16.wav", 2, 15.0, 1500.0, 1.2, 3, 37),
    ("delayed44k", "wav44k_mono_pcm16.wav", 3, 0.0, 4000.0, 0.5, 40, 441),
]


def analysis_kwargs(a):
    return dict(sr=a["sample_rate"], n_fft=a["n_fft"], hop_length=a["hop_length"], win_length=a["win_length"],
                center=a["center"], pad_mode=a["pad_mode"], power=a["power"], n_mels=a["n_mels"], fmin=a["fmin"],
                fmax=a["fmax"], htk=a["mel_scale"] == "htk", norm="slaney" if a["norm"] == "slaney" else None)


def vocoder_case(name, clip, changes, args, iters, momentum, seed):
    a = dict(DEFAULT)
    a.update(changes)
    y, _ = librosa.load(MEL / clip, sr=a["sample_rate"])
    kw = analysis_kwargs(a)
    S = librosa.feature.melspectrogram(y=y, window="hann", **kw)
    ref = a["db"]["ref"]
    db = librosa.power_to_db(S, ref=np.max if ref == "max" else ref, amin=a["db"]["amin"], top_db=a["db"]["top_db"])
    db = np.ascontiguousarray(db.T.astype(np.float32))                      # [frames, n_mels]
    meta = {"kind": "mel", "key": "vocoder_" + name, "source": clip, "axes": ["time", "mel"], "mel": a}
    (HERE / f"vocoder_{name}.mel").write_bytes(bsqt.encode(db, meta))

    M = librosa.db_to_power(db.T)
    if ref != "max":
        M = M * np.float32(ref)
    Smag = librosa.feature.inverse.mel_to_stft(M, sr=a["sample_rate"], n_fft=a["n_fft"], power=a["power"],
                                               fmin=a["fmin"], fmax=a["fmax"], htk=a["mel_scale"] == "htk",
                                               norm=kw["norm"])
    out = librosa.griffinlim(Smag, n_iter=iters, hop_length=a["hop_length"], win_length=a["win_length"],
                             n_fft=a["n_fft"], window="hann", center=a["center"], pad_mode=a["pad_mode"],
                             momentum=momentum, init=None if seed is None else "random",
                             random_state=np.random.RandomState(0 if seed is None else seed), dtype=np.float32)
    np.save(HERE / f"vocoder_{name}.npy", out.astype(np.float32))
    # librosa's answer is X0 = max(0, pinv(A) M) exactly when L-BFGS-B stops at once
    A = librosa.filters.mel(sr=a["sample_rate"], n_fft=a["n_fft"], n_mels=a["n_mels"], fmin=a["fmin"], fmax=a["fmax"],
                            htk=a["mel_scale"] == "htk", norm=kw["norm"], dtype=np.float32)
    x0 = np.clip(np.einsum("fm,...mt->...ft", np.linalg.pinv(A), M, optimize=True), 0, None)
    _, _, info = scipy.optimize.fmin_l_bfgs_b(librosa.util._nnls._nnls_obj, x0, args=(x0.shape, A, M),
                                              bounds=[(0, None)] * x0.size, m=A.shape[1])
    exact = info["nit"] == 0 and seed is not None
    return {"name": name, "mel": f"vocoder_{name}.mel", "expected": f"vocoder_{name}.npy", "args": args,
            "frames": int(db.shape[0]), "samples": int(len(out)), "sample_rate": a["sample_rate"],
            "normalized_peak": 0.9 if ref == "max" else None, "peak": float(np.abs(out).max()), "exact": exact}


def si_snr(x, y):
    x = x - x.mean()
    y = y - y.mean()
    s = (y @ x) / (x @ x) * x
    return float(10 * np.log10((s @ s) / ((y - s) @ (y - s))))


def mcd(x, y, sr):
    kw = dict(sr=sr, n_fft=1024, hop_length=sr // 100, win_length=1024, window="hann", center=True,
              pad_mode="constant", power=2.0, n_mels=80, fmin=0.0, fmax=sr / 2, htk=False, norm="slaney")
    A = librosa.feature.melspectrogram(y=x.astype(np.float32), **kw).astype(np.float64)
    B = librosa.feature.melspectrogram(y=y.astype(np.float32), **kw).astype(np.float64)
    floor = max(A.max() * 1e-8, 1e-30)
    ca = scipy.fft.dct(0.5 * np.log(np.maximum(A, floor)), type=2, norm="ortho", axis=0)[1:13]
    cb = scipy.fft.dct(0.5 * np.log(np.maximum(B, floor)), type=2, norm="ortho", axis=0)[1:13]
    t = min(ca.shape[1], cb.shape[1])
    d = ca[:, :t] - cb[:, :t]
    return float(np.mean(10 / np.log(10) * np.sqrt(2 * np.sum(d * d, axis=0))))


def metric_case(name, clip, seed, snr, lowpass, gain, delay, drop):
    x, sr = sf.read(MEL / clip, dtype="float64")
    rng = np.random.default_rng(seed)
    y = x.copy()
    if lowpass:
        b, a = scipy.signal.butter(4, lowpass / (sr / 2))
        y = scipy.signal.lfilter(b, a, y)
    y = np.concatenate([np.zeros(delay), y])[: len(x)]
    noise = rng.standard_normal(len(y))
    y = y + noise * np.sqrt(np.mean(y ** 2) / np.mean(noise ** 2) / 10 ** (snr / 10))
    y = gain * y / max(1.0, np.abs(y).max() / 0.95)
    y = y[: len(y) - drop]
    sf.write(HERE / f"metrics_{name}_ref.wav", x, sr, subtype="PCM_16")
    sf.write(HERE / f"metrics_{name}_hyp.wav", y, sr, subtype="PCM_16")
    xr, _ = sf.read(HERE / f"metrics_{name}_ref.wav", dtype="float64")
    yr, _ = sf.read(HERE / f"metrics_{name}_hyp.wav", dtype="float64")
    n = min(len(xr), len(yr))
    xr, yr = xr[:n], yr[:n]
    np.random.seed(0)
    return {"name": name, "ref": f"metrics_{name}_ref.wav", "hyp": f"metrics_{name}_hyp.wav", "sample_rate": sr,
            "samples": n, "stoi": float(pystoi.stoi(xr, yr, sr)), "estoi": float(pystoi.stoi(xr, yr, sr, extended=True)),
            "si_snr": si_snr(xr, yr), "mcd": mcd(xr, yr, sr)}


def main():
    assert librosa.__version__ == "0.11.0", librosa.__version__
    vocoder = [vocoder_case(*c) for c in VOCODER_CASES]
    metrics = [metric_case(*c) for c in METRIC_CASES]
    manifest = {
        "versions": {"librosa": librosa.__version__, "numpy": np.__version__,
                     "scipy": __import__("scipy").__version__, "pystoi": "0.4.1"},
        "tolerance": {"samples": 1e-3, "stoi": 1e-3, "estoi": 1e-3, "si_snr_db": 1e-3, "mcd_db": 1e-3},
        "vocoder": vocoder, "metrics": metrics}
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.is_file())
    print(f"{len(vocoder)} vocoder cases, {len(metrics)} metric cases, {total / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
