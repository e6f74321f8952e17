#!/usr/bin/env python3
"""Code entropy of a codes stream (bsq-encode output), split by what the tokens cover:

    python3 experiment/code_entropy.py heldout.codes [--patch-time 16]

`spec-metrics --codes` pools every token of the stream. The last chunk of an
utterance is padded with db_min up to a whole chunk (docs/model.md, "Any length"),
so short files add many tokens of pure padding. A token row i covers mel
frames [i*patch_time, (i+1)*patch_time); rows at or after ceil(frames/patch_time)
(`frames` from each frame's metadata) cover only padding. Prints the plug-in
entropy (bits per token), the count and the distinct codes over all tokens,
over the tokens that cover audio, and over the padding tokens.
"""
import argparse
import json
import math
import struct
import sys
from collections import Counter

WIDTH = {6: "I", 9: "Q"}   # BSQT dtype codes of u32 and u64 (bsqt(5))


def frames(path):
    """Yield (metadata, rows of tokens) for every codes frame of a BSQT file (standard library only)."""
    buf = open(path, "rb").read()
    off = 0
    while off < len(buf):
        if buf[off:off + 4] != b"BSQT":
            sys.exit(f"code_entropy: {path}: not a BSQT stream at byte {off}")
        dt, rank, flags = buf[off + 5], buf[off + 6], buf[off + 7]
        (mlen,) = struct.unpack_from("<I", buf, off + 8)
        dims = struct.unpack_from(f"<{rank}Q", buf, off + 12)
        p = off + 12 + 8 * rank
        meta = json.loads(buf[p:p + mlen])
        p += mlen
        (plen,) = struct.unpack_from("<Q", buf, p)
        p += 8
        if meta.get("kind") != "codes" or dt not in WIDTH or rank != 2 or flags & 1:
            sys.exit(f"code_entropy: {path}: frame at byte {off} is not an uncompressed codes frame")
        values = struct.unpack_from(f"<{dims[0] * dims[1]}{WIDTH[dt]}", buf, p)
        yield meta, [values[i * dims[1]:(i + 1) * dims[1]] for i in range(dims[0])]
        off = p + plen + 4


def entropy(counts):
    n = sum(counts.values())
    return -sum(c / n * math.log2(c / n) for c in sorted(counts.values())) if n else 0.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("codes")
    ap.add_argument("--patch-time", type=int, default=16)
    a = ap.parse_args()
    parts = {"all": Counter(), "audio": Counter(), "padding": Counter()}
    for meta, rows in frames(a.codes):
        real = math.ceil(meta["frames"] / a.patch_time)
        for i, row in enumerate(rows):
            for v in row:
                parts["all"][v] += 1
                parts["audio" if i < real else "padding"][v] += 1
    for name, c in parts.items():
        print(f"{name:8s} tokens {sum(c.values()):7d}  distinct {len(c):7d}  entropy {entropy(c):6.3f} bits/token")


if __name__ == "__main__":
    main()
