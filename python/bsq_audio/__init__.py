"""bsq-audio from Python: the kit's BSQT streams, its tokenizer in PyTorch, its tools.

- :mod:`bsq_audio.frames`: read and write BSQT frame streams as ``(metadata, numpy array)``
  pairs (numpy; ``zstandard`` for zstd payloads).
- :mod:`bsq_audio.model`: a kit checkpoint as a PyTorch module with ``encode(mel) → codes``,
  ``decode(codes) → mel`` and ``codes_to_bits``, equal to ``bsq-encode`` and ``bsq-decode``
  (needs torch; imported on first use).
- :func:`bsq_audio.run`: numpy through the installed command-line tools
  (``run.mel``, ``run.encode``, ``run.decode``, ``run.mel2wav``, or ``run(tool, *args, frames=...)``).
"""
from . import frames
from .frames import Frame, FrameError
from .tools import ToolError, run

__version__ = "0.2.0"
__all__ = ["frames", "model", "run", "Frame", "FrameError", "ToolError", "__version__"]


def __getattr__(name):
    if name == "model":                                  # torch is optional: import it only when asked
        import importlib
        return importlib.import_module(".model", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
