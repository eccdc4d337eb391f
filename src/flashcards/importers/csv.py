"""CSV / TSV / plain-text notes in Anki's text format: ``parse(path) -> Draft`` (pure, no writes).

The file may start with Anki's header lines (``#key:value``), all optional:

``#separator:`` ``tab`` ``comma`` ``semicolon`` ``pipe`` ``colon`` ``space`` or the character itself;
``#html:true|false``; ``#tags:`` tags for every note; ``#columns:`` column names (in the file's
separator); ``#notetype:`` / ``#deck:`` one for the whole file; ``#notetype column:N``,
``#deck column:N``, ``#tags column:N``, ``#guid column:N`` (1-based); ``#if matches:`` ``update
current`` / ``keep current`` / ``keep both``; ``#match scope:`` ``notetype`` / ``notetype + deck``.
Anki's legacy first line ``tags:a b`` is accepted too.

After the header, every row is a note. ``#`` lines at the start of a row are comments. Quoted
fields may hold separators and newlines. Rows shorter than the note type are padded with empty
fields, longer ones trimmed; a column named ``Source`` in ``#columns`` becomes the note's source text
(and one named ``tags`` holds the tags, unless ``#tags column`` says otherwise).
Rows whose first field is empty are reported in ``Draft.skipped`` with their line.

Without ``#separator`` the separator is the one that splits the rows into the most consistent number
of columns (tab, comma, semicolon and pipe before colon and space, which win only when strictly
better), so a comma file with ``9:00`` or ``a::b`` in it is never cut at its colons.

Without ``#html:true`` fields are plain text: ``& < >`` are escaped and newlines become ``<br>``.
Text is read as UTF-8 (with or without BOM) or UTF-16 (BOM, or detected by its zero bytes); anything
else falls back to Windows-1252 with a warning in ``Draft.warnings``.

Notes without a guid column get ``content_guid(first field, note type)``, so importing the same file
again matches the same notes (a repeated first field gets a numbered variant, so no row is lost).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from flashcards.drafts import BUILTIN_NOTETYPES, Draft, DraftNote, IfMatches, content_guid
from flashcards.errors import ImportFailed
from flashcards.gcpause import paused as gc_paused

SEPARATOR_NAMES = {
    "tab": "\t",
    "comma": ",",
    "semicolon": ";",
    "pipe": "|",
    "colon": ":",
    "space": " ",
}
# Detection order: earlier wins ties, so colon and space (which occur in ordinary text: "9:00",
# "a::b", every sentence) only win when they split the rows strictly more consistently.
_DETECT_ORDER = ("\t", ",", ";", "|", ":", " ")
_WEAK_SEPARATORS = (":", " ")
_DETECT_SAMPLE_LINES = 200

IF_MATCHES = {
    "update current": IfMatches.UPDATE,
    "keep current": IfMatches.KEEP,
    "keep both": IfMatches.DUPLICATE,
}
MATCH_SCOPES = {"notetype": False, "notetype + deck": True}
SOURCE_LABELS = ("Source", "source")
DEFAULT_NOTETYPE = "Basic"
DEFAULT_DECK = "Default"

_COLUMN_KEYS = {
    "notetype column": "notetype",
    "deck column": "deck",
    "tags column": "tags",
    "guid column": "guid",
}


class _Header:
    """What the ``#`` header lines said."""

    def __init__(self) -> None:
        self.separator: str | None = None
        self.html = False
        self.tags: list[str] = []
        self.columns_raw: str | None = None
        self.columns_line: int | None = None
        self.notetype = DEFAULT_NOTETYPE
        self.deck = DEFAULT_DECK
        self.meta_columns: dict[str, int] = {}  # "notetype"/"deck"/"tags"/"guid" -> 1-based column
        self.meta_lines: dict[str, int] = {}
        self.if_matches = IfMatches.UPDATE
        self.match_scope_deck = False


def parse(path: str | Path) -> Draft:
    """Read a CSV/TSV/plain-text file in Anki's text format into a :class:`Draft`.

    Raises :class:`ImportFailed` naming the file (and the line, where there is one) for an unreadable
    file, a bad header value or malformed quoting. Rows with an empty first field are not fatal:
    they are listed in ``Draft.skipped``.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ImportFailed(p, "no such file") from None
    except IsADirectoryError:
        raise ImportFailed(p, "is a directory, not a file") from None
    except OSError as e:
        raise ImportFailed(p, f"cannot read the file: {e.strerror or e}") from None
    draft = Draft(path=str(p))
    text = _decode(p, raw, draft.warnings)
    lines = io.StringIO(text, newline="")
    header, first_body_line, header_count = _read_header(p, lines)
    draft.if_matches = header.if_matches
    draft.match_scope_deck = header.match_scope_deck
    if first_body_line is None:
        return draft  # only header lines (or nothing): an empty draft, not an error

    body_start = lines.tell()
    sep = header.separator
    if sep is None:
        sep = _detect_separator(first_body_line, lines)
        lines.seek(body_start)
    labels = _column_labels(p, header, sep)
    if "tags" not in header.meta_columns:
        # A column named "tags" in #columns is the tags column (Anki would guess the column after
        # the last field, which may be the Source column).
        for i, name in enumerate(labels):
            if name.lower() == "tags" and (i + 1) not in header.meta_columns.values():
                header.meta_columns["tags"] = i + 1
                break
    # The rows become ~10 objects each and none of them form cycles: pausing the cyclic garbage
    # collector meanwhile saves a third of the time on big files (it would rescan them repeatedly).
    with gc_paused():
        _read_rows(p, draft, header, sep, labels, first_body_line, lines, header_count)
    return draft


# --------------------------------------------------------------------------- decoding


def _decode(path: Path, raw: bytes, warnings: list[str]) -> str:
    """Bytes to text: BOM first, then UTF-8, BOM-less UTF-16 (zero bytes), else cp1252 with a warning."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as e:
            raise ImportFailed(path, f"not valid UTF-16 text ({e.reason})") from None
    head = raw[:4096]
    if len(head) >= 2 and head.count(0) * 4 >= len(head):
        # Text without a BOM full of zero bytes is UTF-16 (Excel and Windows tools write it);
        # which half of each pair is zero tells the byte order.
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        encoding = "utf-16-le" if odd_zeros >= even_zeros else "utf-16-be"
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            pass
        else:
            warnings.append(f"the file has no byte-order mark; read as {encoding.upper()}")
            return text
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        bad_line = raw.count(b"\n", 0, e.start) + 1
        try:
            text = raw.decode("cp1252")
            encoding = "Windows-1252 (cp1252)"
        except UnicodeDecodeError:
            # The five bytes cp1252 leaves undefined: Latin-1 maps every byte, so nothing is lost.
            text = raw.decode("latin-1")
            encoding = "Latin-1"
        warnings.append(
            f"the file is not UTF-8 (first bad byte on line {bad_line}); read as {encoding}: "
            "check accented letters"
        )
        return text


# --------------------------------------------------------------------------- header


def _read_header(path: Path, lines: io.StringIO) -> tuple[_Header, str | None, int]:
    """Consume the leading ``#`` lines. Returns the header, the first body line (None at end of
    file) and how many lines the header took."""
    header = _Header()
    count = 0
    for line in lines:
        count += 1
        if count == 1 and line.startswith("tags:"):
            header.tags = line[5:].split()
            continue
        if not line.startswith("#"):
            return header, line, count - 1
        key, colon, value = line[1:].partition(":")
        if colon:
            _header_value(path, header, key.strip().lower(), value.rstrip("\r\n"), count)
    return header, None, count


def _header_value(path: Path, header: _Header, key: str, value: str, line: int) -> None:
    """Apply one ``#key:value`` line. Unknown keys are comments, as in Anki."""
    v = value.strip()
    low = v.lower()
    if key == "separator":
        if low in SEPARATOR_NAMES:
            header.separator = SEPARATOR_NAMES[low]
        elif len(value) == 1 and value not in '"\r\n':
            header.separator = value
        elif v == "\\t":
            header.separator = "\t"
        else:
            raise ImportFailed(
                path,
                f"unknown separator {value!r}: use tab, comma, semicolon, pipe, colon, space or one character",
                line,
            )
    elif key == "html":
        if low not in ("true", "false"):
            raise ImportFailed(path, f"#html must be true or false, not {v!r}", line)
        header.html = low == "true"
    elif key == "tags":
        header.tags = value.split()
    elif key == "columns":
        header.columns_raw = value
        header.columns_line = line
    elif key == "notetype":
        if not v:
            raise ImportFailed(path, "#notetype needs a note type name", line)
        header.notetype = v
    elif key == "deck":
        if not v:
            raise ImportFailed(path, "#deck needs a deck name", line)
        header.deck = v
    elif key in _COLUMN_KEYS:
        try:
            n = int(v)
        except ValueError:
            n = -1
        if n < 0:
            raise ImportFailed(path, f"#{key} must be a column number (1 = first column), not {v!r}", line)
        what = _COLUMN_KEYS[key]
        if n == 0:
            header.meta_columns.pop(what, None)  # 0 means "no such column", as in Anki
            return
        for other, col in header.meta_columns.items():
            if col == n and other != what:
                raise ImportFailed(path, f"column {n} cannot be both the {other} and the {what} column", line)
        header.meta_columns[what] = n
        header.meta_lines[what] = line
    elif key == "if matches":
        if low not in IF_MATCHES:
            raise ImportFailed(path, f"#if matches must be one of {', '.join(IF_MATCHES)}, not {v!r}", line)
        header.if_matches = IF_MATCHES[low]
    elif key == "match scope":
        if low not in MATCH_SCOPES:
            raise ImportFailed(path, f"#match scope must be notetype or notetype + deck, not {v!r}", line)
        header.match_scope_deck = MATCH_SCOPES[low]


def _column_labels(path: Path, header: _Header, sep: str) -> list[str]:
    """The ``#columns`` names, split with the file's separator (known only after the whole header)."""
    if header.columns_raw is None:
        return []
    try:
        row = next(csv.reader([header.columns_raw], delimiter=sep), [])
    except csv.Error as e:
        raise ImportFailed(path, f"cannot read #columns: {e}", header.columns_line) from None
    return [c.strip() for c in row]


# --------------------------------------------------------------------------- separator detection


def _detect_separator(first_line: str, lines: io.StringIO) -> str:
    """The separator that splits a sample of rows into the most consistent number of columns."""
    sample = [first_line]
    for line in lines:
        if len(sample) >= _DETECT_SAMPLE_LINES:
            break
        sample.append(line)
    complete = len(sample) < _DETECT_SAMPLE_LINES  # else the last record may be cut mid-quote
    body = [ln for ln in sample if not ln.startswith("#")]
    best, best_score = "\t", 0.0
    for sep in _DETECT_ORDER:
        try:
            rows = [r for r in csv.reader(body, delimiter=sep) if r]
        except csv.Error:
            continue
        if not complete and len(rows) > 1:
            rows.pop()
        if not rows:
            continue
        counts: dict[int, int] = {}
        for r in rows:
            counts[len(r)] = counts.get(len(r), 0) + 1
        split = len(rows) - counts.get(1, 0)
        if split * 2 < len(rows):
            continue  # the separator is absent from most rows
        mode, hits = max(((k, v) for k, v in counts.items() if k > 1), key=lambda kv: (kv[1], kv[0]))
        score = hits / len(rows)
        if sep in _WEAK_SEPARATORS and score < 1.0:
            continue  # colon and space split ordinary text: only a perfectly regular file uses them
        if score > best_score:
            best, best_score = sep, score
    return best


# --------------------------------------------------------------------------- rows


def _escape(s: str) -> str:
    """Plain text to HTML: escape the three markup characters, newlines to ``<br>``."""
    if "&" in s:
        s = s.replace("&", "&amp;")
    if "<" in s:
        s = s.replace("<", "&lt;")
    if ">" in s:
        s = s.replace(">", "&gt;")
    if "\n" in s or "\r" in s:
        s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br>")
    return s


class _Layout:
    """Which 0-based columns hold each field for one note type (``None``: the field has no column)."""

    __slots__ = ("fields", "known", "limit")

    def __init__(self, fields: list[int | None], known: bool, used: set[int]):
        self.fields = fields
        self.known = known
        # columns from here on are used by nothing (extra columns, reported as trimmed)
        self.limit = max((*used, *(c for c in fields if c is not None)), default=-1) + 1


def _layouts(header: _Header, labels: list[str], extra_meta: int | None = None):
    """A function mapping (note type name, row length) to the row's field columns.

    ``#columns`` names pick columns by field name (as Anki does); fields with no matching name take
    the remaining free columns in order. Without names, fields take the free columns in order.
    A note type we do not know (neither built-in nor in the file) keeps every free column: the
    import pipeline matches it to the collection's note type of that name.
    """
    meta = {c - 1 for c in header.meta_columns.values()}
    if extra_meta is not None:
        meta.add(extra_meta)
    source_col = None
    for i, name in enumerate(labels):
        if name in SOURCE_LABELS and i not in meta:
            source_col = i
            break
    cache: dict[tuple[str, int], _Layout] = {}

    def layout(nt_name: str, width: int) -> _Layout:
        key = (nt_name, width)
        lay = cache.get(key)
        if lay is not None:
            return lay
        n_cols = max(width, len(labels))
        nt = BUILTIN_NOTETYPES.get(nt_name)
        names = nt.fields if nt is not None else ()
        src = source_col if source_col is not None and not (names and "Source" in names) else None
        free = [i for i in range(n_cols) if i not in meta and i != src]
        used = set(meta) | ({src} if src is not None else set())
        if nt is None:
            lay = _Layout(list(free), False, used)
        else:
            by_name = {labels[i]: i for i in reversed(free) if i < len(labels) and labels[i]}
            cols: list[int | None] = [by_name.get(name) for name in names]
            taken = {c for c in cols if c is not None}
            rest = iter([i for i in free if i not in taken])
            cols = [c if c is not None else next(rest, None) for c in cols]
            lay = _Layout(cols, True, used)
        cache[key] = lay
        return lay

    return layout, source_col


def _read_rows(
    path: Path,
    draft: Draft,
    header: _Header,
    sep: str,
    labels: list[str],
    first_line: str,
    lines: io.StringIO,
    header_count: int,
) -> None:
    """Turn every body row into a DraftNote (or a skipped entry)."""
    lineno = header_count  # physical line number of the last line handed to the csv reader
    start = 0  # physical line where the current record starts
    fresh = True  # the reader is between records: a "#" line here is a comment
    eof = False

    def feed():
        nonlocal lineno, start, fresh, eof
        for line in _chain(first_line, lines):
            lineno += 1
            if fresh:
                if line[:1] == "#":
                    continue
                start = lineno
                fresh = False
            yield line
        eof = True

    layout, source_col = _layouts(header, labels)
    nt_col = header.meta_columns.get("notetype", 0) - 1
    deck_col = header.meta_columns.get("deck", 0) - 1
    tags_col = header.meta_columns.get("tags", 0) - 1
    # Anki's rule: with one note type for the file and no "#tags column", a column right after the
    # last field column holds the tags (decided on the first row, or the #columns names).
    guid_col = header.meta_columns.get("guid", 0) - 1
    html = header.html
    global_tags = header.tags
    global_nt = header.notetype
    auto_tags = tags_col < 0 and nt_col < 0 and global_nt in BUILTIN_NOTETYPES
    global_deck = header.deck
    notes = draft.notes
    skipped = draft.skipped
    seen_guids: dict[str, int] = {}  # explicit guid -> line
    content_dupes: dict[str, int] = {}
    trimmed = 0
    unknown_nts: set[str] = set()

    reader = csv.reader(feed(), delimiter=sep)
    src_col = source_col if source_col is not None else -1
    last_key: tuple[str, int] | None = None
    lay = None
    idx: list[int | None] = []
    try:
        for row in reader:
            fresh = True
            line = start
            if eof:
                raise ImportFailed(
                    path, 'a quoted field starting on this line is never closed (missing ")', line
                )
            width = len(row)
            if width < 2 and (width == 0 or not row[0].strip()):
                continue  # blank line
            if nt_col >= 0:
                nt_name = row[nt_col].strip() if nt_col < width else ""
                if not nt_name:
                    skipped.append((line, f"no note type in column {nt_col + 1}"))
                    continue
            else:
                nt_name = global_nt
            if auto_tags:
                auto_tags = False
                used = [i for i in layout(nt_name, width).fields if i is not None]
                cand = max(used) + 1 if used else -1
                meta = {c - 1 for c in header.meta_columns.values()}
                if 0 <= cand < max(width, len(labels)) and cand not in meta and cand != source_col:
                    tags_col = cand
                    layout = _layouts(header, labels, extra_meta=cand)[0]
            if (nt_name, width) != last_key:
                last_key = (nt_name, width)
                lay = layout(nt_name, width)
                idx = lay.fields
                if not lay.known:
                    unknown_nts.add(nt_name)
            fields = [row[i] if i is not None and i < width else "" for i in idx]
            if width > lay.limit and lay.known and any(c.strip() for c in row[lay.limit :]):
                trimmed += 1
            if not html:
                fields = [_escape(f) for f in fields]
            first = fields[0] if fields else ""
            if not first or first.isspace():
                skipped.append((line, "the first field is empty"))
                continue
            guid = row[guid_col].strip() if 0 <= guid_col < width else ""
            if guid:
                if guid in seen_guids:
                    skipped.append((line, f"guid {guid} already used on line {seen_guids[guid]}"))
                    continue
                seen_guids[guid] = line
            else:
                guid = content_guid(first, nt_name)
                k = content_dupes.get(guid)
                if k is None:
                    content_dupes[guid] = 1
                else:
                    # Same first field again: a numbered guid keeps both rows, stable across re-imports.
                    content_dupes[guid] = k + 1
                    guid = content_guid(first, nt_name, str(k + 1))
            if 0 <= tags_col < width:
                tags = row[tags_col].split()
                if global_tags:
                    tags = _merge_tags(global_tags, tags)
            else:
                tags = list(global_tags)
            if 0 <= deck_col < width:
                deck = row[deck_col].strip() or global_deck
            else:
                deck = global_deck
            source = row[src_col] if 0 <= src_col < width else ""
            notes.append(DraftNote(guid, nt_name, fields, tags, deck, source, None, line))
    except csv.Error as e:
        raise ImportFailed(path, f"malformed row: {e}", start) from None

    if trimmed:
        draft.warnings.append(
            f"{trimmed} row(s) had more columns than their note type has fields; the extra columns were ignored"
        )
    if unknown_nts:
        names = ", ".join(sorted(unknown_nts))
        draft.warnings.append(f"note type(s) not built in: {names}; they must exist in the collection")


def _chain(first: str, rest):
    yield first
    yield from rest


def _merge_tags(a: list[str], b: list[str]) -> list[str]:
    """Tags of both lists, each once, in order."""
    out = list(a)
    seen = set(a)
    for t in b:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out
