"""numpy in, the kit's command-line tools, numpy out: ``bsq_audio.run``.

A thin convenience over subprocess and :mod:`bsq_audio.frames`; the tools are
found in ``$BSQ_BIN_DIR`` when it is set, else on PATH::

    from bsq_audio import run

    mel = run.mel(audio, 16000)                       # float32 [T, 128], dB (audio [samples] or [samples, channels])
    codes = run.encode(mel)                           # uint32 [time_patches, 8], the default model
    rec = run.decode(codes, frames=len(mel))          # float32 [T, 128], dB
    wav, sr = run.mel2wav(rec)                        # float32 [samples], its sample rate
    out = run("bsq-tensor", "cat", "--zstd", frames=[(meta, x)])   # any tool: frames in, frames out

Each function takes extra command-line arguments (``run.encode(mel, "--batch", "8")``)
and ``with_meta=True`` to get the output frame's ``(meta, array)`` instead of the array.
A tool that fails raises :class:`ToolError` with its standard error.
"""
import io
import os
import shutil
import struct
import subprocess

import numpy as np

from . import frames as _frames

__all__ = ["run", "tool_path", "ToolError", "mel", "encode", "decode", "mel2wav", "wav_bytes", "read_wav"]


class ToolError(RuntimeError):
    """A tool that exited non-zero: ``cmd``, ``returncode`` and ``stderr`` (text)."""

    def __init__(self, cmd, returncode, stderr):
        self.cmd, self.returncode, self.stderr = cmd, returncode, stderr
        super().__init__(f"{os.path.basename(cmd[0])} exited with status {returncode}: {stderr.strip()}")


def tool_path(tool):
    """The executable of a tool: ``$BSQ_BIN_DIR/tool`` when BSQ_BIN_DIR is set, else on PATH."""
    d = os.environ.get("BSQ_BIN_DIR")
    if d:
        p = os.path.join(d, tool)
        if not (os.path.isfile(p) and os.access(p, os.X_OK)):
            raise FileNotFoundError(f"{tool}: not in BSQ_BIN_DIR ({d})")
        return p
    p = shutil.which(tool)
    if p is None:
        raise FileNotFoundError(f"{tool}: not on PATH (install the kit with make install, or set BSQ_BIN_DIR)")
    return p


def run(tool, *args, frames=None, input=None, parse=True, timeout=None):
    """Run a tool with ``args``; standard input is ``frames`` (``(meta, array)`` pairs, written
    as a BSQT stream) or ``input`` (bytes), else nothing. Returns the frames it writes on
    standard output (a list of :class:`bsq_audio.frames.Frame`), or its bytes with
    ``parse=False``."""
    if frames is not None and input is not None:
        raise ValueError("give frames or input, not both")
    if frames is not None:
        buf = io.BytesIO()
        _frames.write(buf, frames)
        input = buf.getvalue()
    cmd = [tool_path(tool)] + [os.fspath(a) if isinstance(a, os.PathLike) else str(a) for a in args]
    p = subprocess.run(cmd, input=input if input is not None else b"", stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise ToolError(cmd, p.returncode, p.stderr.decode("utf-8", "replace"))
    return _frames.read(p.stdout, name=f"{tool}'s output") if parse else p.stdout


def _one(out, tool, with_meta):
    if len(out) != 1:
        raise RuntimeError(f"{tool} wrote {len(out)} frames, expected one")
    return out[0] if with_meta else out[0].data


def _frame(x, kind):
    """(meta, array) of an array or a frame; an array gets {"kind": kind}."""
    if isinstance(x, tuple) and len(x) >= 2 and isinstance(x[0], dict):
        return dict(x[0]), x[1]
    return {"kind": kind}, x


# ---------------------------------------------------------------- WAV in and out

def wav_bytes(audio, sr):
    """A 32-bit float WAV file of ``audio`` ([samples] or [samples, channels]) at ``sr`` Hz."""
    a = np.asarray(audio, dtype="<f4")
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != 2 or a.shape[1] < 1:
        raise ValueError(f"audio must be [samples] or [samples, channels], got {list(np.shape(audio))}")
    ch, data = a.shape[1], np.ascontiguousarray(a).tobytes()
    fmt = struct.pack("<HHIIHH", 3, ch, int(sr), int(sr) * 4 * ch, 4 * ch, 32)
    fact = b"fact" + struct.pack("<II", 4, a.shape[0])
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + fact + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def read_wav(data):
    """(float32 audio [samples] or [samples, channels], sample rate) of WAV bytes: PCM 8/16/24/32
    bits or 32/64-bit float, WAVE_FORMAT_EXTENSIBLE too; a streamed file's unknown sizes are read
    to the end."""
    data = bytes(data)
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = pos + 8
        if cid == b"fmt ":
            tag, ch, sr, _, _, bits = struct.unpack_from("<HHIIHH", data, body)
            if tag == 0xFFFE and size >= 26:
                tag = struct.unpack_from("<H", data, body + 24)[0]
            fmt = (tag, ch, sr, bits)
        elif cid == b"data":
            if fmt is None:
                raise ValueError("WAV data before its fmt chunk")
            tag, ch, sr, bits = fmt
            raw = data[body:body + size] if size != 0xFFFFFFFF else data[body:]
            if tag == 3 and bits in (32, 64):
                x = np.frombuffer(raw[:len(raw) // (bits // 8) * (bits // 8)], "<f4" if bits == 32 else "<f8").astype(np.float32)
            elif tag == 1 and bits == 8:
                x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128) / 128
            elif tag == 1 and bits in (16, 32):
                dt = "<i2" if bits == 16 else "<i4"
                x = np.frombuffer(raw[:len(raw) // (bits // 8) * (bits // 8)], dt).astype(np.float32) / float(1 << (bits - 1))
            elif tag == 1 and bits == 24:
                b = np.frombuffer(raw[:len(raw) // 3 * 3], np.uint8).reshape(-1, 3).astype(np.int32)
                v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
                x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
            else:
                raise ValueError(f"WAV format {tag} with {bits} bits is not read here")
            x = x[:len(x) // ch * ch].reshape(-1, ch)
            return (x[:, 0] if ch == 1 else x), sr
        pos = body + size + (size & 1)
    raise ValueError("WAV file without a data chunk")


# ---------------------------------------------------------------- the tools

def mel(audio, sr, *args, with_meta=False):
    """``mel`` of audio ([samples] or [samples, channels], any rate, averaged to mono and
    resampled by the tool): float32 [T, n_mels] in dB. ``args`` are mel's options
    (``"--n-mels", 80``...)."""
    return _one(run("mel", "-q", *args, "-", input=wav_bytes(audio, sr)), "mel", with_meta)


def encode(mel, *args, model=None, trim=False, with_meta=False):
    """``bsq-encode`` of mel in dB [T, n_mels] (an array, or a ``(meta, array)`` frame whose
    metadata passes through): the codes, uint32 [time_patches, freq_patches] (uint64 above
    32 bits). ``model`` a checkpoint path (the default model when None); ``trim`` for --trim."""
    opts = (["-m", os.fspath(model)] if model is not None else []) + (["--trim"] if trim else [])
    meta, x = _frame(mel, "mel")
    x = np.asarray(x, dtype=np.float32)
    return _one(run("bsq-encode", "-q", *opts, *args, frames=[(meta, x)]), "bsq-encode", with_meta)


def decode(codes, *args, model=None, frames=None, force=False, with_meta=False):
    """``bsq-decode`` of codes [time_patches, freq_patches] (an array, or a codes frame from
    :func:`encode` with ``with_meta=True``): float32 [T, n_mels] in dB. ``frames`` is T (the
    codes' metadata ``frames``; without either, every row's frames); ``force`` for --force."""
    opts = (["-m", os.fspath(model)] if model is not None else []) + (["--force"] if force else [])
    meta, x = _frame(codes, "codes")
    x = np.asarray(x)
    if x.dtype != np.uint64:
        x = x.astype(np.uint32)
    if frames is not None:
        meta["frames"] = int(frames)
    return _one(run("bsq-decode", "-q", *opts, *args, frames=[(meta, x)]), "bsq-decode", with_meta)


def mel2wav(mel, *args):
    """``mel2wav`` of mel in dB [T, n_mels] (an array, or a frame whose metadata says its
    analysis; frames that bsq-decode made go to the neural vocoder): (float32 audio
    [samples] or [samples, channels], sample rate)."""
    meta, x = _frame(mel, "mel")
    out = run("mel2wav", "-q", "--format", "wav-float", *args, "-", frames=[(meta, np.asarray(x, dtype=np.float32))],
              parse=False)
    return read_wav(out)


run.mel, run.encode, run.decode, run.mel2wav = mel, encode, decode, mel2wav
run.tool_path, run.ToolError, run.read_wav, run.wav_bytes = tool_path, ToolError, read_wav, wav_bytes
