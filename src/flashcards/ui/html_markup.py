"""Sanitised card HTML (``flashcards.render``) -> Kivy markup, cut into blocks a screen can show.

The core gives a small HTML subset: ``b i u sub sup br p div ul ol li hr img``, ``<b class="cloze">``
for cloze blanks/answers, entities, and ``[sound:x]`` references left as text. Here:

* inline styles become Kivy markup (``[b] [i] [u] [sub] [sup]``; clozes bold and coloured);
* every character of the text itself is escaped, so ``[b]``, ``[color=..]`` or ``[ref=..]`` typed in a
  field show literally (Kivy's ``&bl;``/``&br;``/``&amp;`` escapes);
* each run of text goes in the shipped font that has its characters (:mod:`flashcards.ui.fonts`);
* ``<img>`` and ``<hr>`` become blocks of their own; ``[sound:x]`` of a sound the card plays becomes a
  tappable speaker (``[ref=sound:N]``);
* text is cut into blocks of at most ``max_chars`` characters (at line ends, else at spaces), one
  label each, because a label's texture has a maximum size (often 4096 px on phones).

Nothing here imports Kivy: it is plain string work, unit-tested without a window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from flashcards.ui import fonts

#: Colour of cloze blanks and answers (blue, readable on light and dark backgrounds).
CLOZE_COLOR = "3d8bfd"
SPEAKER = "\U0001f50a"
MAX_CHARS = 1500

_SOUND_RE = re.compile(r"\[sound:([^\]\[]+)\]")
_STYLE_ORDER = ("b", "i", "u", "sub", "sup", "cloze")


def escape(text: str) -> str:
    """Escape text so Kivy markup shows it literally."""
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


@dataclass
class Span:
    text: str
    styles: frozenset[str] = frozenset()
    ref: str | None = None


@dataclass
class Block:
    """One piece of a card side: ``kind`` is ``text`` (``markup``), ``image`` (``src``) or ``rule``."""

    kind: str
    markup: str = ""
    src: str = ""
    plain: str = ""  # the text without markup (tests, accessibility)


@dataclass
class _Line:
    spans: list[Span] = field(default_factory=list)

    def length(self) -> int:
        return sum(len(s.text) for s in self.spans)


class _Parser(HTMLParser):
    def __init__(self, sounds: list[str]):
        super().__init__(convert_charrefs=True)
        self.sounds = sounds
        self.items: list[object] = []  # _Line | ("image", src) | ("rule",)
        self.line = _Line()
        self.styles: list[str] = []
        self.lists: list[list] = []  # [kind, counter]

    # -- structure
    def _end_line(self, force: bool = False) -> None:
        if self.line.spans or force:
            self.items.append(self.line)
        self.line = _Line()

    def _block_item(self, item: tuple) -> None:
        self._end_line()
        self.items.append(item)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("b", "strong"):
            self.styles.append("cloze" if "cloze" in (a.get("class") or "").split() else "b")
        elif tag in ("i", "em"):
            self.styles.append("i")
        elif tag in ("u", "sub", "sup"):
            self.styles.append(tag)
        elif tag == "br":
            self._end_line(force=not self.line.spans and bool(self.items) and isinstance(self.items[-1], _Line))
        elif tag in ("p", "div"):
            self._end_line()
        elif tag in ("ul", "ol"):
            self._end_line()
            self.lists.append([tag, 0])
        elif tag == "li":
            self._end_line()
            depth = max(len(self.lists), 1)
            kind = self.lists[-1] if self.lists else ["ul", 0]
            kind[1] += 1
            bullet = f"{kind[1]}. " if kind[0] == "ol" else "\u2022 "
            self.line.spans.append(Span("\u00a0" * (4 * (depth - 1) + 2) + bullet))
        elif tag == "hr":
            self._block_item(("rule",))
        elif tag == "img":
            src = a.get("src") or ""
            if src:
                self._block_item(("image", src))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        name = {"strong": "b", "em": "i"}.get(tag, tag)
        if name == "b":
            # </b> closes the innermost bold or cloze.
            for k in range(len(self.styles) - 1, -1, -1):
                if self.styles[k] in ("b", "cloze"):
                    del self.styles[k]
                    break
        elif name in ("i", "u", "sub", "sup"):
            for k in range(len(self.styles) - 1, -1, -1):
                if self.styles[k] == name:
                    del self.styles[k]
                    break
        elif name in ("p", "div", "li"):
            self._end_line()
        elif name in ("ul", "ol"):
            self._end_line()
            if self.lists:
                self.lists.pop()

    def handle_data(self, data):
        if not data:
            return
        styles = frozenset(self.styles)
        pos = 0
        for m in _SOUND_RE.finditer(data):
            name = m.group(1)
            if name not in self.sounds:
                continue
            if m.start() > pos:
                self.line.spans.append(Span(data[pos:m.start()], styles))
            self.line.spans.append(Span(SPEAKER, styles, ref=f"sound:{self.sounds.index(name)}"))
            pos = m.end()
        if pos < len(data):
            self.line.spans.append(Span(data[pos:], styles))

    def close(self):
        super().close()
        self._end_line()


def _span_markup(span: Span, cloze_color: str) -> str:
    opens, closes = [], []
    for s in _STYLE_ORDER:
        if s not in span.styles:
            continue
        if s == "cloze":
            opens.append(f"[b][color={cloze_color}]")
            closes.append("[/color][/b]")
        else:
            opens.append(f"[{s}]")
            closes.append(f"[/{s}]")
    if span.ref:
        opens.append(f"[ref={span.ref}]")
        closes.append("[/ref]")
    body = []
    for fam, piece in fonts.runs(span.text):
        if fam == fonts.DEFAULT:
            body.append(escape(piece))
        else:
            body.append(f"[font={fam}]{escape(piece)}[/font]")
    return "".join(opens) + "".join(body) + "".join(reversed(closes))


def _split_line(line: _Line, max_chars: int) -> list[_Line]:
    """Cut one over-long line into pieces of at most ``max_chars`` (at spaces where possible)."""
    out: list[_Line] = []
    cur = _Line()
    room = max_chars
    for span in line.spans:
        text = span.text
        while len(text) > room:
            cut = text.rfind(" ", 0, room + 1)
            if cut <= 0:
                cut = room
            head, text = text[:cut], text[cut:].lstrip(" ")
            if head:
                cur.spans.append(Span(head, span.styles, span.ref))
            out.append(cur)
            cur = _Line()
            room = max_chars
        if text:
            cur.spans.append(Span(text, span.styles, span.ref))
            room -= len(text)
    if cur.spans:
        out.append(cur)
    return out


def to_blocks(html: str, sounds: list[str] | tuple[str, ...] = (), max_chars: int = MAX_CHARS,
              cloze_color: str = CLOZE_COLOR) -> list[Block]:
    """Convert sanitised HTML into display blocks (text markup, images, rules).

    ``sounds`` are the sound file names the card plays (``RenderedCard.sounds_front/back``); their
    ``[sound:x]`` references become speaker refs ``sound:<index into sounds>``; any other
    ``[sound:...]`` text stays literal text.
    """
    p = _Parser(list(sounds))
    p.feed(html or "")
    p.close()
    blocks: list[Block] = []
    lines: list[_Line] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if lines:
            # Drop trailing empty lines (a <br> at the end adds nothing visible).
            while lines and not lines[-1].spans:
                lines.pop()
        if lines:
            blocks.append(Block(
                "text",
                markup="\n".join("".join(_span_markup(s, cloze_color) for s in ln.spans) for ln in lines),
                plain="\n".join("".join(s.text for s in ln.spans) for ln in lines)))
        lines.clear()
        size = 0

    for item in p.items:
        if isinstance(item, _Line):
            for piece in (_split_line(item, max_chars) if item.length() > max_chars else [item]):
                n = piece.length() + 1
                if lines and size + n > max_chars:
                    flush()
                lines.append(piece)
                size += n
        else:
            flush()
            if item[0] == "image":
                blocks.append(Block("image", src=item[1]))
            else:
                blocks.append(Block("rule"))
    flush()
    return blocks


def to_markup(html: str, sounds: list[str] | tuple[str, ...] = (), cloze_color: str = CLOZE_COLOR) -> str:
    """The whole side as one markup string (images and rules left out): for short texts and lists."""
    return "\n".join(b.markup for b in to_blocks(html, sounds, max_chars=10**9, cloze_color=cloze_color)
                     if b.kind == "text")


def plain_markup(text: str) -> str:
    """Plain text (e.g. a browser row) as markup with per-run fonts and everything escaped."""
    return _span_markup(Span(text), CLOZE_COLOR)
