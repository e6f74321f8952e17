#!/usr/bin/env python3
"""PyTorch reference for the adversarial loss (issue 19): BSQ-ViT's PatchGAN
discriminator on the normalized mel as a one-channel image, the hinge loss and
the adaptive weight. Standalone (torch + numpy); float32 unless told otherwise.

Input: [batch, 1, frames, n_mels] (height = time, width = mel bands).

`network` (nn.Sequential), for n_layers = 3 (indices are checkpoint keys
`discriminator.network.<i>.{weight,bias,running_mean,running_var,num_batches_tracked}`):
   0 Conv2d(1 -> ndf, 4, stride 2, pad 1, bias)      1 LeakyReLU(0.2)
   2 Conv2d(ndf -> ndf, 4, s2, p1, bias)              3 BatchNorm2d(ndf)    4 LeakyReLU(0.2)
   5 Conv2d(ndf -> 2ndf, 4, s2, p1, bias)             6 BatchNorm2d(2ndf)   7 LeakyReLU(0.2)
   8 Conv2d(2ndf -> 4ndf, 4, s2, p1, bias)            9 BatchNorm2d(4ndf)  10 LeakyReLU(0.2)
  11 Conv2d(4ndf -> 4ndf, 4, stride 1, p1, bias)     12 BatchNorm2d(4ndf)  13 LeakyReLU(0.2)
  14 Conv2d(4ndf -> 1, 4, stride 1, p1, bias)
In general: the loop n = 0 .. n_layers-1 has multiple min(2**n, 8) (previous
multiple starting at 1); the stride-1 conv keeps the loop's last multiple.
So 1 + n_layers stride-2 convs, then two stride-1 convs; each 4x4 conv with
padding 1 maps a side s to floor((s + 2 - 4) / stride) + 1, i.e. s/2 (s even)
for stride 2 and s - 1 for stride 1. With n_layers = 3 a side must be >= 48
(48 -> 24 -> 12 -> 6 -> 3 -> 2 -> 1); 32 is too small (... 2 -> 1 -> 0).

Init (BSQ-ViT's weights_init): conv weights N(0, 0.02), BatchNorm weights
N(1, 0.02), every bias 0; running_mean 0, running_var 1.

BatchNorm is used in training mode: it normalises with the batch statistics
of the call (mean and BIASED variance over batch x height x width per
channel, eps 1e-5) and updates running_mean/var with momentum 0.1 using the
UNBIASED variance (n / (n - 1) times the biased one):
    running = (1 - 0.1) * running + 0.1 * batch_stat.
The discriminator is called separately on real and on fake, so each call
has its own batch statistics and updates the running stats once.

Losses:
    hinge_d_loss(real, fake) = 0.5 * (mean(relu(1 - real)) + mean(relu(1 + fake)))
    g_loss(fake)             = -mean(fake)
    adaptive_weight(nll_grad, g_grad, w)
        = clamp(||nll_grad||_2 / (||g_grad||_2 + 1e-4), 0, 1e4) * w
      (L2 norms over the whole tensor, of the gradients of the reconstruction
      loss and of g_loss with respect to the generator's last layer weight;
      the result is detached).

    python3 reference_discriminator.py --selftest
"""
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

BN_EPS = 1e-5
BN_MOMENTUM = 0.1
LEAKY_SLOPE = 0.2


def weights_init(m):
    if isinstance(m, nn.Conv2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
        nn.init.zeros_(m.bias)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)
        m.reset_running_stats()


class PatchGANDiscriminator(nn.Module):
    def __init__(self, ndf=64, n_layers=3, input_nc=1):
        super().__init__()
        assert n_layers >= 1
        self.ndf, self.n_layers = ndf, n_layers
        seq = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1, bias=True),
               nn.LeakyReLU(LEAKY_SLOPE)]
        mult = 1
        for n in range(n_layers):
            prev, mult = mult, min(2 ** n, 8)
            seq += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=True),
                    nn.BatchNorm2d(ndf * mult, eps=BN_EPS, momentum=BN_MOMENTUM),
                    nn.LeakyReLU(LEAKY_SLOPE)]
        seq += [nn.Conv2d(ndf * mult, ndf * mult, 4, stride=1, padding=1, bias=True),
                nn.BatchNorm2d(ndf * mult, eps=BN_EPS, momentum=BN_MOMENTUM),
                nn.LeakyReLU(LEAKY_SLOPE),
                nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1, bias=True)]
        self.network = nn.Sequential(*seq)
        self.apply(weights_init)

    def forward(self, x):
        assert x.dim() == 4 and x.shape[1] == 1, x.shape
        return self.network(x)


def output_size(frames, n_mels, n_layers=3):
    """(height, width) of the logits map, or raises if the input is too small."""
    def side(s):
        sizes = [s]
        for _ in range(n_layers + 1):
            s = (s + 2 - 4) // 2 + 1
            sizes.append(s)
        for _ in range(2):
            s = (s + 2 - 4) // 1 + 1
            sizes.append(s)
        if min(sizes) < 1:
            raise ValueError(f"side {sizes[0]} too small for n_layers={n_layers}: {sizes}")
        return s
    return side(frames), side(n_mels)


def hinge_d_loss(logits_real, logits_fake):
    return 0.5 * (torch.mean(F.relu(1.0 - logits_real)) + torch.mean(F.relu(1.0 + logits_fake)))


def g_loss(logits_fake):
    return -torch.mean(logits_fake)


def adaptive_weight(nll_grad, g_grad, disc_weight):
    w = torch.norm(nll_grad) / (torch.norm(g_grad) + 1e-4)
    return torch.clamp(w, 0.0, 1e4).detach() * disc_weight


# ---- a plain re-implementation of the pieces, as a check of the conventions ----

def _conv2d_np(x, w, b, stride):
    """x [B, C, H, W], w [O, C, 4, 4] (PyTorch order), zero padding 1, cross-correlation."""
    B, C, H, W = x.shape
    O, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    Ho, Wo = (H + 2 - kh) // stride + 1, (W + 2 - kw) // stride + 1
    cols = np.empty((B, C, kh, kw, Ho, Wo), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + stride * Ho:stride, j:j + stride * Wo:stride]
    # im2col row index = (c * kh + i) * kw + j, the order of w.reshape(O, -1)
    y = np.einsum("ok,bkhw->bohw", w.reshape(O, -1), cols.reshape(B, C * kh * kw, Ho, Wo))
    return y + b[None, :, None, None]


def _bn_np(x, gamma, beta, rm, rv):
    n = x.shape[0] * x.shape[2] * x.shape[3]
    mean = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))                                  # biased, for normalising
    y = (x - mean[None, :, None, None]) / np.sqrt(var[None, :, None, None] + BN_EPS)
    y = y * gamma[None, :, None, None] + beta[None, :, None, None]
    rm = (1 - BN_MOMENTUM) * rm + BN_MOMENTUM * mean
    rv = (1 - BN_MOMENTUM) * rv + BN_MOMENTUM * var * n / (n - 1)  # unbiased, for the update
    return y, rm, rv


def forward_np(d, x):
    """float64 numpy forward of d on x; returns (logits, {index: (running_mean, running_var)})."""
    h = x.astype(np.float64)
    running = {}
    for i, m in enumerate(d.network):
        p = {k: v.detach().double().numpy() for k, v in m.state_dict().items()}
        if isinstance(m, nn.Conv2d):
            h = _conv2d_np(h, p["weight"], p["bias"], m.stride[0])
        elif isinstance(m, nn.BatchNorm2d):
            h, rm, rv = _bn_np(h, p["weight"], p["bias"], p["running_mean"], p["running_var"])
            running[i] = (rm, rv)
        else:
            h = np.where(h >= 0, h, LEAKY_SLOPE * h)
    return h, running


def selftest():
    torch.manual_seed(1)
    d = PatchGANDiscriminator(ndf=4, n_layers=3).train()
    kinds = [type(m).__name__ for m in d.network]
    assert kinds == ["Conv2d", "LeakyReLU"] + ["Conv2d", "BatchNorm2d", "LeakyReLU"] * 4 + ["Conv2d"], kinds
    chans = [(m.in_channels, m.out_channels, m.stride[0]) for m in d.network if isinstance(m, nn.Conv2d)]
    assert chans == [(1, 4, 2), (4, 4, 2), (4, 8, 2), (8, 16, 2), (16, 16, 1), (16, 1, 1)], chans
    x = torch.tanh(torch.randn(2, 1, 64, 48))
    before = forward_np(d, x.numpy())
    y = d(x)
    assert tuple(y.shape[2:]) == output_size(64, 48, 3) == (2, 1), (y.shape, output_size(64, 48))
    err = np.abs(y.detach().double().numpy() - before[0]).max()
    assert err < 1e-5, err
    for i, (rm, rv) in before[1].items():
        m = d.network[i]
        assert np.abs(m.running_mean.double().numpy() - rm).max() < 1e-6
        assert np.abs(m.running_var.double().numpy() - rv).max() < 1e-6
    try:
        output_size(64, 32, 3)
        raise AssertionError("64x32 should be too small for n_layers=3")
    except ValueError:
        pass
    assert output_size(64, 32, 2) == (6, 2)
    a = torch.tensor([3.0, 4.0]); b = torch.tensor([0.3, 0.4])
    w = float(adaptive_weight(a, b, 0.5))
    assert abs(w - 0.5 * 5.0 / (0.5 + 1e-4)) < 1e-5, w
    r = torch.tensor([2.0, 0.0]); f = torch.tensor([-2.0, 0.5])
    assert abs(float(hinge_d_loss(r, f)) - 0.5 * (0.5 + 0.75)) < 1e-7
    print(f"selftest ok (numpy float64 vs torch float32 forward: {err:.2e})")


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        selftest()
    else:
        print(__doc__)
