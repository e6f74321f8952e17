#!/usr/bin/env python3
"""Makes the fixture of one adversarial training step (issue 19): the tokenizer's
generator step with the PatchGAN term and the discriminator's step right after,
in the order of BSQ-ViT's VQLPIPSWithDiscriminator, by PyTorch autograd on
reference_model.py and reference_discriminator.py; deterministic, run from anywhere:

    python3 Tests/Fixtures/model/make_adv_fixture.py

Input: as make_grad_fixture.py (micro18's plain weights, training mode, float32,
straight-through on; X = utt1 frames 0..255 as 2 chunks of 128, [2, 128, 32] dB),
STEP 500; D = PatchGANDiscriminator(ndf 8, n_layers 2) built right after
torch.manual_seed(0), training mode; disc_weight 0.5, disc_factor 1.

Generator step:
    x      = model.normalize(X)                                  [2, 128, 32] in [-1, 1]
    y      = decode_chunks' y: conv_out's patches un-patchified  [2, 128, 32]
             (y[b, it*pt + a, jf*pf + c] = patch token it*nf + jf, element a*pf + c)
    x_hat  = clamp(y, -1, 1);  nll = mean|x_hat - x|  (== model.loss's l1, asserted)
    logits_fake_g = D(x_hat.unsqueeze(1))     (train mode: batch statistics of this call,
                                               the running statistics updated once)
    g_loss = -mean(logits_fake_g)
    d_weight = clamp(|dnll/dW| / (|dg_loss/dW| + 1e-4), 0, 1e4).detach() * 0.5,
               W = decoder.conv_out.weight
    total  = nll + d_weight * 1 * g_loss + lambda_q * L_q    (L_q, lambda_q from model.loss)
    backward -> grad.<K> for every tokenizer parameter; running.<K> its BatchNorm buffers.
Discriminator step (same D object, grads zeroed first):
    logits_real = D(x.unsqueeze(1)), logits_fake = D(x_hat.detach().unsqueeze(1))   two calls
    d_loss = 1 * 0.5 * (mean relu(1 - real) + mean relu(1 + fake)); backward.

Output expected_micro18_adv.safetensors (F32, sorted keys, byte-reproducible):
    grad.<K>, running.<K>                      tokenizer (keys of docs/model.md)
    disc.init.discriminator.network.<i>.weight|bias|running_mean|running_var   D before anything
    disc.grad.discriminator.network.<i>.weight|bias     dd_loss/dparameter
    disc.running.discriminator.network.<i>.running_mean|running_var   after all three D calls
    __metadata__ (JSON strings): l1, g_loss, d_weight, d_loss, lambda_q, l_q, total,
    logits_real_mean, logits_fake_mean, step, ndf, n_layers, disc_weight, disc_factor, ...

Checks: the terms equal model.loss's; a float64 re-run agrees; a float64 central
difference of total (straight-through off, d_weight held at its float32 value) agrees
with the float32 straight-through-off gradient for entries of 3 tokenizer parameters;
writing twice gives the same bytes; the file is < 1 MB.
"""
import json
import math
import sys
from pathlib import Path

import torch
from safetensors import safe_open

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_grad_fixture as mgf  # noqa: E402  (batch, model, save)
import reference_discriminator as rd  # noqa: E402

STEP = 500
NDF, N_LAYERS = 8, 2
DISC_WEIGHT, DISC_FACTOR = 0.5, 1.0
OUT = HERE / "expected_micro18_adv.safetensors"
LAST_LAYER = "decoder.conv_out.weight"
FD_KEYS = ("decoder.conv_out.weight", "decoder.blocks.1.attn.in_proj_weight", "post_quant_embed.weight")


def discriminator(dtype):
    torch.manual_seed(0)
    return rd.PatchGANDiscriminator(ndf=NDF, n_layers=N_LAYERS).to(dtype).train()


def d_state(d, prefix, keys=("weight", "bias", "running_mean", "running_var")):
    """make_disc_fixture's key names: prefix + 'discriminator.network.<i>.<name>'."""
    return {prefix + "discriminator." + k: v.detach().clone()
            for k, v in d.state_dict().items() if k.rsplit(".", 1)[1] in keys}


def generator_terms(m, D, X, straight):
    """Forward of the generator step. Returns (x, x_hat, nll, g_loss, l_q, lambda_q, logits_fake_g)."""
    seen = {}
    orig = m.decode_chunks

    def decode_chunks(q, trace=None):
        y, db = orig(q if straight else q.detach(), trace)   # q.detach() == stopgrad(sign(u))/√L
        seen["y"] = y
        return y, db

    m.decode_chunks = decode_chunks
    total_q, t = m.loss(X, step=STEP)                          # all defaults, as make_grad_fixture
    m.decode_chunks = orig
    x = m.normalize(X)
    y = seen["y"]
    assert y.shape == X.shape == x.shape
    x_hat = torch.clamp(y, -1.0, 1.0)
    nll = (x_hat - x).abs().mean()
    assert torch.equal(nll, t["l1"]), "nll differs from model.loss's l1"
    lam, l_q = t["lambda_q"], t["l_q"]
    assert torch.equal(total_q, nll + lam * l_q), "model.loss's total is not l1 + lambda_q * l_q"
    logits_fake_g = D(x_hat.unsqueeze(1))
    g_loss = rd.g_loss(logits_fake_g)
    return x, x_hat, nll, g_loss, l_q, lam, logits_fake_g


def adv_step(dtype, straight=True):
    m = mgf.model(dtype)
    D = discriminator(dtype)
    init = d_state(D, "disc.init.")
    X = mgf.batch().to(dtype)

    # ---- generator step
    x, x_hat, nll, g_loss, l_q, lam, _ = generator_terms(m, D, X, straight)
    W = dict(m.named_parameters())[LAST_LAYER]
    (nll_grad,) = torch.autograd.grad(nll, W, retain_graph=True)
    (g_grad,) = torch.autograd.grad(g_loss, W, retain_graph=True)
    d_weight = rd.adaptive_weight(nll_grad, g_grad, DISC_WEIGHT)
    total = nll + d_weight * DISC_FACTOR * g_loss + lam * l_q
    m.zero_grad(set_to_none=True)
    total.backward()
    out = dict(init)
    for k, p in m.named_parameters():
        assert p.grad is not None, k
        out["grad." + k] = p.grad.detach().clone()
    out.update({"running." + k: b.detach().clone() for k, b in m.named_buffers()})

    # ---- discriminator step, same D (its running stats already updated once)
    D.zero_grad(set_to_none=True)
    logits_real = D(x.detach().unsqueeze(1))
    logits_fake = D(x_hat.detach().unsqueeze(1))
    d_loss = DISC_FACTOR * rd.hinge_d_loss(logits_real, logits_fake)
    d_loss.backward()
    for k, p in D.named_parameters():
        out["disc.grad.discriminator." + k] = p.grad.detach().clone()
    out.update(d_state(D, "disc.running.", ("running_mean", "running_var")))

    scalars = {"l1": nll, "g_loss": g_loss, "d_weight": d_weight, "d_loss": d_loss,
               "lambda_q": lam, "l_q": l_q, "total": total,
               "logits_real_mean": logits_real.mean(), "logits_fake_mean": logits_fake.mean()}
    scalars = {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in scalars.items()}
    return out, scalars, tuple(logits_real.shape)


def total_at(key, idx, delta, d_weight):
    """float64 total with tokenizer parameter key[idx] moved by delta, straight-through off,
    d_weight fixed; a fresh discriminator (its batch statistics do not depend on running ones)."""
    m = mgf.model(torch.float64)
    with torch.no_grad():
        dict(m.named_parameters())[key].view(-1)[idx] += delta
        _, _, nll, g_loss, l_q, lam, _ = generator_terms(m, discriminator(torch.float64),
                                                         mgf.batch().to(torch.float64), straight=False)
        return float(nll + d_weight * DISC_FACTOR * g_loss + lam * l_q)


def finite_differences(grads, d_weight, eps=1e-6):
    g = torch.Generator().manual_seed(7)
    worst = 0.0
    for k in FD_KEYS:
        grad = grads["grad." + k].reshape(-1)
        for idx in torch.randint(0, grad.numel(), (2,), generator=g).tolist() + [int(grad.abs().argmax())]:
            fd = (total_at(k, idx, eps, d_weight) - total_at(k, idx, -eps, d_weight)) / (2 * eps)
            e = abs(fd - float(grad[idx])) / max(abs(fd), 1e-3 * float(grad.abs().max()))
            print(f"  {k:42s} [{idx:5d}] fd {fd:+.6e} autograd(f32) {float(grad[idx]):+.6e} rel {e:.1e}")
            worst = max(worst, e)
            assert e < 1e-3, (k, idx, fd, float(grad[idx]))
    print(f"finite differences (float64, straight-through off) vs float32 autograd: worst relative {worst:.1e}")


def rel_err(a, b):
    a, b = a.double(), b.double()
    return float((a - b).norm() / max(float(b.norm()), 1e-30))


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    tensors, sc, lshape = adv_step(torch.float32, straight=True)
    t64, sc64, _ = adv_step(torch.float64, straight=True)
    print(f"logits shape {list(lshape)}")
    for k, v in sc.items():
        assert math.isfinite(v), k
        print(f"  {k:18s} {v!r:24s} (float64 {sc64[k]!r})")
        assert abs(v - sc64[k]) <= 1e-4 * (1 + abs(sc64[k])), (k, v, sc64[k])
    # biases right before a training-mode BatchNorm have an exact zero gradient
    zero = {f"disc.grad.discriminator.network.{i - 1}.bias"
            for i, mod in enumerate(discriminator(torch.float32).network) if isinstance(mod, torch.nn.BatchNorm2d)}
    worst = (0.0, "")
    for k, v in tensors.items():
        assert torch.isfinite(v).all(), k
        if k.endswith(mgf.STRUCTURAL_ZERO) or k in zero:
            assert float(t64[k].abs().max()) < 1e-12 and float(v.abs().max()) < 1e-5, k
            continue
        e = rel_err(v, t64[k])
        worst = max(worst, (e, k))
        assert e < 1e-3, (k, e)
    print(f"worst float32/float64 relative error (structural zeros aside): {worst[1]} {worst[0]:.1e}")

    # the same forward as make_grad_fixture's straight-through file: its terms and running stats
    plain = mgf.load_file(str(mgf.OUTS[True]))
    with safe_open(str(mgf.OUTS[True]), "pt") as f:
        terms = json.loads(f.metadata()["terms"])
    for k in ("l1", "l_q", "lambda_q"):
        assert terms[k] == sc[k], (k, terms[k], sc[k])
    assert all(torch.equal(plain[k], tensors[k]) for k in plain if k.startswith("running."))
    diff = max(rel_err(tensors[k], plain[k]) for k in plain if k.startswith("grad.decoder."))
    print(f"largest relative change of a decoder gradient by the adversarial term: {diff:.2e}")
    assert diff > 1e-3

    ns, sc_ns, _ = adv_step(torch.float32, straight=False)
    assert abs(sc_ns["d_weight"] - sc["d_weight"]) <= 1e-6 * sc["d_weight"], (sc_ns["d_weight"], sc["d_weight"])
    finite_differences(ns, sc_ns["d_weight"])

    meta = {k: json.dumps(v) for k, v in sc.items()}
    meta.update({"step": json.dumps(STEP), "ndf": json.dumps(NDF), "n_layers": json.dumps(N_LAYERS),
                 "disc_weight": json.dumps(DISC_WEIGHT), "disc_factor": json.dumps(DISC_FACTOR),
                 "straight_through": "true", "logits_shape": json.dumps(list(lshape)),
                 "source": "make_adv_fixture.py: reference_model.py + reference_discriminator.py autograd, "
                           "float32, micro18 plain weights, utt1 frames 0..255 as 2 chunks of 128, "
                           "D from torch.manual_seed(0)"})
    a = mgf.save(OUT, tensors, meta)
    tensors2, sc2, _ = adv_step(torch.float32, straight=True)
    b = mgf.save(OUT, tensors2, meta)
    assert a == b and sc2 == sc, "not reproducible"
    assert len(a) < 1_000_000, len(a)
    print(f"{OUT.name}: {len(a)} bytes, {len(tensors)} tensors")


if __name__ == "__main__":
    main()
