#!/usr/bin/env python3
"""Makes the adversarial-loss fixtures (issue 19) with PyTorch autograd on
reference_discriminator.py; deterministic, run from anywhere:

    python3 Tests/Fixtures/model/make_disc_fixture.py

Two cases, each from torch.manual_seed(0), ndf 8, batch 2, float32:
  expected_disc.safetensors      n_layers 3, image 64 x 64 (frames x n_mels)
  expected_disc_nl2.safetensors  n_layers 2, image 64 x 32
(n_layers 3 needs both sides >= 48: a 32-wide image shrinks to width 0 before
the last conv, so the 32-mel case uses n_layers 2.)

Draw order after the seed: the discriminator's init (conv weights N(0, 0.02),
BatchNorm weights N(1, 0.02), in module order), real = tanh(randn), fake =
tanh(randn), nll_grad = 0.1 randn(16, 24), g_grad = 0.01 randn(16, 24).

Tensors (F32, little-endian, sorted keys, byte-reproducible):
  real, fake                      [2, 1, H, W]
  discriminator.network.<i>.weight|bias|running_mean|running_var
                                  initial state (running 0 / 1; num_batches_tracked not stored)
  logits_real = D(real), logits_fake = D(fake.detach())   two separate training-mode calls
  grad.discriminator.network.<i>.weight|bias              ∂d_loss/∂parameter
  running_after_d.discriminator.network.<i>.running_mean|running_var
                                  after both calls (real first, then fake)
  g_logits = D'(fake_g)           D' a fresh copy of the initial discriminator (running reset)
  grad_fake                       ∂g_loss/∂fake_g, g_loss = -mean(g_logits)   [2, 1, H, W]
  running_after_g.discriminator.network.<i>.running_mean|running_var   D' after its one call
  nll_grad, g_grad                [16, 24]
__metadata__ (JSON strings): ndf, n_layers, frames, n_mels, batch, d_loss, g_loss,
  disc_weight (0.5), d_weight = adaptive_weight(nll_grad, g_grad, 0.5),
  bn_eps, bn_momentum, leaky_slope, torch.

Checks: a float64 re-run from the same draws (printed relative errors, a guide
to the float32 tolerance); writing twice gives the same bytes; the file reads
back with a plain parser.
"""
import copy
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference_discriminator as rd  # noqa: E402

NDF, BATCH, DISC_WEIGHT = 8, 2, 0.5
CASES = [
    (HERE / "expected_disc.safetensors", 3, 64, 64),
    (HERE / "expected_disc_nl2.safetensors", 2, 64, 32),
]


def draws(n_layers, H, W):
    torch.manual_seed(0)
    d = rd.PatchGANDiscriminator(ndf=NDF, n_layers=n_layers)
    real = torch.tanh(torch.randn(BATCH, 1, H, W))
    fake = torch.tanh(torch.randn(BATCH, 1, H, W))
    nll_grad = 0.1 * torch.randn(16, 24)
    g_grad = 0.01 * torch.randn(16, 24)
    return d, real, fake, nll_grad, g_grad


def state(d, prefix, keys=("weight", "bias", "running_mean", "running_var")):
    out = {}
    for k, v in d.state_dict().items():
        if k.rsplit(".", 1)[1] in keys:
            out[prefix + "network." + k.split("network.", 1)[1]] = v.detach().clone()
    return out


def run(n_layers, H, W, dtype):
    d0, real, fake, nll_grad, g_grad = draws(n_layers, H, W)
    d0 = d0.to(dtype)
    real, fake, nll_grad, g_grad = (t.to(dtype) for t in (real, fake, nll_grad, g_grad))
    out = {"real": real, "fake": fake, "nll_grad": nll_grad, "g_grad": g_grad}
    out.update(state(d0, "discriminator."))

    # D step: two separate calls, hinge loss, backward into the parameters
    d = copy.deepcopy(d0).train()
    logits_real = d(real)
    logits_fake = d(fake.detach())
    d_loss = rd.hinge_d_loss(logits_real, logits_fake)
    d_loss.backward()
    out["logits_real"], out["logits_fake"] = logits_real.detach(), logits_fake.detach()
    for name, p in d.named_parameters():
        out["grad.discriminator." + name] = p.grad.detach().clone()
    out.update(state(d, "running_after_d.discriminator.", ("running_mean", "running_var")))

    # G side: a fresh copy of the initial discriminator, gradient into the fake image
    dg = copy.deepcopy(d0).train()
    fake_g = fake.clone().requires_grad_(True)
    g_logits = dg(fake_g)
    g_loss = rd.g_loss(g_logits)
    (grad_fake,) = torch.autograd.grad(g_loss, fake_g)
    out["g_logits"], out["grad_fake"] = g_logits.detach(), grad_fake
    out.update(state(dg, "running_after_g.discriminator.", ("running_mean", "running_var")))

    d_weight = rd.adaptive_weight(nll_grad, g_grad, DISC_WEIGHT)
    scalars = {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach()),
               "d_weight": float(d_weight)}
    return out, scalars


def save(path, tensors, meta):
    """safetensors by hand: 8-byte LE header length, JSON header with __metadata__ first,
    tensors in sorted key order, F32 little-endian, header padded with spaces to 8 bytes."""
    header = {"__metadata__": meta}
    blobs, off = [], 0
    for k in sorted(tensors):
        a = np.ascontiguousarray(tensors[k].detach().to(torch.float32).numpy(), dtype="<f4")
        b = a.tobytes()
        header[k] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    data = struct.pack("<Q", len(h)) + h + b"".join(blobs)
    Path(path).write_bytes(data)
    return data


def load(path):
    raw = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__")
    base = 8 + n
    out = {}
    for k, v in header.items():
        assert v["dtype"] == "F32"
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(raw[base + s:base + e], dtype="<f4").reshape(v["shape"])
    return out, meta


def make(path, n_layers, H, W):
    tensors, sc = run(n_layers, H, W, torch.float32)
    ref64, sc64 = run(n_layers, H, W, torch.float64)
    meta = {
        "ndf": json.dumps(NDF), "n_layers": json.dumps(n_layers), "frames": json.dumps(H),
        "n_mels": json.dumps(W), "batch": json.dumps(BATCH),
        "d_loss": json.dumps(sc["d_loss"]), "g_loss": json.dumps(sc["g_loss"]),
        "disc_weight": json.dumps(DISC_WEIGHT), "d_weight": json.dumps(sc["d_weight"]),
        "bn_eps": json.dumps(rd.BN_EPS), "bn_momentum": json.dumps(rd.BN_MOMENTUM),
        "leaky_slope": json.dumps(rd.LEAKY_SLOPE), "torch": torch.__version__,
    }
    data = save(path, tensors, meta)
    tensors2, _ = run(n_layers, H, W, torch.float32)
    assert save(path, tensors2, meta) == data, "not byte-reproducible"
    back, meta_back = load(path)
    assert meta_back == meta and sorted(back) == sorted(tensors)
    for k, v in tensors.items():
        assert np.array_equal(back[k], v.to(torch.float32).numpy()), k
        assert np.isfinite(back[k]).all(), k

    print(f"{path.name}: {len(data)} bytes, n_layers {n_layers}, image {H}x{W}, "
          f"logits {list(tensors['logits_real'].shape)}")
    for k in ("d_loss", "g_loss", "d_weight"):
        print(f"  {k} = {sc[k]!r}   (float64: {sc64[k]!r}, |diff| {abs(sc[k] - sc64[k]):.1e})")
    # the bias of a conv followed by BatchNorm has a true gradient of exactly 0 (the batch
    # mean removes it): its float32 value is rounding noise, compared in absolute terms
    structural = {f"grad.discriminator.network.{i - 1}.bias"
                  for i, m in enumerate(rd.PatchGANDiscriminator(NDF, n_layers).network)
                  if isinstance(m, torch.nn.BatchNorm2d)}
    worst_rel, worst_key, worst_zero = 0.0, "", 0.0
    for k, v in tensors.items():
        a, b = v.double(), ref64[k]
        abs_err = float((a - b).abs().max())
        if k in structural:
            assert float(b.abs().max()) < 1e-12, k
            worst_zero = max(worst_zero, float(a.abs().max()))
        elif k.startswith(("grad", "logits", "g_logits", "running_after")):
            rel = abs_err / max(float(b.abs().max()), 1e-30)
            if rel > worst_rel:
                worst_rel, worst_key = rel, k
    print(f"  worst float32/float64 error relative to the tensor's max: {worst_key} {worst_rel:.1e}")
    print(f"  structural-zero grads ({', '.join(sorted(structural))}): float32 |value| <= {worst_zero:.1e}")
    for k in sorted(tensors):
        if not k.startswith(("discriminator.", "grad.", "running_after")):
            print(f"  {k:14s} {list(tensors[k].shape)}")
    g = {k: v for k, v in tensors.items() if k.startswith("grad.")}
    print(f"  {len(g)} grad.* tensors, max |grad| {max(float(v.abs().max()) for v in g.values()):.3e}")


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    for path, n_layers, H, W in CASES:
        make(path, n_layers, H, W)


if __name__ == "__main__":
    main()
