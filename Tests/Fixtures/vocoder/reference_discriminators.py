#!/usr/bin/env python3
"""PyTorch reference for the adversarial part of the Vocos-style vocoder's
training: a HiFi-GAN multi-period discriminator (MPD) and a UnivNet-style
multi-resolution discriminator (MRD), as in Vocos (v0.0.x, without the
bandwidth embedding), hinge losses and feature matching. Plain torch, autograd
for every gradient; standalone (torch only). float32 unless cast.

Weight norm: every conv below is wrapped by torch.nn.utils.weight_norm(conv)
(the old hook API, name "weight", dim 0). The conv's weight is replaced by two
parameters, weight_g [out, 1, 1, 1] and weight_v [out, in, kh, kw]:
    weight = weight_g * weight_v / ||weight_v||,   ||v||[o] = sqrt(sum_{i,y,x} v[o, i, y, x]^2)
(the norm over every dim but 0, per output channel; no epsilon), recomputed on
every forward (the gradient flows to g and v). Wrapping sets v = the conv's
weight and g = ||v||, so the weight is unchanged. The conv's own bias [out]
stays. Per conv the state dict holds, in this order: bias, weight_g, weight_v.
Conv2d is cross-correlation with zero padding: for input [B, Ci, H, W],
    out[b, o, y, x] = bias[o] + sum_{i, dy, dx} weight[o, i, dy, dx]
                                  * in[b, i, sy y + dy - py, sx x + dx - px],
    H_out = floor((H + 2 py - kh) / sy) + 1 (likewise W), out-of-range input = 0.
leaky_relu(x) = x if x > 0 else 0.1 x (slope SLOPE = 0.1; gradient 1 for x > 0, 0.1 for x <= 0).

DiscriminatorP(period p, channels c = (c0..c4), default (32, 128, 512, 1024, 1024)),
on x [B, T] (audio):
    x = x[:, None]                                         [B, 1, T]
    if T % p != 0: reflect-pad on the right by n = p - T % p: x[T + j] = x[T - 2 - j],
        j = 0 ..< n (numpy "reflect", the edge sample is not repeated); T' = T + n
    x = x.view(B, 1, T' / p, p): row r, column q holds sample r p + q (height = time / p,
        width = phase; the kernels (k, 1) never mix the columns)
    convs.0  Conv2d(1  -> c0, (5, 1), stride (3, 1), pad (2, 0)) then leaky_relu
    convs.1  Conv2d(c0 -> c1, (5, 1), stride (3, 1), pad (2, 0)) then leaky_relu   -> fmap 0
    convs.2  Conv2d(c1 -> c2, (5, 1), stride (3, 1), pad (2, 0)) then leaky_relu   -> fmap 1
    convs.3  Conv2d(c2 -> c3, (5, 1), stride (3, 1), pad (2, 0)) then leaky_relu   -> fmap 2
    convs.4  Conv2d(c3 -> c4, (5, 1), stride (1, 1), pad (2, 0)) then leaky_relu   -> fmap 3
    conv_post Conv2d(c4 -> 1, (3, 1), stride 1, pad (1, 0)), no activation          -> fmap 4
    logits = flatten(conv_post output, 1) [B, H5 * p] (row-major over (height, phase)).
    The output of convs.0 is not a feature map: 5 maps per DiscriminatorP.

DiscriminatorR(resolution (n_fft, hop, win), channels ch, default 64), on x [B, T]:
    S = |torch.stft(x, n_fft, hop, win_length=win, window=None, center=True,
                    pad_mode="reflect", normalized=False, onesided=True, return_complex=True)|
      window=None is a rectangular window of ones (all resolutions here have win = n_fft);
      x is reflect-padded by n_fft/2 on both sides, frame f starts at f hop of the padded
      signal, 1 + T // hop frames; S[b, k, f] = |sum_n xp[f hop + n] e^{-2 pi i k n / n_fft}|,
      k = 0 ..< n_fft/2 + 1 (|.| of a complex number has gradient 0 at 0).
    x = S[:, None]     [B, 1, n_fft/2 + 1, frames]: height = frequency, width = time
    convs.0  Conv2d(1  -> ch, (7, 5), stride (2, 2), pad (3, 2)) then leaky_relu -> fmap 0
    convs.1  Conv2d(ch -> ch, (5, 3), stride (2, 1), pad (2, 1)) then leaky_relu -> fmap 1
    convs.2  Conv2d(ch -> ch, (5, 3), stride (2, 2), pad (2, 1)) then leaky_relu -> fmap 2
    convs.3  Conv2d(ch -> ch, (3, 3), stride (2, 1), pad (1, 1)) then leaky_relu -> fmap 3
    convs.4  Conv2d(ch -> ch, (3, 3), stride (2, 2), pad (1, 1)) then leaky_relu -> fmap 4
    conv_post Conv2d(ch -> 1, (3, 3), stride 1, pad (1, 1)), no activation        -> fmap 5
    logits = flatten(conv_post output, 1) [B, H5 * W5] (row-major over (frequency, time)).
    Every conv's output is a feature map (unlike P): 6 maps per DiscriminatorR.

MultiPeriodDiscriminator(periods (2, 3, 5, 7, 11)): .discriminators.<i> = DiscriminatorP(periods[i]).
MultiResolutionDiscriminator(resolutions ((1024, 256, 1024), (2048, 512, 2048), (512, 128, 512))):
    .discriminators.<i> = DiscriminatorR(resolutions[i]).
Each forward(y, y_hat) -> (y_d_rs, y_d_gs, fmap_rs, fmap_gs): per sub-discriminator d,
    d(y) then d(y_hat), the logits and fmap lists of each.
Discriminators: .multiperioddisc (MPD), .multiresddisc (MRD). State-dict keys:
    multiperioddisc.discriminators.<i>.convs.<j>.bias|weight_g|weight_v   i < 5, j < 5
    multiperioddisc.discriminators.<i>.conv_post.bias|weight_g|weight_v
    multiresddisc.discriminators.<i>.convs.<j>.bias|weight_g|weight_v     i < 3, j < 5
    multiresddisc.discriminators.<i>.conv_post.bias|weight_g|weight_v

Losses (Vocos's; mean = over every element of the [B, n] logits or the [B, C, H, W] map):
    disc_loss(drs, dgs) = sum_d mean(max(1 - dr_d, 0)) + mean(max(1 + dg_d, 0))
    gen_loss(dgs)       = sum_d mean(max(1 - dg_d, 0))
    fm_loss(frs, fgs)   = sum_d sum_m mean(|fr_{d,m} - fg_{d,m}|)
    (max(., 0) is torch.clamp(min=0): gradient 1 where the value is >= 0, so also at exactly 0;
    |.| has gradient sign(.), 0 at 0.)
Discriminator objective (in training y_hat is detached; only the parameters get a gradient):
    d_mp  = disc_loss over the MPD,  d_mrd = disc_loss over the MRD
    d_total = d_mp / N_MPD + MRD_COEFF * d_mrd / N_MRD,     N_MPD = 5, N_MRD = 3, MRD_COEFF = 0.1
Generator's adversarial objective (one forward(y, y_hat) per discriminator group; y is a
plain tensor, so the real logits and maps carry no gradient towards the audio):
    gen_mp = gen_loss(MPD fakes), gen_mrd = gen_loss(MRD fakes),
    fm_mp  = fm_loss over the MPD, fm_mrd = fm_loss over the MRD
    g_total = gen_mp / N_MPD + MRD_COEFF * gen_mrd / N_MRD + fm_mp / N_MPD + MRD_COEFF * fm_mrd / N_MRD
    (the divisors are the numbers of sub-discriminators, len(list of per-d losses) and
    len(fmap_rs) in Vocos.)

    python3 reference_discriminators.py --selftest
"""
import sys
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

SLOPE = 0.1
PERIODS = (2, 3, 5, 7, 11)
MPD_CHANNELS = (32, 128, 512, 1024, 1024)
RESOLUTIONS = ((1024, 256, 1024), (2048, 512, 2048), (512, 128, 512))
MRD_CHANNELS = 64
MRD_COEFF = 0.1


def wn(conv):
    """torch.nn.utils.weight_norm(conv) (dim 0), without its deprecation warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return nn.utils.weight_norm(conv)


class DiscriminatorP(nn.Module):
    def __init__(self, period, channels=MPD_CHANNELS, kernel_size=5, stride=3, slope=SLOPE):
        super().__init__()
        self.period, self.slope = period, slope
        c = (1,) + tuple(channels)
        pad = (kernel_size // 2, 0)
        self.convs = nn.ModuleList(
            [wn(nn.Conv2d(c[i], c[i + 1], (kernel_size, 1), (stride, 1), padding=pad)) for i in range(4)]
            + [wn(nn.Conv2d(c[4], c[5], (kernel_size, 1), (1, 1), padding=pad))])
        self.conv_post = wn(nn.Conv2d(c[5], 1, (3, 1), 1, padding=(1, 0)))

    def forward(self, x):  # [B, T] -> (logits [B, n], 5 maps)
        x = x[:, None]
        b, c, t = x.shape
        if t % self.period != 0:
            n_pad = self.period - t % self.period
            x = F.pad(x, (0, n_pad), "reflect")
            t += n_pad
        x = x.view(b, c, t // self.period, self.period)
        fmap = []
        for i, layer in enumerate(self.convs):
            x = F.leaky_relu(layer(x), self.slope)
            if i > 0:
                fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


def spectrogram(x, n_fft, hop, win):
    """|STFT| [B, n_fft/2 + 1, 1 + T // hop], rectangular window (window=None), centred, reflect."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="A window was not provided")
        return torch.stft(x, n_fft, hop_length=hop, win_length=win, window=None, center=True,
                          pad_mode="reflect", normalized=False, onesided=True, return_complex=True).abs()


class DiscriminatorR(nn.Module):
    def __init__(self, resolution, channels=MRD_CHANNELS, slope=SLOPE):
        super().__init__()
        self.resolution, self.slope = tuple(resolution), slope
        ch = channels
        self.convs = nn.ModuleList([
            wn(nn.Conv2d(1, ch, kernel_size=(7, 5), stride=(2, 2), padding=(3, 2))),
            wn(nn.Conv2d(ch, ch, kernel_size=(5, 3), stride=(2, 1), padding=(2, 1))),
            wn(nn.Conv2d(ch, ch, kernel_size=(5, 3), stride=(2, 2), padding=(2, 1))),
            wn(nn.Conv2d(ch, ch, kernel_size=3, stride=(2, 1), padding=1)),
            wn(nn.Conv2d(ch, ch, kernel_size=3, stride=(2, 2), padding=1)),
        ])
        self.conv_post = wn(nn.Conv2d(ch, 1, (3, 3), padding=(1, 1)))

    def forward(self, x):  # [B, T] -> (logits [B, n], 6 maps)
        x = spectrogram(x, *self.resolution)[:, None]
        fmap = []
        for layer in self.convs:
            x = F.leaky_relu(layer(x), self.slope)
            fmap.append(x)
        x = self.conv_post(x)
        fmap.append(x)
        return torch.flatten(x, 1, -1), fmap


class _Group(nn.Module):
    def forward(self, y, y_hat):
        y_d_rs, y_d_gs, fmap_rs, fmap_gs = [], [], [], []
        for d in self.discriminators:
            y_d_r, fmap_r = d(y)
            y_d_g, fmap_g = d(y_hat)
            y_d_rs.append(y_d_r)
            fmap_rs.append(fmap_r)
            y_d_gs.append(y_d_g)
            fmap_gs.append(fmap_g)
        return y_d_rs, y_d_gs, fmap_rs, fmap_gs


class MultiPeriodDiscriminator(_Group):
    def __init__(self, periods=PERIODS, channels=MPD_CHANNELS):
        super().__init__()
        self.discriminators = nn.ModuleList([DiscriminatorP(p, channels) for p in periods])


class MultiResolutionDiscriminator(_Group):
    def __init__(self, resolutions=RESOLUTIONS, channels=MRD_CHANNELS):
        super().__init__()
        self.discriminators = nn.ModuleList([DiscriminatorR(r, channels) for r in resolutions])


class Discriminators(nn.Module):
    """Construction draws PyTorch's default Conv2d init (kaiming_uniform weight, uniform bias)
    from the global generator, module by module: the MPD's sub-discriminators in order (convs.0..4,
    conv_post), then the MRD's."""

    def __init__(self, periods=PERIODS, mpd_channels=MPD_CHANNELS, resolutions=RESOLUTIONS,
                 mrd_channels=MRD_CHANNELS):
        super().__init__()
        self.multiperioddisc = MultiPeriodDiscriminator(periods, mpd_channels)
        self.multiresddisc = MultiResolutionDiscriminator(resolutions, mrd_channels)


# ---- losses ----

def disc_loss(y_d_rs, y_d_gs):
    loss = 0.0
    for dr, dg in zip(y_d_rs, y_d_gs):
        loss = loss + torch.mean(torch.clamp(1 - dr, min=0)) + torch.mean(torch.clamp(1 + dg, min=0))
    return loss


def gen_loss(y_d_gs):
    loss = 0.0
    for dg in y_d_gs:
        loss = loss + torch.mean(torch.clamp(1 - dg, min=0))
    return loss


def fm_loss(fmap_rs, fmap_gs):
    loss = 0.0
    for dr, dg in zip(fmap_rs, fmap_gs):
        for rl, gl in zip(dr, dg):
            loss = loss + torch.mean(torch.abs(rl - gl))
    return loss


def d_objective(discs, y, y_hat):
    """(d_total, d_mp, d_mrd, mpd outputs, mrd outputs); y_hat is detached here."""
    mp = discs.multiperioddisc(y, y_hat.detach())
    mr = discs.multiresddisc(y, y_hat.detach())
    d_mp, d_mrd = disc_loss(mp[0], mp[1]), disc_loss(mr[0], mr[1])
    n_mpd, n_mrd = len(mp[0]), len(mr[0])
    return d_mp / n_mpd + MRD_COEFF * d_mrd / n_mrd, d_mp, d_mrd, mp, mr


def g_objective(discs, y, y_hat):
    """(g_total, gen_mp, gen_mrd, fm_mp, fm_mrd); y should carry no gradient."""
    _, gs_mp, frs_mp, fgs_mp = discs.multiperioddisc(y, y_hat)
    _, gs_mr, frs_mr, fgs_mr = discs.multiresddisc(y, y_hat)
    gen_mp, gen_mrd = gen_loss(gs_mp), gen_loss(gs_mr)
    fm_mp, fm_mrd = fm_loss(frs_mp, fgs_mp), fm_loss(frs_mr, fgs_mr)
    n_mpd, n_mrd = len(gs_mp), len(gs_mr)
    total = gen_mp / n_mpd + MRD_COEFF * gen_mrd / n_mrd + fm_mp / len(frs_mp) + MRD_COEFF * fm_mrd / len(frs_mr)
    return total, gen_mp, gen_mrd, fm_mp, fm_mrd


def state_keys(n_periods=len(PERIODS), n_resolutions=len(RESOLUTIONS)):
    keys = []
    for group, n in (("multiperioddisc", n_periods), ("multiresddisc", n_resolutions)):
        for i in range(n):
            for conv in [f"convs.{j}" for j in range(5)] + ["conv_post"]:
                keys += [f"{group}.discriminators.{i}.{conv}.{s}" for s in ("bias", "weight_g", "weight_v")]
    return keys


# ---- self check of the conventions (float64, explicit formulas) ----

def _conv_explicit(x, g, v, b, stride, pad):
    w = g * v / v.flatten(1).norm(dim=1).view(-1, 1, 1, 1)
    xp = F.pad(x, (pad[1], pad[1], pad[0], pad[0]))
    kh, kw = v.shape[2:]
    H = (xp.shape[2] - kh) // stride[0] + 1
    W = (xp.shape[3] - kw) // stride[1] + 1
    out = b.view(1, -1, 1, 1).expand(x.shape[0], -1, H, W).clone()
    for dy in range(kh):
        for dx in range(kw):
            patch = xp[:, :, dy:dy + stride[0] * (H - 1) + 1:stride[0], dx:dx + stride[1] * (W - 1) + 1:stride[1]]
            out = out + torch.einsum("oi,bihw->bohw", w[:, :, dy, dx], patch)
    return out


def selftest():
    torch.manual_seed(1)
    d = Discriminators((2, 3), (4, 8, 8, 8, 8), ((256, 64, 256), (128, 32, 128)), 4).double()
    assert list(d.state_dict()) == state_keys(2, 2), list(d.state_dict())
    with torch.no_grad():
        for k, p in d.named_parameters():
            if k.endswith("weight_g"):
                p.mul_(1 + 0.2 * torch.randn_like(p))
            if k.endswith("bias"):
                p.normal_(0, 0.1)
            if "conv_post" in k and k.endswith("weight_g"):
                p.mul_(300.0)
    T = 1001
    torch.set_grad_enabled(False)
    y = 0.3 * torch.randn(2, T, dtype=torch.float64)
    y_hat = (0.3 * torch.randn(2, T, dtype=torch.float64)).requires_grad_()
    # explicit forward of one P and one R
    err = 0.0
    dp = d.multiperioddisc.discriminators[1]
    p = dp.period
    n = p - T % p
    x = torch.cat([y, y.flip(1)[:, 1:n + 1]], 1).view(2, 1, -1, p)
    st = [(3, 1)] * 4 + [(1, 1)]
    maps = []
    for j, c in enumerate(dp.convs):
        x = F.leaky_relu(_conv_explicit(x, c.weight_g, c.weight_v, c.bias, st[j], (2, 0)), SLOPE)
        maps.append(x)
    x = _conv_explicit(x, dp.conv_post.weight_g, dp.conv_post.weight_v, dp.conv_post.bias, (1, 1), (1, 0))
    logits, fmap = dp(y)
    err = max(err, float((logits - x.flatten(1)).abs().max()))
    err = max(err, max(float((a - b).abs().max()) for a, b in zip(fmap, maps[1:] + [x])))
    dr = d.multiresddisc.discriminators[0]
    n_fft, hop, win = dr.resolution
    xp = F.pad(y[:, None], (n_fft // 2, n_fft // 2), mode="reflect")[:, 0]
    frames = 1 + T // hop
    fr = torch.stack([xp[:, f * hop:f * hop + n_fft] for f in range(frames)], -1)
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    ang = -2 * torch.pi * torch.outer(k, torch.arange(n_fft, dtype=torch.float64)) / n_fft
    S = torch.sqrt(torch.einsum("kn,bnf->bkf", torch.cos(ang), fr) ** 2
                   + torch.einsum("kn,bnf->bkf", torch.sin(ang), fr) ** 2)
    err = max(err, float((S - spectrogram(y, n_fft, hop, win)).abs().max()) / float(S.abs().max()))
    x = S[:, None]
    rs = [((2, 2), (3, 2)), ((2, 1), (2, 1)), ((2, 2), (2, 1)), ((2, 1), (1, 1)), ((2, 2), (1, 1))]
    maps = []
    for c, (s, pd) in zip(dr.convs, rs):
        x = F.leaky_relu(_conv_explicit(x, c.weight_g, c.weight_v, c.bias, s, pd), SLOPE)
        maps.append(x)
    x = _conv_explicit(x, dr.conv_post.weight_g, dr.conv_post.weight_v, dr.conv_post.bias, (1, 1), (1, 1))
    logits, fmap = dr(y)
    err = max(err, float((logits - x.flatten(1)).abs().max()) / float(x.abs().max()))
    err = max(err, max(float((a - b).abs().max()) for a, b in zip(fmap, maps + [x])))
    assert err < 1e-10, err
    torch.set_grad_enabled(True)
    # directional derivatives of both objectives (float64; the leaky ReLUs, hinges and |.| are
    # kinks, so a small step and a loose tolerance)
    gen = torch.Generator().manual_seed(2)
    d.zero_grad()
    d_objective(d, y, y_hat)[0].backward()
    g_total = g_objective(d, y, y_hat)[0]
    (gy,) = torch.autograd.grad(g_total, y_hat)
    eps, worst = 1e-8, 0.0
    checks = [(name, prm, prm.grad, lambda: d_objective(d, y, y_hat)[0]) for name, prm in d.named_parameters()]
    checks.append(("y_hat", y_hat, gy, lambda: g_objective(d, y, y_hat)[0]))
    for name, prm, grad, f in checks:
        u = torch.randn(prm.shape, generator=gen, dtype=torch.float64)
        analytic = float((grad * u).sum())
        with torch.no_grad():
            prm.add_(eps * u)
            plus = float(f())
            prm.sub_(2 * eps * u)
            minus = float(f())
            prm.add_(eps * u)
        numeric = (plus - minus) / (2 * eps)
        rel = abs(analytic - numeric) / max(abs(numeric), 1e-4)
        assert rel < 1e-3, (name, analytic, numeric)
        worst = max(worst, rel)
    print(f"selftest ok (explicit forward vs modules {err:.1e}; worst directional derivative {worst:.1e})")


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        selftest()
    else:
        print(__doc__)
