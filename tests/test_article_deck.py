"""The shipped article deck (decks/beyond-fear-stalin.md): complete, faithful to the article, clean.

Every answer must be supported by its source sentence, every source sentence must come from the
cleaned article (and from the section its tag names), nothing may carry mangled entities or page
boilerplate, and the file must round-trip through the Markdown importer and exporter unchanged.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flashcards import derive, firststart, importing
from flashcards.collection import Collection
from flashcards.drafts import BASIC, CLOZE, REVERSED
from flashcards.exporters import markdown as md_export
from flashcards.importers import markdown as md_import
from flashcards.resources import decks_dir
from flashcards.textclean import clean_text

ROOT = Path(__file__).resolve().parent.parent
DECK = ROOT / "decks" / "beyond-fear-stalin.md"
ARTICLE_CANDIDATES = [
    ROOT.parent / "shared" / "article" / "beyond-fear-stalin.txt",
    Path("/work/shared/article/beyond-fear-stalin.txt"),
]
ARTICLE = next((p for p in ARTICLE_CANDIDATES if p.is_file()), ARTICLE_CANDIDATES[0])

# The deck's tags and the article's headings they stand for (intro/conclusion are unheaded parts).
SECTION_TAGS = {
    "intro": None,
    "political-rivals": "Notable Political Rivals",
    "military": "Military Threats and Warnings",
    "nkvd": "Internal Power Struggles within the NKVD",
    "international": "International Confrontations and News",
    "party-elite": "The Communist Party Elite",
    "conclusion": None,
}
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

STOP = {"the", "a", "an", "of", "and", "or", "to", "in", "on", "his", "its", "it", "he", "him", "that",
        "was", "were", "who", "for", "by", "with", "as", "be", "but", "also", "yes", "further", "their",
        "these", "those", "this", "two", "five", "any", "own", "during"}


@pytest.fixture(scope="module")
def draft():
    return md_import.parse(DECK)


@pytest.fixture(scope="module")
def article():
    if not ARTICLE.is_file():
        pytest.skip("the shared article is not here")
    return derive.structure(clean_text(ARTICLE.read_text("utf-8")))


def visible_text(html: str) -> str:
    """Field text without cloze markup and tags: what the learner reads (answers included)."""
    text = re.sub(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", r"\1", html)
    return re.sub(r"<[^>]+>", "", text)


def cloze_answers(html: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"\{\{c\d+::(.*?)(?:::[^}]*)?\}\}", html)]


def key_terms(answer: str) -> list[str]:
    words = re.findall(r"[\w’-]+", answer.lower())
    return [w for w in words if w not in STOP and len(w) > 1]


def supported(term: str, source: str) -> bool:
    """The term (or a word of the same stem: consolidated/consolidating) is in the source."""
    words = re.findall(r"[\w’-]+", source.lower())
    stem = term[:6] if len(term) > 6 else term
    return any(w == term or (len(term) > 6 and w.startswith(stem)) for w in words)


def test_deck_has_version_title_and_enough_notes(draft):
    assert draft.title == "Beyond Fear: Notable Threats to Joseph Stalin in the Soviet Union"
    assert isinstance(draft.version, int) and draft.version >= 1
    assert len(draft.notes) >= 40
    assert {n.deck for n in draft.notes} == {draft.title}
    assert len({n.guid for n in draft.notes}) == len(draft.notes)
    assert all(re.fullmatch(r"bf-[a-z0-9-]+", n.guid) for n in draft.notes)


def test_uses_all_three_note_types_and_a_reversed_acronym_pair(draft):
    kinds = {n.notetype for n in draft.notes}
    assert kinds == {BASIC.name, CLOZE.name, REVERSED.name}
    reversed_notes = [n for n in draft.notes if n.notetype == REVERSED.name]
    assert ["NKVD", "People’s Commissariat for Internal Affairs"] in [n.fields for n in reversed_notes]


def test_every_section_is_covered(draft):
    tags = [t for n in draft.notes for t in n.tags]
    assert set(tags) == set(SECTION_TAGS)
    for tag in SECTION_TAGS:
        assert tags.count(tag) >= 3, f"section {tag} has only {tags.count(tag)} notes"
    assert all(len(n.tags) == 1 for n in draft.notes)


def test_sources_are_sentences_of_the_cleaned_article_in_their_section(draft, article):
    by_tag: dict[str, set[str]] = {}
    for section in article.sections:
        tag = next(
            (t for t, heading in SECTION_TAGS.items() if heading is not None and heading == section.heading),
            section.tag,
        )
        by_tag.setdefault(tag, set()).update(
            s for p in section.paragraphs for s in derive.split_sentences(p)
        )
    assert set(by_tag) == set(SECTION_TAGS)
    for note in draft.notes:
        assert note.source, f"{note.guid} has no source"
        assert note.source in by_tag[note.tags[0]], f"{note.guid}: source not in section {note.tags[0]}"


def test_every_sentence_of_the_article_is_used_or_deliberately_left_out(draft, article):
    sentences = [s for _sec, s in article.sentences()]
    used = {n.source for n in draft.notes}
    unused = [s for s in sentences if s not in used]
    # Sentences without a fact of their own (transitions) may be left out; keep it a small share.
    assert len(unused) <= len(sentences) // 4, unused


def test_answers_are_supported_by_their_source(draft):
    for note in draft.notes:
        if note.notetype == CLOZE.name:
            answers = cloze_answers(note.fields[0])
            assert answers, note.guid
            # The cloze text itself is the sentence (or a trimmed part of it).
            text_terms = key_terms(visible_text(note.fields[0]))
            missing = [t for t in text_terms if not supported(t, note.source)]
            assert not missing, f"{note.guid}: cloze words not in the source: {missing}"
        else:
            answers = [note.fields[1]]
            if note.notetype == REVERSED.name:
                answers.append(note.fields[0])
        for answer in answers:
            terms = key_terms(visible_text(answer))
            assert terms, f"{note.guid}: answer {answer!r} has no key term"
            missing = [t for t in terms if not supported(t, note.source)]
            assert not missing, f"{note.guid}: answer terms {missing} are not in the source sentence"


def test_no_answer_can_be_read_off_its_question(draft):
    for note in draft.notes:
        if note.notetype != BASIC.name:
            continue
        answer_terms = [t for t in key_terms(note.fields[1]) if t not in {"stalin", "stalin’s", "trotsky"}]
        question = note.fields[0].lower()
        # The whole answer never appears in the question.
        assert note.fields[1].lower() not in question, note.guid
        assert not all(t in question for t in answer_terms), f"{note.guid}: answer readable in question"


def test_no_mangled_entities_or_boilerplate(draft):
    boilerplate = ["CareerCruise", "Location:", "HOME >", "Workplace", "February 02, 2025", "4348",
                   "Stali ", "Fearsome Leader"]
    for note in draft.notes:
        for text in [*note.fields, note.source, *note.tags]:
            assert not re.search(r"(?<!&)\b(?:rsquo|lsquo|ldquo|rdquo|mdash|ndash|hellip|nbsp|amp);", text), (
                note.guid
            )
            assert "&" not in text, f"{note.guid}: raw ampersand or entity in {text!r}"
            assert not re.search("â€|Ã.|Â", text), f"{note.guid}: mojibake in {text!r}"
            assert "\u00a0" not in text
            for b in boilerplate:
                assert b not in text, f"{note.guid}: boilerplate {b!r}"


def test_clozes_are_well_formed(draft):
    for note in draft.notes:
        if note.notetype != CLOZE.name:
            assert "{{" not in note.fields[0] + note.fields[1], note.guid
            continue
        numbers = [int(n) for n in re.findall(r"\{\{c(\d+)::", note.fields[0])]
        assert sorted(set(numbers)) == list(range(1, max(numbers) + 1)), note.guid
        assert note.fields[0].count("{{") == note.fields[0].count("}}"), note.guid


def test_round_trips_through_the_markdown_exporter(draft, tmp_path):
    out = tmp_path / DECK.name
    md_export.write(draft, out)
    assert out.read_bytes() == DECK.read_bytes()
    assert md_export.render(md_import.parse(out)) == DECK.read_text("utf-8")


def test_imports_into_a_collection_and_reimports_as_no_change(tmp_path):
    col = Collection.open(tmp_path / "data")
    try:
        draft = importing.parse(DECK)
        result = importing.apply(col, importing.plan(col, draft))
        assert (result.new, result.updated, len(result.skipped)) == (len(draft.notes), 0, 0)
        again = importing.plan(col, importing.parse(DECK))
        assert (again.new, again.updated, again.unchanged) == (0, 0, len(draft.notes))
        expected_cards = sum(
            2 if n.notetype == REVERSED.name else len(set(re.findall(r"\{\{c(\d+)::", n.fields[0])))
            if n.notetype == CLOZE.name else 1
            for n in draft.notes
        )
        assert len(col.search(deck=draft.title)) == expected_cards
    finally:
        col.close()


def test_improved_version_updates_and_keeps_progress(tmp_path):
    """Editing a note (a new deck version) re-imports as an update; its card keeps its review."""
    col = Collection.open(tmp_path / "data")
    try:
        importing.apply(col, importing.plan(col, importing.parse(DECK)))
        deck_id = col.deck_id("Beyond Fear: Notable Threats to Joseph Stalin in the Soviet Union")
        session = col.study(deck_id)
        card = session.next_card(NOW)
        session.answer(card.card_id, 3, NOW)
        before = col.card_columns(card.card_id)
        note_guid = col._sql("SELECT guid FROM note WHERE id = ?", (card.note_id,)).fetchone()[0]

        text = re.sub(r"^version: (\d+)$", lambda m: f"version: {int(m.group(1)) + 1}",
                      DECK.read_text("utf-8"), count=1, flags=re.M)
        block = re.search(rf"^id: {re.escape(note_guid)}\n(?:.+\n)+", text, re.M).group(0)
        edited = block.replace("source:", "source: (edited)", 1) if "A:" not in block else re.sub(
            r"^A: (.*)$", r"A: \1 (edited)", block, count=1, flags=re.M
        )
        improved = tmp_path / DECK.name
        improved.write_text(text.replace(block, edited), "utf-8")

        plan = importing.plan(col, importing.parse(improved))
        assert (plan.new, plan.updated) == (0, 1)
        importing.apply(col, plan)
        after = col.card_columns(card.card_id)
        assert after["state"] == before["state"] != 0
        for column in ("due_ms", "reps", "stability", "difficulty", "last_review_ms"):
            assert after[column] == before[column], column
        assert after["reps"] == 1
        fields = col._sql("SELECT fields FROM note WHERE id = ?", (card.note_id,)).fetchone()[0]
        assert "(edited)" in fields or "(edited)" in col._sql(
            "SELECT source FROM note WHERE id = ?", (card.note_id,)
        ).fetchone()[0]
    finally:
        col.close()


def test_first_start_loader_finds_and_loads_the_deck(tmp_path):
    assert DECK in firststart.shipped_deck_files(decks_dir())
    col = Collection.open(tmp_path / "data")
    try:
        messages = firststart.load_shipped_decks(col, DECK.parent)
        assert any("Beyond Fear" in m for m in messages)
        assert firststart.load_shipped_decks(col, DECK.parent) == []
    finally:
        col.close()
