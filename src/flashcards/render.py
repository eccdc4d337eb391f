"""Card rendering: which cards a note has, and what each side of a card shows.

Used by the store (:func:`card_ordinals`), the study screen and the CLI review loop
(:func:`render_card`, :func:`plain_text`) and the importers (:func:`cloze_numbers`).

Templates use Anki's syntax, interpreted here without a browser:

* ``{{Field}}`` the field's HTML; an unknown field renders as nothing (Anki shows an error instead).
* ``{{FrontSide}}`` on the back: the rendered front. Its sounds are not in ``sounds_back`` (Anki does
  not replay the question's audio with the answer either).
* Special fields ``{{Tags}}``, ``{{Type}}`` (note type name), ``{{Card}}`` (template name),
  ``{{Deck}}``, ``{{Subdeck}}``; on cloze note types ``{{#c2}}...{{/c2}}`` is true on card 2.
* ``{{#Field}}...{{/Field}}`` shown when the field is not empty, ``{{^Field}}...{{/Field}}`` when it is
  (a field holding only whitespace, ``<br>``, ``<div>``, ``<p>`` or ``&nbsp;`` is empty). A section left
  open runs to the end of the template; a stray ``{{/X}}`` is ignored.
* Filters, applied right to left (``{{text:hint:F}}`` applies ``hint`` first, then ``text``):
  ``cloze`` (see below), ``cloze-only`` (the active cloze answers, comma separated), ``hint`` (the field
  as is: there is no "show hint" link here), ``text`` (HTML removed), ``type`` (no typing box here: nothing
  on the front, the plain field on the back, so the answer is never shown with the question;
  ``type:cloze`` shows nothing at all because the cloze already shows the answer), ``tts ...`` (nothing:
  no speech synthesis), ``kanji`` / ``kana`` / ``furigana`` (``漢字[かんじ]`` readings: dropped / kept alone /
  shown as ``漢字(かんじ)``). Any other filter leaves the text unchanged.

Clozes: ``{{c1::answer}}``, ``{{c1::answer::hint}}``, ``{{c1,2::answer}}`` (active on cards 1 and 2) and
nested clozes (``{{c1::outer {{c2::inner}}}}``). On the front the active cloze shows as
``<b class="cloze">[...]</b>`` or ``<b class="cloze">[hint]</b>`` and the other clozes as their answer text;
on the back the active cloze's answer is wrapped in ``<b class="cloze">...</b>``. ``class="cloze"`` on
``<b>`` is the one attribute the sanitiser keeps besides ``img src`` and ``hr id="answer"``, so the UI can
colour cloze answers.

Output HTML (:func:`sanitize`) is a small, well-formed subset the UI turns into Kivy markup:

* inline: ``<b>`` (also for ``<strong>``), ``<i>`` (also for ``<em>``), ``<u>`` (also for ``<ins>``),
  ``<sub>``, ``<sup>``, always properly nested and closed; a ``style`` attribute on any element counts
  for these too (``font-weight: bold``/``600``-``900``, ``font-style: italic``, ``text-decoration:
  underline``, ``vertical-align: sub``/``super``), and ``<b style="font-weight: normal">`` (Google Docs
  pastes) is not bold;
* line structure: ``<br>`` (none at the end of the text or of a list item, where a browser shows
  nothing for them); ``<p>``, ``<div>``, headings, table rows and other blocks become one ``<br>``
  between their lines (no leading or trailing break is invented); ``<ul>``/``<ol>``/``<li>`` and
  ``<hr>`` (``<hr id="answer">`` for Anki's answer separator) are kept and are block level: each starts
  a new line unless the current line is still empty (e.g. right after a ``<br>``), and text after
  ``</li>``, ``</ul>``, ``</ol>`` or ``<hr>`` starts a new line;
* ``<img src="name">`` where ``name`` is a plain media file name (no path, no URL, no ``..``);
* text: entities decoded, then ``&``, ``<`` and ``>`` escaped (as ``&amp;``, ``&lt;``, ``&gt;``; quotes
  are not escaped in text); runs of HTML whitespace collapsed to one space as a browser shows them, and
  none at the start of a line. Everything else in the text is literal: ``[b]``, ``[color=ff0000]`` and
  ``[sound:x.mp3]`` pass unchanged. The UI must escape Kivy markup in the text and play only the sounds
  listed in :class:`RenderedCard` (their names are checked; a ``[sound:...]`` in the text is just text).

Hostile or broken HTML never raises and is processed in linear time: an unclosed comment runs to the
end of the text (as in a browser), a ``<`` that cannot start a complete tag is text, and nesting deeper
than 64 elements (or clozes, or template sections) is ignored while its text still shows.
"""

from __future__ import annotations

import html as _html
import re
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from urllib.parse import unquote

from flashcards.drafts import DraftNotetype

__all__ = [
    "RenderedCard",
    "card_ordinals",
    "cloze_numbers",
    "field_is_empty",
    "is_safe_media_name",
    "plain_text",
    "render_card",
    "sanitize",
    "sound_names",
]

# --------------------------------------------------------------------------- shared helpers

# HTML's own whitespace (not Python's \s, which would also eat no-break spaces a user typed on purpose).
_WS_RE = re.compile(r"[ \t\n\r\f]+")
# C0 controls (other than whitespace) and DEL: invisible at best, boxes in Kivy at worst.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_EMPTY_FIELD_RE = re.compile(r"^(?:[ \t\n\r\f\u00a0]|&nbsp;|&#160;|</?(?:br|div|p)\s*/?>)*$", re.IGNORECASE)
_SOUND_RE = re.compile(r"\[sound:([^\]\[]+)\]")
_MEDIA_BAD_CHARS_RE = re.compile(r"[/\\:\x00-\x1f\x7f]")


def field_is_empty(html: str) -> bool:
    """True when a field shows nothing: only whitespace, ``&nbsp;``, ``<br>``, ``<div>``/``<p>`` tags."""
    return _EMPTY_FIELD_RE.match(html) is not None


def is_safe_media_name(name: str) -> bool:
    """True for a plain file name in the media folder: no directory part, no URL scheme, not ``.``/``..``,
    no control characters, at most 255 characters."""
    return (
        0 < len(name) <= 255
        and name not in (".", "..")
        and name.strip() == name
        and _MEDIA_BAD_CHARS_RE.search(name) is None
    )


def sound_names(html: str, media_names: Collection[str] | None = None) -> list[str]:
    """The file names of the ``[sound:x]`` references in ``html``, in order, entities decoded.

    Names that are not plain media file names (:func:`is_safe_media_name`) are left out, and so are
    names not in ``media_names`` when it is given.
    """
    names = []
    for m in _SOUND_RE.finditer(html):
        name = _html.unescape(m.group(1))
        if is_safe_media_name(name) and (media_names is None or name in media_names):
            names.append(name)
    return names


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- sanitising

_INLINE = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "sub": "sub", "sup": "sup"}
_LISTS = frozenset({"ul", "ol"})
# Elements whose content is never shown (code, styles, metadata, embedded documents and graphics).
_DROP_CONTENT = frozenset(
    {"script", "style", "template", "head", "title", "noscript", "svg", "math", "iframe", "object",
     "canvas", "select", "textarea", "audio", "video"}
)
# Elements a browser lays out on their own lines; they become line breaks.
_BLOCKS = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "tbody", "thead", "tfoot", "caption",
     "blockquote", "pre", "section", "article", "header", "footer", "main", "nav", "aside", "address",
     "center", "dl", "dt", "dd", "figure", "figcaption", "details", "summary", "form", "fieldset",
     "legend", "li", "ul", "ol", "body", "html"}
)
# Cells are inline-ish: a space keeps "a</td><td>b" from reading as "ab".
_CELLS = frozenset({"td", "th"})
# Inline styles that carry meaning in fields pasted from word processors and old Anki editors.
_STYLE_RULES = (
    ("b", re.compile(r"font-weight\s*:\s*(?:bold|bolder|[6-9]00)\b", re.IGNORECASE)),
    ("i", re.compile(r"font-style\s*:\s*(?:italic|oblique)\b", re.IGNORECASE)),
    ("u", re.compile(r"text-decoration(?:-line)?\s*:[^;]*\bunderline\b", re.IGNORECASE)),
    ("sub", re.compile(r"vertical-align\s*:\s*sub\b", re.IGNORECASE)),
    ("sup", re.compile(r"vertical-align\s*:\s*super\b", re.IGNORECASE)),
)
_NORMAL_WEIGHT_RE = re.compile(r"font-weight\s*:\s*(?:normal|lighter|[1-4]00)\b", re.IGNORECASE)


def _style_tags(attrs: list[tuple[str, str | None]]) -> tuple[tuple[str, ...], bool]:
    """The inline tags a ``style`` attribute stands for, and whether it sets a normal font weight."""
    style = next((v for k, v in attrs if k == "style" and v), None)
    if style is None:
        return (), False
    tags = tuple(name for name, rule in _STYLE_RULES if rule.search(style))
    return tags, _NORMAL_WEIGHT_RE.search(style) is not None


# Deeper nesting than this is ignored (text kept): bounds the work per tag on hostile input.
_MAX_DEPTH = 64


class _Cleaner(HTMLParser):
    """One pass over HTML producing either the safe subset (``plain=False``) or plain text.

    Line structure is tracked so that blocks turn into exactly one line break between lines:
    ``need_break`` (a block ended or started after some content: break before the next content),
    ``brs`` (``<br>`` seen but not written yet: written before the next content, dropped at the end of
    the text or of a list item, where a browser shows nothing for them either) and ``line_start``
    (nothing shown on the current line yet, so leading spaces are dropped). Inline tags are opened
    lazily, when content follows, so empty ones (``<b></b>``) vanish without a trace.
    """

    def __init__(self, plain: bool, media_names: Collection[str] | None, images: bool = True):
        super().__init__(convert_charrefs=True)
        self.plain = plain
        self.media_names = media_names
        self.images = images
        self.out: list[str] = []
        # Open elements we keep (normalised names) and their opening tags; stack[:emitted] are written
        # out, the rest (always inline, always on top) wait for content.
        self.stack: list[str] = []
        self.openers: list[str] = []
        # For each stack entry: the source tag that closes it and which element pushed it (one
        # <span style="font-weight:bold;font-style:italic"> pushes two entries).
        self.keys: list[tuple[str, int]] = []
        self.elements = 0
        self.emitted = 0
        self.skip: list[str] = []  # open drop-content elements
        self.line_start = True
        self.need_break = False
        self.brs = 0
        self.pending_space = False

    # -- output helpers

    def _break(self) -> None:
        """A block boundary: break before the next content, unless the line is still empty."""
        if not self.line_start:
            self.need_break = True
        self.pending_space = False

    def _open_pending(self) -> None:
        if not self.plain:
            self.out.extend(self.openers[self.emitted :])
        self.emitted = len(self.stack)

    def _flush(self) -> None:
        """Emit what is owed before content: a pending line break or space, then pending open tags."""
        breaks = self.brs + self.need_break
        if breaks:
            self.out.append(("\n" if self.plain else "<br>") * breaks)
            self.need_break = False
            self.brs = 0
            self.line_start = True
        elif self.pending_space and not self.line_start:
            self.out.append(" ")
        self.pending_space = False
        self._open_pending()

    def _content(self, piece: str) -> None:
        self._flush()
        self.out.append(piece)
        self.line_start = False

    def _line_markup(self, piece: str) -> None:
        """Block-level markup (hr, lists, list items): starts a line of its own.

        Plain text mirrors what the UI does with the safe subset: a new line, then ``---`` for a rule
        and ``• `` for a list item.
        """
        self.need_break = False
        self.pending_space = False
        if self.brs:
            # Explicit line breaks before a rule or list are kept (the UI starts block markup on a new
            # line only when the current one is not empty, as a browser does).
            self.out.append(("\n" if self.plain else "<br>") * self.brs)
            self.brs = 0
        if self.plain:
            if self.out and not self.out[-1].endswith("\n"):
                self.out.append("\n")
            if piece.startswith("<hr"):
                self.out.append("---\n")
            elif piece == "<li>":
                self.out.append("• ")
        else:
            self._open_pending()
            self.out.append(piece)
        self.line_start = True

    def _push(self, name: str, opener: str, key: str | None = None) -> bool:
        """Open an element; beyond :data:`_MAX_DEPTH` nesting it is ignored (its text still shows)."""
        if len(self.stack) >= _MAX_DEPTH:
            return False
        self.stack.append(name)
        self.openers.append(opener)
        self.keys.append((key or name, self.elements))
        return True

    def _close_to(self, index: int) -> None:
        """Close the open elements from the top of the stack down to ``index`` (inclusive)."""
        while len(self.stack) > index:
            name = self.stack.pop()
            self.openers.pop()
            self.keys.pop()
            block = name in _LISTS or name == "li"
            if len(self.stack) >= self.emitted:
                continue  # never opened in the output: nothing to close
            self.emitted -= 1
            if block:
                self.brs = 0  # <br> at the end of a list item shows nothing
            if self.plain:
                if block:
                    self._line_markup("")
                continue
            self.out.append(f"</{name}>")
            if block:
                self.need_break = False
                self.pending_space = False
                self.line_start = True

    # -- parser callbacks

    def handle_data(self, data: str) -> None:
        if self.skip or not data:
            return
        text = _WS_RE.sub(" ", _CONTROL_RE.sub("", data))
        if text.startswith(" "):
            self.pending_space = True
            text = text[1:]
        if not text:
            return
        trailing = text.endswith(" ")
        if trailing:
            text = text[:-1]
        self._content(text if self.plain else _escape_text(text))
        self.pending_space = trailing

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, void=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # As in browsers, "/>" means nothing on a non-void element (<b/> opens bold) except that we
        # do not let "<script/>" hide the rest of the field.
        self._start(tag, attrs, void=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], void: bool) -> None:
        if self.skip or tag in _DROP_CONTENT:
            if tag in _DROP_CONTENT and not void and len(self.skip) < _MAX_DEPTH:
                self.skip.append(tag)
            return
        self.elements += 1
        styles, normal_weight = _style_tags(attrs)
        inline = _INLINE.get(tag)
        if inline is not None:
            if inline == "b" and normal_weight:
                pass  # Google Docs wraps whole pastes in <b style="font-weight:normal">
            elif inline == "b" and ("class", "cloze") in attrs:
                self._push(inline, '<b class="cloze">')
            else:
                self._push(inline, f"<{inline}>")
            self._push_styles(styles, inline, exclude=inline)
        elif tag == "br":
            self.brs += 1 + self.need_break
            self.need_break = False
            self.pending_space = False
            self.line_start = True
        elif tag == "img":
            self._img(attrs)
        elif tag == "hr":
            self._line_markup('<hr id="answer">' if ("id", "answer") in attrs else "<hr>")
        elif tag in _LISTS:
            if len(self.stack) < _MAX_DEPTH:
                self._line_markup(f"<{tag}>")
                self._push(tag, f"<{tag}>")
                self.emitted = len(self.stack)
        elif tag == "li":
            self._li()
        else:
            if tag in _BLOCKS:
                self._break()
            elif tag in _CELLS:
                self.pending_space = not self.line_start
            self._push_styles(styles, tag)

    def _push_styles(self, styles: tuple[str, ...], key: str, exclude: str = "") -> None:
        for name in styles:
            if name != exclude:
                self._push(name, f"<{name}>", key)

    def _li(self) -> None:
        list_at = max((k for k, t in enumerate(self.stack) if t in _LISTS), default=-1)
        if list_at < 0:
            self._break()  # a list item outside a list is just a block
            return
        if "li" in self.stack[list_at:]:
            # An open item of the same list ends where the next one starts (HTML's implied </li>).
            self._close_to(self.stack.index("li", list_at))
        if len(self.stack) < _MAX_DEPTH:
            self._line_markup("<li>")
            self._push("li", "<li>")
            self.emitted = len(self.stack)

    def _img(self, attrs: list[tuple[str, str | None]]) -> None:
        if not self.images:
            return
        src = next((v for k, v in attrs if k == "src" and v), None)
        if src is None:
            return
        src = src.strip()
        if self.media_names is not None and src not in self.media_names:
            # Some editors percent-encode file names in src; the media folder holds the real name.
            src = unquote(src)
            if src not in self.media_names:
                return
        if not is_safe_media_name(src):
            return
        if self.plain:
            self._content(f"[image: {src}]")
        else:
            self._content('<img src="' + _html.escape(src, quote=True) + '">')

    def handle_endtag(self, tag: str) -> None:
        if self.skip:
            if tag in self.skip:
                del self.skip[self.skip.index(tag) :]
            return
        key = _INLINE.get(tag, tag)
        for k in range(len(self.keys) - 1, -1, -1):
            if self.keys[k][0] == key:
                # Close the element's own entries (and anything opened inside it).
                element = self.keys[k][1]
                while k > 0 and self.keys[k - 1][1] == element:
                    k -= 1
                self._close_to(k)
                break
        if tag in _BLOCKS:
            self._break()
        elif tag in _CELLS:
            self.pending_space = not self.line_start

    def finish(self) -> str:
        """Flush the parser, close what is open and return the result."""
        self.close()
        self.pending_space = False
        self.need_break = False
        self.brs = 0  # trailing line breaks show nothing
        self._close_to(0)
        return "".join(self.out)


_MARKED_SECTION_RE = re.compile(r"<!\[([a-zA-Z][-_.a-zA-Z0-9]*)?")
_MS_SECTION_CLOSE_RE = re.compile(r"\]\s*>")
_SECTION_CLOSE_RE = re.compile(r"\]\s*\]\s*>")
_STANDARD_SECTIONS = frozenset({"temp", "cdata", "ignore", "include", "rcdata"})
_MS_SECTIONS = frozenset({"if", "else", "endif"})


def _last_end(pattern: re.Pattern[str], text: str) -> int:
    last = -1
    for m in pattern.finditer(text):
        last = m.end()
    return last


def _defuse(html: str) -> str:
    """Neutralise constructs that make ``html.parser`` slow or raise, keeping what a browser shows.

    Python's parser (before 3.13.4 / 3.12.11) re-scans to the end of the text for every construct
    that is never closed (CVE-2025-6069): ``"<!--" * 25000`` takes minutes. A browser treats an unclosed
    comment as running to the end, so the text is cut there; a ``<`` after the last ``>`` can never
    start a complete tag, so it is text (as the parser would make it, in linear time); a ``<![``
    section with no close after it, or with a keyword the parser rejects, is text too.
    """
    if "<!--" in html:
        cut = html.find("<!--", html.rfind("-->") + 1)
        if cut >= 0:
            html = html[:cut]
    last_gt = html.rfind(">")
    if html.find("<", last_gt + 1) >= 0:
        html = html[: last_gt + 1] + html[last_gt + 1 :].replace("<", "&lt;")
    if "<![" in html:
        last_std = _last_end(_SECTION_CLOSE_RE, html)
        last_ms = _last_end(_MS_SECTION_CLOSE_RE, html)

        def check(m: re.Match[str]) -> str:
            name = (m.group(1) or "").lower()
            closes = last_std if name in _STANDARD_SECTIONS else last_ms if name in _MS_SECTIONS else -1
            return m.group(0) if m.end() < closes else "&lt;!" + m.group(0)[2:]

        html = _MARKED_SECTION_RE.sub(check, html)
    return html


def _clean(html: str, plain: bool, media_names: Collection[str] | None, images: bool = True) -> str:
    if "<" not in html and "&" not in html:
        # Plain text (most fields): what the parser would do, without it.
        text = _WS_RE.sub(" ", _CONTROL_RE.sub("", html)).strip(" ")
        return text if plain else text.replace(">", "&gt;")
    html = _defuse(html)
    cleaner = _Cleaner(plain, media_names, images)
    try:
        cleaner.feed(html)
        return cleaner.finish()
    except AssertionError:
        # Last resort for other parser versions' quirks: read everything as text, never fail.
        cleaner = _Cleaner(plain, media_names, images)
        cleaner.feed(html.replace("<", "&lt;"))
        return cleaner.finish()


def sanitize(html: str, media_names: Collection[str] | None = None) -> str:
    """The safe HTML subset of ``html`` (see the module docstring for exactly what is kept).

    Unknown tags are dropped and their text kept; the content of ``script``, ``style`` and other
    non-text elements is dropped entirely. Entities are decoded and ``&``, ``<``, ``>`` re-escaped, so
    the result never holds a tag it did not make, and ``sanitize(sanitize(x)) == sanitize(x)``.
    ``<img>`` keeps only ``src``, and only a plain file name; with ``media_names`` given, images not in
    it (also after percent-decoding) are dropped. Malformed HTML never raises.
    """
    return _clean(html, False, media_names)


def plain_text(html: str, images: bool = True) -> str:
    """``html`` as plain text, for the terminal and for search.

    Tags removed, entities decoded, ``script``/``style`` content dropped, whitespace collapsed as a
    browser would; ``<br>`` and block ends give newlines, list items start with ``• ``, ``<hr>`` is a
    ``---`` line; images show as ``[image: name]`` (or nothing with ``images=False``); ``[sound:x]``
    references stay. Leading and trailing blank lines are removed.
    """
    text = _clean(html, True, None, images)
    # Spaces before a line end are invisible; a bare "• " item keeps its bullet.
    return "\n".join(line.rstrip(" ") for line in text.split("\n")).strip("\n")


# --------------------------------------------------------------------------- clozes

_CLOZE_TOKEN_RE = re.compile(r"\{\{c(\d+(?:,\d+)*)::|\}\}")


class _Cloze:
    __slots__ = ("ords", "nodes", "hint", "opener")

    def __init__(self, ords: frozenset[int], opener: str):
        self.ords = ords
        self.opener = opener
        self.nodes: list[str | _Cloze] = []
        self.hint: str | None = None


@lru_cache(maxsize=2048)
def _parse_clozes(text: str) -> tuple[str | _Cloze, ...]:
    """Split field text into text pieces and (possibly nested) clozes.

    ``}}`` closes the innermost open cloze; a ``}}`` with none open is text; a cloze never closed is
    text (its opener included). The hint is what follows the first ``::`` in the cloze's last text piece.
    """
    root: list[str | _Cloze] = []
    stack: list[_Cloze] = []
    pos = 0
    for m in _CLOZE_TOKEN_RE.finditer(text):
        before = text[pos : m.start()]
        target = stack[-1].nodes if stack else root
        if before:
            target.append(before)
        pos = m.end()
        if m.group(1) is not None:
            if len(stack) >= _MAX_DEPTH:
                target.append(m.group(0))  # absurdly deep nesting: text, not recursion
                continue
            ords = frozenset(int(n) for n in m.group(1).split(",") if int(n) > 0)
            stack.append(_Cloze(ords, m.group(0)))
        elif stack:
            cloze = stack.pop()
            last = cloze.nodes[-1] if cloze.nodes else None
            if isinstance(last, str) and "::" in last:
                answer, cloze.hint = last.split("::", 1)
                if answer:
                    cloze.nodes[-1] = answer
                else:
                    cloze.nodes.pop()
            (stack[-1].nodes if stack else root).append(cloze)
        else:
            target.append(m.group(0))
    rest = text[pos:]
    if rest:
        (stack[-1].nodes if stack else root).append(rest)
    while stack:
        cloze = stack.pop()
        parent = stack[-1].nodes if stack else root
        parent.append(cloze.opener)
        parent.extend(cloze.nodes)
    return tuple(root)


def _walk_clozes(nodes: Iterable[str | _Cloze]) -> Iterable[_Cloze]:
    for node in nodes:
        if isinstance(node, _Cloze):
            yield node
            yield from _walk_clozes(node.nodes)


def cloze_numbers(text: str) -> list[int]:
    """The sorted distinct cloze numbers in ``text``: ``{{c1::a}}``, ``{{c2::a::hint}}``, ``{{c1,3::a}}``
    and nested clozes. Clozes never closed and ``c0`` do not count."""
    numbers: set[int] = set()
    for cloze in _walk_clozes(_parse_clozes(text)):
        numbers.update(cloze.ords)
    return sorted(numbers)


def _render_clozes(nodes: Iterable[str | _Cloze], number: int, front: bool, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif number in node.ords:
            if front:
                out.append('<b class="cloze">[' + (node.hint if node.hint is not None else "...") + "]</b>")
            else:
                out.append('<b class="cloze">')
                _render_clozes(node.nodes, number, front, out)
                out.append("</b>")
        else:
            _render_clozes(node.nodes, number, front, out)


def _cloze_filter(text: str, number: int, front: bool) -> str:
    out: list[str] = []
    _render_clozes(_parse_clozes(text), number, front, out)
    return "".join(out)


def _cloze_only_filter(text: str, number: int) -> str:
    answers = []
    for cloze in _walk_clozes(_parse_clozes(text)):
        if number in cloze.ords:
            out: list[str] = []
            _render_clozes(cloze.nodes, number, False, out)
            answers.append("".join(out))
    return ", ".join(answers)


# --------------------------------------------------------------------------- furigana filters

# " 漢字[かんじ]": the reading in brackets belongs to the run of text before it, back to a space
# (which is swallowed: it only separates readings) or a tag's ">".
_READING_RE = re.compile(r"\[([^\[\]]+)\]")


def _furigana_sub(text: str, fmt: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _READING_RE.finditer(text):
        reading = m.group(1)
        if reading.startswith("sound:"):
            continue  # a [sound:x] reference, not a reading
        space = text.rfind(" ", pos, m.start())
        gt = text.rfind(">", pos, m.start())
        start = max(space, gt) + 1 if max(space, gt) >= 0 else pos
        if start == m.start():
            continue  # nothing to annotate
        out.append(text[pos : start - 1 if space >= 0 and space == start - 1 else start])
        out.append(fmt.format(base=text[start : m.start()], reading=reading))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


# --------------------------------------------------------------------------- templates

# No braces inside a tag (field names cannot hold them): keeps the scan linear on "{{{{{{...".
_TAG_RE = re.compile(r"\{\{([^{}]*)\}\}")


@dataclass(frozen=True, slots=True)
class _Repl:
    field: str
    filters: tuple[str, ...]  # as written, left to right; applied right to left


@dataclass(frozen=True, slots=True)
class _Section:
    field: str
    negated: bool
    children: tuple


@lru_cache(maxsize=512)
def _parse_template(src: str) -> tuple:
    """Parse a template into text pieces, :class:`_Repl` and :class:`_Section` nodes (cached)."""
    root: list = []
    # (field, negated, children) of each open section, innermost last
    open_sections: list[tuple[str, bool, list]] = []
    pos = 0
    for m in _TAG_RE.finditer(src):
        target = open_sections[-1][2] if open_sections else root
        if m.start() > pos:
            target.append(src[pos : m.start()])
        pos = m.end()
        key = m.group(1).strip()
        if key[:1] in ("#", "^"):
            if len(open_sections) < _MAX_DEPTH:  # deeper sections are ignored, not recursed into
                open_sections.append((key[1:].strip(), key[0] == "^", []))
        elif key[:1] == "/":
            name = key[1:].strip()
            names = [s[0] for s in open_sections]
            if name in names:
                index = len(names) - 1 - names[::-1].index(name)
                while len(open_sections) > index:
                    _close_section(open_sections, root)
            # else: a stray closing tag; ignored.
        elif key:
            parts = [p.strip() for p in key.split(":")]
            target.append(_Repl(parts[-1], tuple(parts[:-1])))
    target = open_sections[-1][2] if open_sections else root
    if pos < len(src):
        target.append(src[pos:])
    while open_sections:
        _close_section(open_sections, root)
    return tuple(root)


def _close_section(open_sections: list, root: list) -> None:
    name, negated, children = open_sections.pop()
    (open_sections[-1][2] if open_sections else root).append(_Section(name, negated, tuple(children)))


@lru_cache(maxsize=512)
def _cloze_fields(src: str) -> tuple[str, ...]:
    """The fields a template renders through the ``cloze`` filter, in order."""
    found: list[str] = []

    def walk(nodes: tuple) -> None:
        for node in nodes:
            if isinstance(node, _Repl) and "cloze" in node.filters and node.field not in found:
                found.append(node.field)
            elif isinstance(node, _Section):
                walk(node.children)

    walk(_parse_template(src))
    return tuple(found)


_SPECIAL_FIELDS = frozenset({"FrontSide", "Tags", "Type", "Deck", "Subdeck", "Card", "CardFlag"})


class _Context:
    """What a template is rendered against: field values by name, the card and the side."""

    __slots__ = ("values", "number", "front")

    def __init__(self, values: dict[str, str], number: int, front: bool):
        self.values = values
        self.number = number  # the cloze number this card shows (its ordinal + 1)
        self.front = front

    def get(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None and name:
            # Anki matches field names exactly; a case slip in a hand-made template still finds its field.
            lowered = name.casefold()
            for key, val in self.values.items():
                if key.casefold() == lowered:
                    return val
        return value


def _apply_filters(text: str, filters: tuple[str, ...], ctx: _Context) -> str:
    if "type" in filters:
        # No typing box: show the answer on the back only, and nothing for type:cloze.
        if ctx.front or "cloze" in filters:
            return ""
        filters = tuple(f for f in filters if f not in ("type", "nc"))
    for name in reversed(filters):
        if name == "cloze":
            text = _cloze_filter(text, ctx.number, ctx.front)
        elif name == "cloze-only":
            text = _cloze_only_filter(text, ctx.number)
        elif name == "text":
            text = _escape_text(plain_text(text, images=False).replace("\n", " "))
        elif name.startswith("tts ") or name == "tts":
            return ""
        elif name == "kanji":
            text = _furigana_sub(text, "{base}")
        elif name == "kana":
            text = _furigana_sub(text, "{reading}")
        elif name == "furigana":
            text = _furigana_sub(text, "{base}({reading})")
        # "hint" and unknown filters: the text as is.
    return text


def _render_nodes(nodes: tuple, ctx: _Context, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Repl):
            value = ctx.get(node.field)
            if value:
                out.append(_apply_filters(value, node.filters, ctx) if node.filters else value)
        else:
            value = ctx.get(node.field)
            shown = value is not None and not field_is_empty(value)
            if shown != node.negated:
                _render_nodes(node.children, ctx, out)


def _front_uses_nonempty_field(nodes: tuple, ctx: _Context, note_fields: frozenset[str]) -> bool:
    """Anki's card-generation rule: the front renders some non-empty note field (conditionals honoured)."""
    for node in nodes:
        if isinstance(node, _Repl):
            if node.field in note_fields and not any(
                f == "type" or f == "tts" or f.startswith("tts ") for f in node.filters
            ):
                value = ctx.get(node.field)
                if value is not None and not field_is_empty(value):
                    return True
        elif isinstance(node, _Section):
            value = ctx.get(node.field)
            shown = value is not None and not field_is_empty(value)
            if shown != node.negated and _front_uses_nonempty_field(node.children, ctx, note_fields):
                return True
    return False


def _field_values(notetype: DraftNotetype, fields: Sequence[str]) -> dict[str, str]:
    values = dict(zip(notetype.fields, fields, strict=False))
    for name in notetype.fields[len(fields) :]:
        values[name] = ""
    return values


def card_ordinals(notetype: DraftNotetype, fields: Sequence[str]) -> list[int]:
    """The ordinals of the cards a note has.

    Cloze note type: the cloze numbers minus one found in the fields its template renders with
    ``{{cloze:X}}`` (every field when the template names none). An empty list means the note has no
    cloze: the caller decides (importers skip such notes with a reason).

    Standard note type: every template whose front renders a non-empty note field (Anki's rule; static
    template text, ``{{type:}}``, ``{{tts}}`` and special fields do not count; conditionals are honoured).
    When no template qualifies but the first field is not empty, card 0 is still made, so a note with
    content always has a card.
    """
    if notetype.is_cloze:
        template = notetype.templates[0] if notetype.templates else None
        names: tuple[str, ...] = ()
        if template is not None:
            names = _cloze_fields(template.front) + _cloze_fields(template.back)
        values = _field_values(notetype, fields)
        texts = [values[n] for n in dict.fromkeys(names) if n in values] if names else list(fields)
        numbers: set[int] = set()
        for text in texts:
            numbers.update(cloze_numbers(text))
        return [n - 1 for n in sorted(numbers)]
    values = _field_values(notetype, fields)
    note_fields = frozenset(notetype.fields)
    ords = []
    for ord_, template in enumerate(notetype.templates):
        ctx = _Context(values, ord_ + 1, front=True)
        if _front_uses_nonempty_field(_parse_template(template.front), ctx, note_fields):
            ords.append(ord_)
    if not ords and notetype.templates and fields and not field_is_empty(fields[0]):
        ords.append(0)
    return ords


@dataclass(slots=True)
class RenderedCard:
    """Both sides of one card, as sanitised HTML (see :func:`sanitize`).

    ``sounds_front`` / ``sounds_back``: the ``[sound:x]`` file names to play when that side is shown, in
    order (the back's list leaves out the sounds of ``{{FrontSide}}``). ``images``: the image file names
    either side shows, in order, without repeats (for preloading). All names are plain media file names.
    The ``[sound:x]`` references stay in ``front``/``back`` as text: the UI puts play buttons there.
    """

    front: str
    back: str
    sounds_front: list[str] = field(default_factory=list)
    sounds_back: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


# Stands for {{FrontSide}} while the back is rendered, so the back's own sounds can be told apart.
# Private-use characters plus a random part: no field text contains it by accident.
_FRONTSIDE_MARK = "\ue000" + secrets.token_hex(8) + "\ue001"
_IMG_SRC_RE = re.compile(r'<img src="([^"]*)">')


def render_card(
    notetype: DraftNotetype,
    fields: Sequence[str],
    ord: int,
    media_names: Collection[str] | None = None,
    tags: Sequence[str] = (),
    deck: str = "",
) -> RenderedCard:
    """Render card ``ord`` of a note: both sides as sanitised HTML, plus its sounds and images.

    ``fields`` are in the note type's field order (missing ones are empty). For a cloze note type
    ``ord`` is the cloze number minus one and the single template is used; otherwise ``ord`` is the
    template's index (``ValueError`` when the note type has no such template). ``media_names``, when
    given, is the set of files in the media folder: images and sounds not in it are left out.
    ``tags`` and ``deck`` feed the ``{{Tags}}``, ``{{Deck}}`` and ``{{Subdeck}}`` special fields.
    """
    if notetype.is_cloze:
        if not notetype.templates:
            raise ValueError(f"note type {notetype.name!r} has no template")
        template = notetype.templates[0]
    else:
        if not 0 <= ord < len(notetype.templates):
            raise ValueError(f"note type {notetype.name!r} has no card template {ord}")
        template = notetype.templates[ord]
    values = _field_values(notetype, fields)
    specials = {
        "Tags": _escape_text(" ".join(tags)),
        "Type": _escape_text(notetype.name),
        "Card": _escape_text(template.name),
        "Deck": _escape_text(deck),
        "Subdeck": _escape_text(deck.rsplit("::", 1)[-1]),
        "FrontSide": "",
    }
    for name, value in specials.items():
        values.setdefault(name, value)
    if notetype.is_cloze:
        values.setdefault(f"c{ord + 1}", "1")

    ctx = _Context(values, ord + 1, front=True)
    out: list[str] = []
    _render_nodes(_parse_template(template.front), ctx, out)
    front = sanitize("".join(out), media_names)

    ctx.front = False
    if front and values["FrontSide"] == "":
        # The back is sanitised with a mark where the front goes, so that its own sounds can be listed
        # apart from the front's; then the (already sanitised) front takes the mark's place.
        values["FrontSide"] = _FRONTSIDE_MARK
    out = []
    _render_nodes(_parse_template(template.back), ctx, out)
    back = sanitize("".join(out), media_names)
    sounds_back = sound_names(back, media_names)
    if _FRONTSIDE_MARK in back:
        back = back.replace(_FRONTSIDE_MARK, front)

    images = list(dict.fromkeys(_html.unescape(m) for m in _IMG_SRC_RE.findall(front + back)))
    return RenderedCard(
        front=front,
        back=back,
        sounds_front=sound_names(front, media_names),
        sounds_back=sounds_back,
        images=images,
    )
