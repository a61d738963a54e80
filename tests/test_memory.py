"""Resident memory helpers, measured on this process's own /proc/self/status and smaps (Linux)."""

from __future__ import annotations

import mmap
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from app.engine import memory
from app.engine.kv import KVCache

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
MB = 1 << 20


def _rss_anon_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon in /proc/self/status")


def _resident_kb(path: Path) -> int:
    """Resident kB of this process's mappings of `path` (smaps)."""
    target, total, inside = str(path.resolve()), 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
            inside = len(head) == 6 and head[5] == target
        elif inside and line.startswith("Rss:"):
            total += int(head[1])
    return total


def test_lazy_zeros_commits_only_the_pages_written():
    before = _rss_anon_mb()
    a = memory.lazy_zeros((64, 1024, 256))  # 64 MB of float32
    assert a.flags.writeable and a.shape == (64, 1024, 256) and not a[::7, ::97, ::31].any()
    assert _rss_anon_mb() - before < 8
    a[:4] = 1.0  # 4 MB written
    assert 3 < _rss_anon_mb() - before < 12
    assert a[:4].sum() == 4 * 1024 * 256


def test_a_kv_cache_for_the_whole_context_takes_memory_only_for_the_positions_used():
    before = _rss_anon_mb()
    kv = KVCache(layers=8, kv_heads=1, head_dim=256, max_context=8192)  # 8 x 2 x 8 MB spanned
    assert _rss_anon_mb() - before < 8
    for buf in kv.keys + kv.values:
        buf[:, :, :512] = 0.5  # 512 positions in every buffer: 8 x 2 x 512 KB = 8 MB
    assert _rss_anon_mb() - before < 20
    kv.check(8192)
    with pytest.raises(ValueError, match="do not fit"):
        kv.check(8193)


def test_release_gives_back_whole_pages_which_then_read_as_zeros():
    a = memory.lazy_zeros((16, 1024, 256))  # 16 MB of float32, 1 MB per row
    a[:] = 1.0
    before = _rss_anon_mb()
    freed = memory.release(a, 100, 8 * 1024 * 256 + 100)  # from inside the first page to past row 8
    assert freed == 8 * MB - mmap.PAGESIZE  # the partial pages at both ends are kept
    assert 6 < before - _rss_anon_mb() < 9
    first_released = mmap.PAGESIZE // a.itemsize
    assert a.flat[first_released - 1] == 1.0 and not a.flat[first_released:8 * 1024 * 256].any()
    assert a[8].min() == 1.0
    a[0] = 2.0  # released pages can be written again
    assert a[0].min() == 2.0


def test_a_kv_cache_releases_what_left_every_local_window_and_keeps_the_global_layers():
    kv = KVCache(layers=2, kv_heads=2, head_dim=256, max_context=4096, windows=(512, None))
    for buf in kv.keys + kv.values:
        buf[:, :, :2000] = 0.5  # a 2,000-token prompt in every buffer
    before = _rss_anon_mb()
    kv.advance(2000)  # the next token reads positions 1488.. in the local layer
    assert 5 < before - _rss_anon_mb() < 7  # 2 buffers x 2 heads x 1,488 KB (whole pages)
    local, glob = kv.keys[0], kv.keys[1]
    assert not local[:, :, :1488].any() and local[:, :, 1488:2000].min() == 0.5
    assert not kv.values[0][:, 1, :1488].any() and kv.values[0][:, 1, 1488:2000].min() == 0.5
    assert glob[:, :, :2000].min() == 0.5
    kv.advance(2030)  # under RELEASE_STEP further: nothing more to do yet
    assert local[:, :, 1488:2000].min() == 0.5
    kv.reset()
    assert kv.length == 0


def _kernel() -> tuple[int, int]:
    major, minor = os.uname().release.split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()) or 0)


@pytest.mark.skipif(sys.platform.startswith("linux") and _kernel() < (5, 4), reason="MADV_PAGEOUT needs Linux 5.4")
def test_paging_out_keeps_a_mapped_files_pages_out_while_the_body_runs(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(np.random.default_rng(0).integers(0, 255, 32 * MB, dtype=np.uint8).tobytes())
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        view = np.frombuffer(m, np.uint8)
        view[::4096].sum()  # touch every page, as ONNX Runtime's repacking does
        assert _resident_kb(path) > 30 * 1024
        with memory.paging_out(path, every_s=0.01):
            time.sleep(0.2)  # the advising thread runs beside the body
            assert _resident_kb(path) < 8 * 1024
        view[: 4 * MB : 4096].sum()  # pages come back from the page cache when read again
        assert 4 * 1024 <= _resident_kb(path) < 12 * 1024
        del view


def test_unmapping_clean_file_pages_drops_them_and_reads_give_the_same_bytes(tmp_path):
    """As ONNX Runtime maps the weights: private and writable. A mapping with a page of its own
    (written, copy-on-write) is not "clean" and is never unmapped: that would lose the write."""
    path = tmp_path / "weights.bin"
    data = np.random.default_rng(1).integers(0, 255, 16 * MB, dtype=np.uint8)
    path.write_bytes(data.tobytes())
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) as m:
        view = np.frombuffer(m, np.uint8)
        assert view[::4096].sum() == data[::4096].sum()  # every page read
        assert _resident_kb(path) > 14 * 1024
        ranges = memory.mapped_ranges(path, clean=True)
        assert ranges and memory.unmap_pages(ranges) >= 16 * MB
        assert _resident_kb(path) < 2 * 1024
        assert np.array_equal(view[: 2 * MB], data[: 2 * MB])  # read back from the file cache
        view[0] = view[0] ^ 0xFF  # a private copy of one page now
        assert memory.mapped_ranges(path, clean=True) == [] and memory.mapped_ranges(path)
        del view
