#!/usr/bin/env python3
"""Checks a checkpoint (e.g. one the Swift trainer wrote) against the model
contract (docs/model.md), and optionally the Swift tools' outputs against the PyTorch reference:

    python3 check_checkpoint.py CKPT [MEL_BSQT CODES_BSQT RECON_BSQT]
        [--tol-u 1e-5] [--tol-db 1e-3] [--threads N]

CKPT alone: `__metadata__` has "format": "bsq-audio-1" and a valid "config";
every tensor the config calls for is there with exactly its shape, as F32, F16
or BF16, finite; `ema.` copies (when any) are complete and shaped alike; no
stray tensor under a model prefix (encoder., decoder., quant_embed.,
post_quant_embed.; e.g. num_batches_tracked). Other prefixes (optimizer
state, step) are listed and allowed.

With the streams (frame i of each belongs together): the codes must be kind
"codes", u32 (u64 above 32 bits), [⌈T/frames⌉·nt, nf], metadata "frames" = T,
and equal to the reference's codes except at tokens where some |u_k| is below
--tol-u; the reconstruction must be kind "mel", f32 [T, n_mels], within --tol-db
of the reference's decoding of THOSE codes.

Exit 0 when everything holds, 1 with a message per problem otherwise, 2 on usage errors.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import bsqt  # noqa: E402
import reference_model as rm  # noqa: E402

MODEL_PREFIXES = ("encoder.", "decoder.", "quant_embed.", "post_quant_embed.")


def check_file(path, problems):
    """Structure of the checkpoint; returns the config (or None when unusable)."""
    from safetensors import safe_open
    try:
        with safe_open(path, framework="pt") as f:
            meta = f.metadata() or {}
            keys = list(f.keys())
            tensors = {k: f.get_tensor(k) for k in keys}
    except Exception as e:  # noqa: BLE001 - any parse failure is the finding
        problems.append(f"not a readable safetensors file: {e}")
        return None
    if meta.get("format") != "bsq-audio-1":
        problems.append(f'__metadata__ "format" is {meta.get("format")!r}, expected "bsq-audio-1"')
    try:
        config = json.loads(meta["config"])
        assert isinstance(config, dict)
        rm.check_config(config)
    except KeyError:
        problems.append('__metadata__ has no "config"')
        return None
    except Exception as e:  # noqa: BLE001
        problems.append(f"bad config: {e}")
        return None
    want = rm.expected_shapes(config)
    has_ema = any(k.startswith("ema.") for k in keys)
    for prefix in ("",) + (("ema.",) if has_ema else ()):
        for k, shape in want.items():
            t = tensors.get(prefix + k)
            if t is None:
                problems.append(f"missing tensor {prefix + k} {shape}")
            elif list(t.shape) != shape:
                problems.append(f"{prefix + k} has shape {list(t.shape)}, expected {shape}")
    extra = []
    for k, t in tensors.items():
        base = k[4:] if k.startswith("ema.") else k
        if base in want:
            if t.dtype not in (torch.float32, torch.float16, torch.bfloat16):
                problems.append(f"{k} is {t.dtype}, expected F32, F16 or BF16")
            elif not torch.isfinite(t.float()).all():
                problems.append(f"{k} has NaN or infinite values")
        elif base.startswith(MODEL_PREFIXES) or k.startswith("ema."):
            problems.append(f"unexpected tensor {k} {list(t.shape)} (not in the contract for this config)")
        else:
            extra.append(k)
    for k, t in tensors.items():
        if k.endswith("batch_norm.running_var") and (t.float() < 0).any():
            problems.append(f"{k} has negative values")
    print(f"{path}: config {json.dumps(config)}")
    print(f"  {len(want)} model tensors{' + ema copies (used)' if has_ema else ''}; "
          f"{len(extra)} other tensors" + (f" under {sorted({e.split('.')[0] for e in extra})}" if extra else ""))
    return config


def check_streams(path, config, mel_path, codes_path, recon_path, tol_u, tol_db, problems):
    model = rm.load(path)
    L, nt, nf = model.L, model.nt, model.nf
    mels, codes, recons = bsqt.read(mel_path), bsqt.read(codes_path), bsqt.read(recon_path)
    if not (len(mels) == len(codes) == len(recons)):
        problems.append(f"frame counts differ: mel {len(mels)}, codes {len(codes)}, recon {len(recons)}")
    want_dtype = np.dtype("<u4") if L <= 32 else np.dtype("<u8")
    for i, ((mm, mel), (cm, c), (rmeta, r)) in enumerate(zip(mels, codes, recons)):
        key = mm.get("key", f"frame {i}")
        bad = len(problems)
        if mm.get("kind") != "mel" or mel.dtype != np.dtype("<f4") or mel.ndim != 2 or mel.shape[1] != config["n_mels"]:
            problems.append(f"{key}: input is not a f32 mel [T, {config['n_mels']}] frame")
            continue
        T = mel.shape[0]
        rows = -(-T // config["frames"]) * nt
        if cm.get("kind") != "codes":
            problems.append(f"{key}: codes frame has kind {cm.get('kind')!r}")
        if c.dtype != want_dtype:
            problems.append(f"{key}: codes are {c.dtype}, expected {want_dtype} for {L} bits")
        if list(c.shape) != [rows, nf]:
            problems.append(f"{key}: codes have dims {list(c.shape)}, expected [{rows}, {nf}]")
        if cm.get("frames") != T:
            problems.append(f"{key}: codes metadata frames = {cm.get('frames')!r}, expected {T}")
        if "bits" in cm and cm["bits"] != L:
            problems.append(f"{key}: codes metadata bits = {cm['bits']!r}, expected {L}")
        if "key" in mm and cm.get("key") != mm["key"]:
            problems.append(f"{key}: codes frame has key {cm.get('key')!r}")
        if len(problems) > bad:
            continue
        c = c.astype(np.uint64)
        if L < 64 and np.any(c >> np.uint64(L)):
            problems.append(f"{key}: a code is not below 2^{L}")
            continue
        ref, u = model.encode(mel)
        minu = np.abs(u).min(-1)
        diff = ref != c
        hard = diff & (minu >= tol_u)
        if hard.any():
            it, jf = np.argwhere(hard)[0]
            problems.append(f"{key}: {int(hard.sum())} of {c.size} codes differ from the reference at confident tokens "
                            f"(first at [{it}, {jf}]: got {int(c[it, jf])}, expected {int(ref[it, jf])}, "
                            f"min |u_k| {minu[it, jf]:.3g})")
        # reconstruction of the codes given
        if rmeta.get("kind") != "mel" or r.dtype != np.dtype("<f4") or list(r.shape) != [T, config["n_mels"]]:
            problems.append(f"{key}: recon is not a f32 mel [{T}, {config['n_mels']}] frame "
                            f"(kind {rmeta.get('kind')!r}, {r.dtype}, {list(r.shape)})")
            continue
        want = model.decode(c, T)
        err = float(np.abs(want - r).max()) if r.size else 0.0
        if not err <= tol_db:
            t, f = np.unravel_index(np.argmax(np.abs(want - r)), r.shape)
            problems.append(f"{key}: recon differs by {err:.4g} dB (> {tol_db}) at [{t}, {f}]: "
                            f"got {r[t, f]}, expected {want[t, f]}")
        print(f"  {key}: T {T}, codes {list(c.shape)}: {int(diff.sum())} differ "
              f"({int((diff & ~hard).sum())} of them ambiguous), recon max |Δ| {err:.3g} dB")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ckpt")
    ap.add_argument("streams", nargs="*", metavar="MEL_BSQT CODES_BSQT RECON_BSQT")
    ap.add_argument("--tol-u", type=float, default=1e-5)
    ap.add_argument("--tol-db", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    if len(a.streams) not in (0, 3):
        ap.error("give the three streams MEL_BSQT CODES_BSQT RECON_BSQT, or none")
    torch.set_num_threads(max(1, a.threads))
    problems = []
    config = check_file(a.ckpt, problems)
    if config is not None and not problems and a.streams:
        try:
            check_streams(a.ckpt, config, *a.streams, a.tol_u, a.tol_db, problems)
        except (AssertionError, ValueError, OSError) as e:
            problems.append(f"cannot read the streams: {e}")
    for p in problems:
        print(f"check_checkpoint: {p}", file=sys.stderr)
    if problems:
        print(f"check_checkpoint: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("check_checkpoint: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
