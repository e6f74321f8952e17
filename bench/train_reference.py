#!/usr/bin/env python3
"""Training speed of the PyTorch reference tokenizer (Tests/Fixtures/model/reference_model.py),
the yardstick for `bsq-train train`:

    python3 bench/train_reference.py [--preset tiny|small|base] [--batch B] [--threads N]
                                     [--steps S] [--warmup W] [--impl fused|explicit]

Random init (the init rule), float32, one random mel batch in [-80, 0] dB of
shape [B, frames, n_mels] used for every step. One training step is what one
step of bsq-train's Trainer does: zero_grad, forward with BatchNorm in training
mode, the loss of docs/model.md ("Training loss", reference_model.loss), backward,
clip_grad_norm_(1.0), torch.optim.AdamW (betas (0.9, 0.99), eps 1e-8, weight
decay 1e-4 on tensors of two or more dimensions only) and the EMA update of
the weights (decay 0.999, torch._foreach_lerp_). W warm-up steps, then the
median of S timed steps. --impl as in bench/model_reference.py: fused
(default) lets torch use its fused kernels (F.layer_norm, F.gelu,
scaled_dot_product_attention, grouped conv1d); explicit runs the step-by-step
formulas. Prints one JSON line:
{"preset", "batch", "threads", "ms_per_step", "steps_per_s", "samples_per_s",
 "peak_rss_mb", "gflop_per_step", "impl"}
peak_rss_mb is the process's peak resident set (getrusage ru_maxrss, KiB on
Linux), so it includes the torch libraries themselves.

gflop_per_step = 3 × batch × the forward GFLOP of one chunk (backward ≈ twice
the forward), the forward counted as in bench/model_reference.py (matmul and
attention multiply-adds, 2 FLOPs each): tiny 6.60, small 33.28, base 240.8 GFLOP
per chunk, so 158.4, 798.7 and 5779 GFLOP per step at batch 8.
"""
import argparse
import os
import sys


def parse():
    ap = argparse.ArgumentParser(description="Times training steps of the PyTorch reference tokenizer.")
    ap.add_argument("--preset", default="tiny", choices=["tiny", "small", "base"])
    ap.add_argument("--batch", type=int, default=8, help="chunks per step (default 8)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first (default 1)")
    ap.add_argument("--impl", default="fused", choices=["fused", "explicit"])
    a = ap.parse_args()
    if a.threads < 1:
        ap.error(f"--threads must be >= 1 (got {a.threads})")
    if a.batch < 1:
        ap.error(f"--batch must be >= 1 (got {a.batch})")
    if a.steps < 1:
        ap.error(f"--steps must be >= 1 (got {a.steps})")
    if a.warmup < 0:
        ap.error(f"--warmup must be >= 0 (got {a.warmup})")
    return a


ARGS = parse()
for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_v] = str(ARGS.threads)

import json  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "model"))
import reference_model as rm  # noqa: E402

# TrainConfig's defaults (Sources/BSQAudio/Train/TrainingConfig.swift)
LR, BETAS, EPS, WEIGHT_DECAY, CLIP, EMA = 3e-4, (0.9, 0.99), 1e-8, 1e-4, 1.0, 0.999


def gflop_per_chunk(c):
    """Forward matmul + attention FLOPs of one chunk (encode + decode), as in bench/model_reference.py."""
    nt, nf = c["frames"] // c["patch_time"], c["n_mels"] // c["patch_freq"]
    N, P, w, r = nt * nf, c["patch_time"] * c["patch_freq"], c["width"], c["mlp_ratio"]
    K, L, F, layers = c["conv_kernel"], c["embed_dim"], c["decoder_ffn"], c["layers"]
    block = 2 * N * (3 * w * w + w * w + 2 * r * w * w) + 4 * N * N * w
    if c["conv_module"]:
        block += 2 * N * (2 * w * w + w * K + w * w)
    total = 2 * layers * block + 2 * N * (P * w + w * L) + 2 * N * (L * w + w * F + F * P)
    return total / 1e9


def main():
    torch.set_num_threads(ARGS.threads)
    rm.use_fused(ARGS.impl == "fused")
    config = rm.PRESETS[ARGS.preset]
    model = rm.init_weights(rm.BSQAudioModel(config), torch.Generator().manual_seed(0)).train()
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    plain = [p for p in params if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY},
                             {"params": plain, "weight_decay": 0.0}], lr=LR, betas=BETAS, eps=EPS)
    ema = [p.detach().clone() for p in params]
    live = [p.detach() for p in params]
    rng = np.random.default_rng(0)
    X = torch.from_numpy(rng.uniform(-80, 0, (ARGS.batch, config["frames"], config["n_mels"])).astype(np.float32))

    def step(s):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss, _ = model.loss(X, s)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        with torch.no_grad():
            torch._foreach_lerp_(ema, live, 1.0 - EMA)              # ema ← ema + (1 − d)·(p − ema)
        if not torch.isfinite(loss):
            raise SystemExit(f"train_reference: step {s + 1}: the loss is {loss.item()}")
        return (time.perf_counter() - t0) * 1000.0

    for s in range(ARGS.warmup):
        step(s)
    ms = statistics.median(step(ARGS.warmup + i) for i in range(ARGS.steps))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0   # KiB on Linux
    print(json.dumps({"preset": ARGS.preset, "batch": ARGS.batch, "threads": ARGS.threads,
                      "ms_per_step": round(ms, 2), "steps_per_s": round(1000.0 / ms, 4),
                      "samples_per_s": round(1000.0 * ARGS.batch / ms, 3), "peak_rss_mb": round(peak, 1),
                      "gflop_per_step": round(3 * ARGS.batch * gflop_per_chunk(config), 3),
                      "impl": ARGS.impl}))


if __name__ == "__main__":
    main()
