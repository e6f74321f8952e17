"""Read and write BSQT frames (bsqt(5): man/man5/bsqt.5) with numpy.

Used by the fixture scripts in this folder; the Swift tools never need it.
"""
import json
import struct
import zlib

import numpy as np

DTYPES = {1: "<f4", 2: "<f8", 3: "u1", 4: "<i2", 5: "<i4", 6: "<u4", 7: "<i8", 8: "<f2", 9: "<u8"}
CODES = {np.dtype(v).str: k for k, v in DTYPES.items()}


def dtype_code(arr):
    dt = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
    code = CODES.get(np.dtype(dt).str)
    if code is None:
        raise ValueError(f"dtype {arr.dtype} has no BSQT code")
    return code


def encode(arr, meta=None, zstd=False):
    """One frame's bytes for `arr` (any shape, rank <= 8) and its metadata dict."""
    arr = np.asarray(arr)
    code = dtype_code(arr)
    payload = np.ascontiguousarray(arr, dtype=DTYPES[code]).tobytes()
    if zstd:
        import zstandard
        payload = zstandard.ZstdCompressor().compress(payload)
    mbytes = json.dumps({} if meta is None else meta, separators=(",", ":")).encode()
    head = b"BSQT" + bytes([1, code, arr.ndim, 1 if zstd else 0]) + struct.pack("<I", len(mbytes))
    head += struct.pack(f"<{arr.ndim}Q", *arr.shape) + mbytes + struct.pack("<Q", len(payload))
    body = head + payload
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


def frames(buf):
    """Yield (meta, array) for every frame of a byte string."""
    off = 0
    while off < len(buf):
        assert buf[off:off + 4] == b"BSQT" and buf[off + 4] == 1, f"bad magic at {off}"
        dt, rank, flags = buf[off + 5], buf[off + 6], buf[off + 7]
        (mlen,) = struct.unpack_from("<I", buf, off + 8)
        dims = struct.unpack_from(f"<{rank}Q", buf, off + 12)
        p = off + 12 + 8 * rank
        meta = json.loads(buf[p:p + mlen])
        p += mlen
        (plen,) = struct.unpack_from("<Q", buf, p)
        p += 8
        payload = buf[p:p + plen]
        p += plen
        assert struct.unpack_from("<I", buf, p)[0] == zlib.crc32(buf[off:p]) & 0xFFFFFFFF, f"crc at {off}"
        if flags & 1:
            import zstandard
            payload = zstandard.ZstdDecompressor().decompressobj().decompress(payload)
        yield meta, np.frombuffer(payload, DTYPES[dt]).reshape(dims)
        off = p + 4


def read(path):
    with open(path, "rb") as f:
        return list(frames(f.read()))


def write(path, items, zstd=False):
    """Write [(array, meta), ...] as one stream."""
    with open(path, "wb") as f:
        for arr, meta in items:
            f.write(encode(arr, meta, zstd=zstd))
