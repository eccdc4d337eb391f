"""Fonts shipped in ``assets/fonts`` and the choice of font for each run of text.

SDL2_ttf (Kivy's text provider) has no font fallback: a character missing from the label's font is
drawn as a box. So the text is cut into runs, each in the first shipped font whose character map
holds its characters, and every run but the default one is wrapped in a ``[font=...]`` markup tag.

The character maps are read from the font files themselves (a small reader for the TrueType
``cmap`` table, formats 4 and 12), once, on first use: no generated tables to keep in step.
"""

from __future__ import annotations

import bisect
import re
import struct
from functools import cache, lru_cache
from pathlib import Path

from flashcards.resources import assets_dir

#: Registered family name -> (regular, italic, bold, bold italic) file names in assets/fonts.
FAMILIES: dict[str, tuple[str, str, str, str]] = {
    "FCSans": ("NotoSans-Regular.ttf", "NotoSans-Italic.ttf", "NotoSans-Bold.ttf", "NotoSans-BoldItalic.ttf"),
    "FCCJK": ("DroidSansFallbackFull.ttf",) * 4,
    "FCHangul": ("NanumSquareR.ttf", "NanumSquareR.ttf", "NanumSquareB.ttf", "NanumSquareB.ttf"),
    "FCSymbols": ("Symbola.ttf",) * 4,
}
DEFAULT = "FCSans"
#: Order in which fonts are asked for a character the default font lacks.
FALLBACK_ORDER = ("FCSans", "FCCJK", "FCHangul", "FCSymbols")

# Characters that never start a run of their own: they stay with the run before them, so that
# spaces do not cut runs into pieces and emoji sequences (ZWJ, variation selectors, skin tones)
# stay in one font.
_JOINERS = re.compile(r"[\s\u200b-\u200f\ufe00-\ufe0f\U0001f3fb-\U0001f3ff\u20e3\U000e0020-\U000e007f]")
# Latin, Greek, Cyrillic, general punctuation: the default font has these; no lookup needed.
_COMMON = re.compile(r"[\u0000-\u024f\u0370-\u03ff\u0400-\u04ff\u2000-\u206f]+")


def fonts_dir() -> Path:
    """Folder holding the shipped font files."""
    return assets_dir() / "fonts"


def font_path(family: str, style: int = 0) -> str:
    """Path of a family's file: style 0 regular, 1 italic, 2 bold, 3 bold italic."""
    return str(fonts_dir() / FAMILIES[family][style])


def read_cmap(path: str | Path) -> list[tuple[int, int]]:
    """The code point ranges ``[(first, last), ...]`` (sorted, inclusive) a TrueType font maps.

    Reads the best Unicode subtable: format 12 (full Unicode) when present, else format 4 (BMP).
    Glyph 0 (``.notdef``) mappings are not coverage and are left out.
    """
    data = Path(path).read_bytes()
    num_tables = struct.unpack_from(">H", data, 4)[0]
    cmap_off = None
    for i in range(num_tables):
        tag, _, off, _ = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_off = off
            break
    if cmap_off is None:
        return []
    n_sub = struct.unpack_from(">H", data, cmap_off + 2)[0]
    best: tuple[int, int] | None = None  # (rank, offset)
    for i in range(n_sub):
        platform, encoding, off = struct.unpack_from(">HHI", data, cmap_off + 4 + 8 * i)
        fmt = struct.unpack_from(">H", data, cmap_off + off)[0]
        if fmt == 12 and (platform, encoding) in ((3, 10), (0, 4), (0, 6)):
            rank = 2
        elif fmt == 4 and (platform, encoding) in ((3, 1), (0, 3), (0, 1), (0, 0)):
            rank = 1
        else:
            continue
        if best is None or rank > best[0]:
            best = (rank, cmap_off + off)
    if best is None:
        return []
    rank, off = best
    ranges: list[tuple[int, int]] = []
    if rank == 2:
        n_groups = struct.unpack_from(">I", data, off + 12)[0]
        for start, end, glyph in struct.iter_unpack(">III", data[off + 16: off + 16 + 12 * n_groups]):
            if glyph or start != end:
                ranges.append((start, end))
    else:
        seg2 = struct.unpack_from(">H", data, off + 6)[0]
        seg = seg2 // 2
        ends = struct.unpack_from(f">{seg}H", data, off + 14)
        starts = struct.unpack_from(f">{seg}H", data, off + 16 + seg2)
        ro_pos = off + 16 + 3 * seg2
        range_offsets = struct.unpack_from(f">{seg}H", data, ro_pos)
        for i in range(seg):
            start, end = starts[i], ends[i]
            if start == 0xFFFF:
                continue
            if range_offsets[i] == 0:
                # glyph = (c + delta) mod 65536; only the code point mapping to 0 is uncovered.
                ranges.append((start, end))
                continue
            # Glyph ids come from the glyph array: keep the code points whose glyph is not 0.
            run_start = None
            for c in range(start, end + 1):
                addr = ro_pos + 2 * i + range_offsets[i] + 2 * (c - start)
                g = struct.unpack_from(">H", data, addr)[0] if addr + 2 <= len(data) else 0
                if g:
                    if run_start is None:
                        run_start = c
                elif run_start is not None:
                    ranges.append((run_start, c - 1))
                    run_start = None
            if run_start is not None:
                ranges.append((run_start, end))
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for a, b in ranges:
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


class Coverage:
    """Fast membership test over a font's code point ranges."""

    def __init__(self, ranges: list[tuple[int, int]]):
        self.starts = [a for a, _ in ranges]
        self.ends = [b for _, b in ranges]

    def __contains__(self, cp: int) -> bool:
        i = bisect.bisect_right(self.starts, cp) - 1
        return i >= 0 and cp <= self.ends[i]


@cache
def coverage(family: str) -> Coverage:
    """The character coverage of a family's regular file (read once)."""
    try:
        return Coverage(read_cmap(font_path(family)))
    except (OSError, struct.error):
        return Coverage([])


@lru_cache(maxsize=4096)
def family_for(ch: str) -> str:
    """The first shipped family that has a glyph for ``ch`` (the default one when none has)."""
    cp = ord(ch)
    for fam in FALLBACK_ORDER:
        if cp in coverage(fam):
            return fam
    return DEFAULT


def runs(text: str) -> list[tuple[str, str]]:
    """Cut ``text`` into ``(family, piece)`` runs, each drawable in one font; adjacent runs differ."""
    out: list[tuple[str, str]] = []
    cur = DEFAULT
    buf: list[str] = []

    def emit(fam: str, piece: str) -> None:
        nonlocal cur
        if fam != cur and buf:
            out.append((cur, "".join(buf)))
            buf.clear()
        cur = fam
        buf.append(piece)

    pos = 0
    n = len(text)
    while pos < n:
        m = _COMMON.match(text, pos)
        if m:
            piece = m.group(0)
            # Whitespace alone keeps the current run's font.
            emit(cur if piece.isspace() else DEFAULT, piece)
            pos = m.end()
            continue
        ch = text[pos]
        emit(cur if _JOINERS.match(ch) else family_for(ch), ch)
        pos += 1
    if buf:
        out.append((cur, "".join(buf)))
    return out


_registered = False


def register_fonts() -> None:
    """Register the shipped families with Kivy (names usable as ``font_name`` and in ``[font=]``)."""
    global _registered
    if _registered:
        return
    from kivy.core.text import LabelBase

    for fam, files in FAMILIES.items():
        paths = [str(fonts_dir() / f) for f in files]
        if Path(paths[0]).is_file():
            LabelBase.register(fam, *paths)
    _registered = True
