#!/usr/bin/env python3
"""Makes expected_vocoder.safetensors: the Vocos-style vocoder's forward and
the gradients of its training loss, with PyTorch autograd on
reference_vocoder.py; deterministic, run from anywhere:

    python3 Tests/Fixtures/vocoder/make_vocoder_fixture.py

Case: dim 32, ffn 64, layers 2, kernel 7, n_mels 128, hop 160, n_fft 640,
batch B = 2, T = 24 frames; audio T * hop = 3840 samples, the loss compares the
first L = (T - 1) * hop = 3680.

Draw order, all from torch.manual_seed(0) (global CPU generator, float32):
  1. Vocoder init (the construction draws nothing): N(0, 0.02) into
     backbone.embed.weight, backbone.convnext.0.dwconv.weight, .0.pwconv1.weight,
     .0.pwconv2.weight, backbone.convnext.1.dwconv.weight, .1.pwconv1.weight,
     .1.pwconv2.weight, head.out.weight (each one randn of its shape, times 0.02);
     biases 0, LayerNorm weight 1 / bias 0, gamma 1/layers = 0.5.
  2. LayerNorm weights += 0.1 randn(dim), in the order backbone.norm,
     backbone.convnext.0.norm, backbone.convnext.1.norm, backbone.final_layer_norm.
  3. every bias = 0.02 randn(its shape), in the order backbone.embed,
     backbone.norm, then per block i: convnext.<i>.dwconv, .norm, .pwconv1,
     .pwconv2; then backbone.final_layer_norm, head.out.
  4. gamma_i = 0.1 + 0.05 randn(dim), i = 0, 1.
  5. (no draw) head.out.bias[CLIP_BINS] += CLIP_OFFSET, CLIP_BINS = 0, 1, 2, 320
     (the log-magnitudes of DC, bins 1-2 and Nyquist), so that some of those
     exp(logmag) pass the clip at 100 and some do not (count in the metadata).
  6. mel = -80 + 80 sigmoid(1.5 randn(B, T, 128) + 1), then mel[0, 0, :4] = -95
     and mel[1, 3, 5:8] = 3 (outside [-80, 0], for the clamp).
  7. target = 0.1 randn(B, L), smoothed along time by the kernel [0.25, 0.5, 0.25]
     with zero padding 1 (target[j] = 0.25 r[j-1] + 0.5 r[j] + 0.25 r[j+1], r[-1] = r[L] = 0).

Tensors (F32, little-endian, sorted keys, byte-reproducible):
  <key>          every parameter, under its state-dict key (reference_vocoder.state_keys(2))
  mel            [2, 24, 128]   input, dB
  target         [2, 3680]      y
  audio          [2, 3840]      Vocoder(mel)
  grad.<key>     every parameter: d total / d parameter, total = 45 L_mel + L_stft
                 of (audio[:, :3680], target)
  grad_audio     [2, 3840]      d total / d audio (zero past sample 3680)
__metadata__ (JSON strings): dim, ffn, layers, kernel, n_mels, hop, n_fft,
  sample_rate, db_min, db_max, ln_eps, mag_clip, batch, frames, loss_samples,
  audio_samples, loss, loss_mel, loss_stft (the float32 run's), loss_float64,
  loss_mel_float64, loss_stft_float64, mel_loss_weight, stft_loss_weight,
  mel_clamp, stft_power_clamp, mel_resolutions [[n_fft, hop, n_mels], ...],
  stft_resolutions [[n_fft, hop, win], ...], clip_bins, clip_offset,
  clipped (how many exp(logmag) > 100, of B * T * 321), torch, librosa.

Checks: a float64 re-run from the same draws (the float32 draws widened; window
and filterbanks made in float64), printed relative errors as a guide to the
float32 tolerance; writing twice gives the same bytes; the file reads back
with a plain parser.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import reference_vocoder as rv  # noqa: E402

PATH = HERE / "expected_vocoder.safetensors"
DIM, FFN, LAYERS, BATCH, FRAMES = 32, 64, 2, 2, 24
L = (FRAMES - 1) * rv.HOP
CLIP_BINS = [0, 1, 2, rv.N_FFT // 2]
CLIP_OFFSET = 4.6


def draws():
    torch.manual_seed(0)
    v = rv.Vocoder(DIM, FFN, LAYERS)
    bb = v.backbone
    with torch.no_grad():
        norms = [bb.norm] + [blk.norm for blk in bb.convnext] + [bb.final_layer_norm]
        for m in norms:
            m.weight += 0.1 * torch.randn(m.weight.shape)
        with_bias = [bb.embed, bb.norm]
        for blk in bb.convnext:
            with_bias += [blk.dwconv, blk.norm, blk.pwconv1, blk.pwconv2]
        with_bias += [bb.final_layer_norm, v.head.out]
        assert len(with_bias) == sum(1 for m in v.modules() if isinstance(m, (nn.Conv1d, nn.Linear, nn.LayerNorm)))
        for m in with_bias:
            m.bias.copy_(0.02 * torch.randn(m.bias.shape))
        for blk in bb.convnext:
            blk.gamma.copy_(0.1 + 0.05 * torch.randn(DIM))
        v.head.out.bias[CLIP_BINS] += CLIP_OFFSET
    mel = -80.0 + 80.0 * torch.sigmoid(1.5 * torch.randn(BATCH, FRAMES, rv.N_MELS) + 1.0)
    mel[0, 0, :4] = -95.0
    mel[1, 3, 5:8] = 3.0
    r = 0.1 * torch.randn(BATCH, L)
    target = F.conv1d(r[:, None], torch.tensor([[[0.25, 0.5, 0.25]]]), padding=1)[:, 0]
    return v, mel, target


def run(dtype):
    v, mel, target = draws()
    v = v.to(dtype)
    mel, target = mel.to(dtype), target.to(dtype)
    out = {k: t.detach().clone() for k, t in v.state_dict().items()}
    assert list(out) and sorted(out) == sorted(rv.state_keys(LAYERS)), sorted(out)
    out["mel"], out["target"] = mel, target
    audio = v(mel)
    audio.retain_grad()
    total, l_mel, l_stft = rv.vocoder_loss(audio, target)
    total.backward()
    out["audio"], out["grad_audio"] = audio.detach(), audio.grad.detach().clone()
    for name, p in v.named_parameters():
        out["grad." + name] = p.grad.detach().clone()
    with torch.no_grad():
        logmag = v.head.spectrum(v.features(mel))[1]
    scalars = {"loss": total.item(), "loss_mel": l_mel.item(), "loss_stft": l_stft.item(),
               "clipped": int((torch.exp(logmag) > rv.MAG_CLIP).sum()),
               "clip_margin": float((logmag - torch.log(torch.tensor(rv.MAG_CLIP, dtype=dtype))).abs().min())}
    with torch.no_grad():  # how often the loss's floors are reached (a guide, not stored)
        y_hat = audio.detach()[:, :L]
        hits = []
        for n_fft, hop, n_mels in rv.MEL_RESOLUTIONS:
            fb = rv.mel_fb(n_fft, n_mels, dtype)
            hits += [int(((fb @ rv.stft(x, n_fft, hop, n_fft).abs()) < rv.MEL_CLAMP).sum()) for x in (target, y_hat)]
        for n_fft, hop, win in rv.STFT_RESOLUTIONS:
            hits += [int((rv.stft(x, n_fft, hop, win).abs().square() < rv.STFT_POWER_CLAMP).sum())
                     for x in (target, y_hat)]
    scalars["floor_hits"] = hits
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


def main():
    import librosa
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    tensors, sc = run(torch.float32)
    ref64, sc64 = run(torch.float64)
    assert sc["clipped"] == sc64["clipped"], (sc["clipped"], sc64["clipped"])
    assert 0 < sc["clipped"] < BATCH * FRAMES * len(CLIP_BINS), sc["clipped"]
    meta = {
        "dim": json.dumps(DIM), "ffn": json.dumps(FFN), "layers": json.dumps(LAYERS),
        "kernel": json.dumps(rv.KERNEL), "n_mels": json.dumps(rv.N_MELS), "hop": json.dumps(rv.HOP),
        "n_fft": json.dumps(rv.N_FFT), "sample_rate": json.dumps(rv.SAMPLE_RATE),
        "db_min": json.dumps(rv.DB_MIN), "db_max": json.dumps(rv.DB_MAX), "ln_eps": json.dumps(rv.LN_EPS),
        "mag_clip": json.dumps(rv.MAG_CLIP), "batch": json.dumps(BATCH), "frames": json.dumps(FRAMES),
        "loss_samples": json.dumps(L), "audio_samples": json.dumps(FRAMES * rv.HOP),
        "loss": json.dumps(sc["loss"]), "loss_mel": json.dumps(sc["loss_mel"]),
        "loss_stft": json.dumps(sc["loss_stft"]),
        "loss_float64": json.dumps(sc64["loss"]), "loss_mel_float64": json.dumps(sc64["loss_mel"]),
        "loss_stft_float64": json.dumps(sc64["loss_stft"]),
        "mel_loss_weight": json.dumps(rv.MEL_LOSS_WEIGHT), "stft_loss_weight": json.dumps(rv.STFT_LOSS_WEIGHT),
        "mel_clamp": json.dumps(rv.MEL_CLAMP), "stft_power_clamp": json.dumps(rv.STFT_POWER_CLAMP),
        "mel_resolutions": json.dumps([list(r) for r in rv.MEL_RESOLUTIONS]),
        "stft_resolutions": json.dumps([list(r) for r in rv.STFT_RESOLUTIONS]),
        "clip_bins": json.dumps(CLIP_BINS), "clip_offset": json.dumps(CLIP_OFFSET),
        "clipped": json.dumps(sc["clipped"]), "torch": torch.__version__, "librosa": librosa.__version__,
    }
    data = save(PATH, tensors, meta)
    tensors2, _ = run(torch.float32)
    assert save(PATH, tensors2, meta) == data, "not byte-reproducible"
    back, meta_back = load(PATH)
    assert meta_back == meta and sorted(back) == sorted(tensors)
    for k, v in tensors.items():
        assert np.array_equal(back[k], v.to(torch.float32).numpy()), k
        assert np.isfinite(back[k]).all(), k
    assert not back["grad_audio"][:, L:].any()

    print(f"{PATH.name}: {len(data)} bytes, {len(tensors)} tensors")
    for k in ("loss", "loss_mel", "loss_stft"):
        print(f"  {k:9s} = {sc[k]!r}   (float64: {sc64[k]!r}, rel diff {abs(sc[k] - sc64[k]) / abs(sc64[k]):.1e})")
    print(f"  clipped {sc['clipped']} of {BATCH * FRAMES * (rv.N_FFT // 2 + 1)} magnitudes "
          f"({BATCH * FRAMES * len(CLIP_BINS)} boosted); min |logmag - ln 100| = {sc['clip_margin']:.2e}")
    print(f"  loss floors reached (target, y_hat) per resolution, mel then stft: {sc['floor_hits']}")
    print(f"  max |audio| {float(tensors['audio'].abs().max()):.4f}, max |target| "
          f"{float(tensors['target'].abs().max()):.4f}")
    print(f"  {'tensor':40s} {'shape':15s} {'max|x|':>10s} {'max|d|/max|x|':>14s} {'max elem rel':>12s}")
    for k in sorted(tensors):
        if not (k.startswith("grad") or k == "audio"):
            continue
        a, b = tensors[k].double(), ref64[k]
        scale = float(b.abs().max())
        rel_max = float((a - b).abs().max()) / max(scale, 1e-30)
        big = b.abs() > 1e-3 * scale
        rel_elem = float(((a - b).abs() / b.abs())[big].max()) if big.any() else 0.0
        print(f"  {k:40s} {str(list(a.shape)):15s} {scale:10.3e} {rel_max:14.1e} {rel_elem:12.1e}")
    print("  (max elem rel: worst |f32 - f64| / |f64| over the elements above 1e-3 of the tensor's max)")
    for k in sorted(tensors):
        if k not in ref64 or k.startswith("grad") or k == "audio":
            continue
        assert torch.equal(tensors[k].double(), ref64[k]), k  # the same draws in both runs
    print("  other tensors: " + ", ".join(f"{k} {list(tensors[k].shape)}" for k in sorted(tensors)
                                           if not k.startswith("grad") and k != "audio"))


if __name__ == "__main__":
    main()
