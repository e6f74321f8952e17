"""bsq_audio.run: numpy through the tools gives what the tools give on files."""
import os
import subprocess
import sys
import unittest

import numpy as np

from _support import AUDIO, REPO, Scratch, bin_dir, tool

from bsq_audio import frames, run
from bsq_audio.tools import ToolError, read_wav, wav_bytes


def setUpModule():
    bin_dir()                                       # sets BSQ_BIN_DIR to the tools under test


class RunTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Scratch()
        cls.wav = os.path.join(AUDIO, "wav22k_stereo_pcm16.wav")
        with open(cls.wav, "rb") as f:
            cls.audio, cls.sr = read_wav(f.read())
        cls.mel_file = frames.read(tool("mel", "-q", cls.wav)[0])[0]

    @classmethod
    def tearDownClass(cls):
        cls.tmp.close()

    def test_read_wav(self):
        self.assertEqual(self.sr, 22050)
        self.assertEqual(self.audio.shape, (22050, 2))
        self.assertEqual(self.audio.dtype, np.float32)
        back, sr = read_wav(wav_bytes(self.audio, 8000))
        self.assertEqual(sr, 8000)
        np.testing.assert_array_equal(back, self.audio)

    def test_mel_of_an_array_is_mel_of_the_file(self):
        x = run.mel(self.audio, self.sr)
        np.testing.assert_array_equal(x, self.mel_file.data)          # PCM16 / 32768 is what libsndfile reads
        meta, y = run.mel(self.audio.mean(axis=1), self.sr, "--n-mels", 64, with_meta=True)
        self.assertEqual(y.shape, (101, 64))
        self.assertEqual(meta["kind"], "mel")
        self.assertEqual(meta["mel"]["n_mels"], 64)

    def test_encode_decode_as_the_tools(self):
        mel = self.mel_file.data
        codes = run.encode(mel)
        want = frames.read(tool("bsq-encode", "-q", stdin=frames.encode_frame({"kind": "mel"}, mel))[0])[0].data
        np.testing.assert_array_equal(codes, want)
        self.assertEqual(codes.dtype, np.uint32)
        self.assertEqual(codes.shape, (64, 8))
        meta, trimmed = run.encode(self.mel_file, trim=True, with_meta=True)  # a frame: its metadata passes through
        self.assertEqual(trimmed.shape, (7, 8))                            # ⌈101 / 16⌉
        self.assertEqual(meta["key"], "wav22k_stereo_pcm16")
        self.assertEqual(meta["covered_time_patches"], 7)
        rec = run.decode(codes, frames=101)
        self.assertEqual(rec.shape, (101, 128))
        want = frames.read(tool("bsq-decode", "-q", stdin=frames.encode_frame({"kind": "codes", "frames": 101}, codes))[0])[0].data
        np.testing.assert_array_equal(rec, want)
        want = frames.read(tool("bsq-decode", "-q", stdin=frames.encode_frame(meta, trimmed))[0])[0].data
        np.testing.assert_array_equal(run.decode((meta, trimmed)), want)   # trimmed codes, completed by the tool

    def test_mel2wav(self):
        wav, sr = run.mel2wav(self.mel_file, "--vocoder", "griffin-lim", "--iters", 4)
        self.assertEqual(sr, 16000)
        self.assertEqual(wav.dtype, np.float32)
        self.assertEqual(wav.ndim, 1)
        out = self.tmp.path("ref.wav")
        tool("mel2wav", "-q", "--vocoder", "griffin-lim", "--iters", 4, "--format", "wav-float", "-o", out,
             stdin=frames.encode_frame(*self.mel_file))
        with open(out, "rb") as f:
            want, sr2 = read_wav(f.read())
        self.assertEqual(sr2, 16000)
        np.testing.assert_array_equal(wav, want)

    def test_generic_run(self):
        items = [({"kind": "tensor", "key": "a"}, np.arange(5, dtype=np.int64)), ({"key": "b"}, np.ones((2, 2), np.float16))]
        out = run("bsq-tensor", "cat", "--key", "b", frames=items)
        self.assertEqual(len(out), 1)
        self.assertEqual(out[0].key, "b")
        np.testing.assert_array_equal(out[0].data, items[1][1])
        text = run("bsq-tensor", "info", frames=items, parse=False).decode()
        self.assertEqual(len(text.splitlines()), 2)

    def test_errors(self):
        with self.assertRaises(ToolError) as cm:
            run.decode(np.zeros((4, 3), np.uint32))                         # 3 frequency patches: not the model's 8
        self.assertEqual(cm.exception.returncode, 1)
        self.assertIn("bsq-decode", str(cm.exception))
        self.assertIn("do not fit", cm.exception.stderr)
        with self.assertRaises(FileNotFoundError):
            run("no-such-tool")

    def test_tools_found_on_path_without_bsq_bin_dir(self):
        env = {k: v for k, v in os.environ.items() if k != "BSQ_BIN_DIR"}
        env["PATH"] = bin_dir() + os.pathsep + env.get("PATH", "")
        env["PYTHONPATH"] = os.path.join(REPO, "python")
        code = "from bsq_audio import run; print(run.tool_path('mel'))"
        out = subprocess.run([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, check=True).stdout.decode().strip()
        self.assertEqual(os.path.realpath(out), os.path.realpath(os.path.join(bin_dir(), "mel")))


if __name__ == "__main__":
    unittest.main()
