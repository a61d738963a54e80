"""Keep the app's resident memory near what it uses (Linux; portable fallbacks elsewhere).

Three things would otherwise count against the app:

- glibc keeps freed heap memory for reuse: parsing the 33 MB tokenizer.json leaves
  ~250 MB of it, a long prompt's scratch tensors tens of MB (`trim_heap`).
- ONNX Runtime memory-maps the weights file and, for the layers it repacks at load
  time, keeps its own copy; the mapped pages it read while repacking stay resident
  (`page_out`). They are clean file pages: if touched again they come back from the
  page cache, so advising them out is always safe. Advised out only at the end, they
  raised the load peak by 60-110 MB (two measurements), so `paging_out` advises them
  while the load runs.
- Buffers sized for the longest context (the KV cache) would be resident from the start
  if allocated with numpy; `lazy_zeros` maps them so only the positions written count.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

MADV_PAGEOUT = 21  # Linux >= 5.4: reclaim these pages now


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:  # musl or another libc: nothing to do
        return None


def trim_heap() -> None:
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def page_out(path: Path) -> int:
    """Advise the kernel to drop this process's resident pages of `path`'s mappings; bytes advised."""
    libc = _libc()
    if libc is None:
        return 0
    target = str(Path(path).resolve())
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return 0
    advised = 0
    for line in maps:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == target:
            start, end = (int(x, 16) for x in fields[0].split("-"))
            if libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), MADV_PAGEOUT) == 0:
                advised += end - start
    return advised


@contextmanager
def paging_out(path: Path, every_s: float = 0.01) -> Iterator[None]:
    """While the body runs, keep advising `path`'s mapped pages out, from a thread.

    ONNX Runtime releases the GIL while it opens a session, so the thread runs beside the
    repacking and the pages it has read stop counting against the load peak.
    """
    if _libc() is None:
        yield
        return
    done = threading.Event()

    def advise() -> None:
        while not done.wait(every_s):
            page_out(path)

    thread = threading.Thread(target=advise, name="page-out", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        page_out(path)


def lazy_zeros(shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
    """A zero-filled, writable array in an anonymous mapping: a page is committed when first written."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    # Private, not mmap's default shared mapping: the pages are this process's own.
    flags = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_ANONYMOUS") else {}
    return np.frombuffer(mmap.mmap(-1, nbytes, **flags), dtype).reshape(shape)
