"""ONNX export (`bsq-train export --onnx`) checked with the onnx checker and
ONNX Runtime against the command-line tools: the same codes as `bsq-encode`
(a token may differ only where a coordinate of u is within 1e-5 of 0, a tie
that float rounding decides) and reconstructions within 1e-3 dB of
`bsq-decode`, with several chunks in one dynamic batch."""
import os
import subprocess
import tempfile
import unittest

import numpy as np

from bsq_audio import frames as bsqt

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

BIN = os.environ.get("BSQ_BIN_DIR", os.path.join(REPO, ".build", "release"))
MODELS = {
    "shipped": os.path.join(REPO, "Sources", "BSQAudio", "Resources", "bsq-audio-tiny18.safetensors"),
    "micro18": os.path.join(REPO, "Tests", "Fixtures", "model", "micro18.safetensors"),
    "micro18_f16": os.path.join(REPO, "Tests", "Fixtures", "model", "micro18_f16.safetensors"),
    "micro18_ema": os.path.join(REPO, "Tests", "Fixtures", "model", "micro18_ema.safetensors"),
    "micro36_noconv": os.path.join(REPO, "Tests", "Fixtures", "model", "micro36_noconv.safetensors"),
    "micro9": os.path.join(REPO, "Tests", "Fixtures", "model", "micro9.safetensors"),
}
AUDIO = [os.path.join(REPO, "Tests", "Fixtures", "mel", f) for f in ("long8k_flac.flac", "flac16k_stereo.flac")]

try:
    import onnx
    import onnxruntime as ort
except ImportError as e:  # the Makefile's venv has both; say so when run elsewhere
    onnx = ort = None
    MISSING = str(e)


def tool(name, *args, stdin=None):
    r = subprocess.run([os.path.join(BIN, name), *args], input=stdin, capture_output=True)
    if r.returncode != 0:
        raise AssertionError(f"{name} {' '.join(args)}: {r.stderr.decode()}")
    return r.stdout


def frames_of(data):
    return list(bsqt.iter_frames(data))


@unittest.skipIf(onnx is None, "onnx and onnxruntime are not installed (make python-test installs them)")
class ONNXExportTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.mels = {}

    def mel(self, n_mels):
        if n_mels not in self.mels:
            self.mels[n_mels] = b"".join(tool("mel", "-q", "--n-mels", str(n_mels), a) for a in AUDIO)
        return self.mels[n_mels]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def export(self, name):
        out = os.path.join(self.tmp.name, name)
        tool("bsq-train", "export", "--onnx", "-o", out, MODELS[name])
        for f in ("encoder.onnx", "decoder.onnx"):
            onnx.checker.check_model(onnx.load(os.path.join(out, f)), full_check=True)
        return out

    def check(self, name):
        folder = self.export(name)
        model = MODELS[name]
        enc_model = onnx.load(os.path.join(folder, "encoder.onnx"))
        # expose z (the quantizer's projection) to tell ties from errors
        z_name = next(n.output[0] for n in enc_model.graph.node if "quant_embed.bias" in n.input)
        enc_model.graph.output.append(onnx.helper.make_tensor_value_info(z_name, onnx.TensorProto.FLOAT, None))
        enc = ort.InferenceSession(enc_model.SerializeToString(), providers=["CPUExecutionProvider"])
        dec = ort.InferenceSession(os.path.join(folder, "decoder.onnx"), providers=["CPUExecutionProvider"])
        _, frames, n_mels = enc.get_inputs()[0].shape
        self.assertEqual(enc.get_outputs()[0].name, "codes")
        self.assertEqual(dec.get_inputs()[0].name, "codes")

        mel = self.mel(n_mels)
        codes_bytes = tool("bsq-encode", "-q", "-m", model, stdin=mel)
        rec_bytes = tool("bsq-decode", "-q", "-m", model, stdin=codes_bytes)
        mels = [x for _, x in frames_of(mel)]
        codes = [x for _, x in frames_of(codes_bytes)]
        recs = [x for _, x in frames_of(rec_bytes)]
        # every chunk of every utterance in one batch
        chunks, lengths = [], []
        for x in mels:
            n = -(-x.shape[0] // frames)
            padded = np.full((n * frames, n_mels), -80, np.float32)
            padded[: x.shape[0]] = x
            chunks.append(padded.reshape(n, frames, n_mels))
            lengths.append(n)
        batch = np.concatenate(chunks)
        self.assertGreaterEqual(batch.shape[0], 2, "a dynamic batch of several chunks")
        got, z = enc.run(None, {"mel": batch})
        self.assertEqual(got.dtype, np.int64)
        want = np.concatenate([c.astype(np.int64).reshape(n, -1, c.shape[1]) for c, n in zip(codes, lengths)])
        self.assertEqual(got.shape, want.shape)
        differ = got != want
        if differ.any():
            u = z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-12)
            u = u.reshape(got.shape + (-1,))
            ties = np.abs(u).min(axis=-1) < 1e-5
            self.assertTrue(np.all(ties[differ]), f"{name}: {int(differ.sum())} tokens differ, not all at ties")
        # decode the kit's codes: within 1e-3 dB of bsq-decode
        rec = dec.run(None, {"codes": want})[0]
        start = 0
        for r, n in zip(recs, lengths):
            y = rec[start:start + n].reshape(-1, n_mels)[: r.shape[0]]
            self.assertLess(float(np.abs(y - r).max()), 1e-3, name)
            start += n
        return int(differ.sum()), int(got.size)

    def test_shipped_model(self):
        self.check("shipped")

    def test_micro_models(self):
        for name in ("micro18", "micro18_f16", "micro18_ema", "micro36_noconv", "micro9"):
            with self.subTest(model=name):
                self.check(name)


@unittest.skipIf(onnx is None, "onnx is not installed (make python-test installs it)")
class ONNXSchemaTests(unittest.TestCase):
    def test_the_kits_schema_is_a_subset_of_onnx_proto(self):
        """Every message and field of docs/scripts/onnx/onnx-*.proto has its name and number in onnx.proto."""
        import re
        folder = os.path.join(REPO, "docs", "scripts", "onnx")
        checked = 0
        for name in ("onnx-tensor.proto", "onnx-type.proto", "onnx-graph.proto", "onnx-model.proto"):
            stack = []
            with open(os.path.join(folder, name)) as f:
                for line in f:
                    line = line.split("//")[0].strip()
                    if m := re.match(r"(message|enum|oneof) (\w+) \{", line):
                        stack.append((m.group(1), m.group(2)))
                    elif line.startswith("}"):
                        stack.pop()
                    elif m := re.match(r"(?:optional |repeated )?([\w.]+) (\w+) = (\d+);", line):
                        messages = [n for kind, n in stack if kind == "message"]
                        descriptor = getattr(onnx, messages[0]).DESCRIPTOR
                        for inner in messages[1:]:
                            descriptor = descriptor.nested_types_by_name[inner]
                        field = descriptor.fields_by_name.get(m.group(2))
                        self.assertIsNotNone(field, f"{name}: {'.'.join(messages)}.{m.group(2)}")
                        self.assertEqual(field.number, int(m.group(3)), f"{name}: {'.'.join(messages)}.{m.group(2)}")
                        checked += 1
                    elif m := re.match(r"(\w+) = (\d+);", line):   # an enum value
                        enums = [n for kind, n in stack if kind == "enum"]
                        values = getattr(onnx, stack[0][1]).DESCRIPTOR.enum_types_by_name[enums[-1]].values_by_name
                        self.assertEqual(values[m.group(1)].number, int(m.group(2)), f"{name}: {m.group(1)}")
                        checked += 1
        self.assertGreater(checked, 40)


def wav_float(path):
    """The samples of a mono float32 WAV written by mel2wav --format wav-float."""
    with open(path, "rb") as f:
        data = f.read()
    at = 12
    while at + 8 <= len(data):
        tag, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "little")
        if tag == b"data":
            return np.frombuffer(data[at + 8:at + 8 + size], "<f4")
        at += 8 + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


@unittest.skipIf(onnx is None, "onnx and onnxruntime are not installed (make python-test installs them)")
class ONNXVocoderExportTests(unittest.TestCase):
    def test_shipped_vocoder(self):
        vocoder = os.path.join(REPO, "Sources", "BSQAudio", "Resources", "bsq-audio-vocos-tiny.safetensors")
        with tempfile.TemporaryDirectory() as tmp:
            tool("bsq-train", "export", "--onnx", "-o", tmp, vocoder)
            path = os.path.join(tmp, "vocoder.onnx")
            onnx.checker.check_model(onnx.load(path), full_check=True)
            session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            mels = frames_of(b"".join(tool("mel", "-q", a) for a in AUDIO))
            for meta, mel in mels:
                wav = os.path.join(tmp, "x.wav")
                tool("mel2wav", "-q", "--vocoder", vocoder, "--format", "wav-float", "-o", wav, stdin=bsqt.encode_frame(meta, mel))
                want = wav_float(wav)
                got = session.run(None, {"mel": mel[None].astype(np.float32)})[0][0]
                hop = 160
                self.assertEqual(got.shape, (mel.shape[0] * hop,))
                got = got[: (mel.shape[0] - 1) * hop]
                got = got * (0.9 / np.abs(got).max())   # mel2wav's level for frames relative to their maximum
                self.assertEqual(got.shape, want.shape)
                self.assertLess(float(np.abs(got - want).max()), 2e-4, meta.get("key"))
            # a dynamic batch: two copies of one mel give the same audio twice
            (_, mel), = mels[:1]
            two = session.run(None, {"mel": np.stack([mel, mel]).astype(np.float32)})[0]
            np.testing.assert_array_equal(two[0], two[1])


if __name__ == "__main__":
    unittest.main()
