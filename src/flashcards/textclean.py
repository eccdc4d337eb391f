"""Turning the bytes of a scraped or hand-made text file into clean text.

Used by the article deriver and the Markdown importer. Everything here is pure: bytes or text in,
text out, no file or database access beyond :func:`read_text`.

* :func:`decode` — UTF-8, UTF-8 with BOM, UTF-16/32 with BOM, BOM-less UTF-16, a cp1252 fallback; refuses
  binary data.
* :func:`repair_entities` — HTML entities with their ``&`` (``&rsquo;``, ``&amp;rsquo;``) and without it
  (``worldrsquo;s``), as scrapers that drop the ampersand leave them.
* :func:`repair_mojibake` — UTF-8 read as cp1252 (``â€™`` for ``’``).
* :func:`clean_text` — all of the above plus whitespace normalisation.
"""

from __future__ import annotations

import codecs
import html
import re
import unicodedata
from pathlib import Path

from flashcards.errors import ImportFailed

# --------------------------------------------------------------------------- decoding

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with UTF-16's.
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


_CP1252_TABLE = {
    b: (bytes([b]).decode("cp1252", errors="ignore") or chr(b)) for b in range(0x80, 0xA0)
}


class DecodeError(ValueError):
    """The bytes are not text (binary data); ``str()`` says why in words."""


def _looks_binary(text: str) -> bool:
    """True when decoded text holds control characters no text file has (NUL, most C0 codes)."""
    if not text:
        return False
    bad = sum(1 for ch in text if ch == "\x00" or (ord(ch) < 32 and ch not in "\t\n\r\f\v\x1b"))
    return "\x00" in text or bad > max(2, len(text) // 200)


def _bomless_utf16(data: bytes) -> str | None:
    """The codec of BOM-less UTF-16 (mostly ASCII text: every other byte NUL), else None."""
    if len(data) < 4 or len(data) % 2:
        return None
    even_nuls = data[0::2].count(0)
    odd_nuls = data[1::2].count(0)
    half = len(data) // 2
    if odd_nuls > 0.6 * half and even_nuls < 0.1 * half:
        return "utf-16-le"
    if even_nuls > 0.6 * half and odd_nuls < 0.1 * half:
        return "utf-16-be"
    return None


def decode(data: bytes) -> tuple[str, str, list[str]]:
    """Decode file bytes as text: ``(text, encoding, warnings)``.

    Order: a byte-order mark decides; else strict UTF-8; else BOM-less UTF-16 (NUL every other byte);
    else cp1252 (with a warning, since that is a guess). Raises :class:`DecodeError` for binary data.
    Line endings become ``\\n``.
    """
    warnings: list[str] = []
    encoding = None
    text: str | None = None
    for bom, codec in _BOMS:
        if data.startswith(bom):
            encoding = codec
            data = data[len(bom) :]
            break
    if encoding is None:
        # Before UTF-8: BOM-less UTF-16 of ASCII text is also valid (NUL-riddled) UTF-8.
        encoding = _bomless_utf16(data)
    if encoding is None:
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            # cp1252 leaves five bytes undefined; those map to the C1 control of the same number.
            text = data.decode("latin-1").translate(_CP1252_TABLE)
            encoding = "cp1252"
            warnings.append("not valid UTF-8: decoded as cp1252 (Windows Western)")
    if text is None:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DecodeError(f"not valid {encoding.upper()} text ({exc.reason} at byte {exc.start})") from None
    if _looks_binary(text):
        raise DecodeError("this looks like a binary file, not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text, encoding, warnings


def read_text(path: str | Path) -> tuple[str, list[str]]:
    """Read a text file robustly (see :func:`decode`): ``(text, warnings)``.

    Raises :class:`~flashcards.errors.ImportFailed` when the file cannot be read or is binary.
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFailed(path, f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text, _encoding, warnings = decode(data)
    except DecodeError as exc:
        raise ImportFailed(path, str(exc)) from None
    return text, warnings


# --------------------------------------------------------------------------- entities

# Entity names scrapers commonly leave behind without their "&". Names that no English word ends with
# are repaired anywhere ("worldrsquo;s"); short ones that could end a word ("camp;", "salt;") only when
# they stand alone. Words such as "times;" or "copy;" are never touched.
_BARE_ANYWHERE = (
    "rsquo lsquo rdquo ldquo sbquo bdquo laquo raquo lsaquo rsaquo mdash ndash hellip nbsp ensp emsp "
    "thinsp middot eacute egrave aacute agrave oacute uacute iacute ntilde ccedil ouml uuml auml szlig "
    "frac12 frac14 frac34 quot"
).split()
_BARE_STANDALONE = ("amp", "lt", "gt", "apos")
_BARE_RE = re.compile(
    r"(?:amp;)*(" + "|".join(sorted(_BARE_ANYWHERE, key=len, reverse=True)) + r");"
    r"|(?<![A-Za-z])(?:amp;)*(" + "|".join(_BARE_STANDALONE) + r");"
)
_BARE_NUM_RE = re.compile(r"(?<![&\w])#(x[0-9a-fA-F]{2,6}|[0-9]{2,7});")
_DOUBLE_RE = re.compile(r"&amp;(#?[A-Za-z0-9]+;)")


def _bare(match: re.Match[str]) -> str:
    return html.unescape("&" + (match.group(1) or match.group(2)) + ";")


def repair_entities(text: str) -> str:
    """Decode HTML entities, including double-escaped (``&amp;rsquo;``) and ampersand-less ones.

    ``worldrsquo;s`` becomes ``world’s``; ``&amp;mdash;`` becomes ``—``; ``#8217;`` becomes ``’``.
    """
    # Undo double escaping first so "&amp;rsquo;" is not left as a literal "&rsquo;".
    prev = None
    while prev != text:
        prev = text
        text = _DOUBLE_RE.sub(r"&\1", text)
    text = html.unescape(text)
    text = _BARE_RE.sub(_bare, text)
    text = _BARE_NUM_RE.sub(lambda m: html.unescape("&#" + m.group(1) + ";"), text)
    return text


# --------------------------------------------------------------------------- mojibake

# Characters that cp1252 puts at bytes 0x80-0xBF (UTF-8 continuation bytes), plus the five bytes cp1252
# leaves undefined, which decoders map to the C1 control of the same number.
_CONT_CHARS = "".join(
    bytes([b]).decode("cp1252", errors="ignore") or chr(b) for b in range(0x80, 0xC0)
)
_MOJIBAKE_RE = re.compile(
    "[\u00c2-\u00df][" + re.escape(_CONT_CHARS) + "]"
    "|[\u00e0-\u00ef][" + re.escape(_CONT_CHARS) + "]{2}"
    "|[\u00f0-\u00f4][" + re.escape(_CONT_CHARS) + "]{3}"
)


def _to_cp1252_bytes(s: str) -> bytes | None:
    out = bytearray()
    for ch in s:
        try:
            out += ch.encode("cp1252")
        except UnicodeEncodeError:
            if ord(ch) < 256:
                out.append(ord(ch))
            else:
                return None
    return bytes(out)


def _fix_run(match: re.Match[str]) -> str:
    raw = _to_cp1252_bytes(match.group(0))
    if raw is None:
        return match.group(0)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return match.group(0)


def repair_mojibake(text: str) -> str:
    """Undo UTF-8 that was decoded as cp1252/latin-1 (``â€™`` → ``’``, ``Ã©`` → ``é``).

    Only sequences that form valid UTF-8 once re-encoded are changed, so genuine "Â" or "é" survive.
    Applied twice to undo double mojibake.
    """
    for _ in range(2):
        fixed = _MOJIBAKE_RE.sub(_fix_run, text)
        if fixed == text:
            break
        text = fixed
    return text


# --------------------------------------------------------------------------- whole text

_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")


def normalize_spaces(text: str) -> str:
    """Turn non-breaking and other odd spaces into single spaces, drop zero-width characters,
    strip each line and NFC-normalise."""
    text = unicodedata.normalize("NFC", text)
    text = _INVISIBLE_RE.sub("", text)
    lines = [_SPACES_RE.sub(" ", line).strip() for line in text.split("\n")]
    return "\n".join(lines)


def clean_text(text: str) -> str:
    """Entity and mojibake repair plus space normalisation: the text a reader would have seen."""
    text = repair_mojibake(text)
    text = repair_entities(text)
    return normalize_spaces(text)
