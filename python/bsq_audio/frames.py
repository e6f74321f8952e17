"""Read and write BSQT frame streams (bsqt(5), man/man5/bsqt.5) with numpy.

A stream is a concatenation of frames; each frame is one tensor with a JSON
object of metadata. Frames come and go as ``(metadata, array)`` pairs::

    from bsq_audio import frames

    for meta, mel in frames.read("a.mel"):             # a path, "-" (stdin), bytes or a binary file
        print(meta["key"], mel.shape)                   # float32 [frames, n_mels]

    for f in frames.iter_frames("corpus.codes"):        # streaming: one frame in memory at a time
        tokens = f.covered                              # codes: the rows that hold mel frames
        print(f.key, f.covered_time_patches, tokens.shape)

    frames.write("out.bsqt", [({"kind": "tensor", "key": "x"}, np.arange(6, dtype=np.float32))], zstd=True)

The reader makes every check that bsqt(5) asks of a reader (magic, version,
dtype, rank, flags, metadata size and syntax, duplicate keys, payload size,
zstd frame and bound, CRC-32, truncation) and raises :class:`FrameError`,
which names the input and the byte offset of the frame, for the first that
fails. zstd payloads need the ``zstandard`` package (``pip install
bsq-audio[zstd]``); plain ones need only numpy. Metadata keeps its key order.
"""
import io
import json
import os
import struct
import sys
import zlib

import numpy as np

__all__ = ["DTYPES", "DTYPE_NAMES", "MAX_META", "MAX_PAYLOAD", "Frame", "FrameError", "FrameWriter",
           "iter_frames", "read", "write", "encode_frame", "dtype_code"]

#: dtype code -> little-endian numpy dtype (bsqt(5), "Data types")
DTYPES = {1: "<f4", 2: "<f8", 3: "u1", 4: "<i2", 5: "<i4", 6: "<u4", 7: "<i8", 8: "<f2", 9: "<u8"}
#: dtype code -> the name bsq-tensor prints
DTYPE_NAMES = {1: "f32", 2: "f64", 3: "u8", 4: "i16", 5: "i32", 6: "u32", 7: "i64", 8: "f16", 9: "u64"}
_CODES = {np.dtype(v).str: k for k, v in DTYPES.items()}

MAGIC = b"BSQT"
VERSION = 1
MAX_RANK = 8
#: metadata longer than this (1 MiB) is an error
MAX_META = 1 << 20
#: uncompressed payload per frame above this (16 GiB) is an error, never an allocation
MAX_PAYLOAD = 16 << 30
_FLAG_ZSTD = 1


class FrameError(ValueError):
    """A stream that breaks bsqt(5): ``message``, the input's ``name`` (None for
    standard input or bytes) and the byte ``offset`` of the frame in its stream."""

    def __init__(self, message, name=None, offset=0):
        self.message, self.name, self.offset = message, name, offset
        where = f"{name}: " if name else ""
        super().__init__(f"{where}{message} at byte {offset}")


class Frame(tuple):
    """One frame, the pair ``(meta, data)``: ``for meta, x in read(...)`` unpacks it.

    ``data`` is a read-only numpy array with the frame's dtype and dims (copy it
    to write into it); ``offset`` is the frame's byte offset in its stream and
    ``zstd`` whether its payload was compressed (both None for frames not read
    from a stream)."""

    def __new__(cls, meta, data, offset=None, zstd=None):
        self = tuple.__new__(cls, (meta, data))
        self.offset, self.zstd = offset, zstd
        return self

    def __getnewargs__(self):
        return (self[0], self[1], self.offset, self.zstd)

    def __repr__(self):
        d = self[1]
        return f"Frame(key={self.key!r}, kind={self.kind!r}, dtype={d.dtype}, dims={list(d.shape)})"

    @property
    def meta(self):
        return self[0]

    @property
    def data(self):
        return self[1]

    @property
    def kind(self):
        return self.meta.get("kind")

    @property
    def key(self):
        return self.meta.get("key")

    @property
    def covered_time_patches(self):
        """For codes: the time patches (rows), from the first, that hold mel frames:
        the metadata ``covered_time_patches``, every row for codes written without it
        (bsqt(5)); None for frames of other kinds."""
        if self.kind != "codes":
            return None
        c = self.meta.get("covered_time_patches")
        rows = self.data.shape[0] if self.data.ndim else 0
        return rows if c is None else min(int(c), rows)

    @property
    def covered(self):
        """For codes: the covered rows ``data[:covered_time_patches]`` (what
        ``bsq-encode --trim`` writes); the whole array for other kinds."""
        c = self.covered_time_patches
        return self.data if c is None else self.data[:c]


# ---------------------------------------------------------------- reading

def _zstd():
    try:
        import zstandard
    except ImportError:
        raise ImportError("a zstd payload needs the zstandard package: pip install zstandard "
                          "(or bsq-audio[zstd])") from None
    return zstandard


def _compress_bound(n):
    """ZSTD_COMPRESSBOUND(n)."""
    return n + (n >> 8) + (((128 << 10) - n) >> 11 if n < (128 << 10) else 0)


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"key '{k}' appears twice in one object")
        out[k] = v
    return out


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def parse_meta(raw):
    """The metadata bytes as a dict, key order kept; ValueError when they are not one UTF-8
    JSON object without repeated keys."""
    text = bytes(raw).decode("utf-8")
    meta = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    if not isinstance(meta, dict):
        raise ValueError(f"metadata is a JSON {type(meta).__name__}, not an object")
    return meta


class _Source:
    """Exact reads from a file object, counting the bytes consumed."""

    def __init__(self, f, name):
        self.f, self.name, self.pos = f, name, 0
        self._readinto = getattr(f, "readinto", None)

    def read(self, n, offset, what, eof_ok=False):
        """n bytes; FrameError naming `what` when the stream ends first, but b'' when
        `eof_ok` and the stream ends right here (between frames)."""
        if n == 0:
            return b""
        buf = bytearray(n)
        view, got = memoryview(buf), 0
        while got < n:
            if self._readinto is not None:
                k = self._readinto(view[got:])
            else:
                chunk = self.f.read(n - got)
                k = len(chunk) if chunk else 0
                view[got:got + k] = chunk if chunk else b""
            if not k:
                break
            got += k
        self.pos += got
        if got < n:
            if got == 0 and eof_ok:
                return b""
            raise FrameError(f"stream ends inside a frame ({what}: {got} of {n} bytes)", self.name, offset)
        return buf


def _open_source(source):
    """(file object, name, close?) for a path, '-', a bytes-like object or a binary file."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source)), None, True
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if path == "-":
            return sys.stdin.buffer, None, False
        return open(path, "rb"), path, True
    if hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            source = source.buffer
        return source, getattr(source, "name", None) if isinstance(getattr(source, "name", None), str) else None, False
    raise TypeError(f"cannot read frames from {type(source).__name__}: give a path, '-', bytes or a binary file")


def iter_frames(source, name=None):
    """Yield every frame of a stream as a :class:`Frame` ``(meta, data)``, one at a time.

    ``source`` is a path, ``"-"`` for standard input, a bytes-like object or a
    binary file object (a pipe is fine: the stream is read frame by frame).
    ``name`` overrides the name that errors give the input (the path by default)."""
    f, default_name, close = _open_source(source)
    src = _Source(f, name if name is not None else default_name)
    try:
        while True:
            off = src.pos
            head = src.read(12, off, "header", eof_ok=True)
            if not head:
                return
            yield _read_frame(src, off, bytes(head))
    finally:
        if close:
            f.close()


def _read_frame(src, off, head):
    name = src.name

    def fail(msg):
        raise FrameError(msg, name, off)

    if head[:4] != MAGIC:
        fail(f"bad magic {head[:4]!r} (expected b'BSQT')")
    version, code, rank, flags = head[4], head[5], head[6], head[7]
    if version != VERSION:
        fail(f"unknown version {version} (expected {VERSION})")
    if code not in DTYPES:
        fail(f"unknown dtype code {code}")
    if rank > MAX_RANK:
        fail(f"rank {rank} is more than {MAX_RANK}")
    if flags & ~_FLAG_ZSTD:
        fail(f"unknown flag bits 0x{flags & ~_FLAG_ZSTD:02x}")
    (mlen,) = struct.unpack_from("<I", head, 8)
    if mlen > MAX_META:
        fail(f"metadata of {mlen} bytes is more than {MAX_META}")
    dims_raw = src.read(8 * rank, off, "dims")
    dims = struct.unpack(f"<{rank}Q", dims_raw) if rank else ()
    dtype = np.dtype(DTYPES[code])
    count = 1
    for d in dims:
        count *= d
    nbytes = count * dtype.itemsize
    if nbytes > MAX_PAYLOAD:
        fail(f"dims {list(dims)} make {nbytes} bytes of payload, more than the {MAX_PAYLOAD} allowed")
    meta_raw = src.read(mlen, off, "metadata")
    try:
        meta = parse_meta(meta_raw)
    except (UnicodeDecodeError, ValueError) as e:
        fail(f"bad metadata: {e}")
    (plen,) = struct.unpack("<Q", src.read(8, off, "payload length"))
    zstd = bool(flags & _FLAG_ZSTD)
    if not zstd and plen != nbytes:
        fail(f"payload of {plen} bytes, dims {list(dims)} of {DTYPE_NAMES[code]} need {nbytes}")
    if zstd and (plen == 0 or plen > _compress_bound(nbytes)):
        fail(f"zstd payload of {plen} bytes for {nbytes} bytes of content (zstd's bound is {_compress_bound(nbytes)})")
    payload = src.read(plen, off, "payload")
    (stored,) = struct.unpack("<I", src.read(4, off, "CRC-32"))
    crc = zlib.crc32(head)
    crc = zlib.crc32(dims_raw, crc)
    crc = zlib.crc32(meta_raw, crc)
    crc = zlib.crc32(struct.pack("<Q", plen), crc)
    crc = zlib.crc32(payload, crc) & 0xFFFFFFFF
    if stored != crc:
        fail(f"CRC mismatch (stored 0x{stored:08x}, computed 0x{crc:08x})")
    if zstd:
        payload = _decompress(payload, nbytes, fail)
    data = np.frombuffer(payload, dtype=dtype).reshape(dims)
    data.flags.writeable = False
    return Frame(meta, data, off, zstd)


def _decompress(payload, nbytes, fail):
    zstandard = _zstd()
    payload = bytes(payload)
    try:
        recorded = zstandard.frame_content_size(payload)
    except zstandard.ZstdError as e:
        fail(f"zstd payload is not a zstd frame ({e})")
    if recorded >= 0 and recorded != nbytes:
        fail(f"zstd payload records {recorded} bytes of content, dims need {nbytes}")
    d = zstandard.ZstdDecompressor()
    try:
        # at most nbytes of output, exactly one frame (nothing after it); the content
        # checksum, when the frame records one, is checked by zstd
        out = d.decompress(payload, max_output_size=max(nbytes, 1), allow_extra_data=False)
    except TypeError:                                   # zstandard < 0.20
        o = d.decompressobj()
        try:
            out = o.decompress(payload)
        except zstandard.ZstdError as e:
            fail(f"zstd payload does not decompress ({e})")
        if not o.eof or o.unused_data:
            fail("zstd payload is not exactly one zstd frame")
    except zstandard.ZstdError as e:
        fail(f"zstd payload does not decompress to {nbytes} bytes in one zstd frame ({e})")
    if len(out) != nbytes:
        fail(f"zstd payload decompresses to {len(out)} bytes, dims need {nbytes}")
    return out


def read(source, name=None):
    """Every frame of a stream, as a list of :class:`Frame` ``(meta, data)``."""
    return list(iter_frames(source, name=name))


# ---------------------------------------------------------------- writing

def dtype_code(dtype):
    """The BSQT dtype code of a numpy dtype (either byte order); ValueError when it has none."""
    dt = np.dtype(dtype)
    if dt.byteorder == ">":
        dt = dt.newbyteorder("<")
    code = _CODES.get(dt.str)
    if code is None:
        raise ValueError(f"dtype {np.dtype(dtype)} has no BSQT code (f32 f64 u8 i16 i32 u32 i64 f16 u64)")
    return code


def encode_frame(meta, data, zstd=False, level=3):
    """One frame's bytes: ``data`` (any array of a BSQT dtype, rank <= 8) with its metadata
    (a dict, written in its key order). With ``zstd`` the payload is one zstd frame that
    records its content size and checksum, as the tools write it."""
    data = np.asarray(data)
    code = dtype_code(data.dtype)
    if data.ndim > MAX_RANK:
        raise ValueError(f"rank {data.ndim} is more than {MAX_RANK}")
    meta = {} if meta is None else meta
    if not isinstance(meta, dict):
        raise TypeError(f"metadata must be a dict, got {type(meta).__name__}")
    mbytes = json.dumps(meta, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    if len(mbytes) > MAX_META:
        raise ValueError(f"metadata of {len(mbytes)} bytes is more than {MAX_META}")
    payload = np.ascontiguousarray(data, dtype=np.dtype(DTYPES[code])).tobytes()
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"payload of {len(payload)} bytes is more than {MAX_PAYLOAD}")
    if zstd:
        z = _zstd()
        payload = z.ZstdCompressor(level=level, write_checksum=True, write_content_size=True).compress(payload)
    head = MAGIC + bytes([VERSION, code, data.ndim, _FLAG_ZSTD if zstd else 0]) + struct.pack("<I", len(mbytes))
    body = b"".join([head, struct.pack(f"<{data.ndim}Q", *data.shape), mbytes, struct.pack("<Q", len(payload)), payload])
    return body + struct.pack("<I", zlib.crc32(body) & 0xFFFFFFFF)


class FrameWriter:
    """Writes frames to a path, ``"-"`` (standard output) or a binary file object::

        with FrameWriter("out.codes", zstd=True) as w:
            w.write({"kind": "codes", "key": "a", "frames": 300}, codes)
    """

    def __init__(self, dest, zstd=False, level=3):
        self.zstd, self.level, self.count = zstd, level, 0
        if isinstance(dest, (str, os.PathLike)):
            path = os.fspath(dest)
            self.f, self._close = (sys.stdout.buffer, False) if path == "-" else (open(path, "wb"), True)
        elif hasattr(dest, "write"):
            self.f, self._close = (dest.buffer if isinstance(dest, io.TextIOBase) else dest), False
        else:
            raise TypeError(f"cannot write frames to {type(dest).__name__}: give a path, '-' or a binary file")

    def write(self, meta, data):
        self.f.write(encode_frame(meta, data, zstd=self.zstd, level=self.level))
        self.count += 1

    def close(self):
        if self._close:
            self.f.close()
        else:
            self.f.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def write(dest, frames, zstd=False, level=3):
    """Write ``(meta, data)`` pairs (or :class:`Frame` s) as one stream; returns how many."""
    with FrameWriter(dest, zstd=zstd, level=level) as w:
        for item in frames:
            meta, data = item[0], item[1]
            w.write(meta, data)
        return w.count
