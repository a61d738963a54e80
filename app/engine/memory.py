"""Keep the app's resident memory near what it uses (Linux; portable fallbacks elsewhere).

Three things would otherwise count against the app:

- glibc keeps freed heap memory for reuse: a long prompt's scratch tensors leave tens
  of MB of it, building llguidance's view of the vocabulary ~20 MB (`trim_heap`).
- ONNX Runtime memory-maps the weights file and, for the layers it repacks at load
  time, keeps its own copy; the mapped pages it read while repacking stay resident
  (`page_out`). They are clean file pages: if touched again they come back from the
  page cache, so advising them out is always safe. Advised out only at the end, they
  raised the load peak by 60-110 MB (two measurements), so `paging_out` advises them
  while the load runs. Later, each prompt token reads its embedding row from the
  mapping, and the kernel maps 64 KB around each row read: ~16 MB for a 2,000-token
  prompt, unmapped after each prefill chunk (`unmap_pages`).
- Buffers sized for the longest context (the KV cache) would be resident from the start
  if allocated with numpy; `lazy_zeros` maps them so only the positions written count,
  and `release` gives back the pages of positions no layer will read again.
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

MADV_DONTNEED = 4  # anonymous pages: freed now, read back as zeros
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


def mapped_ranges(path: Path, *, clean: bool = False) -> list[tuple[int, int]]:
    """This process's mappings of `path` as (start, end) addresses; [] off Linux.

    `clean`: only mappings holding no page of their own (smaps' "Anonymous: 0 kB"), which
    are the file's bytes as on disk. ONNX Runtime maps the weights writable and private.
    """
    target = str(Path(path).resolve())
    try:
        lines = Path("/proc/self/smaps" if clean else "/proc/self/maps").read_text().splitlines()
    except OSError:
        return []
    ranges: list[tuple[int, int]] = []
    inside = False
    for line in lines:
        fields = line.split(maxsplit=5)
        if fields and "-" in fields[0] and not fields[0].endswith(":"):  # a mapping's first line
            inside = len(fields) == 6 and fields[5] == target
            if inside:
                ranges.append(tuple(int(x, 16) for x in fields[0].split("-")))  # type: ignore[arg-type]
        elif inside and fields[0] == "Anonymous:" and fields[1] != "0":
            ranges.pop()
            inside = False
    return ranges


def _advise(ranges: list[tuple[int, int]], advice: int) -> int:
    libc = _libc()
    if libc is None:
        return 0
    done = 0
    for start, end in ranges:
        if libc.madvise(ctypes.c_void_p(start), ctypes.c_size_t(end - start), advice) == 0:
            done += end - start
    return done


def page_out(path: Path) -> int:
    """Advise the kernel to drop this process's resident pages of `path`'s mappings; bytes advised."""
    return _advise(mapped_ranges(path), MADV_PAGEOUT)


def unmap_pages(ranges: list[tuple[int, int]]) -> int:
    """Stop counting the pages of file mappings (`mapped_ranges(path, clean=True)`) against
    this process; they stay in the kernel's file cache, so reading them again is a
    minor fault, not a disk read. Bytes advised."""
    return _advise(ranges, MADV_DONTNEED)


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


def release(array: np.ndarray, start: int, stop: int) -> int:
    """Give back the whole pages of `array.flat[start:stop]`, an array made by `lazy_zeros`.

    They read as zeros afterwards and take memory again only when written. Partial pages
    at either end are kept. Returns the bytes released (0 where madvise is unavailable).
    """
    libc = _libc()
    if libc is None or not array.flags.c_contiguous:
        return 0
    page = mmap.PAGESIZE
    lo = array.ctypes.data + start * array.itemsize
    hi = array.ctypes.data + stop * array.itemsize
    lo, hi = -(-lo // page) * page, hi // page * page
    if hi <= lo or libc.madvise(ctypes.c_void_p(lo), ctypes.c_size_t(hi - lo), MADV_DONTNEED) != 0:
        return 0
    return hi - lo
