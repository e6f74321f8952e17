"""bsq_audio.frames against bsqt(5), the interop fixture and the tools."""
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import threading
import unittest
import zlib

import numpy as np

from _support import AUDIO, FIXTURES, REPO, Scratch, bin_dir, have_zstd, raw_frame, tool

from bsq_audio import frames
from bsq_audio.frames import FrameError

DTYPES = ["<f4", "<f8", "u1", "<i2", "<i4", "<u4", "<i8", "<f2", "<u8"]


def sample(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return rng.standard_normal(shape).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, dtype=dt, endpoint=True)


def every_frame():
    """(meta, array) of every dtype, ranks 0 to 8, empty dims among them."""
    out = []
    for i, dt in enumerate(DTYPES):
        for rank in range(9):
            shape = tuple(((i + r) % 3) + 1 for r in range(rank))
            if rank == 3 and i % 2:
                shape = (2, 0, 3)
            out.append(({"kind": "tensor", "key": f"t/{np.dtype(dt).name}/{rank}", "z_last": [rank, {"b": 1, "a": 2}]},
                        sample(dt, shape, 10 * i + rank)))
    return out


class FixtureStreamTests(unittest.TestCase):
    """Tests/Fixtures/frames/python_stream.bsqt, written from bsqt(5) alone: every frame as its JSON says."""

    def test_reads_the_interop_fixture_frame_by_frame(self):
        folder = os.path.join(FIXTURES, "frames")
        with open(os.path.join(folder, "python_stream.json"), encoding="utf-8") as f:
            expected = json.load(f)
        got = frames.read(os.path.join(folder, "python_stream.bsqt"))
        self.assertEqual(len(got), len(expected["frames"]))
        for f, e in zip(got, expected["frames"]):
            with self.subTest(index=e["index"]):
                self.assertEqual(f.offset, e["offset"])
                self.assertEqual(list(f.data.shape), e["dims"])
                self.assertEqual(frames.DTYPE_NAMES[frames.dtype_code(f.data.dtype)], e["dtype"])
                self.assertEqual(f.zstd, e["zstd"])
                self.assertEqual(f.meta, e.get("meta", {}))
                self.assertEqual(list(f.meta), list(e.get("meta", {})), "key order")
                raw = f.data.astype(f.data.dtype.newbyteorder("<")).tobytes()
                self.assertEqual(len(raw), e["payload_bytes"])
                self.assertEqual(hashlib.sha256(raw).hexdigest(), e["sha256"])
                self.assertEqual(zlib.crc32(raw) & 0xFFFFFFFF, e["crc32"])
                self.assertFalse(f.data.flags.writeable)


class RoundTripTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = Scratch()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.close()

    def check_same(self, got, want):
        self.assertEqual(len(got), len(want))
        for (m1, a1), (m2, a2) in zip(got, want):
            self.assertEqual(m1, m2)
            self.assertEqual(list(m1), list(m2))
            self.assertEqual(a1.dtype, np.asarray(a2).dtype)
            self.assertEqual(a1.shape, np.asarray(a2).shape)
            self.assertEqual(a1.tobytes(), np.ascontiguousarray(a2).tobytes())

    def test_every_dtype_and_rank_plain(self):
        items = every_frame()
        path = self.tmp.path("plain.bsqt")
        self.assertEqual(frames.write(path, items), len(items))
        self.check_same(frames.read(path), items)

    @unittest.skipUnless(have_zstd(), "zstandard is not installed")
    def test_every_dtype_and_rank_zstd(self):
        items = every_frame()
        buf = io.BytesIO()
        frames.write(buf, items, zstd=True)
        got = frames.read(buf.getvalue())
        self.check_same(got, items)
        self.assertTrue(all(f.zstd for f in got))

    def test_tools_read_what_python_writes_and_back(self):
        """bsq-tensor cat passes Python's frames through bit for bit; recompressed by the tool, they read the same."""
        items = every_frame()
        path = self.tmp.path("py.bsqt")
        frames.write(path, items, zstd=have_zstd())
        out, _, _ = tool("bsq-tensor", "cat", path)
        self.check_same(frames.read(out), items)
        info, _, _ = tool("bsq-tensor", "info", path)
        self.assertEqual(len(info.decode().splitlines()), len(items))
        if have_zstd():
            z, _, _ = tool("bsq-tensor", "cat", "--zstd", path)
            got = frames.read(z)
            self.assertTrue(all(f.zstd for f in got if f.data.size))
            self.check_same(got, items)

    def test_key_order_survives_the_tools(self):
        meta = {"z": 1, "kind": "tensor", "b": {"y": [1, 2], "a": None}, "key": "order", "a": "é", "m": 2.5}
        out, _, _ = tool("bsq-tensor", "cat", stdin=frames.encode_frame(meta, np.arange(3, dtype=np.int32)))
        (f,) = frames.read(out)
        self.assertEqual(json.dumps(f.meta), json.dumps(meta))

    def test_reads_the_tools_zstd_stream(self):
        if not have_zstd():
            self.skipTest("zstandard is not installed")
        out, _, _ = tool("mel", "-q", "--zstd", os.path.join(AUDIO, "wav16k_mono_pcm16.wav"))
        plain, _, _ = tool("mel", "-q", os.path.join(AUDIO, "wav16k_mono_pcm16.wav"))
        (z,), (p,) = frames.read(out), frames.read(plain)
        self.assertTrue(z.zstd)
        self.assertEqual(z.kind, "mel")
        self.assertEqual(z.data.shape, (101, 128))
        np.testing.assert_array_equal(z.data, p.data)

    def test_writer_refuses_what_has_no_code(self):
        for bad in (np.zeros(2, np.complex64), np.zeros(2, bool), np.zeros((1,) * 9, np.float32)):
            with self.assertRaises(ValueError):
                frames.encode_frame({}, bad)
        with self.assertRaises(ValueError):
            frames.encode_frame({"x": float("nan")}, np.zeros(1, np.float32))

    def test_big_endian_arrays_are_written_little_endian(self):
        a = np.arange(5, dtype=">i4")
        (f,) = frames.read(frames.encode_frame({}, a))
        self.assertEqual(f.data.dtype, np.dtype("<i4"))
        np.testing.assert_array_equal(f.data, a)


class StreamingTests(unittest.TestCase):
    def test_frames_come_one_at_a_time_from_a_pipe(self):
        """The reader yields a frame as soon as its bytes are there, before the writer goes on."""
        first, second = frames.encode_frame({"key": "1"}, np.ones(1000, np.float32)), frames.encode_frame({"key": "2"}, np.zeros(3, np.uint8))
        r, w = os.pipe()
        got_first = threading.Event()

        def writer():
            with os.fdopen(w, "wb", buffering=0) as f:
                for i in range(0, len(first), 7):           # dribbled in small writes
                    f.write(first[i:i + 7])
                got_first.wait(10)
                f.write(second)
        t = threading.Thread(target=writer)
        t.start()
        with os.fdopen(r, "rb", buffering=0) as f:
            it = frames.iter_frames(f)
            a = next(it)
            self.assertEqual(a.key, "1")
            got_first.set()
            b = next(it)
            self.assertEqual(b.key, "2")
            self.assertEqual(list(it), [])
        t.join()

    def test_standard_input_and_output(self):
        """'-' reads stdin and writes stdout: Python | bsq-tensor cat | Python."""
        env = dict(os.environ, PYTHONPATH=os.path.join(REPO, "python"))
        write = ("import numpy as np; from bsq_audio import frames; "
                 "frames.write('-', [({'kind': 'tensor', 'key': f'k{i}'}, np.full(i + 1, i, np.int16)) for i in range(3)])")
        read = ("from bsq_audio import frames; "
                "print(' '.join(f'{m[\"key\"]}:{x.sum()}' for m, x in frames.iter_frames('-')))")
        p1 = subprocess.Popen([sys.executable, "-c", write], stdout=subprocess.PIPE, env=env)
        p2 = subprocess.Popen([os.path.join(bin_dir(), "bsq-tensor"), "cat"], stdin=p1.stdout, stdout=subprocess.PIPE)
        p1.stdout.close()
        out = subprocess.run([sys.executable, "-c", read], stdin=p2.stdout, stdout=subprocess.PIPE, env=env, check=True).stdout
        p2.stdout.close()
        self.assertEqual(p1.wait(), 0)
        self.assertEqual(p2.wait(), 0)
        self.assertEqual(out.decode().split(), ["k0:0", "k1:2", "k2:6"])

    def test_sources(self):
        data = frames.encode_frame({"key": "a"}, np.arange(4, dtype=np.float64))
        for src in (data, bytearray(data), memoryview(data), io.BytesIO(data)):
            (f,) = frames.read(src)
            self.assertEqual(f.key, "a")
            meta, x = f                                      # unpacks as a pair
            self.assertEqual(x.tolist(), [0, 1, 2, 3])
        self.assertEqual(frames.read(b""), [])
        with self.assertRaises(TypeError):
            frames.read(42)


class ValidationTests(unittest.TestCase):
    """Every rejection bsqt(5) lists, with the byte offset of the frame; bsq-tensor rejects the same streams."""

    GOOD = frames.encode_frame({"kind": "tensor", "key": "good"}, np.arange(6, dtype=np.float32))

    def rejects(self, bad, fragment, tool_too=True):
        stream = self.GOOD + bad
        with self.assertRaises(FrameError) as cm:
            frames.read(stream)
        e = cm.exception
        self.assertIn(fragment, str(e))
        self.assertEqual(e.offset, len(self.GOOD), str(e))
        self.assertIn(f"at byte {len(self.GOOD)}", str(e))
        if tool_too:
            _, err, status = tool("bsq-tensor", "info", stdin=stream, check=False)
            self.assertEqual(status, 1, f"bsq-tensor accepted what Python refuses ({fragment}): {err}")
            self.assertIn(f"at byte {len(self.GOOD)}", err)
        return e

    def test_header_fields(self):
        self.rejects(raw_frame(magic=b"BSQX"), "bad magic")
        self.rejects(raw_frame(version=2), "unknown version 2")
        self.rejects(raw_frame(code=10), "unknown dtype code 10")
        self.rejects(raw_frame(code=0), "unknown dtype code 0")
        self.rejects(raw_frame(dims=(1,) * 9, payload=bytes(4)), "rank 9")
        self.rejects(raw_frame(flags=2), "unknown flag bits")

    def test_metadata(self):
        big = struct.pack("<I", (1 << 20) + 1)
        f = bytearray(raw_frame())
        f[8:12] = big
        self.rejects(bytes(f), "more than 1048576")
        self.rejects(raw_frame(meta=b"[1,2]"), "not an object")
        self.rejects(raw_frame(meta=b'{"a":1,"a":2}'), "appears twice")
        self.rejects(raw_frame(meta=b'{"a":{"b":1,"b":2}}'), "appears twice")
        self.rejects(raw_frame(meta=b'{"a":'), "bad metadata")
        self.rejects(raw_frame(meta=b'{"a":"\xff"}'), "bad metadata")
        self.rejects(raw_frame(meta=b'{"a":NaN}'), "bad metadata")

    def test_payload_size_and_crc(self):
        self.rejects(raw_frame(dims=(3,), payload=bytes(8)), "need 12")
        good = bytearray(raw_frame(dims=(3,)))
        good[-6] ^= 0x40                                     # a payload byte, CRC unchanged
        e = self.rejects(bytes(good), "CRC mismatch")
        self.assertIn("stored 0x", str(e))
        self.rejects(raw_frame(crc=0), "CRC mismatch")

    def test_absurd_dims_are_errors_not_allocations(self):
        self.rejects(raw_frame(dims=(1 << 40, 1 << 40), payload=b""), "more than the")
        self.rejects(raw_frame(dims=(1 << 33, 3), payload=b"", plen=1 << 62), "more than the")

    def test_truncation(self):
        good = raw_frame(dims=(3,))
        for cut in (1, 5, 12, 20, len(good) - 1):
            with self.subTest(cut=cut):
                e = self.rejects(good[:cut], "stream ends inside a frame")
                self.assertEqual(e.offset, len(self.GOOD))

    def test_names_the_file(self):
        scratch = Scratch()
        try:
            p = scratch.path("bad.bsqt")
            with open(p, "wb") as f:
                f.write(self.GOOD + raw_frame(version=7))
            with self.assertRaises(FrameError) as cm:
                list(frames.iter_frames(p))
            self.assertTrue(str(cm.exception).startswith(p + ": "))
            self.assertEqual(cm.exception.name, p)
        finally:
            scratch.close()

    @unittest.skipUnless(have_zstd(), "zstandard is not installed")
    def test_zstd_payloads(self):
        import zstandard
        values = np.tile(np.arange(4, dtype=np.float32), 16)
        content = values.tobytes()
        z = zstandard.ZstdCompressor(write_checksum=True).compress(content)
        ok = raw_frame(dims=(64,), payload=z, flags=1)
        self.assertEqual(len(frames.read(ok)), 1)
        no_size = zstandard.ZstdCompressor(write_content_size=False).compress(content)
        np.testing.assert_array_equal(frames.read(raw_frame(dims=(64,), payload=no_size, flags=1))[0].data, values)
        self.rejects(raw_frame(dims=(64,), payload=z + z, flags=1), "one zstd frame")
        self.rejects(raw_frame(dims=(64,), payload=z + b"\0", flags=1), "one zstd frame")
        self.rejects(raw_frame(dims=(32,), payload=z, flags=1), "records 256 bytes")
        self.rejects(raw_frame(dims=(64,), payload=b"not zstd at all", flags=1), "not a zstd frame")
        self.rejects(raw_frame(dims=(64,), payload=bytes(2000), flags=1), "zstd's bound")
        self.rejects(raw_frame(dims=(64,), payload=b"", flags=1), "zstd payload of 0 bytes")
        damaged = bytearray(z)
        damaged[-1] ^= 1                                     # the content checksum, damaged before the CRC
        self.rejects(raw_frame(dims=(64,), payload=bytes(damaged), flags=1), "does not decompress")
        bomb = zstandard.ZstdCompressor(write_content_size=False).compress(bytes(1 << 20))
        self.rejects(raw_frame(dims=(64,), payload=bomb, flags=1), "does not decompress", tool_too=False)


class CodesFrameTests(unittest.TestCase):
    """covered_time_patches of codes frames, with and without bsq-encode --trim."""

    @classmethod
    def setUpClass(cls):
        cls.mel, _, _ = tool("mel", "-q", "--frames", "1500", os.path.join(AUDIO, "long8k_flac.flac"))

    def test_covered_time_patches(self):
        full, _, _ = tool("bsq-encode", "-q", stdin=self.mel)
        trim, _, _ = tool("bsq-encode", "-q", "--trim", stdin=self.mel)
        (f,), (t,) = frames.read(full), frames.read(trim)
        self.assertEqual(f.kind, "codes")
        self.assertEqual(f.meta["frames"], 1500)
        self.assertEqual(f.data.shape, (128, 8))
        self.assertEqual(f.covered_time_patches, 94)                     # ⌈1500 / 16⌉
        self.assertEqual(t.covered_time_patches, 94)
        self.assertEqual(t.data.shape, (94, 8))
        np.testing.assert_array_equal(f.covered, t.data)
        np.testing.assert_array_equal(t.covered, t.data)
        self.assertEqual(list(f.meta)[:2], ["kind", "key"])

    def test_codes_without_the_key_count_every_row(self):
        (f,) = frames.read(tool("bsq-encode", "-q", stdin=self.mel)[0])
        meta = {k: v for k, v in f.meta.items() if k != "covered_time_patches"}
        (g,) = frames.read(frames.encode_frame(meta, f.data))
        self.assertEqual(g.covered_time_patches, 128)
        (m,) = frames.read(self.mel)
        self.assertIsNone(m.covered_time_patches)
        self.assertIs(m.covered, m.data)


if __name__ == "__main__":
    unittest.main()
