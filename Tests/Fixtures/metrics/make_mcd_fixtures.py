#!/usr/bin/env python3
"""Reference values of `wav-metrics`' `mcd`: the mel-cepstral distance of the
PyPI package mel-cepstral-distance 0.0.4 (Taubert and Sternkopf, after
Kubichek 1993), `compare_audio_files` with its defaults, on a few wav pairs.

Run from anywhere, in a venv with the reference installed:

    python3 -m venv /tmp/mcdvenv
    /tmp/mcdvenv/bin/pip install mel-cepstral-distance==0.0.4 librosa==0.11.0 soundfile
    /tmp/mcdvenv/bin/python Tests/Fixtures/metrics/make_mcd_fixtures.py

The pairs (paths relative to Tests/Fixtures):

  wave/metrics_{noisy16k,filtered8k,delayed44k}_{ref,hyp}.wav
      the committed wav-metrics pairs of ../wave/make_wave_fixtures.py
      (noise, a low-pass, a gain, a 40-sample delay; 8, 16 and 44.1 kHz)
  metrics/mcd_gl16k_{ref,hyp}.wav, metrics/mcd_gl22k_{ref,hyp}.wav  (written here)
      speech with pauses of digital silence and its Griffin-Lim resynthesis
      from the exact mel, as `mel a.wav | mel2wav` makes it (librosa's
      melspectrogram, power_to_db ref=max top_db=80, mel_to_stft, 32 seeded
      griffinlim iterations), 16-bit PCM at 16 and 22.05 kHz; from the clips
      ../mel/wav16k_mono_pcm16.wav and ../mel/wav22k_stereo_pcm16.wav (its
      channels averaged).
  metrics/mcd_gl16k_late_hyp.wav  (written here)
      the 16 kHz resynthesis 50 ms late (zeros before it, its end cut), against
      mcd_gl16k_ref.wav: six frames that only DTW puts back in place.

For each pair, as wav-metrics compares them: both files cut to the shorter
length (written to a temporary folder as the 16-bit PCM they were), then

    compare_audio_files(ref, hyp, **SETTINGS)                 -> mcd, penalty
    compare_audio_files(ref, hyp, **SETTINGS, aligning="pad") -> mcd_pad, penalty_pad

and the superseded figure of wav-metrics (now mcd_mel80) with the formula of
../wave/make_wave_fixtures.py. SETTINGS are the package's own defaults, spelled
out and checked against its signature. Writes mcd_expected.json next to this
script; deterministic (seeded phases), rerunning rewrites the same bytes.
"""
import inspect
import json
import logging
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

import librosa
import numpy as np
import scipy.fft
import soundfile as sf
from scipy.io import wavfile
from mel_cepstral_distance import compare_audio_files

HERE = Path(__file__).resolve().parent
FIXTURES = HERE.parent

SETTINGS = dict(sample_rate=None, n_fft=32, win_len=32, hop_len=8, window="hanning", fmin=0, fmax=None, M=20,
                s=1, D=16, aligning="dtw", align_target="mel", remove_silence="no", silence_threshold_A=None,
                silence_threshold_B=None, norm_audio=True, dtw_radius=10)

EXISTING = ["noisy16k", "filtered8k", "delayed44k"]
# name, clip, rate, n_fft, hop, n_mels, pauses (seconds of zeros before each piece), seed
GRIFFIN_LIM = [
    ("gl16k", "wav16k_mono_pcm16.wav", 16000, 1024, 160, 128, [0.15, 0.25, 0.1], 0),
    ("gl22k", "wav22k_stereo_pcm16.wav", 22050, 1024, 256, 80, [0.1, 0.2, 0.15], 1),
]


def with_pauses(x, sr, pauses):
    """x in len(pauses) - 1 pieces, each after its pause of zeros, the last pause at the end."""
    cuts = np.linspace(0, len(x), len(pauses), dtype=int)
    parts = []
    for i, p in enumerate(pauses):
        parts.append(np.zeros(int(p * sr)))
        if i + 1 < len(pauses):
            parts.append(x[cuts[i]:cuts[i + 1]])
    return np.concatenate(parts)


def griffin_lim_case(name, clip, sr, n_fft, hop, n_mels, pauses, seed):
    x, rate = sf.read(FIXTURES / "mel" / clip, dtype="float64")
    assert rate == sr
    x = x.mean(axis=1) if x.ndim == 2 else x
    x = with_pauses(x, sr, pauses)
    ref = f"mcd_{name}_ref.wav"
    sf.write(HERE / ref, x, sr, subtype="PCM_16")
    x, _ = sf.read(HERE / ref, dtype="float32")
    kw = dict(sr=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels, fmax=sr / 2)
    db = librosa.power_to_db(librosa.feature.melspectrogram(y=x, **kw), ref=np.max, amin=1e-10, top_db=80.0)
    S = librosa.feature.inverse.mel_to_stft(librosa.db_to_power(db), sr=sr, n_fft=n_fft, fmax=sr / 2)
    y = librosa.griffinlim(S, n_iter=32, hop_length=hop, n_fft=n_fft, momentum=0.99,
                           random_state=np.random.RandomState(seed))
    y = 0.9 * y / np.abs(y).max()
    hyp = f"mcd_{name}_hyp.wav"
    sf.write(HERE / hyp, y, sr, subtype="PCM_16")
    return name, "metrics/" + ref, "metrics/" + hyp


def late_case(name, of, seconds):
    y, sr = sf.read(HERE / f"mcd_{of}_hyp.wav", dtype="int16")
    y = np.concatenate([np.zeros(int(seconds * sr), dtype=np.int16), y])[: len(y)]
    hyp = f"mcd_{name}_hyp.wav"
    sf.write(HERE / hyp, y, sr, subtype="PCM_16")
    return name, f"metrics/mcd_{of}_ref.wav", "metrics/" + hyp


def mcd_mel80(x, y, sr):
    """wav-metrics' mcd before mel-cepstral-distance (../wave/make_wave_fixtures.py)."""
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


def case(name, ref, hyp, tmp):
    sr, x = wavfile.read(FIXTURES / ref)
    sr2, y = wavfile.read(FIXTURES / hyp)
    assert sr == sr2 and x.ndim == y.ndim == 1 and x.dtype == y.dtype == np.int16
    n = min(len(x), len(y))
    a, b = f"{tmp}/{name}_ref.wav", f"{tmp}/{name}_hyp.wav"
    wavfile.write(a, sr, x[:n])
    wavfile.write(b, sr, y[:n])
    mcd, penalty = compare_audio_files(a, b, **SETTINGS)
    mcd_pad, penalty_pad = compare_audio_files(a, b, **dict(SETTINGS, aligning="pad"))
    return {"name": name, "ref": ref, "hyp": hyp, "sample_rate": int(sr), "samples": int(n),
            "mcd": float(mcd), "penalty": float(penalty), "mcd_pad": float(mcd_pad), "penalty_pad": float(penalty_pad),
            "mcd_mel80": mcd_mel80(x[:n] / 32768.0, y[:n] / 32768.0, sr)}


def main():
    assert version("mel-cepstral-distance") == "0.0.4", version("mel-cepstral-distance")
    assert librosa.__version__ == "0.11.0", librosa.__version__
    defaults = {k: p.default for k, p in inspect.signature(compare_audio_files).parameters.items()
                if p.default is not inspect.Parameter.empty}
    assert defaults == SETTINGS, defaults
    logging.disable(logging.WARNING)        # "n_fft (32ms / 705 samples) should be a power of 2"
    pairs = [(n, f"wave/metrics_{n}_ref.wav", f"wave/metrics_{n}_hyp.wav") for n in EXISTING]
    pairs += [griffin_lim_case(*c) for c in GRIFFIN_LIM]
    pairs.append(late_case("gl16k_late", "gl16k", 0.05))
    with tempfile.TemporaryDirectory() as tmp:
        cases = [case(*p, tmp) for p in pairs]
    out = {"reference": "mel-cepstral-distance 0.0.4, compare_audio_files",
           "versions": {p: version(p) for p in ["mel-cepstral-distance", "fastdtw", "numpy", "scipy", "librosa"]},
           "settings": SETTINGS, "cases": cases}
    (HERE / "mcd_expected.json").write_text(json.dumps(out, indent=1) + "\n")
    for c in cases:
        print(f"{c['name']:>10}: mcd {c['mcd']:.4f} (pad {c['mcd_pad']:.4f}), mcd_mel80 {c['mcd_mel80']:.2f}",
              file=sys.stderr)


if __name__ == "__main__":
    main()
