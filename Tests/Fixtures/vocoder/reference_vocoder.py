#!/usr/bin/env python3
"""PyTorch reference for the neural vocoder: a Vocos-style generator (ConvNeXt
backbone + ISTFT head) from dB mel frames to audio, and its training loss
(multi-resolution mel L1 + multi-resolution STFT loss). Plain torch, autograd
for every gradient; standalone (torch + numpy; librosa for the mel filterbanks
of the loss). float32 unless the module / tensors are cast.

Config: sample_rate 16000, hop 160, n_fft 640 (= 4 hop, the ISTFT window =
n_fft), n_mels 128, db_min -80, db_max 0, dim, ffn, layers, kernel 7,
LayerNorm eps 1e-6, magnitude clip 100.

Forward of X [B, T, n_mels] (dB) -> audio [B, T * hop]:
  x = 2 (clamp(X, db_min, db_max) - db_min) / (db_max - db_min) - 1, as [B, n_mels, T]
  backbone.embed     Conv1d(n_mels -> dim, 7, padding 3 (zeros))   weight [dim, n_mels, 7], bias [dim]
  backbone.norm      LayerNorm(dim, eps 1e-6) over channels (per frame)
  backbone.convnext.<i>, i = 0 ..< layers (Vocos ConvNeXtBlock), on x [B, dim, T]:
      h = dwconv(x)      Conv1d(dim -> dim, 7, padding 3, groups dim)  weight [dim, 1, 7], bias [dim]
      h = norm(h)        LayerNorm(dim, eps 1e-6) per frame
      h = pwconv1(h)     Linear(dim -> ffn)      weight [ffn, dim], bias [ffn]   (y = h W^T + b)
      h = GELU(h)        exact: h/2 (1 + erf(h / sqrt 2))
      h = pwconv2(h)     Linear(ffn -> dim)      weight [dim, ffn], bias [dim]
      x = x + gamma * h  gamma [dim] (per channel)
  backbone.final_layer_norm   LayerNorm(dim, eps 1e-6) per frame
  head.out           Linear(dim -> n_fft + 2): h [B, T, n_fft + 2]; bins = n_fft/2 + 1 = 321
      logmag = h[..., :bins], p = h[..., bins:]
      mag = min(exp(logmag), 100)   (torch.clip: gradient 0 where exp(logmag) > 100)
      S[b, k, t] = mag (cos p + i sin p)
  ISTFT, exactly Vocos's ISTFT(padding="same") with win = n_fft, window w = periodic Hann
  (w[n] = 0.5 - 0.5 cos(2 pi n / n_fft)), pad = (n_fft - hop) / 2 = 240:
      frame_t[n] = w[n] * irfft(S[b, :, t], n_fft)[n],  n = 0 ..< n_fft, where
          irfft(S)[n] = (1/n_fft) (Re S_0 + Re S_{n_fft/2} (-1)^n
                                   + 2 sum_{k=1}^{n_fft/2-1} Re(S_k e^{+2 pi i k n / n_fft}))
          (the imaginary parts of the DC and Nyquist bins are ignored, so their
          phases act through cos p only and get gradient -mag sin p * ...)
      full[t * hop + n] += frame_t[n]            length (T - 1) hop + n_fft  (torch fold)
      env [t * hop + n] += w[n]^2                the same overlap-add of the squared window
      audio = full[pad : -pad] / env[pad : -pad] length T * hop
  Audio sample j (0-based) is full[j + 240]; frame t is centred on sample t * hop + 80.

Init of a fresh Vocoder (the construction itself draws nothing from the
global generator): conv/linear weights N(0, 0.02) drawn in this order --
backbone.embed.weight, then for each block i: backbone.convnext.<i>.dwconv.weight,
.pwconv1.weight, .pwconv2.weight; then head.out.weight -- biases 0, LayerNorm
weight 1 and bias 0, gamma 1/layers.

State-dict keys (no window: it is made in forward from the input's dtype):
  backbone.embed.weight|bias, backbone.norm.weight|bias,
  backbone.convnext.<i>.dwconv.weight|bias, .norm.weight|bias, .pwconv1.weight|bias,
  .pwconv2.weight|bias, .gamma, backbone.final_layer_norm.weight|bias, head.out.weight|bias

Loss of y_hat and y, both [B, L] (vocoder_loss crops y_hat to y's length L):
  stft(x; n_fft, hop, win) = torch.stft(x, n_fft, hop, win, periodic Hann(win), center=True,
      pad_mode="reflect", onesided, unnormalized, return_complex): x reflect-padded by n_fft/2
      on both sides (numpy "reflect": the edge sample is not repeated), frame f starts at f * hop
      of the padded signal, 1 + L // hop frames; a window shorter than n_fft is zero-padded
      to n_fft centred (left (n_fft - win) // 2 zeros); X[k] = sum_n x[n] w[n] e^{-2 pi i k n / n_fft}.
  Mel loss, MEL_RESOLUTIONS (n_fft, hop, n_mels) = (512, 128, 64), (1024, 256, 128), win = n_fft:
      M(x) = fb @ |stft(x)|  (magnitude, power 1), fb = librosa.filters.mel(sr=16000, n_fft,
      n_mels) (slaney scale and norm, fmin 0, fmax 8000; float32 in float32 runs, float64 in
      float64 runs), [n_mels, n_fft/2 + 1]
      L_mel_r = mean |log(max(M(y), 1e-5)) - log(max(M(y_hat), 1e-5))|
      L_mel = (L_mel_1 + L_mel_2) / 2
  STFT loss, STFT_RESOLUTIONS (n_fft, hop, win) = (512, 50, 240), (1024, 120, 600), (2048, 240, 1200):
      A(x) = sqrt(max(Re^2 + Im^2, 1e-7)) of stft(x)
      sc_r = ||A(y) - A(y_hat)||_F / ||A(y)||_F   (Frobenius over the whole [B, bins, frames])
      mag_r = mean |log A(y) - log A(y_hat)|
      L_stft = sum_r (sc_r + mag_r) / 3
  total = 45 L_mel + 1 L_stft
  (|.| has gradient sign(.), 0 at 0; clamp passes gradient where the value is inside.)

    python3 reference_vocoder.py --selftest
"""
import math
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

SAMPLE_RATE = 16000
HOP = 160
N_FFT = 4 * HOP
N_MELS = 128
DB_MIN, DB_MAX = -80.0, 0.0
KERNEL = 7
LN_EPS = 1e-6
MAG_CLIP = 1e2

MEL_RESOLUTIONS = [(512, 128, 64), (1024, 256, 128)]               # (n_fft, hop, n_mels), win = n_fft
STFT_RESOLUTIONS = [(512, 50, 240), (1024, 120, 600), (2048, 240, 1200)]  # (n_fft, hop, win)
MEL_LOSS_WEIGHT = 45.0
STFT_LOSS_WEIGHT = 1.0
MEL_CLAMP = 1e-5
STFT_POWER_CLAMP = 1e-7


class ConvNeXtBlock(nn.Module):
    def __init__(self, dim, ffn, layer_scale, kernel=KERNEL):
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.pwconv1 = nn.Linear(dim, ffn)
        self.act = nn.GELU()  # approximate="none": erf
        self.pwconv2 = nn.Linear(ffn, dim)
        self.gamma = nn.Parameter(torch.full((dim,), float(layer_scale)))

    def forward(self, x):  # [B, dim, T]
        residual = x
        h = self.dwconv(x).transpose(1, 2)
        h = self.pwconv2(self.act(self.pwconv1(self.norm(h))))
        h = (self.gamma * h).transpose(1, 2)
        return residual + h


class Backbone(nn.Module):
    def __init__(self, n_mels, dim, ffn, layers, kernel=KERNEL):
        super().__init__()
        self.embed = nn.Conv1d(n_mels, dim, kernel, padding=kernel // 2)
        self.norm = nn.LayerNorm(dim, eps=LN_EPS)
        self.convnext = nn.ModuleList([ConvNeXtBlock(dim, ffn, 1.0 / layers, kernel) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(dim, eps=LN_EPS)

    def forward(self, x):  # [B, n_mels, T] -> [B, T, dim]
        x = self.embed(x)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.convnext:
            x = block(x)
        return self.final_layer_norm(x.transpose(1, 2))


def istft_same(spec, n_fft, hop):
    """Vocos ISTFT(padding="same"), win = n_fft: spec [B, n_fft/2+1, T] complex -> [B, T*hop]."""
    assert spec.dim() == 3 and spec.shape[1] == n_fft // 2 + 1
    B, _, T = spec.shape
    window = torch.hann_window(n_fft, dtype=spec.real.dtype, device=spec.device)
    pad = (n_fft - hop) // 2
    ifft = torch.fft.irfft(spec, n_fft, dim=1, norm="backward") * window[None, :, None]
    out_size = (T - 1) * hop + n_fft
    y = F.fold(ifft, output_size=(1, out_size), kernel_size=(1, n_fft), stride=(1, hop))[:, 0, 0, pad:-pad]
    wsq = window.square().expand(1, T, -1).transpose(1, 2)
    env = F.fold(wsq, output_size=(1, out_size), kernel_size=(1, n_fft), stride=(1, hop)).squeeze()[pad:-pad]
    assert (env > 1e-11).all()
    return y / env


class ISTFTHead(nn.Module):
    def __init__(self, dim, n_fft=N_FFT, hop=HOP):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.out = nn.Linear(dim, n_fft + 2)

    def spectrum(self, x):  # [B, T, dim] -> (complex S [B, bins, T], logmag [B, bins, T])
        h = self.out(x).transpose(1, 2)
        bins = self.n_fft // 2 + 1
        logmag, p = h[:, :bins], h[:, bins:]
        mag = torch.clip(torch.exp(logmag), max=MAG_CLIP)
        return mag * (torch.cos(p) + 1j * torch.sin(p)), logmag

    def forward(self, x):
        return istft_same(self.spectrum(x)[0], self.n_fft, self.hop)


class Vocoder(nn.Module):
    def __init__(self, dim, ffn, layers, n_mels=N_MELS, n_fft=N_FFT, hop=HOP, kernel=KERNEL):
        super().__init__()
        self.dim, self.ffn, self.layers, self.n_mels, self.n_fft, self.hop = dim, ffn, layers, n_mels, n_fft, hop
        with torch.random.fork_rng(devices=[]):  # PyTorch's default init: overwritten, not drawn from
            self.backbone = Backbone(n_mels, dim, ffn, layers, kernel)
            self.head = ISTFTHead(dim, n_fft, hop)
        self.init_weights()

    @torch.no_grad()
    def init_weights(self):
        bb = self.backbone
        weights = [bb.embed.weight]
        for blk in bb.convnext:
            weights += [blk.dwconv.weight, blk.pwconv1.weight, blk.pwconv2.weight]
        weights.append(self.head.out.weight)
        for w in weights:
            nn.init.normal_(w, 0.0, 0.02)
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear)):
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        for blk in bb.convnext:
            blk.gamma.fill_(1.0 / self.layers)

    @staticmethod
    def normalize_db(mel_db):
        x = mel_db.clamp(DB_MIN, DB_MAX)
        return 2.0 * (x - DB_MIN) / (DB_MAX - DB_MIN) - 1.0

    def features(self, mel_db):  # [B, T, n_mels] -> [B, T, dim]
        assert mel_db.dim() == 3 and mel_db.shape[2] == self.n_mels, mel_db.shape
        return self.backbone(self.normalize_db(mel_db).transpose(1, 2))

    def forward(self, mel_db):  # [B, T, n_mels] dB -> [B, T * hop]
        return self.head(self.features(mel_db))


# ---- loss ----

def stft(x, n_fft, hop, win):
    window = torch.hann_window(win, dtype=x.dtype, device=x.device)
    return torch.stft(x, n_fft, hop_length=hop, win_length=win, window=window, center=True,
                      pad_mode="reflect", normalized=False, onesided=True, return_complex=True)


_FB = {}


def mel_fb(n_fft, n_mels, dtype):
    key = (n_fft, n_mels, dtype)
    if key not in _FB:
        import librosa
        np_dtype = np.float64 if dtype == torch.float64 else np.float32
        fb = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=n_fft, n_mels=n_mels, dtype=np_dtype)
        _FB[key] = torch.from_numpy(np.ascontiguousarray(fb)).to(dtype)
    return _FB[key]


def mel_loss(y_hat, y):
    total = 0.0
    for n_fft, hop, n_mels in MEL_RESOLUTIONS:
        fb = mel_fb(n_fft, n_mels, y.dtype)
        m_y = fb @ stft(y, n_fft, hop, n_fft).abs()
        m_hat = fb @ stft(y_hat, n_fft, hop, n_fft).abs()
        total = total + (torch.log(m_y.clamp(min=MEL_CLAMP)) - torch.log(m_hat.clamp(min=MEL_CLAMP))).abs().mean()
    return total / len(MEL_RESOLUTIONS)


def stft_mag(x, n_fft, hop, win):
    X = stft(x, n_fft, hop, win)
    return torch.sqrt(torch.clamp(X.real ** 2 + X.imag ** 2, min=STFT_POWER_CLAMP))


def stft_loss(y_hat, y):
    total = 0.0
    for n_fft, hop, win in STFT_RESOLUTIONS:
        a_y, a_hat = stft_mag(y, n_fft, hop, win), stft_mag(y_hat, n_fft, hop, win)
        sc = torch.linalg.vector_norm(a_y - a_hat) / torch.linalg.vector_norm(a_y)
        mag = (torch.log(a_y) - torch.log(a_hat)).abs().mean()
        total = total + sc + mag
    return total / len(STFT_RESOLUTIONS)


def vocoder_loss(y_hat, y):
    """(total, l_mel, l_stft); y [B, L]; y_hat [B, >= L], its first L samples are compared."""
    L = y.shape[-1]
    assert y_hat.shape[-1] >= L, (y_hat.shape, y.shape)
    y_hat = y_hat[..., :L]
    l_mel = mel_loss(y_hat, y)
    l_stft = stft_loss(y_hat, y)
    return MEL_LOSS_WEIGHT * l_mel + STFT_LOSS_WEIGHT * l_stft, l_mel, l_stft


def state_keys(layers):
    keys = ["backbone.embed.weight", "backbone.embed.bias", "backbone.norm.weight", "backbone.norm.bias"]
    for i in range(layers):
        p = f"backbone.convnext.{i}."
        keys += [p + s for s in ("dwconv.weight", "dwconv.bias", "norm.weight", "norm.bias", "pwconv1.weight",
                                 "pwconv1.bias", "pwconv2.weight", "pwconv2.bias", "gamma")]
    keys += ["backbone.final_layer_norm.weight", "backbone.final_layer_norm.bias", "head.out.weight", "head.out.bias"]
    return keys


# ---- a plain float64 numpy re-implementation, as a check of the conventions ----

def _ln_np(x, w, b):  # over the last axis
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + LN_EPS) * w + b


def _conv1d_np(x, w, b, groups=1):
    """x [B, C, T], w [O, C/groups, K], zero padding K//2, cross-correlation."""
    B, C, T = x.shape
    O, Cg, K = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (K // 2, K // 2)))
    y = np.zeros((B, O, T))
    og = O // groups
    for o in range(O):
        g = o // og
        for c in range(Cg):
            for k in range(K):
                y[:, o] += w[o, c, k] * xp[:, g * Cg + c, k:k + T]
    return y + b[None, :, None]


_erf = np.vectorize(math.erf)


def forward_np(v, mel_db):
    p = {k: t.detach().double().numpy() for k, t in v.state_dict().items()}
    x = np.clip(mel_db.astype(np.float64), DB_MIN, DB_MAX)
    x = (2 * (x - DB_MIN) / (DB_MAX - DB_MIN) - 1).transpose(0, 2, 1)
    x = _conv1d_np(x, p["backbone.embed.weight"], p["backbone.embed.bias"])
    x = _ln_np(x.transpose(0, 2, 1), p["backbone.norm.weight"], p["backbone.norm.bias"]).transpose(0, 2, 1)
    for i in range(v.layers):
        q = f"backbone.convnext.{i}."
        h = _conv1d_np(x, p[q + "dwconv.weight"], p[q + "dwconv.bias"], groups=v.dim).transpose(0, 2, 1)
        h = _ln_np(h, p[q + "norm.weight"], p[q + "norm.bias"])
        h = h @ p[q + "pwconv1.weight"].T + p[q + "pwconv1.bias"]
        h = 0.5 * h * (1 + _erf(h / math.sqrt(2)))
        h = h @ p[q + "pwconv2.weight"].T + p[q + "pwconv2.bias"]
        x = x + (p[q + "gamma"] * h).transpose(0, 2, 1)
    x = _ln_np(x.transpose(0, 2, 1), p["backbone.final_layer_norm.weight"], p["backbone.final_layer_norm.bias"])
    h = x @ p["head.out.weight"].T + p["head.out.bias"]              # [B, T, n_fft + 2]
    n_fft, hop = v.n_fft, v.hop
    bins = n_fft // 2 + 1
    mag = np.minimum(np.exp(h[..., :bins]), MAG_CLIP)
    S = mag * np.exp(1j * h[..., bins:])
    B, T, _ = S.shape
    n = np.arange(n_fft)
    w = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)
    k = np.arange(bins)
    coef = np.full(bins, 2.0)
    coef[0] = coef[-1] = 1.0
    basis = np.exp(2j * np.pi * np.outer(k, n) / n_fft)               # [bins, n_fft]
    full = np.zeros((B, (T - 1) * hop + n_fft))
    env = np.zeros((T - 1) * hop + n_fft)
    for t in range(T):
        frame = ((coef * S[:, t, :]) @ basis).real / n_fft * w       # explicit irfft
        full[:, t * hop:t * hop + n_fft] += frame
        env[t * hop:t * hop + n_fft] += w ** 2
    pad = (n_fft - hop) // 2
    return full[:, pad:-pad] / env[pad:-pad]


def _stft_np(x, n_fft, hop, win):
    w = np.zeros(n_fft)
    left = (n_fft - win) // 2
    w[left:left + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    xp = np.pad(x, ((0, 0), (n_fft // 2, n_fft // 2)), mode="reflect")
    frames = 1 + x.shape[-1] // hop
    fr = np.stack([xp[:, f * hop:f * hop + n_fft] * w for f in range(frames)], axis=-1)  # [B, n_fft, F]
    k = np.arange(n_fft // 2 + 1)
    basis = np.exp(-2j * np.pi * np.outer(k, np.arange(n_fft)) / n_fft)
    return np.einsum("kn,bnf->bkf", basis, fr)


def mel_fb_np(n_fft, n_mels, sr=SAMPLE_RATE):
    """librosa.filters.mel(sr, n_fft, n_mels), slaney scale and norm, fmin 0, fmax sr/2, float64."""
    fsp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / fsp, math.log(6.4) / 27.0

    def hz_to_mel(f):
        return min_log_mel + math.log(f / min_log_hz) / logstep if f >= min_log_hz else f / fsp

    def mel_to_hz(m):
        return min_log_hz * math.exp(logstep * (m - min_log_mel)) if m >= min_log_mel else fsp * m

    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    mels = np.linspace(hz_to_mel(0.0), hz_to_mel(sr / 2), n_mels + 2)
    mf = np.array([mel_to_hz(m) for m in mels])
    fb = np.zeros((n_mels, len(freqs)))
    for i in range(n_mels):
        lower = (freqs - mf[i]) / (mf[i + 1] - mf[i])
        upper = (mf[i + 2] - freqs) / (mf[i + 2] - mf[i + 1])
        fb[i] = np.maximum(0, np.minimum(lower, upper)) * 2.0 / (mf[i + 2] - mf[i])
    return fb


def loss_np(y_hat, y):
    L = y.shape[-1]
    y_hat = y_hat[:, :L]
    lm = 0.0
    for n_fft, hop, n_mels in MEL_RESOLUTIONS:
        fb = mel_fb_np(n_fft, n_mels)
        m_y = np.einsum("mk,bkf->bmf", fb, np.abs(_stft_np(y, n_fft, hop, n_fft)))
        m_h = np.einsum("mk,bkf->bmf", fb, np.abs(_stft_np(y_hat, n_fft, hop, n_fft)))
        lm += np.abs(np.log(np.maximum(m_y, MEL_CLAMP)) - np.log(np.maximum(m_h, MEL_CLAMP))).mean()
    lm /= len(MEL_RESOLUTIONS)
    ls = 0.0
    for n_fft, hop, win in STFT_RESOLUTIONS:
        a_y = np.sqrt(np.maximum(np.abs(_stft_np(y, n_fft, hop, win)) ** 2, STFT_POWER_CLAMP))
        a_h = np.sqrt(np.maximum(np.abs(_stft_np(y_hat, n_fft, hop, win)) ** 2, STFT_POWER_CLAMP))
        ls += np.linalg.norm(a_y - a_h) / np.linalg.norm(a_y) + np.abs(np.log(a_y) - np.log(a_h)).mean()
    ls /= len(STFT_RESOLUTIONS)
    return MEL_LOSS_WEIGHT * lm + STFT_LOSS_WEIGHT * ls, lm, ls


def selftest():
    torch.manual_seed(3)
    v = Vocoder(dim=8, ffn=16, layers=2)
    assert list(v.state_dict()) and sorted(v.state_dict()) == sorted(state_keys(2)), list(v.state_dict())
    shapes = {k: tuple(t.shape) for k, t in v.state_dict().items()}
    assert shapes["backbone.embed.weight"] == (8, N_MELS, 7) and shapes["backbone.convnext.0.dwconv.weight"] == (8, 1, 7)
    assert shapes["head.out.weight"] == (N_FFT + 2, 8) and shapes["backbone.convnext.1.gamma"] == (8,)
    assert float(v.backbone.convnext[0].gamma[0].detach()) == 0.5
    # the construction draws nothing: the init draws are the first ones after the seed
    torch.manual_seed(3)
    assert torch.equal(v.backbone.embed.weight, torch.randn(8, N_MELS, 7) * 0.02)
    with torch.no_grad():
        for m in v.modules():
            if isinstance(m, (nn.Conv1d, nn.Linear, nn.LayerNorm)):
                m.bias.normal_(0, 0.05)
            if isinstance(m, nn.LayerNorm):
                m.weight.add_(0.1 * torch.randn_like(m.weight))
        v.head.out.bias[:2] += 4.7
    v = v.double()
    T, B = 6, 2
    mel = -80 + 90 * torch.rand(B, T, N_MELS, dtype=torch.float64) - 5
    audio = v(mel)
    assert audio.shape == (B, T * HOP)
    ref = forward_np(v, mel.numpy())
    err = float(np.abs(audio.detach().numpy() - ref).max() / np.abs(ref).max())
    assert err < 1e-10, err
    # loss vs numpy, on a longer signal (reflect padding needs L > 1024)
    g = torch.Generator().manual_seed(5)
    y = 0.1 * torch.randn(B, 2300, generator=g, dtype=torch.float64)
    y_hat = y[:, :2300] + 0.05 * torch.randn(B, 2300, generator=g, dtype=torch.float64)
    y_hat = torch.cat([y_hat, torch.randn(B, 7, dtype=torch.float64)], 1)
    tot, lm, ls = (float(t) for t in vocoder_loss(y_hat, y))
    tot_np, lm_np, ls_np = loss_np(y_hat.numpy(), y.numpy())
    lerr = max(abs(tot - tot_np) / tot_np, abs(lm - lm_np) / lm_np, abs(ls - ls_np) / ls_np)
    assert lerr < 1e-10, (tot, tot_np, lm, lm_np, ls, ls_np)
    fberr = max(float(np.abs(mel_fb(n, m, torch.float64).numpy() - mel_fb_np(n, m)).max())
                for n, _, m in MEL_RESOLUTIONS)
    assert fberr < 1e-12, fberr
    # autograd against a central difference along a random direction, one tensor at a time (float64;
    # the loss has kinks (|.|, clamps, the clip) and the embedding direction is strongly curved: eps 1e-7)
    y2 = 0.1 * torch.randn(B, (T - 1) * HOP + 1200, generator=g, dtype=torch.float64)
    mel2 = -80 + 80 * torch.rand(B, T + 8, N_MELS, generator=g, dtype=torch.float64)
    v.zero_grad()
    vocoder_loss(v(mel2), y2)[0].backward()
    eps, gerr = 1e-7, 0.0
    for name, p in v.named_parameters():
        d = torch.randn(p.shape, generator=g, dtype=torch.float64)
        analytic = float((p.grad * d).sum())
        with torch.no_grad():
            p.add_(eps * d)
            plus = float(vocoder_loss(v(mel2), y2)[0])
            p.sub_(2 * eps * d)
            minus = float(vocoder_loss(v(mel2), y2)[0])
            p.add_(eps * d)
        numeric = (plus - minus) / (2 * eps)
        rel = abs(analytic - numeric) / max(abs(numeric), 1e-3)
        assert rel < 1e-3, (name, analytic, numeric)
        gerr = max(gerr, rel)
    print(f"selftest ok (numpy vs torch float64: forward {err:.1e}, loss {lerr:.1e}, fb {fberr:.1e}; "
          f"worst directional derivative {gerr:.1e})")


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        selftest()
    else:
        print(__doc__)
