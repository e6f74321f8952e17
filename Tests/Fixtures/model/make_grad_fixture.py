#!/usr/bin/env python3
"""Makes the fixtures for one training step (docs/model.md, "Training loss"), computed
by PyTorch autograd on reference_model.py; deterministic, run from anywhere:

    python3 Tests/Fixtures/model/make_grad_fixture.py

Input: micro18.safetensors (its plain weights, float32) and the first 256
frames of utt1 in mel_input.bsqt as a batch of 2 chunks of 128 frames
(chunk 0 = frames 0..127, chunk 1 = frames 128..255).

The model is in training mode (BatchNorm normalises with the batch statistics
over all tokens of the batch, biased variance, and updates its running stats
with momentum 0.1 and the unbiased variance); `loss(X, step=500)` with the
defaults (beta 0.25, gamma0 = gamma = zeta = 1, inv_temp 1, lq 0.1,
ramp_steps 2000, ramp_mult 3) is back-propagated once.

Outputs (safetensors, F32, tensors in sorted key order, byte-reproducible):
  expected_micro18_grads.safetensors
      "grad." + K     ∂total/∂K for every parameter K of docs/model.md (not the running stats)
      "running." + K  every BatchNorm running_mean / running_var after the forward's update
      __metadata__    "terms": JSON {total, l1, commit, h_ps, h_cb, l_q, lambda_q},
                      "step": "500", "straight_through": "true"
  expected_micro18_grads_nostraight.safetensors
      the same with the straight-through gradient disabled: the decoder gets
      q = stopgrad(sign(u))/√L, so no gradient flows from the decoder into u
      (the encoder learns only from L_q); "straight_through": "false".
      Forward values, terms, running stats and every decoder / post_quant_embed
      gradient equal the first file's; the encoder / quant_embed gradients differ.

Checks (abort on failure): q's value is exactly sign(u)/√L in both modes; the
decoder gradients agree between the modes and the encoder ones do not; every
gradient is finite and not all tiny; a float64 re-run agrees (relative error
per key printed, as a guide to the float32 tolerance); writing twice gives the
same bytes.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import bsqt  # noqa: E402
import reference_model as rm  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

CKPT = HERE / "micro18.safetensors"
MEL = HERE / "mel_input.bsqt"
STEP = 500
OUTS = {True: HERE / "expected_micro18_grads.safetensors",
        False: HERE / "expected_micro18_grads_nostraight.safetensors"}
STRUCTURAL_ZERO = ".conv.depthwise_conv.bias"
TERMS = ("total", "l1", "commit", "h_ps", "h_cb", "l_q", "lambda_q")


def batch():
    mel = {m["key"]: a for m, a in bsqt.read(MEL)}["utt1"]
    assert mel.shape == (300, 32) and mel.dtype == np.float32, mel.shape
    X = np.stack([mel[0:128], mel[128:256]])                                  # [2, 128, 32]
    return torch.from_numpy(X.copy())


def model(dtype):
    """micro18's plain weights (the file holds no ema.*), training mode."""
    config, _, raw, _ = rm.read_checkpoint(str(CKPT))
    assert not any(k.startswith("ema.") for k in raw)
    m = rm.BSQAudioModel(config)
    m.load_state_dict({k: raw[k].to(torch.float32) for k in rm.expected_shapes(config)}, strict=True)
    return m.to(dtype).train()


def step(dtype, straight):
    """One forward + backward. Returns (terms, {grad.K}, {running.K}, min |u|)."""
    m = model(dtype)
    X = batch().to(dtype)
    inv_sqrt_l = 1.0 / math.sqrt(m.L)
    seen = {}
    orig_decode = m.decode_chunks
    orig_encode = m.encode_chunks

    def encode_chunks(X, trace=None):
        h, z, u = orig_encode(X, trace)
        seen["u"] = u.detach()
        return h, z, u

    def decode_chunks(q, trace=None):
        want = m.quantize(seen["u"])                                          # sign(u)/√L, zero → −1
        assert torch.equal(q.detach(), want), "q is not exactly sign(u)/sqrt(L)"
        return orig_decode(q if straight else want, trace)                    # stopgrad(sign(u))/√L

    m.encode_chunks, m.decode_chunks = encode_chunks, decode_chunks
    m.zero_grad(set_to_none=True)
    total, t = m.loss(X, step=STEP)                                           # all defaults
    total.backward()
    terms = {"total": total.item()}
    terms.update({k: float(t[k].item() if torch.is_tensor(t[k]) else t[k]) for k in TERMS[1:]})
    params = dict(m.named_parameters())
    buffers = dict(m.named_buffers())
    keys = rm.expected_shapes(m.config)
    assert set(params) | set(buffers) == set(keys) and not set(params) & set(buffers)
    assert all("running_" in k for k in buffers) and not any("running_" in k for k in params)
    grads = {}
    for k, p in params.items():
        assert p.grad is not None, f"no gradient for {k}"
        grads["grad." + k] = p.grad.detach().clone()
    running = {"running." + k: b.detach().clone() for k, b in buffers.items()}
    return terms, grads, running, float(seen["u"].abs().min())


def save(path, tensors, meta):
    """safetensors written byte for byte reproducibly (as make_model_fixtures.save): header JSON
    with __metadata__ first, tensors in sorted key order, F32, header padded to a multiple of 8."""
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for k in sorted(tensors):
        t = tensors[k].to(torch.float32).contiguous()
        b = t.numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    data = len(h).to_bytes(8, "little") + h + b"".join(blobs)
    Path(path).write_bytes(data)
    back = load_file(str(path))
    assert len(back) == len(tensors) and all(torch.equal(back[k], tensors[k].to(torch.float32)) for k in tensors)
    return data


def loss_at(key, idx, delta, straight=False):
    """float64 total loss with parameter key[idx] moved by delta (no straight-through needed:
    away from sign flips the nostraight loss is a smooth function of every parameter)."""
    m = model(torch.float64)
    with torch.no_grad():
        dict(m.named_parameters())[key].view(-1)[idx] += delta
    orig = m.decode_chunks
    m.decode_chunks = lambda q, trace=None: orig(q if straight else q.detach(), trace)
    with torch.no_grad():
        return float(m.loss(batch().to(torch.float64), step=STEP)[0])


def finite_differences(ref, eps=1e-6):
    """Central differences in float64 of a few entries: every parameter for the nostraight
    gradients (encoder ones included), decoder ones for the straight-through gradients."""
    g = torch.Generator().manual_seed(7)
    worst = 0.0
    for k in ("encoder.patch_embed.weight", "encoder.blocks.0.conv.depthwise_conv.weight",
              "encoder.blocks.1.attn.in_proj_weight", "encoder.ln_post.weight", "quant_embed.weight",
              "quant_embed.bias", "post_quant_embed.weight", "decoder.blocks.1.conv.batch_norm.weight",
              "decoder.conv_out.bias"):
        for straight in (False, True):
            if straight and not k.startswith(("decoder.", "post_quant_embed.")):
                continue
            grad = ref[straight][1]["grad." + k].reshape(-1)
            for idx in torch.randint(0, grad.numel(), (3,), generator=g).tolist() + [int(grad.abs().argmax())]:
                fd = (loss_at(k, idx, eps, straight) - loss_at(k, idx, -eps, straight)) / (2 * eps)
                e = abs(fd - float(grad[idx])) / max(float(grad.abs().max()), 1e-30)
                worst = max(worst, e)
                assert e < 1e-5, (k, idx, straight, fd, float(grad[idx]))
    print(f"\nfinite differences (float64) vs autograd: worst error relative to max|g| of the key {worst:.2e}")


def rel_err(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / max(float(b.norm()), 1e-30))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    res = {s: step(torch.float32, s) for s in (True, False)}
    ref = {s: step(torch.float64, s) for s in (True, False)}

    (t_st, g_st, r_st, minu), (t_ns, g_ns, r_ns, _) = res[True], res[False]
    print(f"min |u| over the batch: {minu:.3g}  (float64: {ref[True][3]:.3g})")
    assert t_st == t_ns, "terms differ between the modes"
    assert all(torch.equal(r_st[k], r_ns[k]) for k in r_st), "running stats differ between the modes"
    dec = [k for k in g_st if k.startswith(("grad.decoder.", "grad.post_quant_embed."))]
    enc = [k for k in g_st if k.startswith(("grad.encoder.", "grad.quant_embed."))]
    assert len(dec) + len(enc) == len(g_st)
    assert all(torch.equal(g_st[k], g_ns[k]) for k in dec), "decoder gradients differ between the modes"
    assert all(not torch.equal(g_st[k], g_ns[k]) for k in enc), "an encoder gradient ignores the straight-through path"

    for s in (True, False):
        terms, grads, running, _ = res[s]
        t64, g64, r64, _ = ref[s]
        print(f"\n== straight_through={s}")
        print("terms:", json.dumps(terms))
        for k in TERMS:
            assert math.isfinite(terms[k])
            assert abs(terms[k] - t64[k]) <= 1e-5 * (1 + abs(t64[k])), (k, terms[k], t64[k])
        worst = 0.0
        print(f"{'key':56s} {'norm':>10s} {'max|g|':>10s} {'rel err vs f64':>14s}")
        for k in sorted(grads):
            g = grads[k]
            assert torch.isfinite(g).all(), k
            e = rel_err(g, g64[k])
            print(f"{k:56s} {float(g.norm()):10.3e} {float(g.abs().max()):10.3e} {e:14.2e}")
            if k.endswith(STRUCTURAL_ZERO):
                # a bias right before training-mode BatchNorm cancels in the mean: ∂/∂bias = 0 exactly
                assert float(g64[k].abs().max()) < 1e-14 and float(g.abs().max()) < 1e-7, k
                continue
            assert float(g.norm()) > 1e-6, f"{k}: gradient is tiny"
            assert e < 1e-3, f"{k}: float32 vs float64 {e}"
            worst = max(worst, e)
        for k in sorted(running):
            assert torch.isfinite(running[k]).all(), k
            assert rel_err(running[k], r64[k]) < 1e-5, k
        print(f"worst float32/float64 relative gradient error (structural zeros aside): {worst:.2e}")
    finite_differences(ref)

    sizes = {}
    for s, path in OUTS.items():
        terms, grads, running, _ = res[s]
        meta = {"terms": json.dumps({k: terms[k] for k in TERMS}), "step": str(STEP),
                "straight_through": "true" if s else "false",
                "source": "make_grad_fixture.py: reference_model.py autograd, float32, micro18 plain weights, "
                          "utt1 frames 0..255 as 2 chunks of 128"}
        a = save(path, {**grads, **running}, meta)
        # a second forward/backward from scratch must give the same bytes
        terms2, grads2, running2, _ = step(torch.float32, s)
        b = save(path, {**grads2, **running2}, meta)
        assert a == b and terms2 == terms, f"{path.name}: not reproducible"
        sizes[path.name] = len(a)
        assert len(a) < 500_000, f"{path.name}: {len(a)} bytes"
    print()
    for n, sz in sizes.items():
        print(f"{n}: {sz} bytes")


if __name__ == "__main__":
    main()
