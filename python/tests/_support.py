"""What the tests share: the repository, the tools, fixtures, scratch folders."""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import zlib

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(REPO, "Tests", "Fixtures")
MODELS = os.path.join(FIXTURES, "model")
AUDIO = os.path.join(FIXTURES, "mel")
DEFAULT_MODEL = os.path.join(REPO, "Sources", "BSQAudio", "Resources", "bsq-audio-tiny18.safetensors")

# the package from this tree even when it is not installed (python -m unittest from the repository)
sys.path.insert(0, os.path.join(REPO, "python"))


def bin_dir():
    """The tools under test: $BSQ_BIN_DIR (make python-test sets it), else the release build."""
    d = os.environ.get("BSQ_BIN_DIR") or os.path.join(REPO, ".build", "release")
    if not os.path.isfile(os.path.join(d, "bsq-encode")):
        raise RuntimeError(f"the kit's tools are not built in {d}: run make build, or set BSQ_BIN_DIR")
    os.environ.setdefault("BSQ_BIN_DIR", d)
    return d


def tool(name, *args, stdin=None, check=True):
    """Run a tool; (stdout bytes, stderr text, exit status)."""
    cmd = [os.path.join(bin_dir(), name)] + [str(a) for a in args]
    p = subprocess.run(cmd, input=stdin if stdin is not None else b"", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p.stdout, p.stderr.decode(errors="replace"), p.returncode


def have_torch():
    try:
        import torch  # noqa: F401
        return True
    except ImportError:
        return False


def have_zstd():
    try:
        import zstandard  # noqa: F401
        return True
    except ImportError:
        return False


needs_torch = unittest.skipUnless(have_torch(), "torch cannot be imported (the model tests need it; "
                                                "make python-test's venv uses a system torch when there is one)")


class Scratch:
    """A temporary folder for a test class."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bsq-audio-py-")

    def path(self, name):
        return os.path.join(self.dir, name)

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def raw_frame(code=1, dims=(2,), meta=b"{}", payload=None, flags=0, version=1, magic=b"BSQT", crc=None, plen=None):
    """A frame's bytes built field by field (to break one field at a time)."""
    if payload is None:
        payload = bytes(int(np.prod(dims, dtype=np.int64)) * 4)
    head = magic + bytes([version, code, len(dims), flags]) + struct.pack("<I", len(meta))
    body = head + struct.pack(f"<{len(dims)}Q", *dims) + meta + struct.pack("<Q", len(payload) if plen is None else plen) + payload
    return body + struct.pack("<I", (zlib.crc32(body) & 0xFFFFFFFF) if crc is None else crc)


def write_safetensors(path, tensors, metadata, dtype="F32"):
    """A safetensors file of float32 arrays stored as F32, F16 or BF16 (nearest even)."""
    header, blobs, off = {"__metadata__": metadata}, [], 0
    for k, a in tensors.items():
        a = np.ascontiguousarray(a, dtype=np.float32)
        if dtype == "F32":
            b = a.astype("<f4").tobytes()
        elif dtype == "F16":
            b = a.astype("<f2").tobytes()
        elif dtype == "BF16":
            u = a.view(np.uint32).astype(np.uint64)
            b = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2").tobytes()
        else:
            b = a.tobytes()
        header[k] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-(8 + len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
