"""Give memory back to the OS after loading and after long prompts (Linux; no-ops elsewhere).

Two leftovers would otherwise count against the app for as long as it runs:

- glibc keeps freed heap memory for reuse: parsing the 33 MB tokenizer.json leaves
  ~250 MB of it, a long prompt's scratch tensors tens of MB (`trim_heap`).
- ONNX Runtime memory-maps the weights file and, for the layers it repacks at load
  time, keeps its own copy; the mapped pages it read while repacking stay resident
  (`page_out`). They are clean file pages: if touched again they come back from the
  page cache, so advising them out is always safe.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

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
