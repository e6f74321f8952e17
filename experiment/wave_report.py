#!/usr/bin/env python3
"""PESQ-WB of decoded speech against its reference, for make experiment.

    python3 experiment/wave_report.py REF_DIR HYP_DIR [--json]

REF_DIR and HYP_DIR hold 16 kHz mono 16-bit wav files matched by name (what
experiment/run.sh makes with sox and mel2wav -o DIR/). Prints the mean wide-band
PESQ (ITU-T P.862.2, the `pesq` package, mode "wb") over the pairs, and how many
pairs it could score (PESQ refuses clips without enough speech). Only the
experiment uses Python; the tools stay Python-free.
"""
import json
import sys
import wave
from pathlib import Path

import numpy as np
from pesq import pesq


def read(path):
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2, f"{path}: expected 16-bit mono"
        rate = w.getframerate()
        x = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768
    return rate, x


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    ref_dir, hyp_dir = map(Path, args)
    scores, failed = [], []
    for ref in sorted(ref_dir.glob("*.wav")):
        hyp = hyp_dir / ref.name
        if not hyp.exists():
            failed.append(ref.name)
            continue
        (r1, a), (r2, b) = read(ref), read(hyp)
        assert r1 == r2 == 16000, f"{ref.name}: rates {r1}, {r2}"
        n = min(len(a), len(b))
        try:
            scores.append(pesq(16000, a[:n], b[:n], "wb"))
        except Exception:                     # too little speech for PESQ
            failed.append(ref.name)
    out = {"pesq_wb": float(np.mean(scores)) if scores else None, "scored": len(scores), "unscored": len(failed)}
    print(json.dumps(out) if "--json" in sys.argv else
          f"PESQ-WB {out['pesq_wb']:.3f} over {len(scores)} files ({len(failed)} not scored)")


if __name__ == "__main__":
    main()
