#!/usr/bin/env python3
"""Makes the fixture of one optimizer step after the training step of
make_grad_fixture.py; deterministic, run from anywhere:

    python3 Tests/Fixtures/model/make_adamw_fixture.py

Input: micro18.safetensors (plain weights) and the straight-through gradients
of expected_micro18_grads.safetensors (PyTorch autograd of one training step).
What `bsq-train` does after the backward, in PyTorch:

    torch.nn.utils.clip_grad_norm_(params, 1.0)
    torch.optim.AdamW([{params with ndim >= 2, weight_decay 1e-4}, {the rest, weight_decay 0}],
                      lr=1e-3, betas=(0.9, 0.99), eps=1e-8).step()
    ema = 0.99 * weights_before + 0.01 * weights_after   (the EMA starts at the initial weights)

Output: expected_micro18_adamw.safetensors, F32, sorted keys:
    "after." + K   every parameter after the step (BatchNorm running stats are buffers: unchanged)
    "ema." + K     the EMA after the step
    __metadata__   "grad_norm": the norm before clipping, "lr", "ema"
"""
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_grad_fixture as mg  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

OUT = HERE / "expected_micro18_adamw.safetensors"
LR, EMA = 1e-3, 0.99


def main():
    torch.set_num_threads(1)
    m = mg.model(torch.float32)
    grads = load_file(str(HERE / "expected_micro18_grads.safetensors"))
    params = dict(m.named_parameters())
    before = {k: p.detach().clone() for k, p in params.items()}
    for k, p in params.items():
        p.grad = grads["grad." + k].clone()
    norm = torch.nn.utils.clip_grad_norm_(list(params.values()), 1.0)
    decay = [p for p in params.values() if p.ndim >= 2]
    plain = [p for p in params.values() if p.ndim < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 1e-4}, {"params": plain, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.99), eps=1e-8)
    opt.step()
    out = {}
    for k, p in params.items():
        out["after." + k] = p.detach().clone()
        out["ema." + k] = before[k] * EMA + p.detach() * (1 - EMA)
    meta = {"grad_norm": repr(float(norm)), "lr": repr(LR), "ema": repr(EMA)}
    first = mg.save(OUT, out, meta)
    assert mg.save(OUT, out, meta) == first
    moved = max(float((out["after." + k] - before[k]).abs().max()) for k in params)
    print(f"grad norm {float(norm):.6g}; largest weight change {moved:.3g}; wrote {OUT.name}")


if __name__ == "__main__":
    main()
