"""bsq_audio.model against bsq-encode and bsq-decode: the same codes (float32 ties aside)
and the same mel within 1e-3 dB, for the fixture checkpoints (F32, EMA, F16, a BF16 copy,
36 and 9 bits) and the kit's default model, on speech through the kit's mel."""
import json
import os
import sys
import unittest

import numpy as np

from _support import AUDIO, DEFAULT_MODEL, MODELS, Scratch, bin_dir, have_torch, needs_torch, tool, write_safetensors

from bsq_audio import frames

if have_torch():
    import torch
    from bsq_audio import model as bm

TIE = 1e-5          # a token with some |u_k| below this may flip a bit between float32 implementations
DB = 1e-3           # reconstructions agree within this many dB
AGREEMENT = {}      # checkpoint -> figures, printed at the end (make python-test shows them)


def setUpModule():
    global TMP
    TMP = Scratch()
    if have_torch():
        # one thread: torch's OpenMP threads stall when the cores are busy (make test runs beside other work)
        torch.set_num_threads(1)


def tearDownModule():
    TMP.close()
    if AGREEMENT:
        print("\nmodel agreement with bsq-encode / bsq-decode:", file=sys.stderr)
        for name, a in AGREEMENT.items():
            print(f"  {name:16s} {a['tokens']:6d} tokens, {a['differ']} differ ({a['ties']} at ties |u| < {TIE:g}), "
                  f"max |Δ| {a['max_db']:.2e} dB (trimmed codes {a['max_db_trim']:.2e} dB)", file=sys.stderr)


def speech(n_mels, lengths):
    """A mel stream of the fixture speech: long8k_flac.flac cut to each length, and two 1 s clips."""
    args = [] if n_mels == 128 else ["--n-mels", n_mels]
    out = b""
    for n in lengths:
        out += tool("mel", "-q", *args, "--frames", n, os.path.join(AUDIO, "long8k_flac.flac"))[0]
    out += tool("mel", "-q", *args, os.path.join(AUDIO, "wav16k_mono_pcm16.wav"), os.path.join(AUDIO, "flac16k_stereo.flac"))[0]
    return out


class _Agreement:
    """Mixed into one TestCase per checkpoint (below): encode and decode every utterance both ways."""
    checkpoint = None
    name = None
    mel_stream = None

    @classmethod
    def setUpClass(cls):
        cls.path = cls.checkpoint() if callable(cls.checkpoint) else cls.checkpoint
        cls.model = bm.load(cls.path)
        cls.mels = frames.read(cls.mel_stream)
        codes_raw = tool("bsq-encode", "-q", "-m", cls.path, stdin=cls.mel_stream)[0]
        trimmed_raw = tool("bsq-encode", "-q", "--trim", "-m", cls.path, stdin=cls.mel_stream)[0]
        cls.codes, cls.trimmed = frames.read(codes_raw), frames.read(trimmed_raw)
        cls.decoded = frames.read(tool("bsq-decode", "-q", "-m", cls.path, stdin=codes_raw)[0])
        cls.decoded_trim = frames.read(tool("bsq-decode", "-q", "-m", cls.path, stdin=trimmed_raw)[0])
        cls.figures = AGREEMENT.setdefault(cls.name, dict(tokens=0, differ=0, ties=0, max_db=0.0, max_db_trim=0.0))

    def test_identity(self):
        c = self.codes[0].meta["model"]
        self.assertEqual(self.model.sha256, c["sha256"])
        self.assertEqual(self.model.name, c["name"])
        self.assertEqual(self.codes[0].meta["bits"], self.model.L)

    def test_encode_gives_the_tools_codes(self):
        for (meta, mel), (cm, ct), (tm, tt) in zip(self.mels, self.codes, self.trimmed):
            with self.subTest(key=meta["key"]):
                codes, u = self.model.encode(mel, return_u=True)
                want = ct.astype(np.uint64).view(np.int64) if ct.dtype == np.uint64 else ct.astype(np.int64)
                self.assertEqual(tuple(codes.shape), want.shape)
                self.assertEqual(codes.dtype, torch.int64)
                differ = codes.numpy() != want
                ties = (u.abs().amin(-1) < TIE).numpy()
                self.assertFalse((differ & ~ties).any(), f"{int((differ & ~ties).sum())} tokens differ away from ties")
                self.figures["tokens"] += differ.size
                self.figures["differ"] += int(differ.sum())
                self.figures["ties"] += int(ties.sum())
                trim = self.model.encode(mel, trim=True)
                self.assertEqual(tuple(trim.shape), tt.shape)
                self.assertEqual(tt.shape[0], tm["covered_time_patches"])
                np.testing.assert_array_equal(trim.numpy(), codes.numpy()[:tt.shape[0]])

    def test_decode_gives_the_tools_mel(self):
        for (cm, ct), (dm, dt) in zip(self.codes, self.decoded):
            with self.subTest(key=cm["key"]):
                rec = self.model.decode(ct, frames=cm["frames"]).numpy()
                self.assertEqual(rec.shape, dt.shape)
                err = float(np.abs(rec - dt).max())
                self.assertLessEqual(err, DB)
                self.figures["max_db"] = max(self.figures["max_db"], err)

    def test_decode_completes_trimmed_codes_as_the_tool_does(self):
        for (tm, tt), (dm, dt) in zip(self.trimmed, self.decoded_trim):
            with self.subTest(key=tm["key"]):
                rec = self.model.decode(tt, frames=tm["frames"]).numpy()
                self.assertEqual(rec.shape, dt.shape)
                err = float(np.abs(rec - dt).max())
                self.assertLessEqual(err, DB)
                self.figures["max_db_trim"] = max(self.figures["max_db_trim"], err)


def bf16_copy():
    """micro18 stored as BF16 (rounded to nearest even), written here."""
    path = TMP.path("micro18_bf16.safetensors")
    tensors, meta = bm.read_safetensors(os.path.join(MODELS, "micro18.safetensors"))
    meta = dict(meta, config=json.dumps(dict(json.loads(meta["config"]), name="micro18_bf16")))
    write_safetensors(path, tensors, meta, dtype="BF16")
    return path


MICRO = dict(mel_stream=None)


def micro_stream():
    if MICRO["mel_stream"] is None:
        with open(os.path.join(MODELS, "mel_input.bsqt"), "rb") as f:
            MICRO["mel_stream"] = speech(32, [700, 128]) + f.read()
    return MICRO["mel_stream"]


class _Micro(_Agreement):
    @classmethod
    def setUpClass(cls):
        cls.mel_stream = micro_stream()
        super().setUpClass()


@needs_torch
class Micro18(_Micro, unittest.TestCase):
    name, checkpoint = "micro18 (F32)", os.path.join(MODELS, "micro18.safetensors")


@needs_torch
class Micro18EMA(_Micro, unittest.TestCase):
    name, checkpoint = "micro18_ema", os.path.join(MODELS, "micro18_ema.safetensors")


@needs_torch
class Micro18F16(_Micro, unittest.TestCase):
    name, checkpoint = "micro18_f16", os.path.join(MODELS, "micro18_f16.safetensors")


@needs_torch
class Micro18BF16(_Micro, unittest.TestCase):
    name, checkpoint = "micro18 as BF16", staticmethod(lambda: bf16_copy())


@needs_torch
class Micro36NoConv(_Micro, unittest.TestCase):
    name, checkpoint = "micro36_noconv", os.path.join(MODELS, "micro36_noconv.safetensors")

    def test_u64_codes(self):
        self.assertEqual(self.codes[0].data.dtype, np.uint64)


@needs_torch
class Micro9(_Micro, unittest.TestCase):
    name, checkpoint = "micro9", os.path.join(MODELS, "micro9.safetensors")


@needs_torch
class DefaultModel(_Agreement, unittest.TestCase):
    name, checkpoint = "default (F16)", DEFAULT_MODEL

    @classmethod
    def setUpClass(cls):
        cls.mel_stream = speech(128, [2500])
        super().setUpClass()

    def test_load_without_a_path_finds_the_default_model(self):
        bin_dir()
        m = bm.load()
        self.assertEqual(m.sha256, self.model.sha256)
        self.assertEqual(m.name, "bsq-audio-tiny18")
        (f,) = frames.read(tool("bsq-encode", "-q", stdin=tool("mel", "-q", os.path.join(AUDIO, "short16k_800.wav"))[0])[0])
        self.assertEqual(f.meta["model"], {"name": m.name, "sha256": m.sha256, "default": True})


@needs_torch
class ModelAPITests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.model = bm.load(os.path.join(MODELS, "micro18.safetensors"))
        cls.mel = frames.read(micro_stream())[0].data                      # 700 frames of 32 mels

    def test_batches_and_tensors(self):
        m, mel = self.model, self.mel
        one = m.encode(mel)
        both = m.encode(np.stack([mel, mel[::-1].copy()]))
        self.assertEqual(tuple(both.shape), (2,) + tuple(one.shape))
        torch.testing.assert_close(both[0], one)
        torch.testing.assert_close(both[1], m.encode(torch.from_numpy(mel[::-1].copy())))
        self.assertEqual(tuple(one.shape), (6 * 8, 2))                     # ⌈700/128⌉ chunks of 8 time patches, 2 bands
        rec = m.decode(both, frames=700)
        self.assertEqual(tuple(rec.shape), (2, 700, 32))
        torch.testing.assert_close(rec[0], m.decode(one, frames=700))
        self.assertEqual(tuple(m.decode(one).shape), (6 * 128, 32))        # without frames: every row's

    def test_bits(self):
        m = self.model
        codes, u = m.encode(self.mel, return_u=True)
        bits = m.codes_to_bits(codes)
        self.assertEqual(tuple(bits.shape), tuple(codes.shape) + (18,))
        torch.testing.assert_close(bits, (u > 0).float())                  # coordinate k is bit 17 − k
        torch.testing.assert_close(bm.bits_to_codes(bits), codes)
        self.assertEqual(int(bm.bits_to_codes(torch.tensor([1] + [0] * 17))), 1 << 17)
        torch.testing.assert_close(m.codes_to_q(codes), m.quantize(u))
        x = np.array([0, 1, (1 << 63) + 5, (1 << 64) - 1], dtype=np.uint64)
        b = bm.codes_to_bits(x, 64, dtype=torch.uint8)
        self.assertEqual(b[2, 0].item(), 1)
        self.assertEqual(b[3].sum().item(), 64)
        np.testing.assert_array_equal(bm.bits_to_codes(b).numpy(), x)
        with self.assertRaises(ValueError):
            m.codes_to_bits(np.array([1 << 18]))

    def test_decode_refuses_what_the_tool_refuses(self):
        m, codes = self.model, self.model.encode(self.mel)
        for T in (0, 640, 769):                                            # 48 rows make 6 chunks: (640, 768]
            with self.assertRaises(ValueError):
                m.decode(codes, frames=T)
        with self.assertRaises(ValueError):
            m.decode(codes[:, :1], frames=700)
        with self.assertRaises(ValueError):
            m.decode(codes[:40], frames=700)                               # ⌈700/16⌉ = 44 covered rows needed
        m.decode(codes[:44], frames=700)

    def test_ema_weights_win(self):
        raw, _ = bm.read_safetensors(os.path.join(MODELS, "micro18_ema.safetensors"))
        m = bm.load(os.path.join(MODELS, "micro18_ema.safetensors"))
        sd = m.state_dict()
        for k, v in sd.items():
            np.testing.assert_array_equal(v.numpy(), raw["ema." + k])
        self.assertTrue(any(not np.array_equal(raw[k], raw["ema." + k]) for k in sd))

    def test_bad_checkpoints_are_refused_like_the_tools_refuse_them(self):
        tensors, meta = bm.read_safetensors(os.path.join(MODELS, "micro18.safetensors"))
        cfg = json.loads(meta["config"])
        w = cfg["width"]
        cases = {
            "stray": (dict(tensors, **{"encoder.blocks.0.conv.batch_norm.num_batches_tracked": np.zeros(1, np.float32)}),
                      meta, "F32", "unexpected tensor"),
            "noconfig": (tensors, {"format": "bsq-audio-1"}, "F32", "no model config"),
            "shape": (dict(tensors, **{"quant_embed.bias": np.zeros(17, np.float32)}), meta, "F32", "has shape"),
            "missing": ({k: v for k, v in tensors.items() if k != "decoder.ffn.bias"}, meta, "F32", "missing tensor"),
            "ema_partial": (dict(tensors, **{"ema.quant_embed.bias": tensors["quant_embed.bias"]}), meta, "F32", "missing tensor 'ema."),
            "i32": (tensors, meta, "I32", "dtype I32"),
            "nan": (dict(tensors, **{"decoder.ffn.bias": np.full(cfg["decoder_ffn"], np.nan, np.float32)}), meta, "F32", "not finite"),
            "badconfig": (tensors, dict(meta, config=json.dumps(dict(cfg, heads=w + 1))), "F32", "multiple of heads"),
        }
        for name, (t, md, dt, fragment) in cases.items():
            with self.subTest(case=name):
                p = TMP.path(f"bad_{name}.safetensors")
                write_safetensors(p, t, md, dtype=dt)
                with self.assertRaises(bm.CheckpointError) as cm:
                    bm.load(p)
                self.assertIn(fragment, str(cm.exception))
                self.assertIn(p, str(cm.exception))
                _, err, status = tool("bsq-encode", "-q", "-m", p, stdin=b"", check=False)
                self.assertEqual(status, 1, f"bsq-encode accepted {name}: {err}")

    def test_mel_checks(self):
        with self.assertRaises(ValueError):
            self.model.encode(np.zeros((10, 31), np.float32))
        with self.assertRaises(ValueError):
            self.model.encode(np.full((10, 32), np.nan, np.float32))


if __name__ == "__main__":
    unittest.main()
