#!/usr/bin/env python3
"""Makes the fixture of one masked (SimMIM-style) training step (issue 19), computed by
PyTorch autograd on reference_model.py; deterministic, run from anywhere:

    python3 Tests/Fixtures/model/make_mask_fixture.py

Model: micro18's plain weights (micro18.safetensors) with "mask_token": true in the
config, and encoder.mask_token [width = 32] = torch.randn(32) · 0.02 right after
torch.manual_seed(0) (float32). Training mode, as make_grad_fixture.py.

Input: as make_grad_fixture.py, utt1 frames 0..255 of mel_input.bsqt as 2 chunks of 128.

Mask [2, N], N = (128/16)·(32/16) = 16 tokens per chunk, token n = it·nf + jf:
with g = torch.Generator().manual_seed(1), for chunk b = 0 then 1,
torch.randperm(N, generator=g)[:⌊0.4·N⌋] (6 tokens) are masked. A masked token's
patch embedding is replaced by mask_token before the positional embedding is added:
h[b, n] = (mask[b, n] ? mask_token : patch_embed(p)[b, n]) + positional_embedding[n].

Loss: model.loss(X, step=500, mask=mask, l1_over=...) with every other default,
straight-through on, back-propagated once, in two cases:
  "all"     L1 mean over every element (as make_grad_fixture.py)
  "masked"  L1 mean over the elements of the masked patches only (element (b, t, f)
            counts when token (t // 16)·nf + f // 16 of chunk b is masked)

Output: expected_micro18_mask.safetensors (F32, sorted keys, byte-reproducible)
  "init.encoder.mask_token"      the mask token the step starts from [32]
  "mask"                         [2, 16] of 0/1
  "all.grad." + K, "masked.grad." + K
                                 ∂total/∂K for every parameter K, encoder.mask_token included
  __metadata__  "all_<term>", "masked_<term>" for term in total, l1, commit, h_ps, h_cb,
                l_q, lambda_q: each a JSON number (string); "step": "500",
                "straight_through": "true", "mask_ratio": "0.4", "config": JSON config

Checks (abort on failure): the embedding rows are mask_token + pos exactly where masked;
the masked L1 against a brute-force element → token loop; the float64 re-run agrees per
key (< 1e-3 relative); float64 central differences of 3 entries of encoder.mask_token and
3 of encoder.patch_embed.weight, straight-through off (the decoder gets stopgrad(q), as in
make_grad_fixture.py), for the masked case: the float32 gradient agrees within 1e-3
relative; writing twice gives the same bytes.
"""
import json
import math
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import make_grad_fixture as mg  # noqa: E402  (batch(), save())
import reference_model as rm  # noqa: E402

CKPT = HERE / "micro18.safetensors"
OUT = HERE / "expected_micro18_mask.safetensors"
STEP = 500
RATIO = 0.4
CASES = ("all", "masked")
TERMS = ("total", "l1", "commit", "h_ps", "h_cb", "l_q", "lambda_q")
STRUCTURAL_ZERO = ".conv.depthwise_conv.bias"


def config_and_weights():
    config, _, raw, _ = rm.read_checkpoint(str(CKPT))
    assert not any(k.startswith("ema.") for k in raw)
    config = dict(config, mask_token=True)
    torch.manual_seed(0)
    token = torch.randn(config["width"]) * 0.02
    state = {k: raw[k].to(torch.float32) for k in rm.expected_shapes(config) if k != "encoder.mask_token"}
    state["encoder.mask_token"] = token
    return config, state


def make_mask(N, B=2):
    g = torch.Generator().manual_seed(1)
    k = math.floor(RATIO * N)
    mask = torch.zeros(B, N)
    for b in range(B):
        mask[b, torch.randperm(N, generator=g)[:k]] = 1.0
    return mask


def model(dtype, delta=None):
    config, state = config_and_weights()
    m = rm.BSQAudioModel(config)
    m.load_state_dict(state, strict=True)
    m = m.to(dtype).train()
    if delta is not None:
        key, idx, d = delta
        with torch.no_grad():
            dict(m.named_parameters())[key].view(-1)[idx] += d
    return m


def step(dtype, case, straight=True):
    """One forward + backward. Returns (terms, {grad.K})."""
    m = model(dtype)
    X = mg.batch().to(dtype)
    mask = make_mask(m.N)
    seen = {}
    orig_encode, orig_decode = m.encode_chunks, m.decode_chunks

    def encode_chunks(X, trace=None, mask=None):
        tr = {}
        h, z, u = orig_encode(X, tr, mask=mask)
        seen["u"], seen["embed"], seen["patches"] = u.detach(), tr["enc.embed"].detach(), tr["enc.patches"].detach()
        return h, z, u

    def decode_chunks(q, trace=None):
        want = m.quantize(seen["u"])
        assert torch.equal(q.detach(), want), "q is not exactly sign(u)/sqrt(L)"
        y, db = orig_decode(q if straight else want, trace)
        seen["y"] = y.detach()
        return y, db

    m.encode_chunks, m.decode_chunks = encode_chunks, decode_chunks
    m.zero_grad(set_to_none=True)
    total, t = m.loss(X, step=STEP, mask=mask, l1_over=case)
    total.backward()
    terms = {"total": total.item()}
    terms.update({k: float(t[k].item() if torch.is_tensor(t[k]) else t[k]) for k in TERMS[1:]})

    # the embedding: mask_token + pos where masked, patch_embed(p) + pos elsewhere (exactly)
    e = m.encoder
    with torch.no_grad():
        pe = e.patch_embed(seen["patches"])
        for b in range(2):
            for n in range(m.N):
                src = e.mask_token if mask[b, n] else pe[b, n]
                assert torch.equal(seen["embed"][b, n], src + e.positional_embedding[n]), (b, n)
        # the L1 by the element → token rule, independent of unpatchify
        x = m.normalize(X)
        err = (torch.clamp(seen["y"], -1, 1) - x).abs()
        pt, pf = m.config["patch_time"], m.config["patch_freq"]
        tok = (torch.arange(m.config["frames"])[:, None] // pt) * m.nf + torch.arange(m.config["n_mels"])[None, :] // pf
        sel = mask[:, tok] != 0                                                  # [B, frames, n_mels]
        want = err[sel].mean() if case == "masked" else err.mean()
        assert abs(float(want) - terms["l1"]) <= 1e-6 * abs(float(want)), (case, float(want), terms["l1"])

    params = dict(m.named_parameters())
    assert set(params) | {k for k, _ in m.named_buffers()} == set(rm.expected_shapes(m.config))
    assert "encoder.mask_token" in params
    grads = {}
    for k, p in params.items():
        assert p.grad is not None, f"no gradient for {k}"
        grads["grad." + k] = p.grad.detach().clone()
    return terms, grads


def loss_at(key, idx, d):
    """float64 masked-case total with key[idx] moved by d (no straight-through needed away from sign flips)."""
    m = model(torch.float64, (key, idx, d))
    with torch.no_grad():
        return float(m.loss(mg.batch().to(torch.float64), step=STEP, mask=make_mask(m.N), l1_over="masked")[0])


def finite_differences(eps=1e-6):
    _, g32 = step(torch.float32, "masked", straight=False)
    _, g64 = step(torch.float64, "masked", straight=False)
    gen = torch.Generator().manual_seed(7)
    print("\nfinite differences (float64, straight-through off, masked case) vs autograd")
    print(f"{'key':30s} {'idx':>5s} {'fd (f64)':>14s} {'autograd f32':>14s} {'rel f32':>9s} {'rel f64':>9s}")
    worst = 0.0
    for k in ("encoder.mask_token", "encoder.patch_embed.weight"):
        g, g_ = g32["grad." + k].reshape(-1), g64["grad." + k].reshape(-1)
        idxs = [int(g_.abs().argmax())] + torch.randint(0, g.numel(), (2,), generator=gen).tolist()
        for idx in idxs:
            fd = (loss_at(k, idx, eps) - loss_at(k, idx, -eps)) / (2 * eps)
            e32 = abs(float(g[idx]) - fd) / abs(fd)
            e64 = abs(float(g_[idx]) - fd) / abs(fd)
            print(f"{k:30s} {idx:5d} {fd:14.6e} {float(g[idx]):14.6e} {e32:9.2e} {e64:9.2e}")
            assert e32 < 1e-3, (k, idx, fd, float(g[idx]))
            worst = max(worst, e32)
    print(f"worst float32 vs finite-difference relative error: {worst:.2e}")


def rel_err(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / max(float(b.norm()), 1e-30))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    config, state = config_and_weights()
    N = (config["frames"] // config["patch_time"]) * (config["n_mels"] // config["patch_freq"])
    mask = make_mask(N)
    print(f"N = {N}, masked per chunk = {int(mask[0].sum())}")
    for b in range(2):
        print(f"chunk {b}: masked tokens {[n for n in range(N) if mask[b, n]]}")
    print("mask:", mask.to(torch.int64).tolist())
    print("init mask_token:", [round(v, 6) for v in state["encoder.mask_token"].tolist()])

    res = {c: step(torch.float32, c) for c in CASES}
    ref = {c: step(torch.float64, c) for c in CASES}
    assert res["all"][0]["l1"] != res["masked"][0]["l1"]
    for c in CASES:
        terms, grads = res[c]
        t64, g64 = ref[c]
        print(f"\n== {c}: terms", json.dumps(terms))
        for k in TERMS:
            assert math.isfinite(terms[k]) and abs(terms[k] - t64[k]) <= 1e-5 * (1 + abs(t64[k])), (k, terms[k], t64[k])
        worst = 0.0
        for k in sorted(grads):
            g = grads[k]
            assert torch.isfinite(g).all(), k
            if k.endswith(STRUCTURAL_ZERO):
                assert float(g64[k].abs().max()) < 1e-14 and float(g.abs().max()) < 1e-7, k
                continue
            e = rel_err(g, g64[k])
            assert float(g.norm()) > 1e-6 and e < 1e-3, (k, float(g.norm()), e)
            worst = max(worst, e)
        print(f"grad.encoder.mask_token norm {float(grads['grad.encoder.mask_token'].norm()):.4e}; "
              f"worst float32/float64 relative gradient error {worst:.2e}")
    finite_differences()

    tensors = {"init.encoder.mask_token": state["encoder.mask_token"], "mask": mask}
    meta = {"step": str(STEP), "straight_through": "true", "mask_ratio": str(RATIO),
            "config": json.dumps(config),
            "source": "make_mask_fixture.py: reference_model.py autograd, float32, micro18 plain weights + "
                      "mask_token, utt1 frames 0..255 as 2 chunks of 128"}
    for c in CASES:
        terms, grads = res[c]
        tensors.update({f"{c}.{k}": v for k, v in grads.items()})
        meta.update({f"{c}_{k}": json.dumps(terms[k]) for k in TERMS})
    a = mg.save(OUT, tensors, meta)
    again = {"init.encoder.mask_token": state["encoder.mask_token"], "mask": mask}
    for c in CASES:
        terms2, grads2 = step(torch.float32, c)
        assert terms2 == res[c][0]
        again.update({f"{c}.{k}": v for k, v in grads2.items()})
    b = mg.save(OUT, again, meta)
    assert a == b, "not reproducible"
    assert len(a) < 1_000_000, len(a)
    print(f"\n{OUT.name}: {len(a)} bytes, {len(tensors)} tensors")
    print("metadata:", json.dumps({k: v for k, v in meta.items() if k.startswith(CASES)}, indent=1))


if __name__ == "__main__":
    main()
