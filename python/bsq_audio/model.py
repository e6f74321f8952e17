"""The audio BSQ-ViT tokenizer of the kit (docs/model.md) as a PyTorch module.

A kit checkpoint (F32, F16 or BF16 safetensors, ``ema.*`` weights preferred)
loads into :class:`BSQAudio`, which gives the tokens that ``bsq-encode``
writes and the mel that ``bsq-decode`` writes, to float32 rounding::

    from bsq_audio import frames, model

    m = model.load()                                  # the kit's default model (or model.load("x.safetensors"))
    meta, mel = frames.read("a.mel")[0]               # float32 [T, 128], dB
    codes = m.encode(mel)                             # torch.int64 [time_patches, 8], as bsq-encode writes them
    rec = m.decode(codes, frames=mel.shape[0])        # float32 [T, 128], dB, as bsq-decode writes it
    bits = m.codes_to_bits(codes)                     # [time_patches, 8, 18] of 0/1, coordinate 0 first

Only numpy and torch are needed: the safetensors file is read with json and
numpy. The layers are written out from docs/model.md's formulas, as in the
kit's independent reference (Tests/Fixtures/model/reference_model.py), whose
math this module follows.
"""
import hashlib
import json
import math
import os
import shutil
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["BSQAudio", "load", "read_safetensors", "read_checkpoint", "check_config", "expected_shapes",
           "default_model_path", "codes_to_bits", "bits_to_codes", "DEFAULT_MODEL"]

#: the file name of the kit's default model
DEFAULT_MODEL = "bsq-audio-tiny18.safetensors"

FIELDS = ("n_mels", "frames", "patch_time", "patch_freq", "width", "layers", "heads", "mlp_ratio",
          "conv_module", "conv_kernel", "embed_dim", "group_size", "persample_entropy", "decoder_ffn",
          "db_min", "db_max")

EPS = 1e-5
_SDPA = getattr(F, "scaled_dot_product_attention", None)         # torch >= 2.0
STATE_PREFIXES = ("ema.", "optimizer.", "discriminator.", "disc_optimizer.")


class CheckpointError(ValueError):
    """A checkpoint that does not load: names the file and what is wrong."""


def check_config(c):
    """Raise ValueError naming the first field that is missing or does not fit (docs/model.md)."""
    for f in FIELDS:
        if f not in c:
            raise ValueError(f"config: missing field '{f}'")

    def need(ok, what):
        if not ok:
            raise ValueError("config: " + what)
    need(c["n_mels"] > 0 and c["patch_freq"] > 0 and c["n_mels"] % c["patch_freq"] == 0, "n_mels must be a multiple of patch_freq")
    need(c["frames"] > 0 and c["patch_time"] > 0 and c["frames"] % c["patch_time"] == 0, "frames must be a multiple of patch_time")
    need(c["width"] > 0 and c["heads"] > 0 and c["width"] % c["heads"] == 0, "width must be a multiple of heads")
    need(0 <= c["layers"] <= 256 and c["mlp_ratio"] > 0 and c["decoder_ffn"] > 0, "layers/mlp_ratio/decoder_ffn")
    need(not c["conv_module"] or (c["conv_kernel"] > 0 and c["conv_kernel"] % 2 == 1), "conv_kernel must be odd")
    need(0 < c["embed_dim"] <= 64, "embed_dim must be in 1...64")
    need(c["group_size"] > 0 and c["embed_dim"] % c["group_size"] == 0, "group_size must divide embed_dim")
    need(c["persample_entropy"] in ("group", "analytical"), "persample_entropy must be group or analytical")
    need(c["db_max"] > c["db_min"], "db_max must be above db_min")


def expected_shapes(c):
    """{checkpoint key: shape} of every tensor the config calls for, in the file's order."""
    w, P, L = c["width"], c["patch_time"] * c["patch_freq"], c["embed_dim"]
    N = (c["frames"] // c["patch_time"]) * (c["n_mels"] // c["patch_freq"])
    m, K, Fd = c["mlp_ratio"] * w, c["conv_kernel"], c["decoder_ffn"]

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
              "decoder.ffn.weight": [Fd, w], "decoder.ffn.bias": [Fd],
              "decoder.conv_out.weight": [P, Fd], "decoder.conv_out.bias": [P]})
    return s


# ---------------------------------------------------------------- checkpoints

_ST_DTYPES = {"F32": ("<f4", 4), "F16": ("<f2", 2), "BF16": ("<u2", 2)}


def read_safetensors(path):
    """({key: float32 numpy array}, __metadata__ dict) of a safetensors file with F32, F16
    and BF16 tensors (widened to float32); CheckpointError for anything else."""
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise CheckpointError(f"{path}: not a safetensors file (shorter than 8 bytes)")
        (n,) = struct.unpack("<Q", head)
        if n > min(size - 8, 100 << 20):
            raise CheckpointError(f"{path}: not a safetensors file (header of {n} bytes in a file of {size})")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise CheckpointError(f"{path}: bad safetensors header ({e})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: bad safetensors header (not a JSON object)")
    meta = header.pop("__metadata__", None) or {}
    data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + n) if size > 8 + n else np.zeros(0, np.uint8)
    out = {}
    for key, e in header.items():
        try:
            dt, shape, (b, end) = e["dtype"], [int(d) for d in e["shape"]], e["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise CheckpointError(f"{path}: bad header entry for '{key}'") from None
        if dt not in _ST_DTYPES:
            raise CheckpointError(f"{path}: tensor '{key}' has dtype {dt} (F32, F16 or BF16 expected)")
        npdt, itemsize = _ST_DTYPES[dt]
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if not (0 <= b <= end <= data.shape[0]) or end - b != count * itemsize:
            raise CheckpointError(f"{path}: tensor '{key}' has data_offsets [{b}, {end}) that do not fit "
                                  f"its shape {shape} of {dt} in {data.shape[0]} bytes of data")
        raw = np.frombuffer(data[b:end].tobytes(), dtype=npdt)
        if dt == "BF16":
            arr = (raw.astype(np.uint32) << np.uint32(16)).view(np.float32)
        else:
            arr = raw.astype(np.float32)
        out[key] = arr.reshape(shape)
    return out, meta


def read_checkpoint(path):
    """(config, {key: float32 numpy array} of the weights a model runs with, __metadata__).

    As docs/model.md ("Reading"): the config from ``__metadata__["config"]``; the
    ``ema.`` copy of every tensor when the file has any ``ema.`` tensor; every key the
    config calls for with exactly its shape; no tensor outside the config but under
    ``ema.``, ``optimizer.``, ``discriminator.`` or ``disc_optimizer.``; finite values."""
    path = os.fspath(path)
    tensors, meta = read_safetensors(path)
    fmt = meta.get("format")
    if fmt is not None and fmt not in ("bsq-audio-1", "pt"):
        raise CheckpointError(f'{path}: safetensors format "{fmt}", expected "bsq-audio-1" or "pt"')
    if "config" not in meta:
        raise CheckpointError(f"{path}: no model config in the safetensors metadata")
    try:
        config = json.loads(meta["config"])
        if not isinstance(config, dict):
            raise ValueError("config is not a JSON object")
        check_config(config)
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None
    want = expected_shapes(config)
    for k in tensors:
        if k not in want and not k.startswith(STATE_PREFIXES):
            raise CheckpointError(f"{path}: unexpected tensor '{k}' for this config")
    use_ema = any(k.startswith("ema.") for k in tensors)
    state = {}
    for k, shape in want.items():
        src = "ema." + k if use_ema else k
        if src not in tensors:
            raise CheckpointError(f"{path}: missing tensor '{src}'")
        t = tensors[src]
        if list(t.shape) != shape:
            raise CheckpointError(f"{path}: tensor '{src}' has shape {list(t.shape)}, expected {shape}")
        if not np.all(np.isfinite(t)):
            raise CheckpointError(f"{path}: tensor '{src}' holds values that are not finite numbers")
        state[k] = t
    return config, state, meta


def default_model_path():
    """Where the tools find the kit's default model: ``$BSQ_DEFAULT_MODEL``; else beside
    the tools (``$BSQ_BIN_DIR`` or ``bsq-encode`` on PATH) in ``../share/bsq-audio/``
    (``make install``) or ``bsq-audio_BSQAudio.resources/`` (a ``swift build`` tree);
    else the source tree this package sits in. FileNotFoundError when none has it."""
    env = os.environ.get("BSQ_DEFAULT_MODEL")
    if env:
        return env
    dirs = []
    if os.environ.get("BSQ_BIN_DIR"):
        dirs.append(os.environ["BSQ_BIN_DIR"])
    exe = shutil.which("bsq-encode")
    if exe:
        dirs.append(os.path.dirname(os.path.realpath(exe)))
    looked = []
    for d in dirs:
        looked += [os.path.join(d, "..", "share", "bsq-audio", DEFAULT_MODEL),
                   os.path.join(d, "bsq-audio_BSQAudio.resources", DEFAULT_MODEL)]
    here = os.path.dirname(os.path.abspath(__file__))
    looked.append(os.path.join(here, "..", "..", "Sources", "BSQAudio", "Resources", DEFAULT_MODEL))
    for p in looked:
        if os.path.isfile(p):
            return os.path.normpath(p)
    raise FileNotFoundError("the kit's default model is not installed (looked for " + ", ".join(map(os.path.normpath, looked))
                            + "); set BSQ_DEFAULT_MODEL or give a checkpoint path")


# ---------------------------------------------------------------- tokens <-> bits

def _codes_as_int64(codes, L, device=None):
    """Codes (numpy u32/u64/i64, torch, lists) as a torch.int64 tensor holding the same bits;
    ValueError for a code that is not below 2^L."""
    if isinstance(codes, torch.Tensor):
        t = codes
        if t.dtype == torch.uint64:
            t = t.view(torch.int64)
        elif t.dtype.is_floating_point or t.dtype == torch.bool:
            raise TypeError(f"codes must be integers, got {t.dtype}")
        else:
            t = t.to(torch.int64)
    else:
        a = np.asarray(codes)
        if a.dtype.kind not in "iu":
            raise TypeError(f"codes must be integers, got {a.dtype}")
        a = a.astype(np.uint64).view(np.int64) if a.dtype == np.uint64 else a.astype(np.int64)
        t = torch.from_numpy(np.ascontiguousarray(a))
    if device is not None:
        t = t.to(device)
    if L < 64 and t.numel() and bool(((t < 0) | (t >= (1 << L))).any()):
        raise ValueError(f"a code is not below 2^{L}")
    return t


def codes_to_bits(codes, bits, dtype=torch.float32):
    """Tokens [...] → their bits [..., bits] as 0/1 of ``dtype``: entry k is bit bits−1−k
    of the token, so coordinate 0 of the quantized vector (the most significant bit) first."""
    L = int(bits)
    t = _codes_as_int64(codes, L)
    shifts = torch.arange(L - 1, -1, -1, dtype=torch.int64, device=t.device)
    return ((t[..., None] >> shifts) & 1).to(dtype)


def bits_to_codes(bits):
    """Bits [..., L] (0/1 or booleans; entry 0 the most significant) → tokens [...]:
    torch.int64 for L < 64, torch.uint64 for L = 64."""
    b = torch.as_tensor(bits)
    L = b.shape[-1]
    if not 0 < L <= 64:
        raise ValueError(f"{L} bits per token: 1 to 64 expected")
    shifts = torch.arange(L - 1, -1, -1, dtype=torch.int64, device=b.device)
    v = ((b != 0).to(torch.int64) << shifts).sum(-1)
    return v.view(torch.uint64) if L == 64 else v


# ---------------------------------------------------------------- layers (docs/model.md, steps 3-6)

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
        mean = x.mean(-1, keepdim=True)
        d = x - mean
        var = (d * d).mean(-1, keepdim=True)
        return d / torch.sqrt(var + EPS) * self.weight + self.bias


def gelu(x):
    """Exact GELU: 0.5·x·(1 + erf(x/√2))."""
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


class Attention(nn.Module):
    """qkv = y·in_proj_weightᵀ + in_proj_bias (rows q, k, v); head h takes columns
    h·d ..< (h+1)·d of each; softmax(q·kᵀ/√d)·v, heads concatenated, out_proj."""

    def __init__(self, w, heads):
        super().__init__()
        self.heads = heads
        self.in_proj_weight = _p(3 * w, w)
        self.in_proj_bias = _p(3 * w)
        self.out_proj = Linear(w, w)

    def forward(self, y):
        B, N, w = y.shape
        H, d = self.heads, w // self.heads
        qkv = torch.matmul(y, self.in_proj_weight.t()) + self.in_proj_bias
        split = lambda t: t.reshape(B, N, H, d).transpose(1, 2)                  # noqa: E731  [B, H, N, d]
        q, k, v = split(qkv[..., :w]), split(qkv[..., w:2 * w]), split(qkv[..., 2 * w:])
        if _SDPA is not None:                            # the same formula in one fused kernel (scale 1/√d)
            o = _SDPA(q, k, v)
        else:
            logits = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(d)
            o = torch.matmul(torch.softmax(logits, dim=-1), v)
        return self.out_proj(o.transpose(1, 2).reshape(B, N, w))


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
        g = x.reshape(B, nt, nf, w)
        pad = torch.zeros(B, r, nf, w, dtype=x.dtype, device=x.device)
        g = torch.cat([pad, g, pad], dim=1)                                      # [B, nt + K − 1, nf, w]
        y = self.bias.expand(B, nt, nf, w).clone()
        for k in range(K):
            y = y + self.weight[:, k] * g[:, k:k + nt]
        return y.reshape(B, N, w)


class BatchNorm(nn.Module):
    """Per channel; the running statistics at inference, the batch's in training
    (torch.nn.BatchNorm1d's rule, momentum 0.1)."""

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
        y = self.batch_norm(self.depthwise_conv(y, nt, nf))
        return self.pointwise_conv2(y * torch.sigmoid(y))


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

    def forward(self, h, nt, nf):
        h = h + self.attn(self.ln_1(h))
        if self.conv is not None:
            h = h + self.conv(h, nt, nf)
        return h + self.mlp(self.ln_2(h))


class Encoder(nn.Module):
    def __init__(self, c, N, P):
        super().__init__()
        w = c["width"]
        self.patch_embed = Linear(P, w, bias=False)
        self.mask_token = _p(w) if c.get("mask_token", False) else None         # masked pre-training only
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


# ---------------------------------------------------------------- the model

class BSQAudio(nn.Module):
    """The tokenizer; its ``state_dict`` keys are exactly the checkpoint keys.

    Attributes: ``config`` (the checkpoint's configuration), ``nt``/``nf`` (time and
    frequency patches per chunk), ``L`` (bits per token), ``name`` and ``sha256``
    (of the checkpoint file, as bsq-encode writes them in the codes' ``model``)."""

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
        self.name = c.get("name")
        self.sha256 = None
        self.path = None
        self.eval()

    @classmethod
    def load(cls, path=None, dtype=torch.float32, device=None):
        """The model of a checkpoint (the kit's default model when ``path`` is None), in eval mode."""
        path = default_model_path() if path is None else os.fspath(path)
        config, state, _ = read_checkpoint(path)
        m = cls(config)
        m.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in state.items()}, strict=True)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        m.sha256 = h.hexdigest()
        m.name = config.get("name") or os.path.basename(path)
        m.path = path
        m = m.to(dtype)
        return m.to(device) if device is not None else m

    @property
    def dtype(self):
        return self.encoder.patch_embed.weight.dtype

    @property
    def device(self):
        return self.encoder.patch_embed.weight.device

    @property
    def frames(self):
        """Mel frames per chunk (1024 = 10.24 s for the presets)."""
        return self.config["frames"]

    @property
    def n_mels(self):
        return self.config["n_mels"]

    @property
    def patch_time(self):
        return self.config["patch_time"]

    # -- steps 1-2 and their inverse
    def normalize(self, X):
        lo, hi = float(self.config["db_min"]), float(self.config["db_max"])
        return 2.0 * (torch.clamp(X, lo, hi) - lo) / (hi - lo) - 1.0

    def denormalize(self, y):
        lo, hi = float(self.config["db_min"]), float(self.config["db_max"])
        return torch.clamp(lo + (y + 1.0) / 2.0 * (hi - lo), lo, hi)

    def patchify(self, x):
        """[B, frames, n_mels] → [B, N, pt·pf]; token it·nf + jf, element a·pf + b = x[it·pt + a, jf·pf + b]."""
        B = x.shape[0]
        pt, pf = self.config["patch_time"], self.config["patch_freq"]
        x = x.reshape(B, self.nt, pt, self.nf, pf).permute(0, 1, 3, 2, 4)
        return x.reshape(B, self.N, pt * pf)

    def unpatchify(self, p):
        B = p.shape[0]
        pt, pf = self.config["patch_time"], self.config["patch_freq"]
        p = p.reshape(B, self.nt, self.nf, pt, pf).permute(0, 1, 3, 2, 4)
        return p.reshape(B, self.nt * pt, self.nf * pf)

    # -- whole chunks
    def encode_chunks(self, X):
        """Chunks X [B, frames, n_mels] in dB → u [B, N, L], the encoder's output on the unit
        sphere (step 5 before the signs); differentiable."""
        e = self.encoder
        h = e.patch_embed(self.patchify(self.normalize(X))) + e.positional_embedding
        h = e.ln_pre(h)
        for blk in e.blocks:
            h = blk(h, self.nt, self.nf)
        z = self.quant_embed(e.ln_post(h))
        return z / torch.clamp(torch.sqrt((z * z).sum(-1, keepdim=True)), min=1e-12)

    def quantize(self, u):
        """q = (u > 0 ? 1 : −1)/√L (a zero coordinate gives −1)."""
        one = torch.ones((), dtype=u.dtype, device=u.device)
        return torch.where(u > 0, one, -one) / math.sqrt(self.L)

    def decode_chunks(self, q):
        """q [B, N, L] (±1/√L, or any values: differentiable) → mel [B, frames, n_mels] in dB."""
        d = self.decoder
        g = d.ln_pre(self.post_quant_embed(q) + d.positional_embedding)
        for blk in d.blocks:
            g = blk(g, self.nt, self.nf)
        p = d.conv_out(torch.tanh(d.ffn(d.ln_post(g))))
        return self.denormalize(self.unpatchify(p))

    # -- tokens
    def codes_from_u(self, u):
        """Tokens of u [..., L]: Σ_k [u_k > 0]·2^(L−1−k), torch.int64 (torch.uint64 for L = 64)."""
        return bits_to_codes(u > 0)

    def codes_to_bits(self, codes, dtype=torch.float32):
        """Tokens [...] → bits [..., L] of 0/1 (``dtype``), coordinate 0 (the most significant bit) first."""
        return codes_to_bits(codes, self.L, dtype=dtype).to(self.device)

    def codes_to_q(self, codes):
        """Tokens [...] → the decoder's input q [..., L]: +1/√L where the bit is set, else −1/√L."""
        b = self.codes_to_bits(codes, dtype=self.dtype)
        return (2.0 * b - 1.0) / math.sqrt(self.L)

    # -- any length (docs/model.md, "Any length")
    def _mel(self, mel):
        if isinstance(mel, torch.Tensor):
            x = mel.to(device=self.device, dtype=self.dtype)
        else:
            x = torch.tensor(np.asarray(mel), dtype=self.dtype, device=self.device)
        if x.ndim not in (2, 3) or x.shape[-1] != self.n_mels:
            raise ValueError(f"mel must be [T, {self.n_mels}] or [B, T, {self.n_mels}] in dB, got {list(x.shape)}")
        if x.shape[-2] == 0:
            raise ValueError("mel has no frames")
        if not bool(torch.isfinite(x).all()):
            raise ValueError("mel holds values that are not finite numbers")
        return x

    @torch.no_grad()
    def encode(self, mel, trim=False, batch=8, return_u=False):
        """Mel in dB [T, n_mels] (or a batch [B, T, n_mels]; numpy or torch) → tokens
        [rows, nf] (or [B, rows, nf]), torch.int64 (torch.uint64 for 64 bits), on the model's device.

        As bsq-encode: ⌈T/frames⌉ chunks of ``frames`` rows, the last padded with db_min,
        rows = chunks·nt time patches, each the nf frequency patches from the lowest mel
        bands up. With ``trim`` only the covered rows, ⌈T/patch_time⌉ (bsq-encode --trim).
        ``return_u`` also returns u [..., rows, nf, L] (the signs give the bits; a coordinate
        near 0 is where float rounding may flip one between implementations)."""
        x = self._mel(mel)
        single = x.ndim == 2
        if single:
            x = x[None]
        B, T, nm = x.shape
        fr = self.frames
        n = -(-T // fr)
        if n * fr > T:
            x = torch.cat([x, x.new_full((B, n * fr - T, nm), float(self.config["db_min"]))], dim=1)
        X = x.reshape(B * n, fr, nm)
        u = torch.cat([self.encode_chunks(X[i:i + batch]) for i in range(0, B * n, batch)])
        u = u.reshape(B, n * self.nt, self.nf, self.L)
        if trim:
            u = u[:, :-(-T // self.patch_time)]
        codes = self.codes_from_u(u)
        if single:
            codes, u = codes[0], u[0]
        return (codes, u) if return_u else codes

    def silence_codes(self):
        """The tokens [nt, nf] of a chunk of silence (every value db_min): what trimmed codes
        are completed with (as bsq-decode does)."""
        return self.encode(torch.full((self.frames, self.n_mels), float(self.config["db_min"])))

    @torch.no_grad()
    def decode(self, codes, frames=None, batch=8):
        """Tokens [rows, nf] (or [B, rows, nf]; numpy u32/u64, torch) → mel in dB [T, n_mels]
        (or [B, T, n_mels]), float, on the model's device.

        ``frames`` is T, the mel frames the codes stand for (their metadata ``frames``);
        without it, rows·patch_time. As bsq-decode: T must need as many chunks as the rows
        make, and trimmed codes (rows ending inside a chunk) have their last chunk completed
        with the tokens of silence."""
        c = _codes_as_int64(codes, self.L, device=self.device)
        single = c.ndim == 2
        if single:
            c = c[None]
        if c.ndim != 3 or c.shape[-1] != self.nf or c.shape[1] == 0:
            raise ValueError(f"codes must be [time_patches, {self.nf}] (or batched), got {list(c.shape)}")
        B, rows, _ = c.shape
        pt, fr = self.patch_time, self.frames
        T = rows * pt if frames is None else int(frames)
        chunks = -(-rows // self.nt)
        if T <= 0 or -(-T // fr) != chunks or -(-T // pt) > rows:
            raise ValueError(f"frames {T} does not fit {rows} time patches of {pt} frames in chunks of {fr}")
        if rows < chunks * self.nt:
            sil = _codes_as_int64(self.silence_codes(), self.L, device=self.device)[rows % self.nt:]
            c = torch.cat([c, sil[None].expand(B, -1, -1)], dim=1)
        q = self.codes_to_q(c.reshape(B * chunks, self.N))
        mel = torch.cat([self.decode_chunks(q[i:i + batch]) for i in range(0, B * chunks, batch)])
        mel = mel.reshape(B, chunks * fr, self.n_mels)[:, :T]
        return mel[0] if single else mel

    def forward(self, mel):
        """mel [B, T, n_mels] → tokens: the same as encode."""
        return self.encode(mel)


def load(path=None, dtype=torch.float32, device=None):
    """The :class:`BSQAudio` of a checkpoint (F32/F16/BF16 safetensors, ema.* preferred),
    in eval mode; the kit's default model when ``path`` is None."""
    return BSQAudio.load(path, dtype=dtype, device=device)
