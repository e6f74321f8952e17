#!/usr/bin/env python3
"""Makes expected_vocoder_disc.safetensors: the vocoder's discriminators (MPD +
MRD, weight norm), their logits, the discriminator objective's parameter
gradients and the generator's adversarial objective's gradient towards the
generated audio, with PyTorch autograd on reference_discriminators.py (see its
docstring for every convention); deterministic, run from anywhere:

    python3 Tests/Fixtures/vocoder/make_vocoder_disc_fixture.py

Case: MPD channels (4, 8, 16, 16, 16), periods (2, 3, 5, 7, 11); MRD channels 8,
resolutions (n_fft, hop, win) (1024, 256, 1024), (2048, 512, 2048), (512, 128, 512);
batch B = 2, L = 3200 samples (not a multiple of 3, 7 or 11: those periods reflect-pad).

Draw order, all from torch.manual_seed(0) (global CPU generator, float32):
  1. Discriminators(...) construction: PyTorch's default Conv2d init (weight
     kaiming_uniform(a = sqrt 5), bias U(-1/sqrt(fan_in), 1/sqrt(fan_in))), conv by conv in
     module order (multiperioddisc.discriminators.0.convs.0 .. .4, .conv_post, then .1, ...,
     then multiresddisc likewise); weight_norm draws nothing (v = weight, g = ||v||).
  2. every weight_g *= 1 + 0.1 randn(weight_g.shape), in state-dict order.
  3. every bias = 0.05 randn(bias.shape), in state-dict order.
  4. y = 0.3 smooth(randn(B, L)); then y_hat = 0.3 smooth(randn(B, L)); then y_hat[1] *= 0.5,
     smooth(r)[j] = 0.25 r[j-1] + 0.5 r[j] + 0.25 r[j+1], r[-1] = r[L] = 0.
  5. (no draw; computed in float32, both runs use its results) with these small channels the
     raw logits are tiny (~1e-2) and dominated by the edges (zero padding), with a narrow bulk;
     so per sub-discriminator d, in the order MPD 0..4, MRD 0..2:
       z = cat(d(y) logits, d(y_hat) logits).flatten() - conv_post.bias   (the bias-free part)
       q20, q80 = torch.quantile(z, 0.2), torch.quantile(z, 0.8)  (linear interpolation)
       s_d = TARGET_SPAN / (q80 - q20), TARGET_SPAN = 4;  mid_d = (q20 + q80) / 2
       conv_post.weight_g *= s_d;  conv_post.bias = -s_d mid_d   (replaces the drawn bias)
     so that the new logits are s_d (z - mid_d) (up to float32 rounding): the pooled 20 % and
     80 % quantiles of real and fake logits sit at -2 and +2. The hinges are then active on both
     sides: for every sub-discriminator and loss term (real of D: dr < 1; fake of D: dg > -1;
     fake of G: dg < 1) between 10 % and 90 % of the logits are on the active side (asserted;
     the counts are in the metadata).

Tensors (F32, little-endian, sorted keys, byte-reproducible):
  <key>             every parameter under its state-dict key (reference_discriminators.state_keys()),
                    e.g. multiperioddisc.discriminators.0.convs.0.weight_g [4, 1, 1, 1],
                    .weight_v [4, 1, 5, 1], .bias [4]; multiresddisc.discriminators.2.conv_post.bias [1]
  y, y_hat          [2, 3200]
  logits.mpd.<i>.real|fake, logits.mrd.<i>.real|fake   [2, n_i] the sub-discriminator's flattened logits
  grad_d.<key>      every parameter: d d_total / d parameter (y_hat detached)
  grad_g.y_hat      [2, 3200]  d g_total / d y_hat (the y side carries no gradient)
__metadata__ (JSON strings): mpd_channels, mrd_channels, periods, resolutions, slope, mrd_coeff,
  batch, samples, d_total, d_mp, d_mrd, g_total, gen_mp, gen_mrd, fm_mp, fm_mrd (the float32
  run's) and the same with the suffix _float64 (a float64 re-run from the same parameters and
  audio, widened), target_span, conv_post_scale [s_d...], conv_post_mid [mid_d...] (MPD then
  MRD), hinge_active {"mpd"|"mrd": [[real dr<1, fake dg>-1, fake dg<1, n = B * n_i], ...]}, torch.

Checks: the float64 re-run (printed relative differences as a guide to float32 tolerances, the
same hinge counts); writing twice gives the same bytes; the file reads back with a plain parser.
"""
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference_discriminators as rd  # noqa: E402
from make_vocoder_fixture import load, save  # noqa: E402  (the hand-written safetensors writer)

PATH = HERE / "expected_vocoder_disc.safetensors"
MPD_CHANNELS = (4, 8, 16, 16, 16)
MRD_CHANNELS = 8
PERIODS = rd.PERIODS
RESOLUTIONS = rd.RESOLUTIONS
BATCH, L = 2, 3200
TARGET_SPAN = 4.0
SCALARS = ("d_total", "d_mp", "d_mrd", "g_total", "gen_mp", "gen_mrd", "fm_mp", "fm_mrd")


def smooth(r):
    return F.conv1d(r[:, None], torch.tensor([[[0.25, 0.5, 0.25]]]), padding=1)[:, 0]


def sub_discriminators(discs):
    return list(discs.multiperioddisc.discriminators) + list(discs.multiresddisc.discriminators)


def draws():
    torch.manual_seed(0)
    discs = rd.Discriminators(PERIODS, MPD_CHANNELS, RESOLUTIONS, MRD_CHANNELS)
    params = list(discs.named_parameters())
    assert [k for k, _ in params] == list(discs.state_dict()) == rd.state_keys()
    with torch.no_grad():
        for k, p in params:
            if k.endswith("weight_g"):
                p.mul_(1 + 0.1 * torch.randn(p.shape))
        for k, p in params:
            if k.endswith("bias"):
                p.copy_(0.05 * torch.randn(p.shape))
        y = 0.3 * smooth(torch.randn(BATCH, L))
        y_hat = 0.3 * smooth(torch.randn(BATCH, L))
        y_hat[1] *= 0.5
        scales, mids = [], []
        for d in sub_discriminators(discs):
            z = torch.cat([d(y)[0], d(y_hat)[0]]).flatten() - d.conv_post.bias
            q20, q80 = torch.quantile(z, 0.2), torch.quantile(z, 0.8)
            s, mid = TARGET_SPAN / (q80 - q20), (q20 + q80) / 2
            d.conv_post.weight_g.mul_(s)
            d.conv_post.bias.copy_(-s * mid)
            scales.append(float(s))
            mids.append(float(mid))
    return discs, y, y_hat, scales, mids


def hinge_counts(rs, gs):
    return [[int((r < 1).sum()), int((g > -1).sum()), int((g < 1).sum()), r.numel()] for r, g in zip(rs, gs)]


def run(dtype):
    discs, y, y_hat, scales, mids = draws()
    discs = discs.to(dtype)
    y, y_hat = y.to(dtype), y_hat.to(dtype)
    out = {k: t.detach().clone() for k, t in discs.state_dict().items()}
    out["y"], out["y_hat"] = y, y_hat.clone()
    names, params = zip(*discs.named_parameters())
    d_total, d_mp, d_mrd, mp, mr = rd.d_objective(discs, y, y_hat)
    for grp, (rs, gs, _, _) in (("mpd", mp), ("mrd", mr)):
        for i, (r, g) in enumerate(zip(rs, gs)):
            out[f"logits.{grp}.{i}.real"], out[f"logits.{grp}.{i}.fake"] = r.detach(), g.detach()
    grads = torch.autograd.grad(d_total, params)
    for k, g in zip(names, grads):
        out["grad_d." + k] = g.detach()
    y_hat = y_hat.clone().requires_grad_()
    g_total, gen_mp, gen_mrd, fm_mp, fm_mrd = rd.g_objective(discs, y, y_hat)
    (out["grad_g.y_hat"],) = torch.autograd.grad(g_total, y_hat)
    vals = (d_total, d_mp, d_mrd, g_total, gen_mp, gen_mrd, fm_mp, fm_mrd)
    sc = {k: float(v.detach()) for k, v in zip(SCALARS, vals)}
    sc["hinge"] = {"mpd": hinge_counts(mp[0], mp[1]), "mrd": hinge_counts(mr[0], mr[1])}
    allr = torch.cat([t.flatten() for t in mp[0] + mr[0]]).detach()
    allg = torch.cat([t.flatten() for t in mp[1] + mr[1]]).detach()
    sc["margin"] = float(torch.cat([(allr - 1).abs(), (allg - 1).abs(), (allg + 1).abs()]).min())
    sc["scales"], sc["mids"] = scales, mids
    return out, sc


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    tensors, sc = run(torch.float32)
    ref64, sc64 = run(torch.float64)
    assert sc["hinge"] == sc64["hinge"], (sc["hinge"], sc64["hinge"])
    for grp in ("mpd", "mrd"):
        for i, counts in enumerate(sc["hinge"][grp]):
            n = counts[3]
            assert all(0.1 * n <= c <= 0.9 * n for c in counts[:3]), (grp, i, counts)
    meta = {
        "mpd_channels": json.dumps(list(MPD_CHANNELS)), "mrd_channels": json.dumps(MRD_CHANNELS),
        "periods": json.dumps(list(PERIODS)), "resolutions": json.dumps([list(r) for r in RESOLUTIONS]),
        "slope": json.dumps(rd.SLOPE), "mrd_coeff": json.dumps(rd.MRD_COEFF),
        "batch": json.dumps(BATCH), "samples": json.dumps(L), "target_span": json.dumps(TARGET_SPAN),
        "conv_post_scale": json.dumps(sc["scales"]), "conv_post_mid": json.dumps(sc["mids"]),
        "hinge_active": json.dumps(sc["hinge"]), "torch": torch.__version__,
    }
    for k in SCALARS:
        meta[k] = json.dumps(sc[k])
        meta[k + "_float64"] = json.dumps(sc64[k])
    data = save(PATH, tensors, meta)
    tensors2, _ = run(torch.float32)
    assert save(PATH, tensors2, meta) == data, "not byte-reproducible"
    back, meta_back = load(PATH)
    assert meta_back == meta and sorted(back) == sorted(tensors)
    for k, v in tensors.items():
        assert torch.equal(torch.from_numpy(back[k].copy()), v.to(torch.float32)), k
        assert torch.isfinite(v).all(), k
    assert len(data) < 1_000_000, len(data)

    print(f"{PATH.name}: {len(data)} bytes, {len(tensors)} tensors")
    for k in SCALARS:
        print(f"  {k:8s} = {sc[k]!r}   (float64: {sc64[k]!r}, rel diff {abs(sc[k] - sc64[k]) / abs(sc64[k]):.1e})")
    print("  hinge active [real dr<1, fake dg>-1, fake dg<1, n]:")
    for grp in ("mpd", "mrd"):
        print(f"    {grp}: {sc['hinge'][grp]}")
    print(f"  min distance of a logit to its hinge kink: {sc['margin']:.2e} (float64 {sc64['margin']:.2e})")
    print(f"  conv_post scales {[f'{s:.4g}' for s in sc['scales']]}")
    print(f"  conv_post mids {[f'{s:.4g}' for s in sc['mids']]}")
    print(f"  {'tensor':52s} {'shape':15s} {'max|x|':>10s} {'max|d|/max|x|':>14s} {'max elem rel':>12s}")
    worst = {}
    for k in sorted(tensors):
        if not (k.startswith("grad") or k.startswith("logits")):
            assert torch.equal(tensors[k].double(), ref64[k]), k  # the same inputs in both runs
            continue
        a, b = tensors[k].double(), ref64[k]
        scale = float(b.abs().max())
        rel_max = float((a - b).abs().max()) / max(scale, 1e-30)
        big = b.abs() > 1e-3 * scale
        rel_elem = float(((a - b).abs() / b.abs())[big].max()) if big.any() else 0.0
        kind = k.split(".")[0] + ("" if k.startswith("logits") else "." + k.rsplit(".", 1)[1])
        worst[kind] = max(worst.get(kind, (0, 0)), (rel_max, rel_elem))
        print(f"  {k:52s} {str(list(a.shape)):15s} {scale:10.3e} {rel_max:14.1e} {rel_elem:12.1e}")
    print("  (max elem rel: worst |f32 - f64| / |f64| over the elements above 1e-3 of the tensor's max)")
    print("  worst by kind (max|d|/max|x|, max elem rel): "
          + ", ".join(f"{k} {a:.1e} {b:.1e}" for k, (a, b) in sorted(worst.items())))


if __name__ == "__main__":
    main()
