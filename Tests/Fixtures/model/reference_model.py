#!/usr/bin/env python3
"""An independent PyTorch implementation of the audio BSQ-ViT tokenizer,
written from the model contract (docs/model.md) alone.

Parameter names are exactly the checkpoint keys, so a checkpoint is one
`load_state_dict`.  Every layer is spelt out from the contract's formulas
(no nn.MultiheadAttention / nn.LayerNorm / nn.BatchNorm packing conventions
are relied on); `python3 reference_model.py --selftest` checks the pieces
against torch's own layers and against brute-force loops.

    import reference_model as rm
    model = rm.load("micro18.safetensors")          # ema.* weights win when present
    codes, u = model.encode(mel_db)                 # mel_db [T, n_mels] in dB
    mel = model.decode(codes, T)                    # [T, n_mels] in dB

Conventions where the contract could be read more than one way (each is the
PyTorch/BSQ-ViT one):
  * LayerNorm: (x − mean)/sqrt(var + 1e-5)·weight + bias, var biased (÷ n).
  * GELU is the exact one, 0.5·x·(1 + erf(x/√2)); SiLU x·sigmoid(x).
  * Attention logits are (q·kᵀ)/√d with d = width/heads, softmax over keys.
  * GLU: a = channels 0 ..< w of pointwise_conv1's output, b = w ..< 2w, a·sigmoid(b).
  * Depthwise conv is a cross-correlation (weight[c, k] meets x[it + k − (K−1)/2]),
    zero padded, over the time-patch axis only, per frequency band jf.
  * BatchNorm at inference: (x − running_mean)/sqrt(running_var + 1e-5)·weight + bias.
    In training the batch statistics over (batch, tokens) with the biased
    variance normalise, and the running variance is updated with the unbiased
    one, momentum 0.1 (torch.nn.BatchNorm1d's rule).
  * Positional embeddings are added after the patch / post-quant projection
    and before ln_pre.
  * Masked (SimMIM-style) pre-training, only for a config with "mask_token": true
    (an optional field; the parameter encoder.mask_token [width] exists only then):
    encode_chunks(X, mask=M), M [B, N] (bool, or 0/1), replaces the patch embedding
    of every masked token by mask_token before the positional embedding is added,
    h[b, n] = (M[b, n] ? mask_token : patch_embed(p)[b, n]) + positional_embedding[n].
    loss(X, step, mask=M, l1_over="masked") takes the L1 mean over the elements of
    the masked patches only (element (b, t, f) belongs to token
    (t // patch_time)·nf + f // patch_freq); l1_over="all" (the default) over all.
"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn as nn

FIELDS = ("n_mels", "frames", "patch_time", "patch_freq", "width", "layers", "heads", "mlp_ratio",
          "conv_module", "conv_kernel", "embed_dim", "group_size", "persample_entropy", "decoder_ffn",
          "db_min", "db_max")

_TINY = dict(n_mels=128, frames=1024, patch_time=16, patch_freq=16, width=192, layers=4, heads=3,
             mlp_ratio=4, conv_module=True, conv_kernel=31, embed_dim=18, group_size=9,
             persample_entropy="group", decoder_ffn=768, db_min=-80.0, db_max=0.0)
PRESETS = {
    "tiny": dict(_TINY, name="tiny"),
    "small": dict(_TINY, name="small", width=384, layers=6, heads=6, decoder_ffn=1536),
    "base": dict(_TINY, name="base", width=768, layers=12, heads=12, decoder_ffn=3072),
}

EPS = 1e-5

# False: every layer computes its formula step by step (what the fixtures use).
# True: torch's fused kernels for the same formulas (F.layer_norm, F.gelu, SDPA,
# grouped conv1d); selftest() checks both agree. bench/model_reference.py uses it.
FUSED = False
F_ = torch.nn.functional


def use_fused(on=True):
    global FUSED
    FUSED = bool(on)


def check_config(c):
    """Raise ValueError naming the first field that does not fit."""
    for f in FIELDS:
        if f not in c:
            raise ValueError(f"config: missing field '{f}'")
    def need(ok, what):
        if not ok:
            raise ValueError("config: " + what)
    need(c["n_mels"] > 0 and c["patch_freq"] > 0 and c["n_mels"] % c["patch_freq"] == 0, "n_mels must be a multiple of patch_freq")
    need(c["frames"] > 0 and c["patch_time"] > 0 and c["frames"] % c["patch_time"] == 0, "frames must be a multiple of patch_time")
    need(c["width"] > 0 and c["heads"] > 0 and c["width"] % c["heads"] == 0, "width must be a multiple of heads")
    need(c["layers"] >= 0 and c["mlp_ratio"] > 0 and c["decoder_ffn"] > 0, "layers/mlp_ratio/decoder_ffn")
    need(not c["conv_module"] or (c["conv_kernel"] > 0 and c["conv_kernel"] % 2 == 1), "conv_kernel must be odd")
    need(0 < c["embed_dim"] <= 64, "embed_dim must be in 1...64")
    need(c["group_size"] > 0 and c["embed_dim"] % c["group_size"] == 0, "group_size must divide embed_dim")
    need(c["persample_entropy"] in ("group", "analytical"), "persample_entropy must be group or analytical")
    need(c["db_max"] > c["db_min"], "db_max must be above db_min")


def expected_shapes(c):
    """{checkpoint key: shape} of every tensor the config calls for (the order of docs/model.md)."""
    w, P, L = c["width"], c["patch_time"] * c["patch_freq"], c["embed_dim"]
    N = (c["frames"] // c["patch_time"]) * (c["n_mels"] // c["patch_freq"])
    m, K, F = c["mlp_ratio"] * w, c["conv_kernel"], c["decoder_ffn"]

    def block(p):
        s = {f"{p}.ln_1.weight": [w], f"{p}.ln_1.bias": [w],
             f"{p}.attn.in_proj_weight": [3 * w, w], f"{p}.attn.in_proj_bias": [3 * w],
             f"{p}.attn.out_proj.weight": [w, w], f"{p}.attn.out_proj.bias": [w]}
        if c["conv_module"]:
            s.update({f"{p}.conv.norm.weight": [w], f"{p}.conv.norm.bias": [w],
                      f"{p}.conv.pointwise_conv1.weight": [2 * w, w], f"{p}.conv.pointwise_conv1.bias": [2 * w],
                      f"{p}.conv.depthwise_conv.weight": [w, K], f"{p}.conv.depthwise_conv.bias": [w],
                      f"{p}.conv.batch_norm.weight": [w], f"{p}.conv.batch_norm.bias": [w],
                      f"{p}.conv.batch_norm.running_mean": [w], f"{p}.conv.batch_norm.running_var": [w],
                      f"{p}.conv.pointwise_conv2.weight": [w, w], f"{p}.conv.pointwise_conv2.bias": [w]})
        s.update({f"{p}.ln_2.weight": [w], f"{p}.ln_2.bias": [w],
                  f"{p}.mlp.c_fc.weight": [m, w], f"{p}.mlp.c_fc.bias": [m],
                  f"{p}.mlp.c_proj.weight": [w, m], f"{p}.mlp.c_proj.bias": [w]})
        return s

    s = {"encoder.patch_embed.weight": [w, P]}
    if c.get("mask_token", False):
        s["encoder.mask_token"] = [w]
    s.update({"encoder.positional_embedding": [N, w],
              "encoder.ln_pre.weight": [w], "encoder.ln_pre.bias": [w]})
    for i in range(c["layers"]):
        s.update(block(f"encoder.blocks.{i}"))
    s.update({"encoder.ln_post.weight": [w], "encoder.ln_post.bias": [w],
              "quant_embed.weight": [L, w], "quant_embed.bias": [L],
              "post_quant_embed.weight": [w, L], "post_quant_embed.bias": [w],
              "decoder.positional_embedding": [N, w], "decoder.ln_pre.weight": [w], "decoder.ln_pre.bias": [w]})
    for i in range(c["layers"]):
        s.update(block(f"decoder.blocks.{i}"))
    s.update({"decoder.ln_post.weight": [w], "decoder.ln_post.bias": [w],
              "decoder.ffn.weight": [F, w], "decoder.ffn.bias": [F],
              "decoder.conv_out.weight": [P, F], "decoder.conv_out.bias": [P]})
    return s


# ---------------------------------------------------------------- layers

def _p(*shape):
    return nn.Parameter(torch.zeros(*shape))


class Linear(nn.Module):
    """y = x·Wᵀ + b, W [out, in]."""
    def __init__(self, n_in, n_out, bias=True):
        super().__init__()
        self.weight = _p(n_out, n_in)
        self.bias = _p(n_out) if bias else None

    def forward(self, x):
        y = torch.matmul(x, self.weight.t())
        return y if self.bias is None else y + self.bias


class LayerNorm(nn.Module):
    """(x − mean)/sqrt(var + 1e-5)·weight + bias over the last axis, biased variance."""
    def __init__(self, n):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = _p(n)

    def forward(self, x):
        if FUSED:
            return F_.layer_norm(x, self.weight.shape, self.weight, self.bias, EPS)
        mean = x.mean(-1, keepdim=True)
        d = x - mean
        var = (d * d).mean(-1, keepdim=True)
        return d / torch.sqrt(var + EPS) * self.weight + self.bias


def gelu(x):
    """Exact GELU: 0.5·x·(1 + erf(x/√2))."""
    if FUSED:
        return F_.gelu(x)
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def silu(x):
    return x * torch.sigmoid(x)


class Attention(nn.Module):
    """qkv = y·in_proj_weightᵀ + in_proj_bias (rows q, k, v); head h takes columns
    h·d ..< (h+1)·d of each; softmax(q·kᵀ/√d)·v, heads concatenated, out_proj."""
    def __init__(self, w, heads):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = _p(3 * w, w)
        self.in_proj_bias = _p(3 * w)
        self.out_proj = Linear(w, w)

    def qkv(self, y):
        B, N, w = y.shape
        H, d = self.heads, w // self.heads
        qkv = torch.matmul(y, self.in_proj_weight.t()) + self.in_proj_bias      # [B, N, 3w]
        q, k, v = qkv[..., :w], qkv[..., w:2 * w], qkv[..., 2 * w:]
        split = lambda t: t.reshape(B, N, H, d).transpose(1, 2)                  # [B, H, N, d]
        return split(q), split(k), split(v)

    @staticmethod
    def attend(q, k, v):
        if FUSED:
            return F_.scaled_dot_product_attention(q, k, v)
        d = q.shape[-1]
        logits = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)              # [B, H, N, N]
        logits = logits - logits.amax(-1, keepdim=True)
        e = torch.exp(logits)
        return torch.matmul(e / e.sum(-1, keepdim=True), v)                      # [B, H, N, d]

    def forward(self, y):
        B, N, w = y.shape
        q, k, v = self.qkv(y)
        o = self.attend(q, k, v).transpose(1, 2).reshape(B, N, w)
        return self.out_proj(o)


class MLP(nn.Module):
    def __init__(self, w, m):
        super().__init__()
        self.c_fc = Linear(w, m)
        self.c_proj = Linear(m, w)

    def forward(self, y):
        return self.c_proj(gelu(self.c_fc(y)))


class DepthwiseConv(nn.Module):
    """y[it, jf, c] = bias[c] + Σ_k weight[c, k]·x[it + k − (K−1)/2, jf, c], zero outside 0 ..< nt."""
    def __init__(self, w, K):
        super().__init__()
        self.weight = _p(w, K)
        self.bias = _p(w)

    def forward(self, x, nt, nf):
        B, N, w = x.shape
        K = self.weight.shape[1]
        r = (K - 1) // 2
        if FUSED:
            xc = x.reshape(B, nt, nf, w).permute(0, 2, 3, 1).reshape(B * nf, w, nt)
            y = F_.conv1d(xc, self.weight[:, None, :], self.bias, padding=r, groups=w)
            return y.reshape(B, nf, w, nt).permute(0, 3, 1, 2).reshape(B, N, w)
        g = x.reshape(B, nt, nf, w)
        pad = torch.zeros(B, r, nf, w, dtype=x.dtype)
        g = torch.cat([pad, g, pad], dim=1)                                      # [B, nt + K − 1, nf, w]
        y = self.bias.expand(B, nt, nf, w).clone()
        for k in range(K):
            y = y + self.weight[:, k] * g[:, k:k + nt]
        return y.reshape(B, N, w)


class BatchNorm(nn.Module):
    """Per channel over (batch, tokens); running statistics at inference."""
    def __init__(self, w, momentum=0.1):
        super().__init__()
        self.momentum = momentum
        self.weight = nn.Parameter(torch.ones(w))
        self.bias = _p(w)
        self.register_buffer("running_mean", torch.zeros(w))
        self.register_buffer("running_var", torch.ones(w))

    def forward(self, x):
        if self.training:
            flat = x.reshape(-1, x.shape[-1])
            n = flat.shape[0]
            mean = flat.mean(0)
            var = ((flat - mean) ** 2).mean(0)
            with torch.no_grad():
                self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / max(n - 1, 1))
        else:
            mean, var = self.running_mean, self.running_var
        return (x - mean) / torch.sqrt(var + EPS) * self.weight + self.bias


class ConvModule(nn.Module):
    """LN → pointwise_conv1 [2w, w] → GLU → depthwise conv over time → BatchNorm → SiLU → pointwise_conv2."""
    def __init__(self, w, K):
        super().__init__()
        self.norm = LayerNorm(w)
        self.pointwise_conv1 = Linear(w, 2 * w)
        self.depthwise_conv = DepthwiseConv(w, K)
        self.batch_norm = BatchNorm(w)
        self.pointwise_conv2 = Linear(w, w)

    def forward(self, h, nt, nf):
        w = h.shape[-1]
        a = self.pointwise_conv1(self.norm(h))
        y = a[..., :w] * torch.sigmoid(a[..., w:])
        y = self.depthwise_conv(y, nt, nf)
        return self.pointwise_conv2(silu(self.batch_norm(y)))


class Block(nn.Module):
    """Pre-norm: h += Attn(LN_1 h); h += Conv(h) (if any); h += MLP(LN_2 h)."""
    def __init__(self, c):
        super().__init__()
        w = c["width"]
        self.ln_1 = LayerNorm(w)
        self.attn = Attention(w, c["heads"])
        self.conv = ConvModule(w, c["conv_kernel"]) if c["conv_module"] else None
        self.ln_2 = LayerNorm(w)
        self.mlp = MLP(w, c["mlp_ratio"] * w)

    def forward(self, h, nt, nf, trace=None, name=""):
        h = h + self.attn(self.ln_1(h))
        if trace is not None:
            trace[name + ".after_attn"] = h
        if self.conv is not None:
            h = h + self.conv(h, nt, nf)
            if trace is not None:
                trace[name + ".after_conv"] = h
        h = h + self.mlp(self.ln_2(h))
        if trace is not None:
            trace[name + ".out"] = h
        return h


class Encoder(nn.Module):
    def __init__(self, c, N, P):
        super().__init__()
        w = c["width"]
        self.patch_embed = Linear(P, w, bias=False)
        if c.get("mask_token", False):
            self.mask_token = _p(w)                                              # masked pre-training only
        else:
            self.mask_token = None
        self.positional_embedding = _p(N, w)
        self.ln_pre = LayerNorm(w)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.ln_post = LayerNorm(w)


class Decoder(nn.Module):
    def __init__(self, c, N, P):
        super().__init__()
        w = c["width"]
        self.positional_embedding = _p(N, w)
        self.ln_pre = LayerNorm(w)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.ln_post = LayerNorm(w)
        self.ffn = Linear(w, c["decoder_ffn"])
        self.conv_out = Linear(c["decoder_ffn"], P)


# ---------------------------------------------------------------- model

class BSQAudioModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = dict(config)
        check_config(c)
        self.config = c
        self.nt = c["frames"] // c["patch_time"]
        self.nf = c["n_mels"] // c["patch_freq"]
        self.N = self.nt * self.nf
        self.P = c["patch_time"] * c["patch_freq"]
        self.L = c["embed_dim"]
        self.encoder = Encoder(c, self.N, self.P)
        self.quant_embed = Linear(c["width"], self.L)
        self.post_quant_embed = Linear(self.L, c["width"])
        self.decoder = Decoder(c, self.N, self.P)
        self.eval()

    @property
    def dtype(self):
        return self.encoder.patch_embed.weight.dtype

    # -- steps 1-2 and their inverse
    def normalize(self, X):
        """x = 2·(clamp(X, db_min, db_max) − db_min)/(db_max − db_min) − 1."""
        lo, hi = float(self.config["db_min"]), float(self.config["db_max"])
        return 2.0 * (torch.clamp(X, lo, hi) - lo) / (hi - lo) - 1.0

    def denormalize(self, y):
        """dB = db_min + (y + 1)/2·(db_max − db_min), clamped to [db_min, db_max]."""
        lo, hi = float(self.config["db_min"]), float(self.config["db_max"])
        return torch.clamp(lo + (y + 1.0) / 2.0 * (hi - lo), lo, hi)

    def patchify(self, x):
        """[B, frames, n_mels] → [B, N, pt·pf]; token it·nf + jf, element a·pf + b = x[it·pt + a, jf·pf + b]."""
        B = x.shape[0]
        pt, pf = self.config["patch_time"], self.config["patch_freq"]
        x = x.reshape(B, self.nt, pt, self.nf, pf).permute(0, 1, 3, 2, 4)        # [B, it, jf, a, b]
        return x.reshape(B, self.N, pt * pf)

    def unpatchify(self, p):
        B = p.shape[0]
        pt, pf = self.config["patch_time"], self.config["patch_freq"]
        p = p.reshape(B, self.nt, self.nf, pt, pf).permute(0, 1, 3, 2, 4)        # [B, it, a, jf, b]
        return p.reshape(B, self.nt * pt, self.nf * pf)

    # -- steps 3-6 on whole chunks
    def token_mask(self, mask, B):
        """mask [B, N] (bool or 0/1) → bool [B, N]; raises when it does not fit."""
        m = torch.as_tensor(mask)
        if list(m.shape) != [B, self.N]:
            raise ValueError(f"mask must be [{B}, {self.N}], got {list(m.shape)}")
        return m != 0

    def encode_chunks(self, X, trace=None, mask=None):
        """X [B, frames, n_mels] dB → (h [B, N, w] after ln_post, z [B, N, L], u [B, N, L]).
        mask [B, N] (optional, needs encoder.mask_token): a masked token's patch embedding
        is replaced by mask_token before the positional embedding is added."""
        e = self.encoder
        x = self.normalize(X)
        p = self.patchify(x)
        emb = e.patch_embed(p)
        if mask is not None:
            if e.mask_token is None:
                raise ValueError("a mask needs a config with \"mask_token\": true")
            m = self.token_mask(mask, X.shape[0])
            emb = torch.where(m[..., None], e.mask_token, emb)
        h = emb + e.positional_embedding
        if trace is not None:
            trace["enc.x"] = x
            trace["enc.patches"] = p
            trace["enc.embed"] = h
        h = e.ln_pre(h)
        if trace is not None:
            trace["enc.ln_pre"] = h
        for i, blk in enumerate(e.blocks):
            h = blk(h, self.nt, self.nf, trace, f"enc.blocks.{i}")
        h = e.ln_post(h)
        z = self.quant_embed(h)
        norm = torch.sqrt((z * z).sum(-1, keepdim=True))
        u = z / torch.clamp(norm, min=1e-12)
        if trace is not None:
            trace["enc.ln_post"] = h
            trace["quant.z"] = z
            trace["quant.u"] = u
        return h, z, u

    def quantize(self, u):
        """q = (u > 0 ? 1 : −1)/√L; a zero coordinate gives −1."""
        one = torch.ones((), dtype=u.dtype)
        return torch.where(u > 0, one, -one) / math.sqrt(self.L)

    def decode_chunks(self, q, trace=None):
        """q [B, N, L] → (y [B, frames, n_mels] normalized, dB [B, frames, n_mels])."""
        d = self.decoder
        g = self.post_quant_embed(q) + d.positional_embedding
        if trace is not None:
            trace["dec.q"] = q
            trace["dec.embed"] = g
        g = d.ln_pre(g)
        if trace is not None:
            trace["dec.ln_pre"] = g
        for i, blk in enumerate(d.blocks):
            g = blk(g, self.nt, self.nf, trace, f"dec.blocks.{i}")
        g = d.ln_post(g)
        f = torch.tanh(d.ffn(g))
        p = d.conv_out(f)
        y = self.unpatchify(p)
        db = self.denormalize(y)
        if trace is not None:
            trace["dec.ln_post"] = g
            trace["dec.ffn_tanh"] = f
            trace["dec.conv_out"] = p
            trace["dec.y"] = y
            trace["dec.db"] = db
        return y, db

    # -- codes
    def codes_from_u(self, u):
        """uint64 token values Σ_k [u_k > 0]·2^(L−1−k), exact integers. u [..., L]."""
        bits = (u > 0).cpu().numpy().astype(np.uint64)
        shifts = np.array([self.L - 1 - k for k in range(self.L)], dtype=np.uint64)
        return np.bitwise_or.reduce(bits << shifts, axis=-1).astype(np.uint64)

    def q_from_codes(self, codes):
        """codes (any shape, < 2^L) → q [..., L]: coordinate k = +1/√L when bit L−1−k is set."""
        codes = np.asarray(codes).astype(np.uint64)
        if self.L < 64 and np.any(codes >> np.uint64(self.L)):
            raise ValueError(f"a code is not below 2^{self.L}")
        shifts = np.array([self.L - 1 - k for k in range(self.L)], dtype=np.uint64)
        bits = (codes[..., None] >> shifts) & np.uint64(1)
        one = torch.ones((), dtype=self.dtype)
        return torch.where(torch.from_numpy(bits.astype(np.bool_)), one, -one) / math.sqrt(self.L)

    # -- any length (docs/model.md, "Any length")
    def chunks(self, mel_db):
        mel = torch.tensor(np.asarray(mel_db), dtype=self.dtype)
        if mel.ndim != 2 or mel.shape[1] != self.config["n_mels"]:
            raise ValueError(f"mel must be [T, {self.config['n_mels']}], got {list(mel.shape)}")
        T, F = mel.shape
        n = -(-T // self.config["frames"])
        pad = n * self.config["frames"] - T
        if pad:
            mel = torch.cat([mel, torch.full((pad, F), float(self.config["db_min"]), dtype=self.dtype)])
        return mel.reshape(n, self.config["frames"], F)

    @torch.no_grad()
    def encode(self, mel_db, batch=8):
        """mel_db [T, n_mels] → (codes uint64 [⌈T/frames⌉·nt, nf], u float [⌈T/frames⌉·nt, nf, L])."""
        X = self.chunks(mel_db)
        us = [self.encode_chunks(X[i:i + batch])[2] for i in range(0, X.shape[0], batch)]
        u = torch.cat(us) if us else torch.zeros(0, self.N, self.L, dtype=self.dtype)
        u = u.reshape(-1, self.nf, self.L)                                        # rows = chunk·nt + it
        return self.codes_from_u(u), u.numpy()

    @torch.no_grad()
    def decode(self, codes, T, batch=8):
        """codes [n·nt, nf] → mel dB [T, n_mels] (the n chunks decoded, concatenated, cropped to T)."""
        codes = np.asarray(codes)
        if codes.ndim != 2 or codes.shape[1] != self.nf or codes.shape[0] % self.nt:
            raise ValueError(f"codes must be [n·{self.nt}, {self.nf}], got {list(codes.shape)}")
        n = codes.shape[0] // self.nt
        fr = self.config["frames"]
        if not ((n - 1) * fr < T <= n * fr or (n == 0 and T == 0)):
            raise ValueError(f"{n} chunks of codes cannot stand for {T} frames")
        q = self.q_from_codes(codes.reshape(n, self.N))
        outs = [self.decode_chunks(q[i:i + batch])[1] for i in range(0, n, batch)]
        mel = torch.cat(outs).reshape(n * fr, self.config["n_mels"]) if outs else \
            torch.zeros(0, self.config["n_mels"], dtype=self.dtype)
        return mel[:T].numpy()

    # -- training objective (docs/model.md, "Training loss")
    def loss(self, X, step, beta=0.25, gamma0=1.0, gamma=1.0, zeta=1.0, inv_temp=1.0,
             lq=0.1, ramp_steps=2000, ramp_mult=3.0, mask=None, l1_over="all"):
        """X [B, frames, n_mels] dB chunks; uses batch statistics in BatchNorm when self.training.
        mask [B, N] (optional): masked pre-training (see encode_chunks); l1_over "all" takes the
        L1 mean over every element, "masked" over the elements of the masked patches only.
        Returns (loss, dict of the terms)."""
        L, G = self.L, self.config["group_size"]
        if l1_over not in ("all", "masked"):
            raise ValueError(f"l1_over must be all or masked, got {l1_over!r}")
        if l1_over == "masked" and mask is None:
            raise ValueError("l1_over='masked' needs a mask")
        _, _, u = self.encode_chunks(X) if mask is None else self.encode_chunks(X, mask=mask)
        s = torch.where(u > 0, 1.0, -1.0).to(u.dtype)                            # sign, zero → −1
        q = (u + (s - u).detach()) / math.sqrt(L)                                # straight through, ∂q/∂u = 1/√L
        y, _ = self.decode_chunks(q)
        x = self.normalize(X)
        err = (torch.clamp(y, -1.0, 1.0) - x).abs()
        if l1_over == "all":
            l1 = err.mean()
        else:
            m = self.token_mask(mask, X.shape[0]).to(err.dtype)                  # [B, N]
            me = self.unpatchify(m[..., None].expand(-1, -1, self.P))             # [B, frames, n_mels]
            l1 = (err * me).sum() / me.sum()
        uf = u.reshape(-1, L)
        H = lambda p, dim: -(p * torch.log(p + 1e-8)).sum(dim)
        if self.config["persample_entropy"] == "group":
            ug = uf.reshape(uf.shape[0], L // G, G)
            cb = torch.tensor([[1.0 if (c >> (G - 1 - j)) & 1 else -1.0 for j in range(G)]
                               for c in range(1 << G)], dtype=u.dtype) / math.sqrt(L)   # [2^G, G]
            prob = torch.softmax(2 * inv_temp * torch.matmul(ug, cb.t()), dim=-1)       # [n, g, 2^G]
            h_ps = H(prob, -1).sum(-1).mean()
            h_cb = H(prob.mean(0), -1).sum()
        else:
            p = torch.sigmoid(-4 * uf * inv_temp / math.sqrt(L))
            pp = torch.stack([p, 1 - p], -1)
            h_ps = H(pp, -1).sum(-1).mean()
            h_cb = H(pp.mean(0), -1).sum()
        commit = ((q.detach().reshape(-1, L) - uf) ** 2).sum(-1).mean()
        l_q = beta * commit + zeta * (gamma0 * h_ps - gamma * h_cb) / inv_temp
        r = min(step, ramp_steps) / ramp_steps
        lam = lq * (r + ramp_mult * (1 - r))
        total = l1 + lam * l_q
        return total, dict(l1=l1, commit=commit, h_ps=h_ps, h_cb=h_cb, l_q=l_q, lambda_q=lam)


# ---------------------------------------------------------------- checkpoints

def read_checkpoint(path):
    """(config dict, {key: float32 tensor} with ema.* preferred, raw tensors, metadata)."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
    if "config" not in meta:
        raise ValueError(f"{path}: no config in __metadata__")
    config = json.loads(meta["config"])
    raw = load_file(path)
    for k, t in raw.items():
        if t.dtype not in (torch.float32, torch.float16, torch.bfloat16):
            raise ValueError(f"{path}: {k} has dtype {t.dtype} (F32, F16 or BF16 expected)")
    want = expected_shapes(config)
    use_ema = any(k.startswith("ema.") for k in raw)
    state = {}
    for k in want:
        src = "ema." + k if use_ema and "ema." + k in raw else k
        if src not in raw:
            raise ValueError(f"{path}: missing tensor {k}")
        state[k] = raw[src].to(torch.float32)
    return config, state, raw, meta


def load(path, dtype=torch.float32, threads=None):
    """A BSQAudioModel in eval mode with the checkpoint's weights (ema.* when present), widened to `dtype`."""
    if threads:
        torch.set_num_threads(int(threads))
    config, state, _, _ = read_checkpoint(path)
    model = BSQAudioModel(config)
    for k, t in state.items():
        if list(t.shape) != expected_shapes(config)[k]:
            raise ValueError(f"{path}: {k} has shape {list(t.shape)}, expected {expected_shapes(config)[k]}")
    model.load_state_dict(state, strict=True)
    return model.to(dtype).eval()


def encode(model, mel_db):
    return model.encode(mel_db)


def decode(model, codes, T):
    return model.decode(codes, T)


def init_weights(model, generator):
    """The init rule: linear weights and positional embeddings N(0, 0.02), biases 0,
    LayerNorm / BatchNorm weight 1 bias 0, running mean 0 var 1."""
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            leaf = name.rsplit(".", 1)[-1]
            if "batch_norm" in name or ".ln" in name or ".norm." in name or name.startswith("ln"):
                t.fill_(1.0 if leaf in ("weight", "running_var") else 0.0)
            elif leaf in ("bias", "in_proj_bias"):
                t.zero_()
            else:
                t.copy_(torch.randn(t.shape, generator=generator) * 0.02)
    return model


# ---------------------------------------------------------------- self test

def selftest():
    """The pieces against torch's layers and brute-force loops; raises on a mismatch."""
    torch.manual_seed(0)
    dt = torch.float64
    w, H, B, N = 12, 3, 2, 10
    # attention vs scaled_dot_product_attention and vs nn.MultiheadAttention's packing
    att = Attention(w, H).to(dt)
    with torch.no_grad():
        for p in att.parameters():
            p.copy_(torch.randn(p.shape, dtype=dt))
    y = torch.randn(B, N, w, dtype=dt)
    q, k, v = att.qkv(y)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(att.attend(q, k, v), ref, atol=1e-12), "attention vs sdpa"
    mha = nn.MultiheadAttention(w, H, batch_first=True).to(dt)
    with torch.no_grad():
        mha.in_proj_weight.copy_(att.in_proj_weight); mha.in_proj_bias.copy_(att.in_proj_bias)
        mha.out_proj.weight.copy_(att.out_proj.weight); mha.out_proj.bias.copy_(att.out_proj.bias)
    assert torch.allclose(att(y), mha(y, y, y, need_weights=False)[0], atol=1e-12), "attention vs MHA"
    # head h = columns h·d ..< (h+1)·d, by hand for one head
    d = w // H
    qkv = y @ att.in_proj_weight.t() + att.in_proj_bias
    h1 = slice(d, 2 * d)
    qh, kh, vh = qkv[..., :w][..., h1], qkv[..., w:2 * w][..., h1], qkv[..., 2 * w:][..., h1]
    oh = torch.softmax(qh @ kh.transpose(1, 2) / math.sqrt(d), -1) @ vh
    assert torch.allclose(att.attend(q, k, v)[:, 1], oh, atol=1e-12), "head columns"
    # layer norm, gelu
    ln = LayerNorm(w).to(dt)
    with torch.no_grad():
        ln.weight.normal_(); ln.bias.normal_()
    assert torch.allclose(ln(y), torch.nn.functional.layer_norm(y, (w,), ln.weight, ln.bias, 1e-5), atol=1e-12)
    assert torch.allclose(gelu(y), torch.nn.functional.gelu(y), atol=1e-14)
    # depthwise conv per frequency band: brute force and grouped conv1d
    nt, nf, K = 5, 3, 5
    x = torch.randn(B, nt * nf, w, dtype=dt)
    dw = DepthwiseConv(w, K).to(dt)
    with torch.no_grad():
        dw.weight.normal_(); dw.bias.normal_()
    with torch.no_grad():
        got = dw(x, nt, nf)
    want = torch.zeros_like(got)
    for b in range(B):
        for it in range(nt):
            for jf in range(nf):
                for c in range(w):
                    s = float(dw.bias.detach()[c])
                    for kk in range(K):
                        src = it + kk - (K - 1) // 2
                        if 0 <= src < nt:
                            s += float(dw.weight.detach()[c, kk]) * float(x[b, src * nf + jf, c])
                    want[b, it * nf + jf, c] = s
    assert torch.allclose(got, want, atol=1e-12), "depthwise conv vs loop"
    xc = x.reshape(B, nt, nf, w).permute(0, 2, 3, 1).reshape(B * nf, w, nt)
    c1 = torch.nn.functional.conv1d(xc, dw.weight[:, None, :], dw.bias, padding=(K - 1) // 2, groups=w)
    c1 = c1.reshape(B, nf, w, nt).permute(0, 3, 1, 2).reshape(B, nt * nf, w)
    assert torch.allclose(got, c1, atol=1e-12), "depthwise conv vs conv1d"
    # batch norm vs nn.BatchNorm1d, eval and train (incl. the running-stat update)
    bn, tbn = BatchNorm(w).to(dt), nn.BatchNorm1d(w, eps=1e-5, momentum=0.1).to(dt)
    with torch.no_grad():
        for a, b_ in ((bn.weight, tbn.weight), (bn.bias, tbn.bias), (bn.running_mean, tbn.running_mean)):
            a.normal_(); b_.copy_(a)
        bn.running_var.uniform_(0.5, 1.5); tbn.running_var.copy_(bn.running_var)
    for train in (False, True):
        bn.train(train); tbn.train(train)
        a, b_ = bn(x), tbn(x.reshape(-1, w)).reshape(x.shape)
        assert torch.allclose(a, b_, atol=1e-12), f"batch norm train={train}"
        assert torch.allclose(bn.running_var, tbn.running_var, atol=1e-12), "running var update"
    # whole conv module vs torch layers (Conformer convention, channels-first conv1d)
    cm = ConvModule(w, K).to(dt)
    with torch.no_grad():
        for n_, p in cm.named_parameters():
            p.copy_(torch.randn(p.shape, dtype=dt) * 0.5)
        cm.batch_norm.running_mean.normal_(); cm.batch_norm.running_var.uniform_(0.5, 1.5)
    cm.eval()
    t = torch.nn.functional.layer_norm(x, (w,), cm.norm.weight, cm.norm.bias, 1e-5)
    t = torch.nn.functional.glu(torch.nn.functional.linear(t, cm.pointwise_conv1.weight, cm.pointwise_conv1.bias), dim=-1)
    tc = t.reshape(B, nt, nf, w).permute(0, 2, 3, 1).reshape(B * nf, w, nt)
    tc = torch.nn.functional.conv1d(tc, cm.depthwise_conv.weight[:, None, :], cm.depthwise_conv.bias, padding=(K - 1) // 2, groups=w)
    t = tc.reshape(B, nf, w, nt).permute(0, 3, 1, 2).reshape(B, nt * nf, w)
    t = torch.nn.functional.batch_norm(t.reshape(-1, w), cm.batch_norm.running_mean, cm.batch_norm.running_var,
                                       cm.batch_norm.weight, cm.batch_norm.bias, False, 0.1, 1e-5).reshape(t.shape)
    t = torch.nn.functional.linear(torch.nn.functional.silu(t), cm.pointwise_conv2.weight, cm.pointwise_conv2.bias)
    assert torch.allclose(cm(x, nt, nf), t, atol=1e-12), "conv module vs torch layers"
    # patchify / unpatchify against the index formula, and round trip
    cfg = dict(PRESETS["tiny"], n_mels=48, frames=64, patch_time=8, patch_freq=16, width=12, layers=1, heads=3,
               conv_kernel=3, embed_dim=6, group_size=3, decoder_ffn=8)
    m = BSQAudioModel(cfg).to(dt)
    X = torch.randn(2, 64, 48, dtype=dt)
    P = m.patchify(X)
    for b in range(2):
        for it in range(m.nt):
            for jf in range(m.nf):
                for a in range(8):
                    for bb in range(16):
                        assert P[b, it * m.nf + jf, a * 16 + bb] == X[b, it * 8 + a, jf * 16 + bb]
    assert torch.equal(m.unpatchify(P), X), "unpatchify"
    # codes <-> q round trip, MSB = coordinate 0, exact above 2^53
    for L in (9, 18, 36, 64):
        m.L = L
        u = torch.randn(50, L, dtype=dt)
        u[0] = 0.0
        u[1] = 1.0
        codes = m.codes_from_u(u)
        assert codes[0] == 0 and int(codes[1]) == (1 << L) - 1
        want = [sum(1 << (L - 1 - k) for k in range(L) if float(r[k]) > 0) for r in u]
        assert [int(c) for c in codes] == want, "token values"
        assert torch.equal(m.q_from_codes(codes), m.quantize(u)), "q from codes"
    # STE: value sign(u)/√L (zero → −1/√L), gradient 1/√L
    m.L = 6
    u = torch.tensor([[0.3, -0.2, 0.0, 0.5, -0.1, 0.7]], dtype=dt, requires_grad=True)
    s = torch.where(u > 0, 1.0, -1.0).to(u.dtype)
    q = (u + (s - u).detach()) / math.sqrt(6)
    assert torch.allclose(q, m.quantize(u)), "ste value"
    q.sum().backward()
    assert torch.allclose(u.grad, torch.full_like(u, 1 / math.sqrt(6))), "ste gradient"
    # a whole model, fused kernels against the step-by-step formulas
    cfg = dict(cfg, layers=2)
    m = BSQAudioModel(cfg).to(dt)
    init_weights(m, torch.Generator().manual_seed(1))
    with torch.no_grad():
        for n_, t in list(m.named_parameters()) + list(m.named_buffers()):
            t.add_(torch.rand(t.shape, dtype=dt) * 0.2 if "running_var" in n_ else torch.randn(t.shape, dtype=dt) * 0.2)
    mel = torch.rand(150, 48, dtype=dt).numpy() * 90 - 85
    codes, u = m.encode(mel)
    rec = m.decode(codes, 150)
    try:
        use_fused(True)
        codes_f, u_f = m.encode(mel)
        rec_f = m.decode(codes, 150)
    finally:
        use_fused(False)
    assert np.array_equal(codes, codes_f) and np.allclose(u, u_f, atol=1e-12), "fused encode"
    assert np.allclose(rec, rec_f, atol=1e-10), "fused decode"
    print("selftest: ok")


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        selftest()
    else:
        print(__doc__)
