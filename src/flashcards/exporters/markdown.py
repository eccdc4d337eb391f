"""Write a :class:`~flashcards.drafts.Draft` as a Markdown deck (the format of ``decks/README.md``).

The output is canonical: :func:`flashcards.importers.markdown.parse` followed by :func:`write` gives
the same bytes for a file this module wrote (and for the shipped decks, which are kept in this form).
The format carries content only: note ids, note types, fields, tags, decks and source; scheduling and
review history in the draft are not written. Media the fields refer to are copied into a folder
``<name>_media/`` beside the file and referenced from there, so importing the file brings them back.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from flashcards.drafts import BASIC, BUILTIN_NOTETYPES, CLOZE, REVERSED, Draft, DraftNote, DraftNotetype
from flashcards.errors import ExportFailed
from flashcards.importers.markdown import FIELD_ALIASES, HEADER_KEYS, NOTE_KEYS

_SIMPLE_KEY_RE = re.compile(r"^[^\W\d_][\w -]*$")
_SHORT_NAMES = {v: k for k, v in FIELD_ALIASES.items()}  # Front -> Q, Text -> cloze ...


def _lines(value: str) -> list[str]:
    """A value as the format keeps it: lines without trailing blanks, no trailing empty lines."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in value.split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()  # trailing blank lines cannot be told apart from the block's end
    return lines


def _is_blank(value: str) -> bool:
    return _lines(value) == [""]


def _value_lines(key: str, value: str) -> list[str]:
    """``key: value`` with continuation lines for a multi-line value (two-space indent)."""
    lines = _lines(value)
    first = f"{key}: {lines[0]}" if lines[0] else f"{key}:"
    out = [first]
    for line in lines[1:]:
        # An empty line inside a value is written empty; the parser keeps it when a continuation follows.
        out.append("  " + line if line else "")
    return out


def _field_key(notetype: DraftNotetype, name: str) -> str:
    if notetype.name in BUILTIN_NOTETYPES:
        return _SHORT_NAMES[name]
    reserved = set(NOTE_KEYS) | set(HEADER_KEYS) | set(FIELD_ALIASES)
    if _SIMPLE_KEY_RE.match(name) and name not in reserved and not name.startswith("field "):
        return name
    return f"field {name}"


def _media_rewriter(names: set[str], folder: str) -> Callable[[str], str]:
    """A function pointing media references in a field at ``folder/name``."""
    if not names:
        return lambda value: value
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    src_re = re.compile(r"""(<(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*)(["']?)(""" + alternation + r")\2", re.I)
    sound_re = re.compile(r"\[sound:(" + alternation + r")\]")

    def rewrite(value: str) -> str:
        value = src_re.sub(lambda m: f"{m.group(1)}{m.group(2)}{folder}/{m.group(3)}{m.group(2)}", value)
        return sound_re.sub(lambda m: f"[sound:{folder}/{m.group(1)}]", value)

    return rewrite


def _escape_markdown_image(value: str) -> str:
    # "![x](y)" in a field is text the parser would turn into an image; keep it text.
    return value.replace("![", "&#33;[")


def _note_lines(note: DraftNote, notetype: DraftNotetype, deck: str, rewrite: Callable[[str], str]) -> list[str]:
    lines = [f"id: {note.guid}"]
    if notetype.name not in (BASIC.name, CLOZE.name):
        lines.append("type: reversed" if notetype.name == REVERSED.name else f"type: {notetype.name}")
    if note.deck != deck:
        lines.append(f"deck: {note.deck}")
    if note.tags:
        lines.append("tags: " + " ".join(note.tags))
    for i, name in enumerate(notetype.fields):
        value = note.fields[i] if i < len(note.fields) else ""
        if notetype.name == CLOZE.name and name == "Back Extra" and _is_blank(value):
            continue  # optional; the parser defaults it to empty
        lines += _value_lines(_field_key(notetype, name), _escape_markdown_image(rewrite(value)))
    if not _is_blank(note.source):
        lines += _value_lines("source", note.source)
    return lines


def _notetype_lines(nt: DraftNotetype) -> list[str]:
    lines = [f"notetype: {nt.name}", f"kind: {'cloze' if nt.is_cloze else 'standard'}"]
    lines += [f"field: {name}" for name in nt.fields]
    for t in nt.templates:
        lines.append(f"template: {t.name}")
        lines += _value_lines("front", t.front)
        lines += _value_lines("back", t.back)
    if not _is_blank(nt.css):
        lines += _value_lines("css", nt.css)
    return lines


def render(
    draft: Draft,
    media_folder: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """The Markdown text for ``draft`` (media references pointed at ``media_folder`` when given)."""
    decks = [n.deck for n in draft.notes]
    main_deck = max(dict.fromkeys(decks), key=decks.count) if decks else (draft.title or "Default")
    title = draft.title or main_deck
    out: list[str] = [f"# {title}", ""]
    header: list[str] = []
    if draft.version is not None:
        header.append(f"version: {draft.version}")
    if main_deck != title:
        header.append(f"deck: {main_deck}")
    description = next((d.description for d in draft.decks if d.name == main_deck and d.description), "")
    if not _is_blank(description):
        header += _value_lines("description", description)
    if header:
        out += header + [""]

    for name in dict.fromkeys(n.notetype for n in draft.notes):
        if name in BUILTIN_NOTETYPES:
            continue
        try:
            nt = draft.notetype(name)
        except KeyError:
            raise ExportFailed(f"note type {name!r} of the notes is not in the export") from None
        out += _notetype_lines(nt) + [""]

    names = {m.name for m in draft.media}
    rewrite = _media_rewriter(names, media_folder) if media_folder else (lambda v: v)
    total = len(draft.notes)
    for done, note in enumerate(draft.notes, start=1):
        out += _note_lines(note, draft.notetype(note.notetype), main_deck, rewrite) + [""]
        if progress is not None and (done % 1000 == 0 or done == total):
            progress(done, total)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def write(draft: Draft, path: str | Path, progress: Callable[[int, int], None] | None = None) -> None:
    """Write ``draft`` to ``path`` as a Markdown deck, atomically (temp file + rename).

    Media files of the draft are copied to ``<stem>_media/`` beside ``path``. ``progress(done, total)``
    is called as notes are written. Raises :class:`ExportFailed` if the file cannot be written.
    """
    path = Path(path)
    folder = f"{path.stem}_media"
    if progress is not None:
        progress(0, len(draft.notes))
    text = render(draft, media_folder=folder if draft.media else None, progress=progress)
    try:
        if draft.media:
            media_dir = path.parent / folder
            media_dir.mkdir(parents=True, exist_ok=True)
            for item in draft.media:
                (media_dir / item.name).write_bytes(item.read())
        # Not tempfile.mkstemp: its files are private (0600); a deck file gets the usual permissions.
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            with open(tmp, "x", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ExportFailed(f"cannot write {path}: {exc.strerror or exc}") from None
