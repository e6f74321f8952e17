#!/usr/bin/env python3
"""Makes loss_cases.json, the fixtures for the training objective (docs/model.md,
step 5 "Quantize (BSQ)" and "Training loss"); deterministic (fixed seeds), run from
anywhere:

    python3 Tests/Fixtures/model/make_loss_fixtures.py

Each case holds n = 7 tokens of L bits and one 40-value L1 sub-case:

  name, L, G (group_size), mode ("group" | "analytical"),
  inv_temp, beta, gamma0, gamma, zeta
  n
  z        [n·L] pre-normalization vectors (row-major, token-major), N(0, 1);
           token 3 has exactly one zero coordinate (z = u = 0 there: sign → −1, bit 0)
  u        [n·L] z / max(‖z‖₂, 1e-12) per token
  tokens   [n]   Σ_k [u_k > 0]·2^(L−1−k), exact integers (< 2^53 for L = 36)
  commit   mean_n Σ_k (q − u)², q = (u > 0 ? 1 : −1)/√L
  h_ps, h_cb   the per-sample and codebook entropies of the mode (nats)
  l_q      beta·commit + zeta·(gamma0·h_ps − gamma·h_cb)/inv_temp
  dlq_dz   [n·L] ∂l_q/∂z, autograd through u = z/max(‖z‖, 1e-12), q detached in
           commit (so commit contributes −2(q − u)/n per element of ∂/∂u)
  l1       {y [40], x [40], l1 = mean |clamp(y, −1, 1) − x|,
            dl1_dy [40] = sign(clamp(y) − x)/40 where −1 < y < 1, else 0}
           y ∈ [−1.5, 1.5] (some outside [−1, 1]), x ∈ [−1, 1]; no y is ±1 or equals x
  ramp     {lq 0.1, ramp_steps 2000, ramp_mult 3, steps [0, 1000, 2000, 5000],
            lambda_q [..] = lq·(r + mult·(1 − r)), r = min(step, 2000)/2000,
            total [..] = l1 + lambda_q·l_q}

All values are computed in float64 (JSON numbers are the shortest round-trip
decimal of the float64, so they are exact).  Cross-checks, which abort the
script on failure:
  * reference_model.BSQAudioModel.loss itself (run on a stub that feeds it
    these z, y, x) reproduces every value and gradient, in float64 to ~1e-12
    and in float32 to 1e-5 relative (1e-3 for groups of 18 bits, whose 2^18 entries round to ~1e-4; l_q and total: relative to the sum of
    the magnitudes of their terms, as l_q ≈ h_ps − h_cb nearly cancels);
  * dlq_dz agrees with central finite differences of l_q (float64);
  * dl1_dy agrees with PyTorch's autograd of the reference's l1.
"""
import json
import math
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference_model as rm  # noqa: E402

OUT = HERE / "loss_cases.json"
N_TOKENS = 7
ZERO_TOKEN, ZERO_COORD = 3, 2
N_L1 = 40
STEPS = [0, 1000, 2000, 5000]
LQ, RAMP_STEPS, RAMP_MULT = 0.1, 2000, 3.0

DEFAULTS = dict(inv_temp=1.0, beta=0.25, gamma0=1.0, gamma=1.0, zeta=1.0)
CASES = [
    dict(name="L18_G9_group", L=18, G=9, mode="group", seed=101),
    dict(name="L18_G9_analytical", L=18, G=9, mode="analytical", seed=102),
    dict(name="L18_G6_group_params", L=18, G=6, mode="group", seed=103,
         inv_temp=0.5, beta=0.3, gamma0=0.8, gamma=1.2, zeta=0.7),
    dict(name="L9_G9_group", L=9, G=9, mode="group", seed=104),
    dict(name="L36_G9_group", L=36, G=9, mode="group", seed=105),
    dict(name="L36_G9_analytical", L=36, G=9, mode="analytical", seed=106),
    # the whole 18-bit code as one group (the kit factorises it; the reference does not)
    dict(name="L18_G18_group", L=18, G=18, mode="group", seed=107),
    dict(name="L18_G18_group_sharp", L=18, G=18, mode="group", seed=108, inv_temp=20.0, gamma0=2.0, gamma=2.0),
]


# ---------------------------------------------------------------- own implementation (float64)

def entropy(p, dim):
    return -(p * torch.log(p + 1e-8)).sum(dim)


def codebook(G, L, dtype):
    """[2^G, G]: entry c = the G bits of c, most significant first, as ±1, over √L."""
    c = torch.arange(1 << G)
    bits = (c[:, None] >> torch.arange(G - 1, -1, -1)[None, :]) & 1
    return torch.where(bits.bool(), 1.0, -1.0).to(dtype) / math.sqrt(L)


def lq_terms(z, c):
    """z [n, L] → dict of u, commit, h_ps, h_cb, l_q (tensors)."""
    L, G = c["L"], c["G"]
    norm = torch.sqrt((z * z).sum(-1, keepdim=True))
    u = z / torch.clamp(norm, min=1e-12)
    q = torch.where(u > 0, 1.0, -1.0).to(u.dtype) / math.sqrt(L)                  # zero → −1
    commit = ((q.detach() - u) ** 2).sum(-1).mean()
    if c["mode"] == "group":
        ug = u.reshape(u.shape[0], L // G, G)
        prob = torch.softmax(2 * c["inv_temp"] * ug @ codebook(G, L, u.dtype).t(), dim=-1)
        h_ps = entropy(prob, -1).sum(-1).mean()
        h_cb = entropy(prob.mean(0), -1).sum()
    else:
        p = torch.sigmoid(-4 * u * c["inv_temp"] / math.sqrt(L))
        pp = torch.stack([p, 1 - p], -1)
        h_ps = entropy(pp, -1).sum(-1).mean()
        h_cb = entropy(pp.mean(0), -1).sum()
    l_q = c["beta"] * commit + c["zeta"] * (c["gamma0"] * h_ps - c["gamma"] * h_cb) / c["inv_temp"]
    return dict(u=u, commit=commit, h_ps=h_ps, h_cb=h_cb, l_q=l_q)


def tokens_of(u, L):
    return [sum(1 << (L - 1 - k) for k in range(L) if row[k] > 0) for row in u.tolist()]


# ---------------------------------------------------------------- reference_model.py's own loss()

class _Stub:
    """Just enough of BSQAudioModel for its loss(): encode_chunks → the given z/u,
    decode_chunks → the given y, normalize → the given x."""

    def __init__(self, c, z, y, x):
        self.L = c["L"]
        self.config = {"group_size": c["G"], "persample_entropy": c["mode"]}
        self._z, self._y, self._x = z, y, x

    def encode_chunks(self, X):
        z = self._z[None]                                                          # [1, n, L]
        norm = torch.sqrt((z * z).sum(-1, keepdim=True))
        return None, z, z / torch.clamp(norm, min=1e-12)

    def decode_chunks(self, q):
        return self._y, None

    def normalize(self, X):
        return self._x


def reference_loss(c, z_np, y_np, x_np, step, dtype):
    z = torch.tensor(z_np, dtype=dtype, requires_grad=True)
    y = torch.tensor(y_np, dtype=dtype, requires_grad=True)
    x = torch.tensor(x_np, dtype=dtype)
    kw = {k: c[k] for k in ("beta", "gamma0", "gamma", "zeta", "inv_temp")}
    total, t = rm.BSQAudioModel.loss(_Stub(c, z, y, x), None, step, lq=LQ, ramp_steps=RAMP_STEPS,
                                     ramp_mult=RAMP_MULT, **kw)
    dz, = torch.autograd.grad(t["l_q"], z, retain_graph=True)
    dy, = torch.autograd.grad(t["l1"], y, retain_graph=True)
    out = {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in t.items()}
    out.update(total=float(total.detach()), dlq_dz=dz.numpy().astype(np.float64), dl1_dy=dy.numpy().astype(np.float64))
    return out


# ---------------------------------------------------------------- cases

def make_inputs(c):
    g = np.random.default_rng(c["seed"])
    z = g.standard_normal((N_TOKENS, c["L"]))
    z[ZERO_TOKEN, ZERO_COORD] = 0.0
    assert np.count_nonzero(z == 0) == 1
    while True:
        y = g.uniform(-1.5, 1.5, N_L1)
        x = g.uniform(-1.0, 1.0, N_L1)
        inside = np.abs(y) < 1
        if (np.all(np.abs(y) != 1) and np.all(y != x) and np.all(np.clip(y, -1, 1) != x)
                and 5 <= np.count_nonzero(~inside) <= 30):
            break
    return z, y, x


def close(a, b, rtol, what, scale=None):
    """max |a − b| / scale ≤ rtol; scale defaults to max |b|."""
    a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
    scale = max(np.max(np.abs(b)) if scale is None else scale, 1e-30)
    err = np.max(np.abs(a - b)) / scale
    if not err <= rtol:
        raise SystemExit(f"cross-check failed: {what}: relative error {err:.3g} > {rtol:g}")
    return err


def build(c):
    c = dict(DEFAULTS, **c)
    L, G = c["L"], c["G"]
    assert L % G == 0 and G <= 18
    z_np, y_np, x_np = make_inputs(c)

    z = torch.tensor(z_np, dtype=torch.float64, requires_grad=True)
    t = lq_terms(z, c)
    dlq_dz, = torch.autograd.grad(t["l_q"], z)
    u = t["u"].detach()
    vals = {k: t[k].item() for k in ("commit", "h_ps", "h_cb", "l_q")}

    yc = np.clip(y_np, -1.0, 1.0)
    l1 = float(np.mean(np.abs(yc - x_np)))
    dl1_dy = np.where(np.abs(y_np) < 1, np.sign(yc - x_np), 0.0) / N_L1
    lams = [LQ * (r + RAMP_MULT * (1 - r)) for r in (min(s, RAMP_STEPS) / RAMP_STEPS for s in STEPS)]
    totals = [l1 + lam * vals["l_q"] for lam in lams]

    # ---- cross-checks
    # l_q is a small difference of two entropies near their maximum L·ln 2 (h_ps ≈ h_cb ≈ 12.4 for
    # L = 18, l_q ≈ −0.003): its float32 error is relative to the size of its terms, not to itself.
    lq_scale = (abs(c["beta"] * vals["commit"])
                + abs(c["zeta"]) * (abs(c["gamma0"] * vals["h_ps"]) + abs(c["gamma"] * vals["h_cb"])) / c["inv_temp"])
    worst = {}
    # float32 over the 2^18 entries of a whole-code group (sharp: p near the 1e-8) rounds to ~1e-4
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5 if G <= 12 else 1e-3)):
        for s, lam, tot in zip(STEPS, lams, totals):
            ref = reference_loss(c, z_np, y_np, x_np, s, dtype)
            errs = [close(ref[k], vals[k], tol, f"{c['name']} {dtype} {k}", lq_scale if k == "l_q" else None)
                    for k in vals]
            errs += [close(ref["l1"], l1, tol, f"{c['name']} {dtype} l1"),
                     close(ref["lambda_q"], lam, tol, f"{c['name']} lambda_q step {s}"),
                     close(ref["total"], tot, tol, f"{c['name']} {dtype} total step {s}", l1 + lam * lq_scale),
                     close(ref["dlq_dz"], dlq_dz.numpy().ravel(), tol, f"{c['name']} {dtype} dlq_dz"),
                     close(ref["dl1_dy"], dl1_dy, tol, f"{c['name']} {dtype} dl1_dy")]
            worst[str(dtype)] = max(worst.get(str(dtype), 0.0), max(errs))
    # finite differences of l_q (float64)
    h = 1e-6
    fd = np.zeros_like(z_np)
    for i in range(N_TOKENS):
        for k in range(L):
            zp, zm = z_np.copy(), z_np.copy()
            zp[i, k] += h
            zm[i, k] -= h
            if z_np[i, k] == 0:                                                 # q jumps across 0: stay on
                zp[i, k], zm[i, k] = 0.0, -2 * h                                # the side with the same sign
            fd[i, k] = (lq_terms(torch.tensor(zp), c)["l_q"].item()
                        - lq_terms(torch.tensor(zm), c)["l_q"].item()) / (2 * h)
    worst["finite-diff"] = close(dlq_dz.numpy(), fd, 1e-5, f"{c['name']} dlq_dz vs finite differences")
    # tokens / sign at zero
    toks = tokens_of(u, L)
    assert u[ZERO_TOKEN, ZERO_COORD] == 0 and not (toks[ZERO_TOKEN] >> (L - 1 - ZERO_COORD)) & 1
    ref_toks = [int(v) for v in rm.BSQAudioModel.codes_from_u(_CodesStub(L), u[None]).ravel()]
    assert ref_toks == toks, (ref_toks, toks)

    print(f"{c['name']:22s} commit {vals['commit']:.6f} h_ps {vals['h_ps']:.6f} h_cb {vals['h_cb']:.6f} "
          f"l_q {vals['l_q']:+.6f} l1 {l1:.6f}  worst rel err: "
          + ", ".join(f"{k} {v:.2g}" for k, v in worst.items()))

    return {
        "name": c["name"], "L": L, "G": G, "mode": c["mode"],
        **{k: c[k] for k in ("inv_temp", "beta", "gamma0", "gamma", "zeta")},
        "n": N_TOKENS,
        "z": z_np.ravel().tolist(),
        "u": u.numpy().ravel().tolist(),
        "tokens": toks,
        **vals,
        "dlq_dz": dlq_dz.numpy().ravel().tolist(),
        "l1": {"y": y_np.tolist(), "x": x_np.tolist(), "l1": l1, "dl1_dy": dl1_dy.tolist()},
        "ramp": {"lq": LQ, "ramp_steps": RAMP_STEPS, "ramp_mult": RAMP_MULT, "steps": STEPS,
                 "lambda_q": lams, "total": totals},
    }


class _CodesStub:
    """Just enough of BSQAudioModel for its codes_from_u."""

    def __init__(self, L):
        self.L = L


def main():
    torch.set_grad_enabled(True)
    cases = [build(c) for c in CASES]
    text = json.dumps(cases, separators=(",", ":"))
    OUT.write_text(text + "\n")
    size = OUT.stat().st_size
    print(f"wrote {OUT} ({size} bytes, {len(cases)} cases)")
    if size >= 100_000:
        raise SystemExit("loss_cases.json is over 100 kB")


if __name__ == "__main__":
    main()
