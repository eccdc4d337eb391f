"""Open an Anki package (a zip) safely: pick the collection, extract it and the media, with caps.

Layouts:

* ``collection.anki2`` alone, no ``meta`` (Anki 2.0 / early 2.1): SQLite schema 11, JSON media map.
* ``collection.anki21`` (``meta`` version 2, or no ``meta`` in 2.1.x packages): the same, and a
  ``collection.anki2`` next to it that older Anki versions read.
* ``collection.anki21b`` (``meta`` version 3, Anki 2.1.50+): zstd-compressed SQLite in schema 18,
  the ``media`` map a zstd-compressed protobuf ``MediaEntries`` (entry: 1 name, 2 size, 3 sha1,
  255 legacy zip member name), each media member zstd-compressed. Anki 23.10+ also writes a dummy
  ``collection.anki2`` holding one "please update" note; it is never read when a newer one exists.

Every byte extracted is counted against one limit, whether the member is zstd-compressed, deflated
or stored (a zip's declared sizes can lie), so a zip bomb stops at the limit.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import BinaryIO

from flashcards.importers import anki_zstd
from flashcards.importers.anki_protobuf import Message, ProtobufError

NEWEST_FIRST = ("collection.anki21b", "collection.anki21", "collection.anki2")
META_VERSIONS = {1: "collection.anki2", 2: "collection.anki21", 3: "collection.anki21b"}
MAX_MEDIA_MAP_BYTES = 64 << 20


class PackageError(ValueError):
    """The package is malformed or hostile; the message says how (one line, for the user)."""


@dataclass
class MediaEntry:
    """One media file of the package: the zip member holding it and its name in the collection."""

    member: str
    name: str
    size: int | None = None
    sha1: bytes | None = None


class Budget:
    """The bytes extraction may still write (shared by every member of one package)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.used = 0

    @property
    def left(self) -> int:
        """Bytes that may still be written."""
        return self.limit - self.used


def member_escapes(name: str) -> bool:
    """Whether a zip member name would land outside the directory it is extracted to."""
    if not name or "\x00" in name:
        return True
    for pure in (PurePosixPath(name), PureWindowsPath(name)):
        if pure.is_absolute() or pure.drive or pure.root or ".." in pure.parts:
            return True
    return False


class Package:
    """An opened package. Use as a context manager; all reads are bounded by ``budget``."""

    def __init__(self, path: Path, budget: Budget):
        self.path = path
        self.budget = budget
        try:
            self.zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile as e:
            raise PackageError(f"not an Anki package: not a zip file or a truncated one ({e})") from e
        except OSError as e:
            raise PackageError(f"cannot read the file ({e.strerror or e})") from e
        try:
            self.names = set()
            for info in self.zip.infolist():
                if member_escapes(info.filename):
                    raise PackageError(f"refused: the member name {info.filename!r} escapes the package")
                self.names.add(info.filename)
            self.member, self.layout = self._choose_collection()
        except BaseException:
            self.zip.close()
            raise

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc) -> None:
        self.zip.close()

    def close(self) -> None:
        """Close the zip file."""
        self.zip.close()

    def _read_small(self, name: str, limit: int) -> bytes:
        with self._open(name) as f:
            data = f.read(limit + 1)
        if len(data) > limit:
            raise PackageError(f"the {name!r} member is too large")
        return data

    def _open(self, name: str) -> BinaryIO:
        try:
            return self.zip.open(name)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as e:
            raise PackageError(f"damaged package: cannot read {name!r} ({e})") from e

    def _choose_collection(self) -> tuple[str, str]:
        present = [n for n in NEWEST_FIRST if n in self.names]
        if not present:
            raise PackageError("not an Anki package: it holds no collection")
        if "meta" in self.names:
            try:
                version = Message(self._read_small("meta", 1024)).uint(1)  # PackageMetadata: 1 version
            except (ProtobufError, zipfile.BadZipFile, zlib.error, OSError) as e:
                raise PackageError(f"damaged package: unreadable meta ({e})") from e
            wanted = META_VERSIONS.get(version)
            if wanted is None:
                raise PackageError(f"this package was written by a newer Anki (package version {version})")
            if wanted not in self.names:
                raise PackageError(f"damaged package: the meta names {wanted} but it is missing")
            return wanted, wanted.split(".")[1]
        # No meta: the newest collection present is the real one (older ones are compatibility dummies).
        return present[0], present[0].split(".")[1]

    @property
    def zstd(self) -> bool:
        """Whether members are zstd-compressed (the newest layout)."""
        return self.layout == "anki21b"

    def _copy(self, name: str, dst: BinaryIO, *, compressed: bool, expected: int | None = None) -> int:
        """Copy member ``name`` into ``dst`` (decompressing zstd if asked) within the budget."""
        try:
            with self._open(name) as src:
                if compressed:
                    n = anki_zstd.copy_decompressed(src, dst, self.budget.left)
                    # Read the member to its end so zipfile checks its CRC (and cap trailing data too).
                    anki_zstd.copy_limited(src, _Null(), self.budget.left - n)
                else:
                    n = anki_zstd.copy_limited(src, dst, self.budget.left)
        except anki_zstd.LimitExceeded as e:
            raise PackageError(
                f"refused: unpacking needs more than {self.budget.limit // (1 << 20)} MiB (a zip bomb?)"
            ) from e
        except anki_zstd.CorruptData as e:
            raise PackageError(f"damaged package: {name!r} does not decompress ({e})") from e
        except anki_zstd.ZstdUnavailable as e:
            raise zstd_missing() from e
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise PackageError(f"damaged package: {name!r} is corrupt ({e})") from e
        except OSError as e:
            raise PackageError(f"cannot unpack {name!r} ({e.strerror or e})") from e
        self.budget.used += n
        if expected is not None and n != expected:
            raise _SizeMismatch(n)
        return n

    def extract_collection(self, dst: Path) -> None:
        """Write the (decompressed) SQLite collection to ``dst``."""
        with open(dst, "wb") as f:
            n = self._copy(self.member, f, compressed=self.zstd)
        if n == 0:  # e.g. a zstd stream cut short: zstandard yields nothing rather than an error
            raise PackageError(f"damaged package: {self.member} is empty")

    def media_entries(self) -> list[MediaEntry]:
        """The media files listed in the package's media map (none when it has no ``media``)."""
        if "media" not in self.names:
            return []
        try:
            raw = self._read_small("media", MAX_MEDIA_MAP_BYTES)
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise PackageError(f"damaged package: unreadable media map ({e})") from e
        if self.zstd:
            try:
                raw = anki_zstd.decompress_bytes(raw, MAX_MEDIA_MAP_BYTES)
                entries = []
                for i, m in enumerate(Message(raw).messages(1)):  # MediaEntries: 1 repeated entry
                    member = str(m.uint(255)) if m.has(255) else str(i)
                    entries.append(MediaEntry(member, m.str(1), m.uint(2), m.bytes(3) or None))
                return entries
            except anki_zstd.ZstdUnavailable as e:
                raise zstd_missing() from e
            except (anki_zstd.CorruptData, anki_zstd.LimitExceeded, ProtobufError) as e:
                raise PackageError(f"damaged package: unreadable media map ({e})") from e
        try:
            mapping = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            if not isinstance(mapping, dict):
                raise ValueError("not a JSON object")
            return [MediaEntry(str(k), str(v)) for k, v in mapping.items()]
        except (ValueError, UnicodeDecodeError) as e:
            raise PackageError(f"damaged package: unreadable media map ({e})") from e

    def extract_media(self, entry: MediaEntry, dst: Path) -> str | None:
        """Write one media file to ``dst``; returns a warning (and writes nothing) if it is missing or
        does not match its listed size/checksum."""
        if entry.member not in self.names:
            return f"media file {entry.name!r} is listed but not in the package"
        try:
            with open(dst, "wb") as f:
                self._copy(entry.member, f, compressed=self.zstd, expected=entry.size)
        except _SizeMismatch as e:
            dst.unlink()
            return f"media file {entry.name!r} is damaged ({e.size} bytes, listed as {entry.size}); skipped"
        if entry.sha1 is not None:
            h = hashlib.sha1(usedforsecurity=False)
            with open(dst, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            if h.digest() != entry.sha1:
                dst.unlink()
                return f"media file {entry.name!r} is damaged (checksum mismatch); skipped"
        return None


def zstd_missing() -> PackageError:
    """The error for a newest-layout package where no zstd decompressor exists (says what to do)."""
    return PackageError(
        "this package is in Anki's newest format (collection.anki21b, zstd-compressed), which needs the"
        " 'zstandard' package or Python 3.14+ to read: import it with the desktop app, or export it from"
        " Anki with 'Support older Anki versions' ticked"
    )


class _SizeMismatch(Exception):
    def __init__(self, size: int):
        self.size = size


class _Null:
    """A sink that discards what is written."""

    def write(self, data: bytes) -> int:
        return len(data)


# ---------------------------------------------------------------------------- media names

_FORBIDDEN = set('/\\:*?"<>|')  # separators, and what Windows/Android shared storage refuse
_MAX_NAME_BYTES = 200


def safe_media_name(name: str) -> str:
    """A name safe to create inside ``media/``: NFC, no separators, no ``..``, no control characters,
    not hidden, at most 200 UTF-8 bytes (extension kept). Unsafe characters become ``_``."""
    name = unicodedata.normalize("NFC", name)
    name = "".join("_" if ch in _FORBIDDEN or ord(ch) < 32 or ord(ch) == 127 else ch for ch in name)
    name = name.strip().rstrip(".")  # Windows drops trailing dots and spaces: two names would clash
    while ".." in name:
        name = name.replace("..", ".")
    if name.startswith("."):
        name = "_" + name
    if not name:
        name = "_"
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        stem, dot, ext = name.rpartition(".")
        if not dot or len(ext) > 10:
            stem, ext = name, ""
        ext = "." + ext if ext else ""
        budget = _MAX_NAME_BYTES - len(ext.encode("utf-8"))
        stem = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
        name = stem + ext
    return name


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``stem-2.ext``, ``stem-3.ext``... whichever is free in ``taken`` (case-folded,
    since phones' shared storage and desktop file systems often ignore case)."""
    if name.casefold() not in taken:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    ext = "." + ext if ext else ""
    i = 2
    while f"{stem}-{i}{ext}".casefold() in taken:
        i += 1
    return f"{stem}-{i}{ext}"
