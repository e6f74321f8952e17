#!/usr/bin/env python3
"""Makes the model fixtures in this folder (deterministic: fixed seeds; run
from anywhere):

    python3 Tests/Fixtures/model/make_model_fixtures.py

Checkpoints (safetensors, `__metadata__` {"format": "bsq-audio-1", "config": JSON}):
  micro18.safetensors         the micro config (MICRO below), F32
  micro18_ema.safetensors     plain weights + different `ema.` weights (outputs come from ema.*), F32
  micro18_f16.safetensors     every tensor stored F16 (outputs from the widened values)
  micro36_noconv.safetensors  36 bits (u64 codes), conv_module false
  micro9.safetensors          9 bits, group_size 9
The four variants use a smaller shape (VARIANT below: width 8, 1 layer,
8×16 patches, decoder_ffn 16, conv_kernel 3) so that the folder stays under
1 MB; micro18 alone has the full micro shape.

Input: mel_input.bsqt, two "mel" frames: utt1 (300 frames: 3 chunks, the last
padded then cropped) and utt2 (128 frames, exactly one chunk); values mostly
in [-80, 0] with some below and above for the clamp.

Per checkpoint STEM, computed by reference_model.py (float32):
  expected_STEM_codes.bsqt      kind "codes" (u32, u64 above 32 bits), [⌈T/frames⌉·nt, nf], meta frames/bits/model
  expected_STEM_recon.bsqt      kind "mel", f32 [T, n_mels]: decode of those codes
  expected_STEM_min_abs_u.bsqt  kind "tensor", f32 [rows, nf]: min_k |u_k| of each token
  expected_STEM_trace.bsqt      kind "tensor" f32 [tokens, L] keyed "quant.u": u, the encoder's output
                                normalized before quantization, of utt1's first chunk (what the kit's
                                BSQModel.encode exposes; ModelFixtureTests compares it)
manifest.json describes all of it, with the tolerances.
"""
import hashlib
import json
import math
import platform
import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
import bsqt  # noqa: E402
import reference_model as rm  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
import safetensors  # noqa: E402

MICRO = dict(name="micro18", n_mels=32, frames=128, patch_time=16, patch_freq=16, width=32, layers=2, heads=2,
             mlp_ratio=4, conv_module=True, conv_kernel=5, embed_dim=18, group_size=9,
             persample_entropy="group", decoder_ffn=64, db_min=-80.0, db_max=0.0)
VARIANT = dict(MICRO, patch_time=8, width=8, layers=1, heads=2, conv_kernel=3, decoder_ffn=16)

TOL_U = 1e-5       # a token may differ only where some |u_k| is below this
TOL_DB = 1e-3      # reconstruction, max |Δ| in dB, decoding the expected codes

MEL_META = {"sample_rate": 16000, "n_fft": 1024, "win_length": 1024, "hop_length": 160, "n_mels": 32,
            "fmin": 0.0, "fmax": 8000.0, "mel_scale": "slaney", "norm": "slaney", "power": 2.0,
            "center": True, "pad_mode": "constant", "db": {"ref": "max", "amin": 1e-10, "top_db": 80.0}}


def make_weights(config, seed):
    """The init rule (reference_model.init_weights), then every term pushed away from its
    trivial value: linear/conv weights N(0, 1/fan_in)-ish, biases and norm affines ±0.1,
    BatchNorm running mean ±0.1 and var in [0.5, 1.5], positional embeddings larger."""
    g = torch.Generator().manual_seed(seed)
    model = rm.init_weights(rm.BSQAudioModel(config), g)
    uni = lambda shape, lo, hi: lo + (hi - lo) * torch.rand(shape, generator=g)
    state = {}
    for k, t in model.state_dict().items():
        leaf = k.rsplit(".", 1)[-1]
        if "batch_norm" in k:
            t = {"weight": uni(t.shape, 0.9, 1.1), "bias": uni(t.shape, -0.1, 0.1),
                 "running_mean": uni(t.shape, -0.1, 0.1), "running_var": uni(t.shape, 0.5, 1.5)}[leaf]
        elif ".ln" in k or ".norm." in k:
            t = t + uni(t.shape, -0.1, 0.1)
        elif leaf in ("bias", "in_proj_bias"):
            t = t + uni(t.shape, -0.1, 0.1)
        elif leaf == "positional_embedding":
            t = t / 0.02 * (0.5 if k.startswith("encoder") else 0.3)
        elif k == "decoder.conv_out.weight":
            t = t / 0.02 * 0.6 / math.sqrt(t.shape[1])          # keeps most of y inside [-1, 1]
        else:
            t = t / 0.02 * 1.1 / math.sqrt(t.shape[1])          # ≈ 0.19 at fan-in 32
        state[k] = t.contiguous().to(torch.float32)
    assert set(state) == set(rm.expected_shapes(config))
    return state


def save(path, config, tensors):
    """A safetensors file written byte for byte reproducibly (safetensors' own writer orders the
    metadata map at random): header JSON with __metadata__ first, tensors in the given order,
    header padded with spaces to a multiple of 8."""
    dt = {torch.float32: ("F32", "<f4"), torch.float16: ("F16", "<f2")}
    header = {"__metadata__": {"format": "bsq-audio-1", "config": json.dumps(config)}}
    blobs, off = [], 0
    for k, t in tensors.items():
        name, np_dt = dt[t.dtype]
        b = t.contiguous().numpy().astype(np_dt).tobytes()
        header[k] = {"dtype": name, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    Path(path).write_bytes(len(h).to_bytes(8, "little") + h + b"".join(blobs))
    back = load_file(str(path))
    assert list(back) and all(torch.equal(back[k], t) for k, t in tensors.items()) and len(back) == len(tensors)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def speechlike(T, seed, n_mels=32):
    """A smooth speech-like log-mel in dB: moving formants, a pitch ripple, syllables,
    a pause below the floor and a few peaks above 0 dB."""
    r = np.random.default_rng(seed)
    t = np.arange(T)[:, None] / 100.0
    f = np.arange(n_mels)[None, :].astype(np.float64)
    ph = r.uniform(0, 2 * np.pi, 6)
    env = (0.5 * (1 - np.cos(2 * np.pi * 3.3 * t + ph[0]))) ** 0.7         # syllables
    f1 = 5 + 3 * np.sin(2 * np.pi * 0.7 * t + ph[1])
    f2 = 14 + 5 * np.sin(2 * np.pi * 0.45 * t + ph[2])
    f3 = 24 + 2 * np.sin(2 * np.pi * 0.9 * t + ph[3])
    form = np.exp(-(f - f1) ** 2 / 8) + 0.8 * np.exp(-(f - f2) ** 2 / 12) + 0.5 * np.exp(-(f - f3) ** 2 / 6)
    pitch = 3.0 + 0.8 * np.sin(2 * np.pi * 0.5 * t + ph[4])
    ripple = np.cos(2 * np.pi * f / pitch)
    db = -66 + 40 * env * form + 6 * env * ripple - 0.5 * f + 30 * env
    db += 1.5 * np.sin(0.37 * f + 21 * t + ph[5])                          # slow texture
    if T > 200:
        db[180:215] = -95 + 6 * np.sin(0.5 * f + 0.3 * np.arange(35)[:, None])   # pause: below the floor
    db = np.where(db > -3, db + 4, db)                                     # peaks above 0 dB
    return db.astype(np.float32)


def trace_first_chunk(model, mel):
    """u of the first chunk: the encoder's output normalized before quantization."""
    tr = {}
    with torch.no_grad():
        model.encode_chunks(model.chunks(mel)[:1], tr)
    return [("quant.u", tr["quant.u"][0].numpy().astype(np.float32))]


def outputs(path, inputs):
    """Everything expected of the checkpoint at `path`, plus float64 cross-checks."""
    m32 = rm.load(path)
    m64 = rm.load(path, dtype=torch.float64)
    L = m32.L
    res = {"utts": [], "trace": None, "f64": {"max_abs_u": 0.0, "max_abs_db": 0.0, "codes_differ": 0}}
    for key, mel in inputs:
        codes, u = m32.encode(mel)
        codes64, u64 = m64.encode(mel)
        minu = np.abs(u).min(-1).astype(np.float32)
        diff = codes != codes64
        assert np.all(minu[diff] < TOL_U), f"{path}: float64 codes differ at a confident token"
        assert np.all(minu >= TOL_U), f"{path}: a token near a sign flip (ModelFixtureTests wants identical codes)"
        recon = m32.decode(codes, mel.shape[0])
        recon64 = m64.decode(codes, mel.shape[0])
        res["f64"]["max_abs_u"] = max(res["f64"]["max_abs_u"], float(np.abs(u - u64).max()))
        res["f64"]["max_abs_db"] = max(res["f64"]["max_abs_db"], float(np.abs(recon - recon64).max()))
        res["f64"]["codes_differ"] += int(diff.sum())
        assert recon.shape == mel.shape and recon.dtype == np.float32
        assert np.all(codes < (1 << L))
        res["utts"].append(dict(key=key, T=mel.shape[0], codes=codes, min_abs_u=minu, recon=recon))
    res["trace"] = trace_first_chunk(m32, inputs[0][1])
    return m32, res


def write_expected(stem, ckpt_path, config, res):
    L = config["embed_dim"]
    ctype = np.uint32 if L <= 32 else np.uint64
    model_meta = {"name": config["name"], "sha256": sha256(ckpt_path)}
    files = {}
    items = [(u["codes"].astype(ctype), {"kind": "codes", "key": u["key"], "axes": ["time", "freq"],
                                         "frames": u["T"], "bits": L, "model": model_meta}) for u in res["utts"]]
    files["codes"] = f"expected_{stem}_codes.bsqt"
    bsqt.write(HERE / files["codes"], items)
    files["recon"] = f"expected_{stem}_recon.bsqt"
    bsqt.write(HERE / files["recon"], [(u["recon"], {"kind": "mel", "key": u["key"], "axes": ["time", "mel"]})
                                       for u in res["utts"]])
    files["min_abs_u"] = f"expected_{stem}_min_abs_u.bsqt"
    bsqt.write(HERE / files["min_abs_u"], [(u["min_abs_u"], {"kind": "tensor", "key": u["key"],
                                                             "axes": ["time", "freq"]}) for u in res["utts"]])
    files["trace"] = f"expected_{stem}_trace.bsqt"
    bsqt.write(HERE / files["trace"], [(a, {"kind": "tensor", "key": k}) for k, a in res["trace"]])
    return files


def main():
    torch.set_num_threads(1)
    rm.selftest()
    for p in HERE.glob("expected_*.bsqt"):
        p.unlink()

    # inputs
    utt1, utt2 = speechlike(300, 1), speechlike(128, 2)
    utt2[0, :4] = [-80.0, 0.0, -80.5, 0.5]                                  # the clamp's edges
    inputs = [("utt1", utt1), ("utt2", utt2)]
    for key, mel in inputs:
        assert mel.min() < -80 and mel.max() > 0, key
    bsqt.write(HERE / "mel_input.bsqt", [(mel, {"kind": "mel", "key": key, "axes": ["time", "mel"], "mel": MEL_META,
                                                "source": f"make_model_fixtures.py speechlike({mel.shape[0]})"})
                                         for key, mel in inputs])

    # checkpoints
    cks = []
    c = dict(MICRO)
    save(HERE / "micro18.safetensors", c, make_weights(c, 18))
    cks.append(("micro18", c, "the micro config; every tensor F32"))

    c = dict(VARIANT, name="micro18_ema")
    plain, ema = make_weights(c, 1018), make_weights(c, 2018)
    save(HERE / "micro18_ema.safetensors", c, {**plain, **{"ema." + k: v for k, v in ema.items()}})
    cks.append(("micro18_ema", c, "plain weights plus a different ema.* copy of every tensor; outputs come from ema.*"))

    c = dict(VARIANT, name="micro18_f16")
    save(HERE / "micro18_f16.safetensors", c, {k: v.half() for k, v in make_weights(c, 3018).items()})
    cks.append(("micro18_f16", c, "every tensor stored F16; outputs from the values widened to F32"))

    c = dict(VARIANT, name="micro36_noconv", embed_dim=36, conv_module=False)
    save(HERE / "micro36_noconv.safetensors", c, make_weights(c, 36))
    cks.append(("micro36_noconv", c, "36 bits (u64 codes), no conv module"))

    c = dict(VARIANT, name="micro9", embed_dim=9, group_size=9)
    save(HERE / "micro9.safetensors", c, make_weights(c, 9))
    cks.append(("micro9", c, "9 bits, one group"))

    manifest_cks = []
    for stem, config, what in cks:
        path = HERE / f"{stem}.safetensors"
        model, res = outputs(path, inputs)
        files = write_expected(stem, path, config, res)
        stats = {}
        for u in res["utts"]:
            stats[u["key"]] = {
                "codes_shape": list(u["codes"].shape),
                "distinct_codes": int(len(np.unique(u["codes"]))),
                "bits_set_fraction": round(float(np.mean([bin(int(v)).count("1") for v in u["codes"].ravel()])) / config["embed_dim"], 4),
                "min_abs_u": float(f'{u["min_abs_u"].min():.3g}'),
                "tokens_with_min_abs_u_below_tol": int((u["min_abs_u"] < TOL_U).sum()),
                "recon_fraction_at_db_min": round(float(np.mean(u["recon"] <= config["db_min"])), 4),
                "recon_fraction_at_db_max": round(float(np.mean(u["recon"] >= config["db_max"])), 4),
            }
        if stem == "micro18_ema":
            # the plain weights must give something else, or the fixture proves nothing
            cfg, _, raw, _ = rm.read_checkpoint(path)
            pm = rm.BSQAudioModel(cfg)
            pm.load_state_dict({k: raw[k] for k in rm.expected_shapes(cfg)})
            pc, _ = pm.encode(utt1)
            assert (pc != res["utts"][0]["codes"]).mean() > 0.5, "ema and plain codes agree"
        if stem == "micro18_f16":
            # and the F16 rounding must matter at float32 precision (F32 before rounding ≠ widened F16)
            full32 = rm.BSQAudioModel(config)
            full32.load_state_dict(make_weights(config, 3018))
            _, u32 = full32.encode(utt1)
            _, uf16 = model.encode(utt1)
            assert np.abs(u32 - uf16).max() > 1e-4, "F16 rounding invisible"
        manifest_cks.append({
            "name": stem, "checkpoint": f"{stem}.safetensors", "sha256": sha256(path),
            "description": what, "config": config,
            "grid": {"nt": config["frames"] // config["patch_time"], "nf": config["n_mels"] // config["patch_freq"]},
            "codes_dtype": "u32" if config["embed_dim"] <= 32 else "u64",
            "expected": files, "stats": stats,
            "float32_vs_float64": {k: float(f"{v:.3g}") if isinstance(v, float) else v for k, v in res["f64"].items()},
        })
        print(stem, json.dumps(stats), json.dumps(res["f64"]))

    manifest = {
        "description": "Reference outputs of the audio BSQ-ViT tokenizer (the model contract, docs/model.md) computed by "
                       "reference_model.py, an independent PyTorch implementation, in float32. For every checkpoint: "
                       "encoding mel_input.bsqt must give expected_*_codes.bsqt, and decoding expected_*_codes.bsqt "
                       "must give expected_*_recon.bsqt, frame by frame (same keys, same order).",
        "generator": "make_model_fixtures.py",
        "checker": "check_checkpoint.py CKPT [MEL_BSQT CODES_BSQT RECON_BSQT]",
        "input": {"file": "mel_input.bsqt",
                  "frames": [{"key": k, "T": int(m.shape[0]), "min_db": float(m.min()), "max_db": float(m.max())}
                             for k, m in inputs]},
        "tolerance": {
            "codes": f"identical, except at tokens whose min_k |u_k| (expected_*_min_abs_u.bsqt) is below {TOL_U}",
            "codes_min_abs_u": TOL_U,
            "recon_max_abs_db": TOL_DB,
            "recon_note": "decoding the expected codes; the reference's own float32 vs float64 difference is in float32_vs_float64",
            "trace_max_abs": 1e-4,
            "trace_note": "u (quant.u), the encoder's output normalized before quantization, of utt1's first chunk",
        },
        "shapes_note": "micro18 has the micro shape (width 32, 2 layers, 16x16 patches, decoder_ffn 64, kernel 5); "
                       "the four variants a smaller one (width 8, 1 layer, 8x16 patches, decoder_ffn 16, kernel 3) "
                       "to keep the folder under 1 MB; each checkpoint's config is below and in its __metadata__",
        "checkpoints": manifest_cks,
        "files": {
            "reference_model.py": "the PyTorch reference (python3 reference_model.py --selftest checks its pieces)",
            "make_model_fixtures.py": "the generator of everything here (deterministic)",
            "check_checkpoint.py": "validates a checkpoint and compares codes/recon streams with the reference",
            "mel_input.bsqt": "input mel frames utt1 (T=300) and utt2 (T=128)",
        },
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__,
                     "safetensors": safetensors.__version__},
    }
    for ck in manifest_cks:
        manifest["files"][ck["checkpoint"]] = ck["description"]
        for kind, f in ck["expected"].items():
            manifest["files"][f] = {"codes": "expected codes stream", "recon": "expected reconstruction (mel stream)",
                                    "min_abs_u": "min_k |u_k| per token (tensor stream)",
                                    "trace": "u of utt1's first chunk (tensor stream)"}[kind]
    (HERE / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in HERE.iterdir() if p.is_file())
    print(f"fixture folder: {total} bytes")


if __name__ == "__main__":
    main()
