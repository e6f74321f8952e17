#!/usr/bin/env python3
"""Python <-> Swift interop fixtures for BSQT frames and .npy files.

Run from anywhere:

    python3 Tests/Fixtures/frames/make_frame_fixtures.py            # (re)write the fixtures
    python3 Tests/Fixtures/frames/make_frame_fixtures.py --check DIR # check what the Swift tool wrote

Needs numpy and zstandard (pip install zstandard).  The BSQT writer and reader
here are written from bsqt(5) (man/man5/bsqt.5) alone, with numpy, struct, zlib and
zstandard, independently of ../bsqt.py, so that a shared misreading of the
format does not go unnoticed.

Writing (next to this script, all deterministic, rerunning rewrites them):

  python_stream.bsqt   every dtype (codes 1..9), ranks 0..8 (with dims of 0),
                       plain and zstd payloads (with and without a recorded
                       content size, with a zstd checksum, of an empty payload),
                       metadata with nested objects, unicode (raw UTF-8 and
                       \\u escapes), control characters, unknown keys and
                       whitespace; NaN (with payload bits), +-Inf, -0.0 and
                       subnormals for floats, the extremes for integers.
  python_stream.json   for each frame: index, offset, stored size, metadata,
                       dtype, dims, zstd flag, and of the decoded C-order
                       little-endian payload: its length, crc32 (zlib), sha256
                       and, when at most 256 bytes, its hex; for some frames
                       the .npy numpy writes for it (npy/expected_out/KEY.npy).
  npy/*.npy            inputs for `bsq-tensor from-npy`: v1.0 and v2.0 headers,
                       Fortran order, big-endian, rank 0, an empty array, and
                       complex / bool (no BSQT code: the tool must refuse them).
  npy/expected.json    for each: the dtype, dims, and crc32 / sha256 of the
                       C-order little-endian bytes the frame must hold.

--check DIR reads what the Swift tool produced from these fixtures and checks
it with numpy: values bit-identical, CRCs right, zstd flags as asked, .npy files
loadable by numpy.load, .json sidecars holding the metadata.  The Swift test
FrameInteropTests writes DIR when BSQ_INTEROP_OUT=DIR is set; by hand, from
Tests/Fixtures/frames:

    bsq-tensor cat python_stream.bsqt > DIR/passthrough.bsqt
    bsq-tensor cat --zstd python_stream.bsqt > DIR/recompressed.bsqt
    bsq-tensor cat --no-zstd DIR/recompressed.bsqt > DIR/plain.bsqt
    bsq-tensor to-npy -o DIR/npy < python_stream.bsqt
    bsq-tensor from-npy npy/v1_f32.npy npy/v2_i16.npy npy/fortran_f64.npy \\
        npy/bigendian_i32.npy npy/scalar_u8.npy npy/empty_f32.npy > DIR/from_npy.bsqt
    (same with --zstd)                                  > DIR/from_npy_zstd.bsqt
    for each frame, in stream order:
        bsq-tensor from-npy DIR/npy/KEY.npy --meta @DIR/npy/KEY.json >> DIR/roundtrip.bsqt

Exits nonzero, naming each mismatch, if anything differs.
"""
import argparse
import hashlib
import io
import json
import math
import os
import shutil
import struct
import sys
import zlib

import numpy as np

try:
    import zstandard
except ImportError:  # pragma: no cover
    sys.exit("make_frame_fixtures.py: needs the zstandard package (pip install zstandard)")

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> (code, little-endian numpy dtype), from bsqt(5)
DTYPES = {
    "f32": (1, "<f4"), "f64": (2, "<f8"), "u8": (3, "|u1"), "i16": (4, "<i2"), "i32": (5, "<i4"),
    "u32": (6, "<u4"), "i64": (7, "<i8"), "f16": (8, "<f2"), "u64": (9, "<u8"),
}
BY_CODE = {code: (name, np.dtype(le)) for name, (code, le) in DTYPES.items()}
MAGIC = b"BSQT"
MAX_META = 1 << 20


# ---------------------------------------------------------------------------
# An independent BSQT writer and reader


def le_bytes(arr, dtype_name):
    """The C-order little-endian bytes of `arr` as dtype `dtype_name`."""
    want = np.dtype(DTYPES[dtype_name][1])
    a = np.asarray(arr)
    if a.dtype.kind != want.kind or a.dtype.itemsize != want.itemsize:
        raise ValueError(f"array of {a.dtype} is not {dtype_name}")
    return np.ascontiguousarray(a.astype(want, copy=False)).tobytes(order="C")


def write_frame(dtype_name, dims, payload, meta_bytes, zstd=None):
    """One frame's bytes.  `zstd` is None (plain) or a dict of ZstdCompressor arguments."""
    code = DTYPES[dtype_name][0]
    assert len(dims) <= 8
    n = np.dtype(DTYPES[dtype_name][1]).itemsize
    for d in dims:
        n *= d
    assert n == len(payload), (dims, len(payload))
    stored = payload
    if zstd is not None:
        stored = zstandard.ZstdCompressor(**zstd).compress(payload)
    head = MAGIC + struct.pack("<BBBB", 1, code, len(dims), 1 if zstd is not None else 0)
    head += struct.pack("<I", len(meta_bytes))
    head += b"".join(struct.pack("<Q", d) for d in dims)
    head += meta_bytes + struct.pack("<Q", len(stored))
    body = head + stored
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


class FormatError(Exception):
    pass


def read_stream(buf, name="stream"):
    """Parses a whole stream strictly; returns a list of dicts (one per frame)."""
    out = []
    off = 0
    while off < len(buf):
        def need(k, at):
            if at + k > len(buf):
                raise FormatError(f"{name}: stream ends inside the frame at byte {off}")
        need(12, off)
        if buf[off:off + 4] != MAGIC:
            raise FormatError(f"{name}: bad magic at byte {off}")
        version, code, rank, flags = buf[off + 4], buf[off + 5], buf[off + 6], buf[off + 7]
        if version != 1:
            raise FormatError(f"{name}: version {version} at byte {off}")
        if code not in BY_CODE:
            raise FormatError(f"{name}: dtype code {code} at byte {off}")
        if rank > 8 or flags & ~1:
            raise FormatError(f"{name}: rank {rank} / flags {flags:#x} at byte {off}")
        (mlen,) = struct.unpack_from("<I", buf, off + 8)
        if mlen > MAX_META:
            raise FormatError(f"{name}: meta_len {mlen} at byte {off}")
        p = off + 12
        need(8 * rank, p)
        dims = list(struct.unpack_from(f"<{rank}Q", buf, p))
        p += 8 * rank
        need(mlen, p)
        meta_bytes = bytes(buf[p:p + mlen])
        p += mlen
        meta = json.loads(meta_bytes.decode("utf-8"))
        if not isinstance(meta, dict):
            raise FormatError(f"{name}: metadata is not an object at byte {off}")
        need(8, p)
        (plen,) = struct.unpack_from("<Q", buf, p)
        p += 8
        need(plen, p)
        stored = bytes(buf[p:p + plen])
        p += plen
        need(4, p)
        (crc,) = struct.unpack_from("<I", buf, p)
        if crc != zlib.crc32(buf[off:p]) & 0xFFFFFFFF:
            raise FormatError(f"{name}: CRC mismatch at byte {off}")
        dname, dt = BY_CODE[code]
        size = dt.itemsize * math.prod(dims)
        zstd = bool(flags & 1)
        if zstd:
            obj = zstandard.ZstdDecompressor().decompressobj()
            payload = obj.decompress(stored)
            if not obj.eof or obj.unused_data:
                raise FormatError(f"{name}: payload is not exactly one zstd frame at byte {off}")
        else:
            payload = stored
        if len(payload) != size:
            raise FormatError(f"{name}: payload of {len(payload)} bytes, dims {dims} need {size}, at byte {off}")
        out.append({
            "offset": off, "stored_bytes": p + 4 - off, "dtype": dname, "dims": dims, "zstd": zstd,
            "meta": meta, "meta_bytes": meta_bytes, "payload": payload, "stored_payload": stored,
            "array": np.frombuffer(payload, dt).reshape(dims),
        })
        off = p + 4
    return out


# ---------------------------------------------------------------------------
# The frames of python_stream.bsqt


def f32_bits(*bits):
    return np.array(bits, dtype="<u4").view("<f4")


def frames_spec():
    """[(dtype, array, meta (object), meta text or None, zstd options or None)]."""
    rng = np.random.default_rng(20240611)
    specs = []

    def add(dtype, arr, meta, zstd=None, text=None):
        arr = np.asarray(arr)
        assert arr.ndim <= 8
        specs.append((dtype, arr, meta, text, zstd))

    # f32 mel, with every special value; plain.
    mel = rng.normal(-40, 20, size=(6, 8)).astype("<f4")
    mel.flat[:10] = [np.nan, np.inf, -np.inf, -0.0, 0.0, np.finfo("<f4").max, -np.finfo("<f4").max,
                     np.finfo("<f4").tiny, 1e-45, -1e-45]
    mel.flat[10:13] = f32_bits(0x7FC00001, 0xFFC00000, 0x7F800001)  # NaN payloads, a signalling NaN
    add("f32", mel, {
        "kind": "mel", "key": "py/mel_f32", "axes": ["time", "mel"],
        "mel": {"sample_rate": 16000, "n_fft": 1024, "win_length": 1024, "hop_length": 160, "n_mels": 8,
                "fmin": 0.0, "fmax": 8000.0, "mel_scale": "slaney", "norm": "slaney", "power": 2.0,
                "center": True, "pad_mode": "constant", "db": {"ref": "max", "amin": 1e-10, "top_db": 80.0}},
        "source": "corpus/84/121123/84-121123-0000.flac",
        "x_unknown": {"nested": [1, 2.5, None, True, False, {"deep": {"deeper": ["é"]}}]},
    })
    # f32 mel, bigger and smooth, zstd (default level, content size recorded).
    t = np.arange(40, dtype="<f8")[:, None]
    f = np.arange(32, dtype="<f8")[None, :]
    add("f32", (np.sin(t / 5.0) * 30 - f).astype("<f4"),
        {"kind": "mel", "key": "py/mel_f32_zstd", "axes": ["time", "mel"], "frames": 40},
        zstd={"level": 3})
    # f64 with specials, zstd without a recorded content size.
    v = rng.standard_normal(7) * 1e3
    v[:6] = [np.nan, -np.inf, np.inf, -0.0, 5e-324, np.finfo("<f8").max]
    add("f64", v.astype("<f8"), {"kind": "tensor", "key": "py/f64_specials", "note": "no content size"},
        zstd={"level": 1, "write_content_size": False})
    # u8 rank 3, extremes, zstd with a checksum.
    u8 = (np.arange(24) * 37 % 256).astype("|u1").reshape(2, 3, 4)
    u8.flat[0], u8.flat[1] = 0, 255
    add("u8", u8, {"kind": "tensor", "key": "py/u8_rank3"}, zstd={"level": 19, "write_checksum": True})
    # i16 rank 1, extremes.
    add("i16", np.array([-32768, 32767, -1, 0, 1, 12345, -12345], dtype="<i2"),
        {"kind": "audio", "key": "py/i16", "sample_rate": 8000})
    # i32 rank 2, extremes.
    i32 = rng.integers(-2**31, 2**31, size=(3, 5), dtype=np.int64).astype("<i4")
    i32.flat[:4] = [-2**31, 2**31 - 1, 0, -1]
    add("i32", i32, {"kind": "tensor", "key": "py/i32"}, zstd={})
    # u32 codes, extremes.
    u32 = rng.integers(0, 2**32, size=(4, 3), dtype=np.uint64).astype("<u4")
    u32.flat[:3] = [0, 2**32 - 1, 2**31]
    add("u32", u32, {
        "kind": "codes", "key": "py/codes_u32", "axes": ["time", "freq"], "frames": 17, "bits": 32,
        "model": {"name": "bsq-test", "sha256": hashlib.sha256(b"not a model").hexdigest()},
    })
    # i64 rank 1, extremes; zstd.
    add("i64", np.array([-2**63, 2**63 - 1, 0, -1, 1, 2**53 + 1, -(2**53 + 1)], dtype="<i8"),
        {"kind": "tensor", "key": "py/i64"}, zstd={"level": 5})
    # f16 rank 2 with specials.
    h = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 65504.0, -65504.0, 6.1e-05, 6e-08, 1.0, -2.5, 0.333],
                 dtype="<f2").reshape(3, 4)
    h.view("<u2").flat[0] = 0x7E01  # a NaN with payload bits
    add("f16", h, {"kind": "tensor", "key": "py/f16"})
    # u64 codes (bits > 32), extremes; zstd.
    u64 = np.array([[0, 2**64 - 1, 2**63], [1, 2**40 - 1, 12345678901234567890]], dtype="<u8")
    add("u64", u64, {"kind": "codes", "key": "py/codes_u64", "bits": 64, "frames": 2}, zstd={"level": 3})
    # rank 0, several dtypes.
    add("f64", np.array(-0.0, dtype="<f8"), {"kind": "tensor", "key": "py/scalar_f64"})
    add("u64", np.array(2**64 - 1, dtype="<u8"), {"kind": "tensor", "key": "py/scalar_u64"}, zstd={})
    add("f16", np.array(np.inf, dtype="<f2"), {"kind": "tensor", "key": "py/scalar_f16"})
    add("i16", np.array(-32768, dtype="<i2"), {"key": "py/scalar_i16"})
    # ranks 4..8, small dims.
    for rank, dims, dt in [(4, (2, 1, 3, 2), "i32"), (5, (1, 2, 1, 2, 3), "u32"), (6, (2, 1, 1, 2, 1, 2), "f64"),
                           (7, (1, 1, 2, 1, 3, 1, 2), "i64"), (8, (2, 1, 2, 1, 2, 1, 1, 3), "f32")]:
        n = math.prod(dims)
        le = DTYPES[dt][1]
        if dt.startswith("f"):
            a = (rng.standard_normal(n) * 100).astype(le)
        elif dt.startswith("u"):
            a = rng.integers(0, np.iinfo(le).max, size=n, dtype=np.uint64, endpoint=True).astype(le)
        else:
            a = rng.integers(np.iinfo(le).min, np.iinfo(le).max, size=n, endpoint=True).astype(le)
        add(dt, a.reshape(dims), {"kind": "tensor", "key": f"py/rank{rank}", "rank": rank}, zstd={} if rank % 2 else None)
    # dims of 0.
    add("f32", np.zeros((3, 0, 2), dtype="<f4"), {"kind": "tensor", "key": "py/empty_3x0x2"})
    add("u8", np.zeros((0,), dtype="|u1"), {"kind": "tensor", "key": "py/empty_u8_zstd"}, zstd={})
    add("f32", np.zeros((0, 1000, 1000, 1000, 1000, 1000, 1000, 2), dtype="<f4"),
        {"kind": "tensor", "key": "py/rank8_empty"})
    # Metadata: unicode, escapes, whitespace, unknown keys; keys in a given order.
    add("f32", np.array([[0.5, -0.5], [1.5, -1.5], [2.5, -2.5]], dtype="<f4"), {
        "zeta": "last key first", "kind": "audio", "key": "py/ünïcødé/音声🎵", "sample_rate": 22050,
        "text": "héllo wörld — 日本語 😀 \u0001\b\f\t\n\r\"\\/", "empty": {}, "list": [], "num": [-0.0, 1e-7, 1e300, -2.5e-300, 0.1, 123456789012],
        "unknown": {"a": {"b": {"c": {"d": [[], [{}], "x"]}}}},
    }, text="ascii-indent")
    add("f32", np.array([1.0, 2.0], dtype="<f4"), {"kind": "tensor", "key": "py/raw_meta", "slash": "a/b", "tab": "\t", "é": "é", "pair": "😀"},
        text=b' {\n\t"kind" : "tensor" ,\r\n "key":"py\\/raw_meta", "slash":"a\\/b", "tab":"\\t",'
             b' "\\u00e9":"\xc3\xa9", "pair":"\\ud83d\\ude00"\n} \n')
    # No metadata at all: to-npy names it frame-NNNNNN.
    add("i32", np.array([7, 8, 9], dtype="<i4"), {}, text=b"{}")
    return specs


def meta_text(meta, text):
    if isinstance(text, bytes):
        assert json.loads(text.decode("utf-8")) == meta
        return text
    if text == "ascii-indent":
        return json.dumps(meta, ensure_ascii=True, indent=2).encode("ascii")
    return json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def npy_name(meta, index):
    """The file name (without .npy) that bsq-tensor to-npy gives a frame."""
    key = meta.get("key")
    if not isinstance(key, str) or key in ("", "-"):
        return f"frame-{index:06d}"
    return "/".join(p for p in key.split("/") if p)


def header_of_npy(data):
    """(version, header text, header length in bytes including the magic) of .npy bytes."""
    assert data[:6] == b"\x93NUMPY", "not .npy"
    major = data[6]
    if major == 1:
        (hlen,) = struct.unpack_from("<H", data, 8)
        start = 10
    else:
        (hlen,) = struct.unpack_from("<I", data, 8)
        start = 12
    return (major, data[7]), data[start:start + hlen].decode("latin1"), start + hlen


def digest(payload):
    return {"payload_bytes": len(payload), "crc32": zlib.crc32(payload) & 0xFFFFFFFF,
            "sha256": hashlib.sha256(payload).hexdigest()}


EXPECTED_NPY = ["py/mel_f32", "py/u8_rank3", "py/f16", "py/codes_u64", "py/scalar_f64", "py/empty_3x0x2",
                "py/rank8", "py/rank8_empty", "frame-000024"]


def npy_bytes(arr, version=None):
    buf = io.BytesIO()
    if version is None:
        np.save(buf, arr, allow_pickle=False)
    else:
        np.lib.format.write_array(buf, arr, version=version, allow_pickle=False)
    return buf.getvalue()


def generate():
    specs = frames_spec()
    stream = b""
    entries = []
    out_dir = os.path.join(HERE, "npy", "expected_out")
    shutil.rmtree(out_dir, ignore_errors=True)
    for index, (dtype, arr, meta, text, zstd) in enumerate(specs):
        payload = le_bytes(arr, dtype)
        mb = meta_text(meta, text)
        frame = write_frame(dtype, list(arr.shape), payload, mb, zstd)
        e = {"index": index, "offset": len(stream), "stored_bytes": len(frame), "dtype": dtype,
             "code": DTYPES[dtype][0], "dims": list(arr.shape), "zstd": zstd is not None,
             "stored_payload_bytes": len(frame) - 12 - 8 * arr.ndim - len(mb) - 8 - 4, "meta": meta}
        e.update(digest(payload))
        if len(payload) <= 256:
            e["payload_hex"] = payload.hex()
        name = npy_name(meta, index)
        e["npy_name"] = name
        if name in EXPECTED_NPY:
            npy = npy_bytes(np.frombuffer(payload, DTYPES[dtype][1]).reshape(arr.shape))
            path = os.path.join(out_dir, name + ".npy")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(npy)
            _, header, total = header_of_npy(npy)
            dict_text = header.rstrip(" \n")
            shortest = -(-(10 + len(dict_text) + 1) // 64) * 64
            e["expected_npy"] = "npy/expected_out/" + name + ".npy"
            e["npy_header"] = dict_text
            e["npy_header_bytes"] = total
            # numpy pads the header beyond the shortest 64-byte multiple for long shapes
            # (it leaves room for the first axis to grow); a writer that pads minimally
            # then differs from np.save in header padding only.
            e["npy_header_is_shortest"] = total == shortest
        entries.append(e)
        stream += frame
    assert len(EXPECTED_NPY) == sum("expected_npy" in e for e in entries), "EXPECTED_NPY names a missing frame"
    with open(os.path.join(HERE, "python_stream.bsqt"), "wb") as fh:
        fh.write(stream)
    with open(os.path.join(HERE, "python_stream.json"), "w", encoding="utf-8") as fh:
        json.dump({"file": "python_stream.bsqt", "bytes": len(stream), "sha256": hashlib.sha256(stream).hexdigest(),
                   "frames": entries}, fh, ensure_ascii=False, indent=1)
        fh.write("\n")

    # .npy inputs
    rng = np.random.default_rng(7)
    npy_dir = os.path.join(HERE, "npy")
    inputs = []

    def npy_input(fname, arr, dtype, version=None, refused=False):
        data = npy_bytes(arr, version)
        with open(os.path.join(npy_dir, fname), "wb") as fh:
            fh.write(data)
        back = np.load(io.BytesIO(data), allow_pickle=False)
        assert back.dtype == arr.dtype and back.shape == arr.shape
        le = back.astype(back.dtype.newbyteorder("<"), copy=False)
        c_bytes = np.ascontiguousarray(le).tobytes(order="C")
        ver, header, total = header_of_npy(data)
        e = {"file": fname, "key": fname[:-4], "npy_version": list(ver), "descr": str(arr.dtype.str),
             "fortran_order": "'fortran_order': True" in header, "dims": list(arr.shape), "refused": refused}
        if not refused:
            e["dtype"] = dtype
        e.update(digest(c_bytes))
        if len(c_bytes) <= 256:
            e["payload_hex"] = c_bytes.hex()
        inputs.append(e)

    npy_input("v1_f32.npy", np.array([[1.5, -0.0, np.nan, np.inf], [-np.inf, 3.0e38, 1e-45, 2.0],
                                      [0.25, -7.0, 100.0, -1e-3]], dtype="<f4"), "f32")
    npy_input("v2_i16.npy", rng.integers(-32768, 32768, size=(5, 3)).astype("<i2"), "i16", version=(2, 0))
    npy_input("fortran_f64.npy", np.asfortranarray(np.arange(24, dtype="<f8").reshape(2, 3, 4) * 1.5 - 7), "f64")
    npy_input("bigendian_i32.npy", np.array([[-2**31, 2**31 - 1, 1], [-1, 0x01020304, -0x01020304]], dtype=">i4"), "i32")
    npy_input("scalar_u8.npy", np.array(200, dtype="|u1"), "u8")
    npy_input("empty_f32.npy", np.zeros((0, 3), dtype="<f4"), "f32")
    npy_input("complex.npy", np.array([1 + 2j, -3.5j], dtype="<c16"), None, refused=True)
    npy_input("bool.npy", np.array([[True, False], [False, True]]), None, refused=True)
    with open(os.path.join(npy_dir, "expected.json"), "w", encoding="utf-8") as fh:
        json.dump({"files": inputs}, fh, indent=1)
        fh.write("\n")

    # Self-check: the independent reader agrees, and so does ../bsqt.py.
    check_reference()
    total = 0
    for root, _, files in os.walk(HERE):
        for f in files:
            if not f.endswith(".py") and "__pycache__" not in root:
                total += os.path.getsize(os.path.join(root, f))
    print(f"wrote {len(entries)} frames ({len(stream)} bytes) and {len(inputs)} .npy inputs; fixtures total {total} bytes")


# ---------------------------------------------------------------------------
# Checking


class Checker:
    def __init__(self):
        self.errors = []

    def fail(self, msg):
        self.errors.append(msg)

    def same_array(self, what, got, want):
        if got.dtype.newbyteorder("<") != want.dtype.newbyteorder("<") or got.shape != want.shape:
            self.fail(f"{what}: {got.dtype} {got.shape}, expected {want.dtype} {want.shape}")
            return False
        a = np.ascontiguousarray(got).astype(got.dtype.newbyteorder("<"), copy=False).tobytes()
        b = np.ascontiguousarray(want).astype(want.dtype.newbyteorder("<"), copy=False).tobytes()
        if a != b:
            self.fail(f"{what}: values differ")
            return False
        return True

    def same_json(self, what, got, want):
        if not json_equal(got, want):
            self.fail(f"{what}: metadata {json.dumps(got, ensure_ascii=False)[:300]} "
                      f"!= {json.dumps(want, ensure_ascii=False)[:300]}")


def json_equal(a, b):
    """Equality of JSON values; numbers compare as IEEE doubles (as any JSON reader may), key order counts."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def load_reference():
    with open(os.path.join(HERE, "python_stream.bsqt"), "rb") as fh:
        buf = fh.read()
    with open(os.path.join(HERE, "python_stream.json"), encoding="utf-8") as fh:
        side = json.load(fh)
    return buf, read_stream(buf, "python_stream.bsqt"), side


def check_reference():
    """The committed stream agrees with its sidecar, with this reader and with ../bsqt.py."""
    buf, frames, side = load_reference()
    c = Checker()
    if hashlib.sha256(buf).hexdigest() != side["sha256"]:
        c.fail("python_stream.bsqt: sha256 differs from python_stream.json")
    if len(frames) != len(side["frames"]):
        c.fail(f"python_stream.bsqt: {len(frames)} frames, the sidecar lists {len(side['frames'])}")
    for f, e in zip(frames, side["frames"]):
        what = f"frame {e['index']}"
        for k in ("offset", "stored_bytes", "dtype", "dims", "zstd"):
            if f[k] != e[k]:
                c.fail(f"{what}: {k} {f[k]} != {e[k]}")
        if digest(f["payload"]) != {k: e[k] for k in ("payload_bytes", "crc32", "sha256")}:
            c.fail(f"{what}: payload digest differs")
        if f["meta"] != e["meta"] or list(f["meta"]) != list(e["meta"]):
            c.fail(f"{what}: metadata differs")
        if "expected_npy" in e:
            arr = np.load(os.path.join(HERE, e["expected_npy"]), allow_pickle=False)
            c.same_array(f"{what} {e['expected_npy']}", arr, f["array"])
    sys.path.insert(0, os.path.dirname(HERE))
    sys.dont_write_bytecode = True  # leave no __pycache__ beside bsqt.py
    try:
        import bsqt  # the other reader in this folder
        skipped = []
        for f in frames:
            one = buf[f["offset"]:f["offset"] + f["stored_bytes"]]
            try:
                theirs = list(bsqt.frames(one))
            except zstandard.ZstdError as e:
                # bsqt.py calls ZstdDecompressor().decompress without max_output_size, which needs
                # the content size in the zstd frame header; bsqt(5) does not require it.
                if "content size" not in str(e):
                    raise
                skipped.append(f"frame at byte {f['offset']}")
                continue
            if len(theirs) != 1:
                c.fail(f"bsqt.py reads {len(theirs)} frames at byte {f['offset']}")
                continue
            meta, arr = theirs[0]
            c.same_array(f"bsqt.py, frame at {f['offset']}", arr, f["array"])
            c.same_json(f"bsqt.py, frame at {f['offset']}", meta, f["meta"])
        if skipped:
            print("note: bsqt.py cannot decompress a zstd payload without a recorded content size: "
                  + ", ".join(skipped), file=sys.stderr)
    finally:
        sys.path.pop(0)
    with open(os.path.join(HERE, "npy", "expected.json"), encoding="utf-8") as fh:
        for e in json.load(fh)["files"]:
            arr = np.load(os.path.join(HERE, "npy", e["file"]), allow_pickle=False)
            le = np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder("<"), copy=False)).tobytes()
            if digest(le) != {k: e[k] for k in ("payload_bytes", "crc32", "sha256")}:
                c.fail(f"npy/{e['file']}: digest differs from npy/expected.json")
    if c.errors:
        sys.exit("make_frame_fixtures.py: the fixtures are inconsistent:\n  " + "\n  ".join(c.errors))


def check_swift_output(out_dir):
    buf, ref, side = load_reference()
    c = Checker()

    def read(name):
        path = os.path.join(out_dir, name)
        try:
            with open(path, "rb") as fh:
                return read_stream(fh.read(), name)
        except FileNotFoundError:
            c.fail(f"{path}: missing")
        except (FormatError, ValueError, zstandard.ZstdError) as e:
            c.fail(f"{path}: {e}")
        return None

    # cat: byte for byte.
    try:
        with open(os.path.join(out_dir, "passthrough.bsqt"), "rb") as fh:
            if fh.read() != buf:
                c.fail("passthrough.bsqt: `cat` changed the stream")
    except FileNotFoundError:
        c.fail("passthrough.bsqt: missing")

    # cat --zstd, then cat --no-zstd: same frames, flags as asked.
    for name, zstd in (("recompressed.bsqt", True), ("plain.bsqt", False)):
        got = read(name)
        if got is None:
            continue
        if len(got) != len(ref):
            c.fail(f"{name}: {len(got)} frames, expected {len(ref)}")
        for i, (g, r) in enumerate(zip(got, ref)):
            what = f"{name} frame {i}"
            if g["zstd"] != zstd:
                c.fail(f"{what}: zstd flag {g['zstd']}, expected {zstd}")
            if g["dtype"] != r["dtype"] or g["dims"] != r["dims"]:
                c.fail(f"{what}: {g['dtype']} {g['dims']}, expected {r['dtype']} {r['dims']}")
            elif g["payload"] != r["payload"]:
                c.fail(f"{what}: payload bytes differ")
            c.same_json(what, g["meta"], r["meta"])
            if zstd and r["zstd"] and g["stored_payload"] != r["stored_payload"]:
                c.fail(f"{what}: an already-compressed payload was recompressed")

    # to-npy
    npy_dir = os.path.join(out_dir, "npy")
    for i, (r, e) in enumerate(zip(ref, side["frames"])):
        base = os.path.join(npy_dir, npy_name(r["meta"], i))
        what = f"npy/{npy_name(r['meta'], i)}"
        try:
            with open(base + ".npy", "rb") as fh:
                data = fh.read()
            arr = np.load(io.BytesIO(data), allow_pickle=False)
        except Exception as ex:  # noqa: BLE001
            c.fail(f"{what}.npy: numpy.load fails: {ex}")
            continue
        version, header, total = header_of_npy(data)
        if total % 64:
            c.fail(f"{what}.npy: header of {total} bytes is not 64-byte aligned")
        if not arr.flags.c_contiguous or arr.dtype.byteorder == ">":
            c.fail(f"{what}.npy: not C-order little-endian")
        c.same_array(f"{what}.npy", arr, r["array"])
        if "expected_npy" in e:
            with open(os.path.join(HERE, e["expected_npy"]), "rb") as fh:
                want = fh.read()
            if data != want:
                _, want_header, want_total = header_of_npy(want)
                if header.rstrip(" \n") != want_header.rstrip(" \n") or data[total:] != want[want_total:]:
                    c.fail(f"{what}.npy: differs from what numpy writes beyond header padding")
                elif e["npy_header_is_shortest"]:
                    c.fail(f"{what}.npy: header padding differs from numpy's ({total} vs {want_total} bytes)")
        try:
            with open(base + ".json", encoding="utf-8") as fh:
                c.same_json(f"{what}.json", json.load(fh), r["meta"])
        except Exception as ex:  # noqa: BLE001
            c.fail(f"{what}.json: {ex}")

    # from-npy
    with open(os.path.join(HERE, "npy", "expected.json"), encoding="utf-8") as fh:
        inputs = [e for e in json.load(fh)["files"] if not e["refused"]]
    for name, zstd in (("from_npy.bsqt", False), ("from_npy_zstd.bsqt", True)):
        got = read(name)
        if got is None:
            continue
        if len(got) != len(inputs):
            c.fail(f"{name}: {len(got)} frames, expected {len(inputs)}")
        for g, e in zip(got, inputs):
            what = f"{name} ({e['file']})"
            want = np.load(os.path.join(HERE, "npy", e["file"]), allow_pickle=False)
            if g["dtype"] != e["dtype"]:
                c.fail(f"{what}: dtype {g['dtype']}, expected {e['dtype']}")
            if g["zstd"] != zstd:
                c.fail(f"{what}: zstd flag {g['zstd']}, expected {zstd}")
            c.same_array(what, g["array"], want)
            if digest(g["payload"]) != {k: e[k] for k in ("payload_bytes", "crc32", "sha256")}:
                c.fail(f"{what}: payload digest differs from npy/expected.json")
            c.same_json(what, g["meta"], {"key": e["key"]})

    # to-npy then from-npy --meta @KEY.json: the stream's frames again.
    got = read("roundtrip.bsqt")
    if got is not None:
        if len(got) != len(ref):
            c.fail(f"roundtrip.bsqt: {len(got)} frames, expected {len(ref)}")
        for i, (g, r) in enumerate(zip(got, ref)):
            what = f"roundtrip.bsqt frame {i}"
            if g["dtype"] != r["dtype"] or g["dims"] != r["dims"] or g["payload"] != r["payload"]:
                c.fail(f"{what}: tensor differs")
            c.same_json(what, g["meta"], r["meta"])

    if c.errors:
        print(f"make_frame_fixtures.py: {len(c.errors)} mismatch(es) in {out_dir}:", file=sys.stderr)
        for e in c.errors:
            print("  " + e, file=sys.stderr)
        sys.exit(1)
    print(f"{out_dir}: the Swift tool's output agrees with numpy ({len(ref)} frames, {len(inputs)} .npy inputs)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", metavar="DIR", help="check the Swift tool's outputs in DIR instead of writing fixtures")
    args = ap.parse_args()
    if args.check:
        check_reference()
        check_swift_output(args.check)
    else:
        generate()


if __name__ == "__main__":
    main()
