"""The project's Markdown deck format: ``parse(path) -> Draft``.

The format is documented for users in ``decks/README.md``. In short::

    # Deck title

    version: 3
    description: Optional words about the deck.

    id: stalin-trotsky-exile
    tags: rivals
    Q: In which year did Stalin have Trotsky exiled?
    A: 1929
    source: Stalin perceived Trotsky as a significant threat to his power and had him exiled in 1929.

    id: nkvd
    type: reversed
    Q: NKVD
    A: People’s Commissariat for Internal Affairs

    cloze: Trotsky became Stalin’s main adversary after Lenin’s death in {{c1::1924::year}}.

A file is blocks separated by blank lines. The first ``# `` line is the deck title; a block of header
keys (``version``, ``deck``, ``description``) may follow it. Every other block is a note made of
``key: value`` lines; a line indented by two spaces (or a tab) continues the value above it, one line
of the field per line. Field values are HTML. ``## `` headings and ``<!-- -->`` comment lines are for
readers and ignored. Blocks starting with ``notetype:`` define a note type beyond the three built-ins.

Images referenced relative to the file (``<img src="pics/map.png">``, ``![alt](pics/map.png)``,
``[sound:clip.mp3]``) become media; the field then refers to the media name (``map.png``). A note
without ``id:`` gets one derived from its content (:func:`flashcards.drafts.content_guid`).
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from flashcards.drafts import (
    BASIC,
    BUILTIN_NOTETYPES,
    CLOZE,
    REVERSED,
    Draft,
    DraftDeck,
    DraftMedia,
    DraftNote,
    DraftNotetype,
    DraftTemplate,
    content_guid,
)
from flashcards.errors import ImportFailed
from flashcards.textclean import read_text

HEADER_KEYS = ("version", "deck", "description")
NOTE_KEYS = ("id", "type", "deck", "tags", "source")
# Short forms of the built-in note types' fields, as the exporter writes them.
FIELD_ALIASES = {"Q": "Front", "A": "Back", "cloze": "Text", "extra": "Back Extra"}
TYPE_ALIASES = {
    "basic": BASIC.name,
    "reversed": REVERSED.name,
    "basic-reversed": REVERSED.name,
    "cloze": CLOZE.name,
}
NOTETYPE_KEYS = ("notetype", "kind", "field", "template", "front", "back", "css")

_KEY_RE = re.compile(r"^(field [^:]+|[^\W\d_][\w -]*?):(?: |$)(.*)$")
_CLOZE_RE = re.compile(r"\{\{c\d+::", re.S)
# Media references inside (HTML) field text.
_IMG_SRC_RE = re.compile(r"""(<(?:img|audio|video|source)\b[^>]*?\bsrc\s*=\s*)(["']?)([^"'\s>]+)\2""", re.I)
_SOUND_RE = re.compile(r"\[sound:([^\]]+)\]")
_MD_IMAGE_RE = re.compile(r"""!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)""")
_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass
class _Block:
    line: int  # 1-based line of the block's first line
    pairs: list[tuple[str, str, int]] = field(default_factory=list)  # (key, value, line)


def _blocks(text: str, path: Path) -> tuple[str | None, list[_Block]]:
    """Split the file into its title and ``key: value`` blocks."""
    title: str | None = None
    blocks: list[_Block] = []
    current: _Block | None = None
    pending_blank = 0  # blank lines seen inside a value (kept if a continuation follows)
    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip()
        if not line.strip():
            if current is not None:
                pending_blank += 1
            continue
        if line[0] in " \t":
            if current is None or not current.pairs:
                raise ImportFailed(path, "indented line does not continue a value", lineno)
            # Two spaces (or one tab) of indentation belong to the format; more is the value's own.
            body = line[2:] if line.startswith("  ") else line[1:]
            key, value, at = current.pairs[-1]
            current.pairs[-1] = (key, value + "\n" * (pending_blank + 1) + body, at)
            pending_blank = 0
            continue
        if pending_blank and current is not None:
            current = None
        pending_blank = 0
        stripped = line.strip()
        if stripped.startswith("<!--") and stripped.endswith("-->"):
            continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            if level == 1 and line[1:2] == " ":
                if title is not None or blocks:
                    raise ImportFailed(path, "a second '# ' title line (the title comes first)", lineno)
                title = line[2:].strip()
                current = None
                continue
            if line[level : level + 1] == " ":
                current = None  # a heading for readers ends the block
                continue
        m = _KEY_RE.match(line)
        if not m:
            raise ImportFailed(path, f"expected 'key: value', got {_short(line)!r}", lineno)
        if current is None:
            current = _Block(lineno)
            blocks.append(current)
        current.pairs.append((m.group(1).strip(), m.group(2), lineno))
    return title, blocks


def _short(s: str, n: int = 40) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _is_header(block: _Block) -> bool:
    return all(key in HEADER_KEYS for key, _v, _l in block.pairs)


def _notetype_block(block: _Block, path: Path) -> DraftNotetype:
    name = ""
    fields: list[str] = []
    templates: list[list[str]] = []
    is_cloze = False
    css = ""
    for key, value, line in block.pairs:
        if key not in NOTETYPE_KEYS:
            raise ImportFailed(path, f"unknown key {key!r} in a note type definition", line)
        if key == "notetype":
            name = value.strip()
        elif key == "kind":
            if value.strip() not in ("standard", "cloze"):
                raise ImportFailed(path, "note type kind must be 'standard' or 'cloze'", line)
            is_cloze = value.strip() == "cloze"
        elif key == "field":
            fields.append(value.strip())
        elif key == "template":
            templates.append([value.strip(), "", ""])
        elif key in ("front", "back"):
            if not templates:
                raise ImportFailed(path, f"'{key}:' before any 'template:' line", line)
            templates[-1][1 if key == "front" else 2] = value
        else:
            css = value
    if not name:
        raise ImportFailed(path, "a note type needs a name", block.line)
    if name in BUILTIN_NOTETYPES:
        raise ImportFailed(path, f"{name!r} is a built-in note type and cannot be redefined", block.line)
    if not fields or not templates:
        raise ImportFailed(path, f"note type {name!r} needs 'field:' and 'template:' lines", block.line)
    return DraftNotetype(
        name=name,
        fields=tuple(fields),
        templates=tuple(DraftTemplate(t[0], t[1], t[2]) for t in templates),
        is_cloze=is_cloze,
        css=css,
    )


class _Media:
    """Collects media files referenced relative to the deck file, giving each a unique name."""

    def __init__(self, base: Path):
        self.base = base
        self.by_path: dict[Path, str] = {}
        self.names: dict[str, Path] = {}
        self.items: list[DraftMedia] = []
        self.missing: list[tuple[str, int]] = []

    def name_for(self, ref: str, line: int) -> str | None:
        """The media name for a reference, registering the file; None for URLs and missing files."""
        if _URL_RE.match(ref) or ref.startswith("//"):
            return None  # a URL (http:, data:): left for the renderer
        target = (self.base / unquote(ref)).resolve()
        if not target.is_file():
            self.missing.append((ref, line))
            return None
        if target in self.by_path:
            return self.by_path[target]
        name = target.name
        if name in self.names and self.names[name] != target:
            digest = hashlib.blake2b(target.read_bytes(), digest_size=4).hexdigest()
            name = f"{target.stem}-{digest}{target.suffix}"
        self.by_path[target] = name
        self.names[name] = target
        self.items.append(DraftMedia(name=name, path=target))
        return name

    def rewrite(self, value: str, line: int) -> str:
        """The field with its file references replaced by media names."""
        def md_image(m: re.Match[str]) -> str:
            ref = m.group(2)
            name = self.name_for(ref, line) or ref
            return f'<img src="{html.escape(name)}" alt="{html.escape(m.group(1))}">'

        def src(m: re.Match[str]) -> str:
            ref = html.unescape(m.group(3))
            name = self.name_for(ref, line)
            if name is None:
                return m.group(0)
            return f"{m.group(1)}{m.group(2) or chr(34)}{html.escape(name)}{m.group(2) or chr(34)}"

        def sound(m: re.Match[str]) -> str:
            name = self.name_for(m.group(1), line)
            return m.group(0) if name is None else f"[sound:{name}]"

        # HTML references first: the <img> tags made from Markdown images already carry media names.
        value = _IMG_SRC_RE.sub(src, value)
        value = _SOUND_RE.sub(sound, value)
        return _MD_IMAGE_RE.sub(md_image, value)


def _header_version(block: _Block, path: Path) -> int | None:
    """The ``version:`` of a header block (None without one)."""
    version = None
    for key, value, line in block.pairs:
        if key == "version":
            try:
                version = int(value.strip())
            except ValueError:
                raise ImportFailed(path, f"version must be a whole number, not {value!r}", line) from None
    return version


def peek_version(path: str | Path) -> int | None:
    """The deck's ``version:`` as :func:`parse` reads it, from the file's first block only.

    The first-start loader asks this at every start of the app, and a whole parse of a shipped deck
    (20+ ms) is only needed when the version is newer than the one loaded. ``_blocks`` reads line by
    line, so the first block is complete once the next block starts: the text is cut there.
    """
    path = Path(path)
    text, _warnings = read_text(path)
    lines = text.split("\n")
    started = gap = False
    for i, raw in enumerate(lines):
        line = raw.rstrip()
        if not line.strip():
            gap = started
            continue
        if line[0] in " \t":  # a value's continuation, even after blank lines: the block goes on
            gap = False
            continue
        if line.lstrip().startswith("<!--") or (line.startswith("# ") and not started):
            continue
        if started and gap:
            lines = lines[:i]
            break
        started = True
    _title, blocks = _blocks("\n".join(lines), path)
    if blocks and blocks[0].pairs[0][0] != "notetype" and _is_header(blocks[0]):
        return _header_version(blocks[0], path)
    return None


def parse(path: str | Path) -> Draft:
    """Read a Markdown deck file into a :class:`Draft` (no database access).

    Raises :class:`ImportFailed` naming the line for anything malformed: unknown keys, a note without
    its main field, a cloze note without a cloze deletion, duplicate ids.
    """
    path = Path(path)
    text, warnings = read_text(path)
    title, blocks = _blocks(text, path)
    draft = Draft(path=str(path), title=title, warnings=list(warnings))

    deck_name = title or path.stem
    description = ""
    note_blocks: list[_Block] = []
    notetypes: dict[str, DraftNotetype] = {}
    for index, block in enumerate(blocks):
        first_key = block.pairs[0][0]
        if first_key == "notetype":
            nt = _notetype_block(block, path)
            if nt.name in notetypes:
                raise ImportFailed(path, f"note type {nt.name!r} is defined twice", block.line)
            notetypes[nt.name] = nt
        elif index == 0 and _is_header(block):
            draft.version = _header_version(block, path)
            for key, value, _line in block.pairs:
                if key == "deck":
                    deck_name = value.strip()
                elif key == "description":
                    description = value
        else:
            note_blocks.append(block)
    draft.notetypes = list(notetypes.values())
    if not deck_name:
        raise ImportFailed(path, "the deck name is empty")

    media = _Media(path.parent)
    seen_ids: dict[str, int] = {}
    seen_content: dict[str, int] = {}  # full-content guid -> line, for notes without an id
    decks = [deck_name]
    for block in note_blocks:
        note = _note(block, path, draft, deck_name, media)
        has_id = any(k == "id" for k, _v, _l in block.pairs)
        if not has_id:
            full = content_guid(note.notetype, *note.fields)
            if full in seen_content:
                # No id: the content decides; a second identical note adds nothing.
                draft.skipped.append((block.line, f"same content as the note at line {seen_content[full]}"))
                continue
            seen_content[full] = block.line
            if note.guid in seen_ids:
                # Same first field as an earlier note: tell them apart by the whole content.
                note.guid = full
        if note.guid in seen_ids:
            raise ImportFailed(
                path, f"duplicate id {note.guid!r} (first used at line {seen_ids[note.guid]})", block.line
            )
        seen_ids[note.guid] = block.line
        if note.deck not in decks:
            decks.append(note.deck)
        draft.notes.append(note)
    if not draft.notes:
        raise ImportFailed(
            path, "no notes found (a note is a block of 'key: value' lines such as 'Q:' and 'A:')"
        )
    draft.decks = [DraftDeck(name=d, description=description if d == deck_name else "") for d in decks]
    draft.media = media.items
    for ref, line in media.missing:
        draft.warnings.append(f"line {line}: media file {ref!r} not found next to the deck; reference kept")
    return draft


def _note(block: _Block, path: Path, draft: Draft, deck_name: str, media: _Media) -> DraftNote:
    guid = ""
    type_name: str | None = None
    deck = deck_name
    tags: list[str] = []
    source = ""
    values: list[tuple[str, str, str, int]] = []  # (key as written, field name, value, line)
    for key, value, line in block.pairs:
        if key == "id":
            guid = value.strip()
            if not guid:
                raise ImportFailed(path, "empty id", line)
        elif key == "type":
            name = value.strip()
            type_name = TYPE_ALIASES.get(name.lower(), name)
        elif key == "deck":
            deck = value.strip() or deck_name
        elif key == "tags":
            tags = value.split()
        elif key == "source":
            source = value
        elif key.startswith("field "):
            values.append((key, key[6:].strip(), value, line))
        elif key in HEADER_KEYS and key != "deck":
            raise ImportFailed(path, f"{key!r} belongs in the header block right after the title", line)
        else:
            values.append((key, FIELD_ALIASES.get(key, key), value, line))
    if type_name is None:
        names = {name for _k, name, _v, _l in values}
        type_name = CLOZE.name if "Text" in names and "Front" not in names else BASIC.name
    try:
        notetype = draft.notetype(type_name)
    except KeyError:
        raise ImportFailed(path, f"unknown note type {type_name!r}", block.line) from None
    fields = [""] * len(notetype.fields)
    given = [False] * len(notetype.fields)
    for key, name, value, line in values:
        if key in notetype.fields:
            name = key  # a note type's own field called "Q" or "cloze" wins over the short form
        if name not in notetype.fields:
            known = ", ".join(notetype.fields)
            raise ImportFailed(
                path, f"unknown key {key!r} for a {notetype.name!r} note (fields: {known})", line
            )
        i = notetype.fields.index(name)
        if given[i]:
            raise ImportFailed(path, f"field {name!r} given twice", line)
        given[i] = True
        fields[i] = media.rewrite(value, line)
    if not fields[0].strip():
        raise ImportFailed(path, f"the note has no {notetype.fields[0]!r} (first field)", block.line)
    if notetype.is_cloze and not _CLOZE_RE.search(fields[0]):
        raise ImportFailed(path, "a cloze note needs a deletion such as {{c1::answer}}", block.line)
    if not guid:
        guid = content_guid(notetype.name, fields[0])
    return DraftNote(
        guid=guid,
        notetype=notetype.name,
        fields=fields,
        tags=tags,
        deck=deck,
        source=source,
        line=block.line,
    )
