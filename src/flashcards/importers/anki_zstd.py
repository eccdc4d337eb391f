"""Streaming zstd decompression with a cap on the bytes produced (zip-bomb guard).

Anki writes zstd frames without a content size, so they must be decompressed as a stream. We use
the ``zstandard`` package where it is installed (desktop) and the standard library's
``compression.zstd`` on Python 3.14+ (the phone's Python; ``backports.zstd`` is the same module for
older ones, used by the tests); with neither, callers get
:class:`ZstdUnavailable` and say which package layout needs a desktop import.
"""

from __future__ import annotations

import io
from typing import BinaryIO

CHUNK = 1 << 20


class ZstdUnavailable(RuntimeError):
    """No zstd decompressor can be imported here."""


class LimitExceeded(ValueError):
    """Decompressing/extracting produced more bytes than allowed."""


class CorruptData(ValueError):
    """The compressed stream is damaged."""


def _open_zstandard(fileobj: BinaryIO):
    import zstandard  # noqa: PLC0415 - optional: only where installed

    # read_across_frames: a writer may split its output into several frames.
    return zstandard.ZstdDecompressor().stream_reader(fileobj, read_across_frames=True), zstandard.ZstdError


def _open_stdlib(fileobj: BinaryIO):
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found]  # the same module for older Pythons

    return zstd.ZstdFile(fileobj, mode="rb"), zstd.ZstdError


def available() -> bool:
    """Whether a zstd decompressor can be used here."""
    for opener in (_open_zstandard, _open_stdlib):
        try:
            opener(io.BytesIO(b""))
        except ImportError:
            continue
        return True
    return False


def _reader(fileobj: BinaryIO):
    for opener in (_open_zstandard, _open_stdlib):
        try:
            return opener(fileobj)
        except ImportError:
            continue
    raise ZstdUnavailable("no zstd decompressor: install the 'zstandard' package or use Python 3.14+")


def copy_decompressed(src: BinaryIO, dst: BinaryIO, limit: int) -> int:
    """Decompress the zstd stream ``src`` into ``dst``; returns the bytes written.

    Raises :class:`LimitExceeded` as soon as the output would pass ``limit`` bytes (counted as we
    go, since the frames declare no size), :class:`CorruptData` for a damaged stream.
    """
    reader, zstd_error = _reader(src)
    total = 0
    try:
        while True:
            # Never ask for more than one byte past the limit, so a bomb costs at most `limit` bytes.
            chunk = reader.read(min(CHUNK, limit - total + 1))
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise LimitExceeded(f"more than {limit} bytes")
            dst.write(chunk)
    except (zstd_error, EOFError) as e:
        raise CorruptData(str(e) or "truncated zstd stream") from e
    return total


def copy_limited(src: BinaryIO, dst: BinaryIO, limit: int) -> int:
    """Copy ``src`` into ``dst`` without decompressing, refusing more than ``limit`` bytes."""
    total = 0
    while True:
        chunk = src.read(min(CHUNK, limit - total + 1))
        if not chunk:
            return total
        total += len(chunk)
        if total > limit:
            raise LimitExceeded(f"more than {limit} bytes")
        dst.write(chunk)


def decompress_bytes(data: bytes, limit: int) -> bytes:
    """Decompress a small zstd blob held in memory (e.g. the media map), with the same cap."""
    out = io.BytesIO()
    copy_decompressed(io.BytesIO(data), out, limit)
    return out.getvalue()
