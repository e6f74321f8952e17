#!/usr/bin/env python3
"""Speed of the PyTorch reference tokenizer (Tests/Fixtures/model/reference_model.py),
the yardstick for the Swift bsq-encode / bsq-decode:

    python3 bench/model_reference.py [--preset tiny|small|base] [--threads N] [--runs R]
                                     [--impl fused|explicit]

Random init (the init rule), random mel in [-80, 0] dB. Times encode + decode
(codes → mel) of one 10.24 s chunk (1024 frames × 128 mels), and of a batch of
8 chunks run together, in float32 with inference BatchNorm; one warm-up of each,
then the median of R runs. --impl fused (default) lets torch use its fused
kernels for the same formulas (F.layer_norm, F.gelu, scaled_dot_product_attention,
grouped conv1d: what a PyTorch user would run); --impl explicit times the
step-by-step formulas the fixtures are computed with. Prints one JSON line:
{"preset", "threads", "ms_per_chunk_batch1", "ms_per_chunk_batch8", "gflop_per_chunk", "impl"}.

gflop_per_chunk counts the matmul and attention multiply-adds (2 FLOPs each) of
encode + decode of one chunk; LayerNorm, softmax, GELU, SiLU, BatchNorm, tanh and
the quantizer's norm are left out. With N = nt·nf tokens, P = pt·pf, width w,
mlp_ratio r, conv kernel K, bits L, decoder_ffn F, layers l:
  block   = 2N·(3w² + w² + 2r·w²)      qkv, out_proj, c_fc + c_proj
          + 2·2·N²·w                   q·kᵀ and softmax·v over all heads
          + 2N·(2w² + w·K + w²)        pointwise_conv1, depthwise, pointwise_conv2 (if conv_module)
  total   = 2·l·block                  encoder + decoder blocks
          + 2N·(P·w + w·L)             patch_embed, quant_embed
          + 2N·(L·w + w·F + F·P)       post_quant_embed, decoder ffn, conv_out
base (N 512, w 768, r 4, K 31, L 18, F 3072, l 12): ≈ 240.9 GFLOP per chunk.
"""
import argparse
import os
import sys


def parse():
    ap = argparse.ArgumentParser(description="Times the PyTorch reference tokenizer.")
    ap.add_argument("--preset", default="base", choices=["tiny", "small", "base"])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--impl", default="fused", choices=["fused", "explicit"])
    ap.add_argument("--batch", type=int, default=8, help="chunks in the batched run (default 8)")
    a = ap.parse_args()
    if a.threads < 1:
        ap.error(f"--threads must be >= 1 (got {a.threads})")
    if a.runs < 1:
        ap.error(f"--runs must be >= 1 (got {a.runs})")
    if a.batch < 1:
        ap.error(f"--batch must be >= 1 (got {a.batch})")
    return a


ARGS = parse()
for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import json  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "model"))
import reference_model as rm  # noqa: E402


def gflop_per_chunk(c):
    nt, nf = c["frames"] // c["patch_time"], c["n_mels"] // c["patch_freq"]
    N, P, w, r = nt * nf, c["patch_time"] * c["patch_freq"], c["width"], c["mlp_ratio"]
    K, L, F, layers = c["conv_kernel"], c["embed_dim"], c["decoder_ffn"], c["layers"]
    block = 2 * N * (3 * w * w + w * w + 2 * r * w * w) + 4 * N * N * w
    if c["conv_module"]:
        block += 2 * N * (2 * w * w + w * K + w * w)
    total = 2 * layers * block + 2 * N * (P * w + w * L) + 2 * N * (L * w + w * F + F * P)
    return total / 1e9


def time_ms(model, mel, batch):
    def once():
        s = time.perf_counter()
        codes, _ = model.encode(mel, batch=batch)
        model.decode(codes, mel.shape[0], batch=batch)
        return (time.perf_counter() - s) * 1000.0
    once()                                                   # warm-up
    return statistics.median(once() for _ in range(ARGS.runs))


def main():
    torch.set_num_threads(ARGS.threads)
    rm.use_fused(ARGS.impl == "fused")
    config = rm.PRESETS[ARGS.preset]
    model = rm.init_weights(rm.BSQAudioModel(config), torch.Generator().manual_seed(0)).eval()
    rng = np.random.default_rng(0)
    fr, nm = config["frames"], config["n_mels"]
    one = rng.uniform(-80, 0, (fr, nm)).astype(np.float32)
    many = rng.uniform(-80, 0, (ARGS.batch * fr, nm)).astype(np.float32)
    ms1 = time_ms(model, one, 1)
    ms8 = time_ms(model, many, ARGS.batch) / ARGS.batch
    print(json.dumps({"preset": ARGS.preset, "threads": ARGS.threads,
                      "ms_per_chunk_batch1": round(ms1, 2), "ms_per_chunk_batch8": round(ms8, 2),
                      "gflop_per_chunk": round(gflop_per_chunk(config), 3), "impl": ARGS.impl}))


if __name__ == "__main__":
    main()
