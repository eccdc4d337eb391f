"""Deriving a deck from article text: pure functions, text in, :class:`~flashcards.drafts.Draft` out.

The steps, each a public function so it can be tested on its own:

1. :func:`flashcards.textclean.decode` / :func:`~flashcards.textclean.clean_text` — bytes to clean text
   (encodings, HTML entities with or without their ``&``, mojibake, odd spaces).
2. :func:`structure` — paragraphs, title and section headings, with scraping boilerplate removed
   (site banners, breadcrumbs, date/category/view-count lines, teasers repeating the opening,
   repeated title lines, share/cookie/copyright lines).
3. :func:`split_sentences` — sentences, minding abbreviations, initials, decimals and dotted acronyms.
4. :func:`find_entities` — people, organisations, places and events named in the article, so that a
   bare "Trotsky" is known to be the person "Leon Trotsky".
5. :func:`cards_for_sentence` — candidate cards: a reversed card for "ACRONYM (Full Name)", a question
   for "X, the Y," and for sentences whose subject is a named person, and cloze deletions for years,
   dates, numbers with units and names. Every card is checked: its answer is no stop-word and cannot
   be read off the rest of the card.
6. :func:`derive` — all of it, deduplicated, with ids stable across re-derivations (a hash of the
   source sentence and the deletion), so a corrected article re-imports as updates.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from flashcards.drafts import BASIC, CLOZE, REVERSED, Draft, DraftDeck, DraftNote, content_guid
from flashcards.errors import ImportFailed
from flashcards.textclean import DecodeError, clean_text, decode

# --------------------------------------------------------------------------- vocabularies

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each even ever every few for from
    further had has have having he her here hers herself him himself his how however i if in into is it
    its itself just may me might more most much must my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through thus to too under until up upon very was we were
    what when where which while who whom why will with within would yet you your yours yourself
    yourselves one ones many several another""".split()
)

# Words before a full stop that do not end a sentence (compared lower-case, without the dot).
ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st mt ft gen col lt maj sgt capt cmdr adm gov sen rep pres rev fr hon
    vs cf al approx ca no nos vol vols pp p fig figs jan feb mar apr jun jul aug sep sept oct nov dec
    inc ltd co corp dept univ est op ed eds c""".split()
)

# Capitalised words that start sentences but never begin a name.
_SENTENCE_STARTERS = frozenset(
    """although as after before but despite during however if in initially meanwhile moreover on once
    over since still the these this those though thus today under unlike until when whereas while yet
    understanding later eventually finally first second third then there here it its their his her our
    we they he she one many some most several each every both among according""".split()
)

MONTHS = (
    "January February March April May June July August September October November December".split()
)

# Offices before a name ("Prime Minister Winston Churchill"); nationality words count as part of a
# title only in front of an office ("British Prime Minister"), not alone ("Nazi Germany").
_OFFICES = frozenset(
    """president prime minister general marshal admiral colonel captain chancellor king queen tsar czar
    emperor empress pope saint sir lord lady dr mr mrs ms prof professor secretary premier chairman
    commissar leader senator governor mayor prince princess duke""".split()
)
_NATIONALITIES = frozenset(
    """british american french german soviet russian italian japanese chinese nazi polish english
    ukrainian georgian""".split()
)
_TITLES = _OFFICES | _NATIONALITIES
_ORG_WORDS = frozenset(
    """party army navy air force commissariat committee council ministry department company corporation
    inc ltd university college institute bank church agency bureau association society league government
    parliament senate congress court police guard organization organisation foundation politburo cheka
    kgb nkvd gestapo academy school hospital museum club team""".split()
)
_EVENT_WORDS = frozenset(
    """war revolution purge purges battle treaty crisis uprising rebellion siege olympics conference
    depression movement famine pact agreement summit election elections trial trials massacre plan
    blockade invasion offensive campaign fire earthquake eruption flood plague riot riots strike reformation
    renaissance crusade expedition armistice ceasefire coup""".split()
)
_PLACE_WORDS = frozenset(
    """union kingdom republic states city river mountains mountain sea ocean island islands lake street
    province county valley bay gulf desert peninsula empire oblast region center centre station base
    airport port harbour harbor park square bridge lane road avenue cathedral castle palace tower abbey
    temple""".split()
)
# First words that make a name a place ("Mount Vesuvius", "Lake Baikal", "Fort Sumter").
_PLACE_LEADS = frozenset("mount mt lake cape fort port isle gulf bay".split())
# All-capital words that are not organisations.
_NOT_ACRONYMS = frozenset("AD BC BCE CE AM PM UTC GMT OK TV II III IV".split())
PLACES = frozenset(
    """afghanistan africa albania america antarctica argentina armenia asia australia austria azerbaijan
    belarus belgium berlin bolivia brazil britain bulgaria canada chile china colombia crimea croatia cuba
    czechoslovakia denmark egypt england estonia ethiopia europe finland france georgia germany greece
    hungary india indonesia iran iraq ireland israel italy japan kazakhstan korea kyiv kiev latvia lithuania
    london manchuria mexico mongolia moscow netherlands norway pakistan paris petrograd poland portugal
    romania russia scotland serbia siberia spain stalingrad sweden switzerland syria tokyo turkey ukraine
    uzbekistan vietnam wales warsaw washington yalta yugoslavia leningrad""".split()
)

_ROMAN_RE = re.compile(r"^(?=[IVXLC]+$)M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})$")

# --------------------------------------------------------------------------- markup

_HTML_HINT_RE = re.compile(r"<(?:p|div|br|h[1-6]|li|ul|ol|article|section|span|a|body|html)\b[^>]*>", re.I)
_HTML_DROP_RE = re.compile(r"<(script|style|head|nav|header|footer|aside|noscript|form)\b.*?</\1\s*>", re.I | re.S)
_HTML_BLOCK_RE = re.compile(r"</?(?:p|div|br|h[1-6]|li|ul|ol|article|section|tr|table|blockquote|pre)\b[^>]*>", re.I)
_MD_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", re.M)
_MD_BULLET_RE = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+(?=\S)", re.M)
_MD_LINK_RE = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS_RE = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_CITATION_RE = re.compile(r"\[(?:\d+|[a-z]|note \d+|citation needed|clarification needed)\]", re.I)


def strip_markup(text: str) -> str:
    """Plain text from an article saved as HTML or written in Markdown: tags, scripts and navigation
    removed, headings and list items on lines of their own, links reduced to their text, and
    Wikipedia-style citation marks ("[12]", "[citation needed]") dropped."""
    if _HTML_HINT_RE.search(text):
        text = _HTML_DROP_RE.sub("\n", text)
        text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
        text = _HTML_BLOCK_RE.sub("\n\n", text)
        text = re.sub(r"<[^>]+>", "", text)
    text = _MD_HEADING_RE.sub(lambda m: f"\n{m.group(1)}\n", text)
    text = _MD_BULLET_RE.sub("\n", text)
    text = _MD_LINK_RE.sub(r"\1", text)
    text = _MD_EMPHASIS_RE.sub(r"\2", text)
    return _CITATION_RE.sub("", text)


# --------------------------------------------------------------------------- structure


@dataclass
class Section:
    """A run of paragraphs under one heading (``heading`` None for the unheaded opening/ending)."""

    heading: str | None
    tag: str
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class Article:
    """An article's title, its sections, and the boilerplate lines that were dropped (for reports)."""

    title: str | None
    sections: list[Section]
    dropped: list[str] = field(default_factory=list)

    def sentences(self) -> list[tuple[Section, str]]:
        """Every sentence with its section, in reading order."""
        return [(s, sent) for s in self.sections for p in s.paragraphs for sent in split_sentences(p)]


_TERMINAL = ".!?…\"”’)]"
_MONTH_RE = "(?:" + "|".join(m[:3] + "(?:" + m[3:] + ")?" for m in MONTHS) + r")\.?"
_DATE_ANY_RE = re.compile(
    r"\b(?:" + _MONTH_RE + r"\s+\d{1,2}(?:st|nd|rd|th)?,?\s*\d{4}"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH_RE + r",?\s+\d{4}"
    r"|\d{4}-\d{2}-\d{2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4})",
    re.I,
)
_META_WORDS_RE = re.compile(
    r"\b(?:views?|comments?|min(?:ute)?s? read|posted|published|updated|written by|by\s+[A-Z]\w+\s*\||"
    r"\d+\s+(?:hours?|days?|weeks?|months?)\s+ago)\b",
    re.I,
)
_BOILERPLATE_RE = re.compile(
    r"^(?:share(?: this)?(?: article| post| story| page)?(?: on \w+)?|tweet|print|email|advertisement|sponsored|read more|related"
    r"(?: articles| posts| stories)?|you may also like|subscribe\b.*|sign up\b.*|log in|login|"
    r"accept (?:all )?cookies|.*\bcookies?\b.*|all rights reserved.*|copyright\b.*|©.*|tags?:.*|"
    r"categor(?:y|ies):.*|leave a (?:reply|comment)|(?:\d+ )?comments?|previous(?: article| post)?|"
    r"next(?: article| post)?|back to top|skip to (?:main )?content|menu|home|search)$",
    re.I,
)
_BREADCRUMB_SEP_RE = re.compile(r"\s(?:>|»|›|→|/|\\)\s|(?<=\w)(?:>|»|›)(?=\w)")
_CONCLUSION_CUE_RE = re.compile(
    r"^(?:in conclusion|to conclude|in summary|to sum up|in short|overall|ultimately|in the end|all in all|"
    r"despite|understanding|thus|therefore|clearly|taken together|in sum)\b",
    re.I,
)


def _is_heading_like(line: str) -> bool:
    """Short, no end punctuation, starts with a capital or digit: a title or section heading shape."""
    words = line.split()
    return (
        0 < len(words) <= 14
        and not re.search(r"[.!?]\s+[A-Z]", line)  # a full stop inside: sentences, not a heading
        and len(line) <= 110
        and line[-1] not in _TERMINAL + ",;:"
        and (line[0].isupper() or line[0].isdigit())
    )


def _is_breadcrumb(line: str) -> bool:
    if re.match(r"^(?:location|you are here|breadcrumbs?)\s*:", line, re.I):
        return True
    return len(_BREADCRUMB_SEP_RE.findall(line)) >= 2 and len(line) <= 160 and line[-1] not in ".!?"


def _is_meta(line: str) -> bool:
    """A date / author / category / view-count line (not a sentence that happens to hold a date)."""
    if len(line) > 140 or line[-1] in ".!?" or len(line.split()) > 16:
        return False
    return bool(_DATE_ANY_RE.search(line) or _META_WORDS_RE.search(line))


def _is_item(line: str, block_lines: int, block_width: int) -> bool:
    """A line that stands alone (heading, banner, breadcrumb, date line) within a block of lines."""
    if _is_meta(line) or _is_breadcrumb(line):
        return True
    # In hard-wrapped prose most lines are about as wide as the widest: those are not headings.
    wrapped = block_lines >= 3 and block_width >= 50 and len(line) >= 0.8 * block_width
    return _is_heading_like(line) and not wrapped


def _units(text: str) -> list[str]:
    """Paragraph-like units: blank-line separated blocks, split where a line is a heading or a
    one-line item (banner, breadcrumb, date line), joined where a paragraph was hard-wrapped."""
    units: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
        width = max((len(ln) for ln in lines), default=0)
        current: list[str] = []
        for line in lines:
            if current:
                prev = " ".join(current)
                if (len(current) == 1 and _is_item(current[0], len(lines), width)) or (
                    _is_item(line, len(lines), width) and prev[-1] in _TERMINAL
                ):
                    units.append(prev)
                    current = []
            current.append(line)
        if current:
            units.append(" ".join(current))
    return units


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s).strip().lower()


def slug(text: str) -> str:
    """A tag made from a heading: lower case, words joined by hyphens."""
    return re.sub(r"[^\w]+", "-", text.lower()).strip("-_") or "section"


def structure(text: str) -> Article:
    """Split clean article text into title, sections and paragraphs, dropping scraping boilerplate."""
    units = _units(text)
    dropped: list[str] = []
    kept: list[tuple[str, str]] = []  # (kind, text) with kind "heading" | "prose" | "meta"
    for unit in units:
        if _is_breadcrumb(unit) or _BOILERPLATE_RE.match(unit):
            dropped.append(unit)
        elif _is_meta(unit):
            kept.append(("meta", unit))
        elif _is_heading_like(unit):
            kept.append(("heading", unit))
        else:
            kept.append(("prose", unit))

    # Inside the text a short dated line is a heading ("May 9, 1945: Victory"), not a page's date line.
    first_prose = next((i for i, (k, _u) in enumerate(kept) if k == "prose"), len(kept))
    kept = [
        ("heading", u) if k == "meta" and i > first_prose and not _META_WORDS_RE.search(u) and _is_heading_like(u)
        else (k, u)
        for i, (k, u) in enumerate(kept)
    ]

    # Teasers: a unit that the text following it starts with (a truncated copy of the opening).
    norms = [_norm(u) for _k, u in kept]
    filtered: list[tuple[str, str]] = []
    for i, (kind, unit) in enumerate(kept):
        stem = re.sub(r"(?:\.\.\.|…|\s)+$", "", unit)
        key = _norm(stem)
        after = [norms[j] for j in range(i + 1, min(i + 6, len(kept))) if kept[j][0] != "meta"]
        if len(stem) >= 20 and kind != "meta" and after and key != after[0]:
            following = " ".join(after)
            # A copy of the opening that is cut off: runs past the next unit, stops inside a word,
            # or ends in an ellipsis. (A heading equal to the next line is a repeat, handled below.)
            cut = len(key) > len(after[0]) or stem != unit or following[len(key) : len(key) + 1].isalnum()
            if following.startswith(key) and cut:
                dropped.append(unit)
                continue
        filtered.append((kind, unit))
    kept = filtered

    # Title: the heading right before a date/meta line, else the first heading of three or more words
    # before any prose. Short headings before it are site banners and category labels.
    first_prose = next((i for i, (k, _u) in enumerate(kept) if k == "prose"), len(kept))
    title_at = None
    for i in range(first_prose):
        if kept[i][0] == "heading" and i + 1 < len(kept) and kept[i + 1][0] == "meta":
            title_at = i
            break
    if title_at is None:
        title_at = next(
            (i for i in range(first_prose) if kept[i][0] == "heading" and len(kept[i][1].split()) >= 3), None
        )
    if title_at is None:
        title_at = next((i for i in range(first_prose) if kept[i][0] == "heading"), None)
    title = kept[title_at][1] if title_at is not None else None
    if title_at is not None:
        dropped += [u for _k, u in kept[:title_at]]
        kept = kept[title_at + 1 :]
    dropped += [u for k, u in kept if k == "meta"]
    kept = [(k, u) for k, u in kept if k != "meta"]

    sections: list[Section] = [Section(None, "intro")]
    seen_paragraphs: set[str] = set()
    for kind, unit in kept:
        if title is not None and _norm(unit) == _norm(title):
            dropped.append(unit)  # a repeated title line
            continue
        if kind == "heading":
            current = sections[-1]
            subtitle = ":" in unit or len(unit.split()) >= 7
            if len(sections) == 1 and not current.paragraphs and current.heading is None and subtitle:
                # A subtitle right after the title belongs to the unheaded opening.
                current.heading = unit
                continue
            sections.append(Section(unit, slug(unit)))
        else:
            key = _norm(unit)
            if key in seen_paragraphs:
                dropped.append(unit)
                continue
            seen_paragraphs.add(key)
            sections[-1].paragraphs.append(unit)

    # A final paragraph that sums up, after a headed section of several paragraphs: the conclusion.
    last = sections[-1]
    if len(sections) > 2 and len(last.paragraphs) >= 2 and _CONCLUSION_CUE_RE.match(last.paragraphs[-1]):
        sections.append(Section(None, "conclusion", [last.paragraphs.pop()]))
    if sections[0].heading is not None and sections[0].paragraphs == [] and len(sections) > 1:
        sections.pop(0)
    sections = [s for s in sections if s.paragraphs]
    # Headings followed by nothing are not content; they are dropped silently with their section.
    return Article(title=title, sections=sections, dropped=dropped)


# --------------------------------------------------------------------------- sentences

_BOUNDARY_RE = re.compile(r"([.!?…]+)([\"”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9])")
_COMMON_STARTERS = frozenset(
    """the this that it he she they we in but a an his her their these those then there however after
    before when while so yet as on at for by from its our i you one many some later soon today""".split()
)


def split_sentences(paragraph: str) -> list[str]:
    """Split a paragraph into sentences.

    A full stop does not end a sentence after an abbreviation ("Dr.", "Gen.", "approx."), a single
    initial ("John F. Kennedy"), or a dotted acronym ("U.S.") unless a common sentence opener
    follows it. Decimals ("3.5") and years never split because no space follows the dot.
    """
    sentences: list[str] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(paragraph):
        if m.group(1) == ".":
            before = paragraph[start : m.start()]
            token = before.split()[-1] if before.split() else ""
            bare = token.rstrip(".").lstrip("(\"“‘")
            next_word = paragraph[m.end() :].split(maxsplit=1)[0].strip("\"“‘(").lower()
            if bare.lower() in ABBREVIATIONS:
                continue
            if len(bare) == 1 and bare.isalpha() and bare.isupper():
                continue  # an initial
            if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", bare) and next_word not in _COMMON_STARTERS:
                continue  # U.S. Army, e.g. this
        sentences.append(paragraph[start : m.end()].strip())
        start = m.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return [s for s in sentences if s]


def is_sentence(s: str) -> bool:
    """A real sentence: at least four words, starts with a capital/digit/quote, has letters."""
    words = s.split()
    return len(words) >= 4 and bool(re.match(r"[\"“‘(]?[A-Z0-9]", s)) and sum(map(str.isalpha, s)) > 10


# --------------------------------------------------------------------------- entities

_TOKEN_RE = re.compile(r"[A-Za-z\u00c0-\u024f][\w\u00c0-\u024f]*(?:[-'’][\w\u00c0-\u024f]+)*\.?|\d[\d,.]*\w*|\S")
_CONNECTORS = frozenset({"of", "for", "the", "de", "von", "van", "der", "al", "bin", "la", "le", "du"})


@dataclass(frozen=True)
class Entity:
    """A name found in a sentence: its text, kind (person/organisation/place/event/name) and span."""

    text: str
    kind: str
    start: int
    end: int


def _strip_possessive(word: str) -> str:
    return word[:-2] if word.endswith(("’s", "'s")) else word


def _classify(words: list[str], known: dict[str, str]) -> str:
    lowered = [w.lower() for w in words]
    if len(words) == 1 and words[0].isupper() and len(words[0]) >= 2 and not _ROMAN_RE.match(words[0]):
        return "name" if words[0] in _NOT_ACRONYMS else "organisation"
    if any(w in _EVENT_WORDS for w in lowered):
        return "event"
    if any(w in _ORG_WORDS for w in lowered):
        return "organisation"
    if any(w in PLACES for w in lowered) or (
        len(words) > 1 and (lowered[-1] in _PLACE_WORDS or lowered[0].rstrip(".") in _PLACE_LEADS)
    ):
        return "place"
    joined = " ".join(words)
    if joined in known:
        return known[joined]
    return "name"


_NAME_WORD_RE = re.compile(r"^(?:[A-Z][a-z\u00df-\u024f’']+(?:-[A-Z][a-z\u00df-\u024f]+)*|[A-Z]\.)$")
# Past-tense verbs that follow a person's name ("Nikolai Yezhov held ..."), beyond regular "-ed".
_PERSON_VERBS = frozenset(
    """was had said wrote held led made took gave went met told left won lost became began fled fought
    saw sought built ran rose fell spoke thought knew found brought bought taught drew chose""".split()
)


def _person_shaped(words: list[str]) -> bool:
    # A regnal number may close a name ("Charles II").
    body = words[:-1] if len(words) > 1 and _ROMAN_RE.match(words[-1]) else words
    return (
        2 <= len(words) <= 4
        and all(_NAME_WORD_RE.match(w) for w in body)
        and not any(w.lower() in _TITLES for w in words)
    )


def _runs(sentence: str) -> list[tuple[list[str], int, int]]:
    """Maximal runs of capitalised words (with inner connectors), as (words, start, end)."""
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN_RE.finditer(sentence)]
    runs: list[tuple[list[str], int, int]] = []
    i = 0
    while i < len(tokens):
        word, start, _end = tokens[i]
        if not (word[0].isupper() and word[0].isalpha()):
            i += 1
            continue
        j = i
        words: list[str] = []
        end = start
        while j < len(tokens):
            w, _s, e = tokens[j]
            if w[0].isupper() and w[0].isalpha():
                words.append(w)
                end = e
                j += 1
                # A possessive or a full stop (not an initial) closes the name.
                if re.search(r"[’']s$", w) or (w.endswith(".") and len(w) > 2):
                    break
            elif w.lower() in _CONNECTORS and j + 1 < len(tokens) and tokens[j + 1][0][:1].isupper() and words:
                words.append(w)
                j += 1
            else:
                break
        while words and words[-1].lower() in _CONNECTORS:
            words.pop()
        # "Old St Paul’s Cathedral": a possessive inside a longer name is not a name of its own.
        if words and re.search(r"[’']s$", words[-1]) and j < len(tokens) and tokens[j][0][:1].isupper():
            i = j
            while i < len(tokens) and tokens[i][0][:1].isupper():
                i += 1
            continue
        if words:
            if words[-1].endswith(".") and len(words[-1]) > 2:
                words[-1] = words[-1][:-1]
                end -= 1
            last = _strip_possessive(words[-1])
            if last != words[-1]:
                end -= len(words[-1]) - len(last)
                words[-1] = last
            runs.append((words, start, end))
        i = max(j, i + 1)
    return runs


def _split_titles(words: list[str], start: int) -> tuple[list[str], int]:
    """Drop leading titles ("British Prime Minister") from a run, returning the rest and its offset."""
    offset = start
    k = 0
    while k < len(words) - 1 and words[k].lower().rstrip(".") in _TITLES:
        k += 1
    if not any(w.lower().rstrip(".") in _OFFICES for w in words[:k]):
        k = 0
    for w in words[:k]:
        offset += len(w) + 1
    return words[k:], offset


def find_entities(sentences: list[str]) -> dict[str, str]:
    """Names the article uses and their kind, including bare surnames of people named in full.

    Returns a map from surface text ("Leon Trotsky", "Trotsky", "NKVD") to its kind. A name of
    person shape counts as a person only with evidence: a title before it ("President"), an initial
    ("John F. Kennedy"), a past-tense verb after it, an apposition (", a goldsmith"), or its last
    word used alone elsewhere; otherwise it is a "name" (a ship, a rocket, a book).
    """
    known: dict[str, str] = {}
    shaped: dict[str, bool] = {}  # person-shaped name -> has evidence
    singles: set[str] = set()  # capitalised words used alone (not opening a sentence)
    for sentence in sentences:
        for words, start, end in _runs(sentence):
            at = start
            while words and ((at == 0 and words[0].lower() in _SENTENCE_STARTERS) or words[0].lower() in _CONNECTORS):
                at += len(words[0]) + 1
                words = words[1:]
            before = len(words)
            words, at = _split_titles(words, at)
            if not words:
                continue
            if len(words) == 1:
                if at > 0 or re.match(r"\s+[a-z]+", sentence[end:]):
                    singles.add(words[0])
                if at == 0:
                    continue
            kind = _classify(words, {})
            name = " ".join(words)
            if kind != "name":
                known.setdefault(name, kind)
            elif _person_shaped(words):
                after = sentence[end:]
                m = re.match(r"\s+([a-z]+)\b", after)
                evidence = (
                    len(words) < before  # a title came first
                    or any(re.fullmatch(r"[A-Z]\.", w) for w in words)
                    or bool(m and (m.group(1) in _PERSON_VERBS or m.group(1).endswith("ed")))
                    or bool(re.match(r",\s+(?:a|an|the)\s+[a-z]", after))
                )
                shaped[name] = shaped.get(name, False) or evidence
    for name, evidence in shaped.items():
        last = _strip_possessive(name.split()[-1])
        if evidence or last in singles:
            known.setdefault(name, "person")
            known.setdefault(last, "person")
        else:
            known.setdefault(name, "name")
    return known


def canonical(name: str, known: dict[str, str]) -> str:
    """The fullest name the article uses for ``name`` ("Trotsky" -> "Leon Trotsky")."""
    if known.get(name) == "person" and " " not in name:
        fuller = [k for k, kind in known.items() if kind == "person" and k.endswith(" " + name)]
        if fuller:
            return max(fuller, key=len)
    return name


def topic_names(sentences: list[str], known: dict[str, str]) -> set[str]:
    """Surface forms of the article's subject: a name in at least a third of the sentences (and in
    four or more). Cards asking for it would be answered by the deck's title, so none are made."""
    counts: dict[str, int] = {}
    for sentence in sentences:
        for name in {canonical(e.text, known) for e in entities_in(sentence, known)}:
            counts[name] = counts.get(name, 0) + 1
    threshold = max(4, len(sentences) / 3)
    topics = {name for name, n in counts.items() if n >= threshold}
    return {form for form in set(known) | topics if canonical(form, known) in topics}


def entities_in(sentence: str, known: dict[str, str]) -> list[Entity]:
    """The named entities of one sentence (people, organisations, places, events)."""
    found: list[Entity] = []
    for words, start, end in _runs(sentence):
        while words and (
            (start == 0 and words[0].lower() in _SENTENCE_STARTERS) or words[0].lower() in _CONNECTORS
        ):
            start = start + len(words[0]) + 1
            words = words[1:]
        words, start = _split_titles(words, start)
        if not words:
            continue
        text = sentence[start:end]
        if len(words) == 1:
            kind = known.get(words[0])
            if kind is None:
                if start == 0 or not (words[0].isupper() and len(words[0]) >= 2) or _ROMAN_RE.match(words[0]):
                    if words[0].lower() not in PLACES:
                        continue
                    kind = "place"
                else:
                    kind = "organisation"
        else:
            kind = _classify(words, known)
            if kind == "name" and " ".join(words) not in known:
                continue  # an unknown capitalised phrase, not clearly a name
        found.append(Entity(text, kind, start, end))
    return found


# --------------------------------------------------------------------------- cards

_YEAR_RE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})(?:s\b|\s*[-–]\s*(?:1[0-9]{3}|20[0-9]{2}|[0-9]{2})\b)?(?![\d,.]\d)"
    r"|\b[0-9]{1,4}\s+(?:AD|BC|BCE|CE)\b|\bAD\s+[0-9]{1,4}\b"
)
_UNITS = (
    "percent|per cent|million|billion|thousand|hundred|km|kilometres|kilometers|miles|metres|meters|"
    "feet|kg|kilograms|tonnes|tons|people|soldiers|troops|men|women|children|prisoners|officers|members|"
    "victims|years|days|months|weeks|hours|dollars|pounds|euros|roubles|rubles"
)
_NUMBER_RE = re.compile(
    r"(?<![\w.])(?:[$£€]\s?)?\d[\d,]*(?:\.\d+)?(?:\s*%|\s*(?:" + _UNITS + r")\b(?:\s+(?:" + _UNITS + r")\b)?)"
    r"|(?<![\w.])[$£€]\s?\d[\d,]*(?:\.\d+)?(?:\s+(?:million|billion))?"
    # a count of things: "180 copies", "250 cities" (a plural noun right after the number)
    r"|(?<![\w.,])\d[\d,]*\s+(?-i:(?!(?:is|was|has|his|its|this|us|as)\b)[a-z]+s)\b",
    re.I,
)
_DATE_RE = re.compile(
    r"\b(?:" + _MONTH_RE + r"\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?"
    r"|\d{1,2}(?:st|nd|rd|th)?\s+" + _MONTH_RE + r"(?:,?\s+\d{4})?)\b"
)

_KIND_PRIORITY = {"date": 0, "year": 0, "years": 0, "decade": 1, "number": 2, "person": 3, "organisation": 4,
                  "event": 5, "place": 6, "name": 7}


_ACRONYM_DEF_RE = re.compile(r"\b([A-Z][A-Z0-9]{1,9})\s*\(([A-Z][^()]{3,80}?)\)")
_FULL_DEF_RE = re.compile(r"\b((?:[A-Z][\w’']+\s+(?:(?:of|for|and|the)\s+)?){1,6}[A-Z][\w’']+)\s*\(([A-Z][A-Z0-9]{1,9})\)")
_WHEN_RE = re.compile(
    r"^(?P<the>The\s+)?(?P<subject>[A-Z][\w’'.-]*(?:\s+(?:(?:of|for|the|de|von)\s+)?[A-Z][\w’'.-]*){0,5})"
    r"\s+(?P<verb>was|were)\s+"
    r"(?P<part>(?:[a-z]+ly\s+)?[a-z]+(?:ed|en|wn|lt|nt|un))\s+(?:in|on)\s+"
    r"(?P<when>(?:" + _MONTH_RE + r"\s+\d{1,2},?\s+)?(?:1[0-9]{3}|20[0-9]{2}))(?:[.,;]|\s+(?:and|after|when|by|as)\b)"
)


@dataclass(frozen=True)
class Candidate:
    """One card derived from a sentence, before it becomes a note."""

    notetype: str
    fields: tuple[str, ...]
    answer: str
    kind: str  # what the answer is: year, person, organisation, term ...
    sentence: str


_WORD_RE = re.compile(r"[\w’']+")


def _words(text: str) -> list[str]:
    return [_strip_possessive(w) for w in _WORD_RE.findall(text.lower())]


def _visible_elsewhere(answer: str, rest: str) -> bool:
    """True when the answer (or a name-part of it, or its digits) can be read in ``rest``."""
    target = _words(answer)
    seen = _words(rest)
    n = len(target)
    if n and any(seen[i : i + n] == target for i in range(len(seen) - n + 1)):
        return True
    present = set(seen)
    for part in _WORD_RE.findall(answer):
        bare = _strip_possessive(part)
        if bare.lower() in STOPWORDS or len(bare) < 3:
            continue
        if (bare[0].isupper() or bare.isdigit()) and bare.lower() in present:
            return True
    return False


def _is_stopword_answer(answer: str) -> bool:
    words = re.findall(r"[\w’']+", answer.lower())
    return not words or all(w in STOPWORDS for w in words)


def _deletions(sentence: str, known: dict[str, str]) -> list[tuple[int, int, str]]:
    """Spans worth deleting in a cloze, as (start, end, kind), without overlaps, best first."""
    spans: list[tuple[int, int, str]] = []
    for m in _DATE_RE.finditer(sentence):
        spans.append((m.start(), m.end(), "date"))
    for m in _YEAR_RE.finditer(sentence):
        text = m.group(0)
        kind = "decade" if text.endswith("s") else "years" if re.search(r"[-–]", text) else "year"
        spans.append((m.start(), m.end(), kind))
    for m in _NUMBER_RE.finditer(sentence):
        spans.append((m.start(), m.end(), "number"))
    for ent in entities_in(sentence, known):
        spans.append((ent.start, ent.end, ent.kind))
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (_KIND_PRIORITY.get(s[2], 9), s[0] - s[1])):
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: (_KIND_PRIORITY.get(s[2], 9), s[0]))


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _question_word(kind: str) -> str:
    return "Who" if kind == "person" else "What"


def cards_for_sentence(
    sentence: str, known: dict[str, str], avoid: frozenset[str] | set[str] = frozenset(), max_clozes: int = 3
) -> list[Candidate]:
    """Candidate cards for one sentence (possibly none). Pure.

    ``known`` is :func:`find_entities` of the article; ``avoid`` holds answers not worth a card (the
    article's subject, see :func:`topic_names`).
    """
    out: list[Candidate] = []
    if not is_sentence(sentence) or len(sentence.split()) > 70:
        return out
    used_answers: set[str] = set()

    def add(c: Candidate, visible: str) -> None:
        if _is_stopword_answer(c.answer) or _visible_elsewhere(c.answer, visible) or c.answer in avoid:
            return
        if c.answer.lower() in used_answers:
            return
        used_answers.add(c.answer.lower())
        out.append(c)

    # "ACRONYM (Full Name)" or "Full Name (ACRONYM)": a term and its meaning both worth knowing.
    for m in _ACRONYM_DEF_RE.finditer(sentence):
        acronym, full = m.group(1), m.group(2).strip()
        if _ROMAN_RE.match(acronym):
            continue
        if full.split()[0][0].isupper() and len(full.split()) >= 2:
            out.append(Candidate(REVERSED.name, (_esc(acronym), _esc(full)), full, "term", sentence))
            used_answers.add(full.lower())
    for m in _FULL_DEF_RE.finditer(sentence):
        full, acronym = m.group(1).strip(), m.group(2)
        words = full.split()
        if words[0].lower() in _SENTENCE_STARTERS:
            full = " ".join(words[1:])
        if len(full.split()) >= 2:
            out.append(Candidate(REVERSED.name, (_esc(acronym), _esc(full)), full, "term", sentence))
            used_answers.add(full.lower())

    entities = entities_in(sentence, known)

    # "X, the Y," apposition: "Adolf Hitler, the leader of Nazi Germany," -> Who was the leader of ...?
    for ent in entities:
        m = re.match(r",\s+(the\s+[^,;:()]{3,80}?),", sentence[ent.end :])
        if m and ent.kind in ("person", "organisation", "place"):
            description = m.group(1)
            verb = "is" if re.search(r"\b(?:is|are|has|have)\b", sentence) else "was"
            front = f"{_question_word(ent.kind)} {verb} {description}?"
            add(Candidate(BASIC.name, (_esc(front), _esc(ent.text)), ent.text, ent.kind, sentence), front)

    # Subject questions: "Stalin initiated a purge ..." -> "Who initiated a purge ...?" (the verb
    # keeps its tense and person, so the question stays grammatical).
    if entities and sentence.endswith("."):
        ent = entities[0]
        rest = sentence[ent.end :]
        lead = sentence[: ent.start].strip()
        starts_subject = ent.start == 0 or (lead.lower() == "the" and ent.kind == "organisation")
        m = re.match(r"\s+([a-z][a-z]+)\b", rest)
        if starts_subject and m and m.group(1) not in STOPWORDS - {"was", "is", "had", "has", "were"}:
            qword = "Who" if ent.kind == "person" else f"Which {ent.kind}" if ent.kind != "name" else "What"
            front = f"{qword}{rest[:-1]}?"
            add(Candidate(BASIC.name, (_esc(front), _esc(ent.text)), ent.text, ent.kind, sentence), front)

    # "X was exiled in 1929." -> "When was X exiled?" (copula + participle: no verb to conjugate).
    m = _WHEN_RE.match(sentence)
    if m:
        subject = m.group("subject")
        ents = [e for e in entities if e.start == m.start("subject") and e.end == m.end("subject")]
        if ents or subject in known:
            front = f"When {m.group('verb')} {(m.group('the') or '').lower()}{subject} {m.group('part')}?"
            answer = m.group("when")
            kind = "year" if answer.isdigit() else "date"
            add(Candidate(BASIC.name, (_esc(front), _esc(answer)), answer, kind, sentence), front)

    # Cloze deletions, one per note (an id per sentence + deletion keeps progress per deletion).
    # Not inside "ACRONYM (Full Name)": the reversed card asks for that already.
    defined = [m.span(2) for m in _ACRONYM_DEF_RE.finditer(sentence)]
    defined += [m.span(1) for m in _FULL_DEF_RE.finditer(sentence)]
    clozes = 0
    for start, end, kind in _deletions(sentence, known):
        if clozes >= max_clozes:
            break
        if any(start < e and end > s for s, e in defined):
            continue
        answer = sentence[start:end]
        visible = sentence[:start] + " " + sentence[end:]
        text = f"{_esc(sentence[:start])}{{{{c1::{_esc(answer)}::{kind}}}}}{_esc(sentence[end:])}"
        before = len(out)
        add(Candidate(CLOZE.name, (text, ""), answer, kind, sentence), visible)
        clozes += len(out) - before
    return out


# --------------------------------------------------------------------------- the whole article


MAX_CLOZES_PER_ANSWER = 2


def derive(text: str, path: str | Path = "<text>", deck: str | None = None) -> Draft:
    """Derive a deck from article text (already decoded). Pure: returns a Draft, writes nothing.

    ``deck`` names the deck; by default the article's title (else the file name). Raises
    :class:`ImportFailed` when the text is empty, has no sentences, or nothing worth a card.
    """
    path = Path(path)
    cleaned = clean_text(strip_markup(text))
    if not cleaned.strip():
        raise ImportFailed(path, "the file is empty")
    article = structure(cleaned)
    pairs = [(sec, s) for sec, s in article.sentences() if is_sentence(s)]
    if not pairs:
        raise ImportFailed(path, "no sentences found: the text has no paragraphs of prose")
    title = article.title or path.stem
    deck_name = (deck or title).strip()
    if not deck_name:
        raise ImportFailed(path, "the deck name is empty")
    known = find_entities([s for _sec, s in pairs])
    avoid = topic_names([s for _sec, s in pairs], known)
    draft = Draft(path=str(path), title=title, decks=[DraftDeck(deck_name)])
    seen_guids: set[str] = set()
    seen_fronts: set[str] = set()
    per_answer: dict[str, int] = {}
    for index, (section, sentence) in enumerate(pairs, start=1):
        for cand in cards_for_sentence(sentence, known, avoid):
            guid = content_guid("derive", _norm(sentence), cand.notetype, cand.answer)
            front_key = _norm(re.sub(r"<[^>]+>", "", cand.fields[0]))
            if guid in seen_guids or front_key in seen_fronts:
                continue  # the same sentence twice (a teaser, a pull quote) or the same question
            answer_key = canonical(cand.answer, known).lower()  # "Trotsky" counts as "Leon Trotsky"
            if cand.notetype == CLOZE.name and per_answer.get(answer_key, 0) >= MAX_CLOZES_PER_ANSWER:
                continue  # the fifth "NKVD" deletion teaches nothing the first ones did not
            per_answer[answer_key] = per_answer.get(answer_key, 0) + 1
            seen_guids.add(guid)
            seen_fronts.add(front_key)
            draft.notes.append(
                DraftNote(
                    guid=guid,
                    notetype=cand.notetype,
                    fields=list(cand.fields),
                    tags=[section.tag],
                    deck=deck_name,
                    source=sentence,
                    line=index,
                )
            )
    if not draft.notes:
        raise ImportFailed(path, "nothing worth a card found (no dates, numbers, names or definitions)")
    return draft


def derive_bytes(data: bytes, path: str | Path = "<bytes>", deck: str | None = None) -> Draft:
    """:func:`derive` on file bytes, decoded robustly (see :func:`flashcards.textclean.decode`)."""
    if not data.strip():
        raise ImportFailed(path, "the file is empty")
    try:
        text, _encoding, warnings = decode(data)
    except DecodeError as exc:
        raise ImportFailed(path, str(exc)) from None
    draft = derive(text, path, deck)
    draft.warnings = warnings + draft.warnings
    return draft


def derive_file(path: str | Path, deck: str | None = None) -> Draft:
    """Read an article file and derive its deck (see :func:`derive`)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImportFailed(path, f"cannot read the file: {exc.strerror or exc}") from None
    return derive_bytes(data, path, deck)
