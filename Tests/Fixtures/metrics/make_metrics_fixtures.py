#!/usr/bin/env python3
"""Fixtures for `spec-metrics`: small mel and codes streams, and the metrics
that man/man1/spec-metrics.1 defines, computed here in numpy float64.

Run from anywhere (needs numpy only; deterministic, rerunning rewrites the
same bytes):

    python3 Tests/Fixtures/metrics/make_metrics_fixtures.py

Writes, next to this script:

  ref.bsqt           3 reference mel frames (f32 [frames, n_mels], dB in [-80, 0],
                     metadata like mel's), keys spk1/utt-a, spk1/utt-b, "spk2/utt,c"
                     (a comma, to exercise CSV quoting); n_mels 16, 16, 20.
  hyp.bsqt           the same utterances, noisy and biased, clipped to [-80, 0],
                     in another order (c, a, b): matching must go by key.
  hyp_by_order.bsqt  hyp in ref's order under other keys (h0, h1, h2): only
                     --by-order matches it.
  codes.bsqt         kind "codes", u32, 12 bits (the top bit always 0), order (b, c, a).
  codes64.bsqt       kind "codes", u64, 40 bits, ref's order.
  expected.json      {"range": 80, "utterances": [per utterance, ref order],
                      "overall": pooled}; each holds mse, mae, rmse, psnr (range 80),
                     psnr_range100, lsd, sc, snr, frames, n_mels, values, and
                     "codes" / "codes64": bits, tokens, seconds, tokens_per_second,
                     bits_per_second, distinct, usage, entropy, perplexity, bit_entropy.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import bsqt  # noqa: E402

RANGE = 80.0
SR, HOP = 16000, 160
UTTS = [("spk1/utt-a", 37, 16), ("spk1/utt-b", 50, 16), ("spk2/utt,c", 23, 20)]


def mel_meta(key, n_mels):
    return {
        "kind": "mel", "key": key, "source": key + ".wav", "axes": ["time", "mel"],
        "mel": {"sample_rate": SR, "n_fft": 1024, "win_length": 1024, "hop_length": HOP, "n_mels": n_mels,
                "fmin": 0, "fmax": 8000, "mel_scale": "slaney", "norm": "slaney", "power": 2, "center": True,
                "pad_mode": "constant", "db": {"ref": "max", "amin": 1e-10, "top_db": 80}},
    }


def spectrogram(rng, t, f):
    """A smooth, speech-like dB spectrogram with its maximum at 0 and floor -80."""
    time = np.cumsum(rng.normal(0, 3, size=(t, 1)), axis=0)
    freq = -np.linspace(0, 40, f)[None, :] + rng.normal(0, 4, size=(1, f))
    x = time + freq + rng.normal(0, 2, size=(t, f))
    x = x - x.max()
    return np.maximum(x, -80).astype(np.float32)


def spec_sums(x, y):
    x, y = x.astype(np.float64), y.astype(np.float64)
    d = x - y
    px, py = 10.0 ** (x / 10), 10.0 ** (y / 10)
    return {"d": d.ravel(), "frame_lsd": np.sqrt(np.mean(d * d, axis=1)),
            "px2": np.sum(px * px), "err2": np.sum((px - py) ** 2), "frames": x.shape[0]}


def spec_metrics(parts):
    d = np.concatenate([p["d"] for p in parts])
    lsd = np.concatenate([p["frame_lsd"] for p in parts])
    px2 = sum(p["px2"] for p in parts)
    err2 = sum(p["err2"] for p in parts)
    mse = float(np.mean(d * d))
    return {
        "frames": int(sum(p["frames"] for p in parts)), "values": int(d.size),
        "mse": mse, "mae": float(np.mean(np.abs(d))), "rmse": float(np.sqrt(mse)),
        "psnr": float(10 * np.log10(RANGE ** 2 / mse)), "psnr_range100": float(10 * np.log10(100.0 ** 2 / mse)),
        "lsd": float(np.mean(lsd)), "sc": float(np.sqrt(err2) / np.sqrt(px2)),
        "snr": float(10 * np.log10(px2 / err2)),
    }


def code_stats(items, bits):
    """items: [(tokens as uint64 array, mel frames)]."""
    tok = np.concatenate([t.ravel() for t, _ in items]).astype(np.uint64)
    seconds = float(sum(f * HOP / SR for _, f in items))
    n = tok.size
    _, counts = np.unique(tok, return_counts=True)
    p = counts / n
    entropy = float(-np.sum(p * np.log2(p)))
    bit_entropy = []
    for k in range(bits):
        q = float(np.mean((tok >> np.uint64(bits - 1 - k)) & np.uint64(1)))
        h = 0.0
        if 0 < q < 1:
            h = -q * np.log2(q) - (1 - q) * np.log2(1 - q)
        bit_entropy.append(float(h))
    return {
        "bits": bits, "tokens": int(n), "seconds": seconds, "tokens_per_second": n / seconds,
        "bits_per_second": n / seconds * bits, "distinct": int(counts.size),
        "usage": counts.size / 2.0 ** bits, "entropy": entropy, "perplexity": float(2.0 ** entropy),
        "bit_entropy": bit_entropy,
    }


def codes_meta(key, frames, bits):
    return {"kind": "codes", "key": key, "axes": ["time", "freq"], "bits": bits, "frames": frames,
            "mel": {"sample_rate": SR, "hop_length": HOP, "n_mels": 128},
            "model": {"name": "fixture", "sha256": "0" * 64}}


def main():
    rng = np.random.default_rng(20261125)
    refs, hyps, codes, codes64 = {}, {}, {}, {}
    vocab = rng.integers(0, 1 << 11, size=300)          # 12-bit codes whose top bit is never set
    weights = rng.dirichlet(np.full(vocab.size, 0.3))
    for key, t, f in UTTS:
        x = spectrogram(rng, t, f)
        y = np.clip(x + rng.normal(1.5, 4.0, size=x.shape), -80, 0).astype(np.float32)
        refs[key], hyps[key] = x, y
        shape = ((t + 3) // 4, f // 4)
        codes[key] = rng.choice(vocab, size=shape, p=weights).astype(np.uint32)
        wide = rng.integers(0, 1 << 40, size=shape, dtype=np.uint64)
        wide[:, 0] = np.uint64(0x00F0_0000_0001)              # a repeated token
        codes64[key] = wide

    keys = [k for k, _, _ in UTTS]
    bsqt.write(os.path.join(HERE, "ref.bsqt"), [(refs[k], mel_meta(k, refs[k].shape[1])) for k in keys])
    order = [keys[2], keys[0], keys[1]]
    bsqt.write(os.path.join(HERE, "hyp.bsqt"), [(hyps[k], mel_meta(k, hyps[k].shape[1])) for k in order])
    bsqt.write(os.path.join(HERE, "hyp_by_order.bsqt"),
               [(hyps[k], mel_meta(f"h{i}", hyps[k].shape[1])) for i, k in enumerate(keys)])
    frames = {k: t for k, t, _ in UTTS}
    bsqt.write(os.path.join(HERE, "codes.bsqt"),
               [(codes[k], codes_meta(k, frames[k], 12)) for k in [keys[1], keys[2], keys[0]]])
    bsqt.write(os.path.join(HERE, "codes64.bsqt"), [(codes64[k], codes_meta(k, frames[k], 40)) for k in keys])

    utterances = []
    for k in keys:
        row = {"key": k, "n_mels": int(refs[k].shape[1])}
        row.update(spec_metrics([spec_sums(refs[k], hyps[k])]))
        row["codes"] = code_stats([(codes[k], frames[k])], 12)
        row["codes64"] = code_stats([(codes64[k], frames[k])], 40)
        utterances.append(row)
    overall = {"utterances": len(keys)}
    overall.update(spec_metrics([spec_sums(refs[k], hyps[k]) for k in keys]))
    overall["codes"] = code_stats([(codes[k], frames[k]) for k in keys], 12)
    overall["codes64"] = code_stats([(codes64[k], frames[k]) for k in keys], 40)
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump({"range": RANGE, "utterances": utterances, "overall": overall}, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
