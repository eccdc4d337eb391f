"""The Markdown deck format: parsing, canonical export, round trips, media, errors, pipeline."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from flashcards import exporting, importing
from flashcards.cli import main as cli_main
from flashcards.collection import Collection
from flashcards.drafts import (
    CardState,
    Draft,
    DraftCard,
    DraftDeck,
    DraftMedia,
    DraftNote,
    DraftNotetype,
    DraftReview,
    DraftTemplate,
    content_guid,
)
from flashcards.errors import ExportFailed, ImportFailed
from flashcards.exporters import markdown as md_export
from flashcards.importers.markdown import parse

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def write(tmp_path: Path, text: str, name: str = "deck.md") -> Path:
    p = tmp_path / name
    p.write_text(text, "utf-8")
    return p


HAND = """# Capitals

description: European capitals
  and their rivers

## Western Europe (a heading for readers)

Q: Capital of France?
A: Paris
tags: geo europe

<!-- a comment line -->
Q: What is 2 &lt; 3?
A: true
  <br>

  (two lines)

cloze: The {{c1::Seine::river}} flows through {{c2::Paris}}.
extra: Since Roman times

id: rev-1
type: reversed
deck: Capitals::Acronyms
Q: EU
A: European Union
source: Treaty text, p. 1
"""


def test_parse_hand_written_file(tmp_path):
    d = parse(write(tmp_path, HAND))
    assert d.title == "Capitals"
    assert d.version is None
    assert [(dk.name, dk.description) for dk in d.decks] == [
        ("Capitals", "European capitals\nand their rivers"),
        ("Capitals::Acronyms", ""),
    ]
    a, b, c, r = d.notes
    assert (a.notetype, a.fields, a.tags, a.deck, a.line) == ("Basic", ["Capital of France?", "Paris"],
                                                              ["geo", "europe"], "Capitals", 8)
    assert b.fields == ["What is 2 &lt; 3?", "true\n<br>\n\n(two lines)"]
    assert (c.notetype, c.fields) == ("Cloze", ["The {{c1::Seine::river}} flows through {{c2::Paris}}.",
                                                "Since Roman times"])
    assert (r.guid, r.notetype, r.deck, r.source) == ("rev-1", "Basic (and reversed card)",
                                                       "Capitals::Acronyms", "Treaty text, p. 1")
    # Without an id the guid comes from the note type and first field.
    assert a.guid == content_guid("Basic", "Capital of France?")
    assert c.guid == content_guid("Cloze", c.fields[0])
    assert d.media == [] and d.warnings == [] and d.skipped == []


def test_ids_from_content_are_stable_and_survive_answer_edits(tmp_path):
    first = parse(write(tmp_path, "Q: q1\nA: a1\n\nQ: q2\nA: a2\n"))
    second = parse(write(tmp_path, "Q: q1\nA: changed\n\nQ: q2\nA: a2\n", "other.md"))
    assert [n.guid for n in first.notes] == [n.guid for n in second.notes]
    assert first.title is None and first.notes[0].deck == "deck" and second.notes[0].deck == "other"


def test_same_question_twice_gets_two_ids_and_exact_duplicates_are_skipped(tmp_path):
    d = parse(write(tmp_path, "Q: q\nA: one\n\nQ: q\nA: two\n\nQ: q\nA: one\n"))
    assert [n.fields[1] for n in d.notes] == ["one", "two"]
    assert len({n.guid for n in d.notes}) == 2
    assert d.skipped == [(7, "same content as the note at line 1")]


def test_keys_are_flexible_for_hand_written_files(tmp_path):
    d = parse(write(tmp_path, "Front: f\nBack: b\ntype: Basic\n\nText: {{c1::x}}\nBack Extra: e\n\n"
                              "field Front: g\nfield Back: h\n"))
    assert [(n.notetype, n.fields) for n in d.notes] == [
        ("Basic", ["f", "b"]), ("Cloze", ["{{c1::x}}", "e"]), ("Basic", ["g", "h"])]


@pytest.mark.parametrize(
    "text,line,message",
    [
        ("# T\n\nQ: a\nA: b\nbogus line\n", 5, "expected 'key: value'"),
        ("Q: a\nNote: b\n", 2, "unknown key 'Note'"),
        ("A: only an answer\n", 1, "no 'Front'"),
        ("cloze: no deletion here\n", 1, "needs a deletion"),
        ("id: x\nQ: a\nA: b\n\nid: x\nQ: c\nA: d\n", 5, "duplicate id 'x' (first used at line 1)"),
        ("type: Fancy\nQ: a\n", 1, "unknown note type 'Fancy'"),
        ("# T\n\nversion: two\n", 3, "version must be a whole number"),
        ("  indented first\n", 1, "does not continue a value"),
        ("Q: a\nQ: b\n", 2, "given twice"),
        ("# A\n\nQ: a\nA: b\n\n# B\n", 6, "second '# ' title"),
        ("Q: a\nA: b\nversion: 3\n", 3, "belongs in the header"),
        ("notetype: Basic\nfield: F\ntemplate: T\n", 1, "built-in note type"),
    ],
)
def test_errors_name_the_line(tmp_path, text, line, message):
    with pytest.raises(ImportFailed) as e:
        parse(write(tmp_path, text))
    assert e.value.line == line
    assert message in str(e.value)
    assert str(e.value).startswith(str(tmp_path / "deck.md"))


def test_file_without_notes_is_an_error(tmp_path):
    with pytest.raises(ImportFailed, match="no notes found"):
        parse(write(tmp_path, "# Only a title\n\nversion: 2\n"))


def test_binary_file_is_refused(tmp_path):
    p = tmp_path / "x.md"
    p.write_bytes(PNG * 4)
    with pytest.raises(ImportFailed, match="binary"):
        parse(p)


def test_utf16_and_cp1252_files_are_read(tmp_path):
    p = tmp_path / "u16.md"
    p.write_bytes("Q: café?\nA: ja\n".encode("utf-16"))
    assert parse(p).notes[0].fields == ["café?", "ja"]
    p = tmp_path / "win.md"
    p.write_bytes("Q: “quoted”\nA: ja\n".encode("cp1252"))
    d = parse(p)
    assert d.notes[0].fields[0] == "“quoted”"
    assert any("cp1252" in w for w in d.warnings)


def test_images_relative_to_the_file_become_media(tmp_path):
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "map.png").write_bytes(PNG)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "map.png").write_bytes(PNG + b"different")
    (tmp_path / "clip.mp3").write_bytes(b"ID3")
    d = parse(write(tmp_path, 'Q: Where? ![a map](pics/map.png)\nA: <img src="pics/map.png"> '
                              "<img src='other/map.png'> [sound:clip.mp3] <img src=\"https://x.org/a.png\">"
                              ' <img src="missing.png">\n'))
    front, back = d.notes[0].fields
    assert front == 'Where? <img src="map.png" alt="a map">'
    other = [m.name for m in d.media if m.name != "map.png" and m.name.startswith("map-")][0]
    assert back == (f'<img src="map.png"> <img src=\'{other}\'> [sound:clip.mp3] '
                    '<img src="https://x.org/a.png"> <img src="missing.png">')
    assert sorted(m.name for m in d.media) == sorted(["map.png", other, "clip.mp3"])
    assert {m.name: m.read() for m in d.media}["map.png"] == PNG
    assert d.warnings == ["line 2: media file 'missing.png' not found next to the deck; reference kept"]


def store_like_draft() -> Draft:
    """A draft as the collection builds it for export: cards, reviews, options, a custom note type."""
    vocab = DraftNotetype(
        name="Vocab",
        fields=("Word", "Meaning", "Q"),
        templates=(DraftTemplate("Recognise", "{{Word}}", "{{FrontSide}}<hr id=answer>{{Meaning}}"),),
        css=".card { font-size: 20px; }\n.x { color: red; }",
    )
    d = Draft(path="collection", notetypes=[vocab])
    d.decks = [DraftDeck("Lang", options={"new_per_day": 5}, description="Words"), DraftDeck("Lang::Verbs")]
    review = DraftReview(id=1, time_ms=1_700_000_000_000, rating=3)
    d.notes = [
        DraftNote("g1", "Basic", ["chat", 'cat <img src="cat.png">'], ["fr"], "Lang", "book p. 3",
                  cards=[DraftCard(0, state=CardState.REVIEW, due_ms=1, stability=3.0, difficulty=5.0,
                                   reviews=[review])]),
        DraftNote("g2", "Cloze", ["{{c1::Paris}} ![x](y) is", ""], [], "Lang"),
        DraftNote("g3", "Vocab", ["avoir", "to have\n\n(irregular)", "x"], ["verbs", "a::b"], "Lang::Verbs"),
        DraftNote("g4", "Basic (and reversed card)", ["A", ""], [], "Lang"),
    ]
    d.media = [DraftMedia("cat.png", data=PNG)]
    return d


EXPECTED = """# Lang

description: Words

notetype: Vocab
kind: standard
field: Word
field: Meaning
field: Q
template: Recognise
front: {{Word}}
back: {{FrontSide}}<hr id=answer>{{Meaning}}
css: .card { font-size: 20px; }
  .x { color: red; }

id: g1
tags: fr
Q: chat
A: cat <img src="out_media/cat.png">
source: book p. 3

id: g2
cloze: {{c1::Paris}} &#33;[x](y) is

id: g3
type: Vocab
deck: Lang::Verbs
tags: verbs a::b
Word: avoir
Meaning: to have

  (irregular)
field Q: x

id: g4
type: reversed
Q: A
A:
"""


def test_export_is_canonical_and_carries_content_only(tmp_path):
    out = tmp_path / "out.md"
    progress: list[tuple[int, int]] = []
    md_export.write(store_like_draft(), out, progress=lambda done, total: progress.append((done, total)))
    assert out.read_text("utf-8") == EXPECTED
    assert (tmp_path / "out_media" / "cat.png").read_bytes() == PNG
    assert progress[0] == (0, 4) and progress[-1] == (4, 4)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_exported_file_parses_back_to_the_same_content(tmp_path):
    out = tmp_path / "out.md"
    source = store_like_draft()
    md_export.write(source, out)
    d = parse(out)
    assert [(n.guid, n.notetype, n.fields, n.tags, n.deck, n.source) for n in d.notes] == [
        ("g1", "Basic", ["chat", 'cat <img src="cat.png">'], ["fr"], "Lang", "book p. 3"),
        ("g2", "Cloze", ["{{c1::Paris}} &#33;[x](y) is", ""], [], "Lang", ""),
        ("g3", "Vocab", ["avoir", "to have\n\n(irregular)", "x"], ["verbs", "a::b"], "Lang::Verbs", ""),
        ("g4", "Basic (and reversed card)", ["A", ""], [], "Lang", ""),
    ]
    assert d.notetypes == source.notetypes
    assert [m.name for m in d.media] == ["cat.png"]
    # Export of the parsed file (same name, other folder) is byte-identical: the format's fixed point.
    (tmp_path / "again").mkdir()
    md_export.write(d, tmp_path / "again" / "out.md")
    assert (tmp_path / "again" / "out.md").read_text("utf-8") == EXPECTED


def test_title_version_and_deck_lines(tmp_path):
    d = Draft(path="x", title="Shipped", version=3)
    d.notes = [DraftNote("a", "Basic", ["q", "a"], deck="Elsewhere"), DraftNote("b", "Basic", ["q2", "a"],
                                                                              deck="Elsewhere")]
    text = md_export.render(d)
    assert text.startswith("# Shipped\n\nversion: 3\ndeck: Elsewhere\n\nid: a\n")
    back = parse(write(tmp_path, text))
    assert (back.title, back.version, [n.deck for n in back.notes]) == ("Shipped", 3, ["Elsewhere"] * 2)
    assert md_export.render(back) == text


def test_export_refuses_a_note_type_it_does_not_know(tmp_path):
    d = Draft(path="x")
    d.notes = [DraftNote("a", "Mystery", ["q"])]
    with pytest.raises(ExportFailed, match="Mystery"):
        md_export.write(d, tmp_path / "x.md")
    assert not (tmp_path / "x.md").exists()


def test_export_into_a_missing_folder_fails_cleanly(tmp_path):
    d = Draft(path="x", notes=[DraftNote("a", "Basic", ["q", "a"])])
    with pytest.raises(ExportFailed, match="cannot write"):
        md_export.write(d, tmp_path / "nope" / "x.md")


# --------------------------------------------------------------------------- through the pipeline


def test_import_edit_reimport_keeps_progress_and_brings_media(tmp_path):
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "eiffel.png").write_bytes(PNG)
    deck = write(tmp_path, "# Paris\n\nid: p1\nQ: Tower? ![t](img/eiffel.png)\nA: Eiffel\n\n"
                           "id: p2\ncloze: The {{c1::Seine}} flows here.\n")
    col = Collection.open(tmp_path / "data")
    try:
        result = importing.apply(col, importing.plan(col, importing.parse(deck)))
        assert (result.new, result.media_added) == (2, 1)
        assert (col.media_dir / "eiffel.png").read_bytes() == PNG
        session = col.study(col.deck_id("Paris"))
        card = session.next_card(NOW)
        session.answer(card.card_id, 3, NOW)
        before = col.card_columns(card.card_id)

        deck.write_text(deck.read_text("utf-8").replace("A: Eiffel", "A: The Eiffel Tower")
                        .replace("flows here", "flows through here"), "utf-8")
        plan = importing.plan(col, importing.parse(deck))
        assert (plan.new, plan.updated, plan.unchanged) == (0, 2, 0)
        importing.apply(col, plan)
        after = col.card_columns(card.card_id)
        assert {k: after[k] for k in ("state", "due_ms", "reps", "stability")} == {
            k: before[k] for k in ("state", "due_ms", "reps", "stability")}
        assert after["reps"] == 1
    finally:
        col.close()


def test_collection_export_to_md_and_back(tmp_path):
    deck = write(tmp_path, "# Words\n\nversion: 2\n\nid: w1\ntags: t\nQ: hund\nA: dog\nsource: s\n\n"
                           "id: w2\ntype: reversed\nQ: katze\nA: cat\n")
    col = Collection.open(tmp_path / "data")
    try:
        importing.apply(col, importing.plan(col, importing.parse(deck)))
        out = tmp_path / "export.md"
        assert exporting.export(col, out, deck="Words") == 2
        text = out.read_text("utf-8")
        assert "id: w1\ntags: t\nQ: hund\nA: dog\nsource: s\n" in text
        assert "id: w2\ntype: reversed\nQ: katze\nA: cat\n" in text
        plan = importing.plan(col, importing.parse(out))
        assert (plan.new, plan.updated, plan.unchanged) == (0, 0, 2)
    finally:
        col.close()


def test_cli_import_and_export_md(tmp_path, capsys):
    deck = write(tmp_path, "# CLI deck\n\nQ: one\nA: 1\n\nQ: two\nA: 2\n")
    data = str(tmp_path / "data")
    assert cli_main(["import", "--data-dir", data, str(deck)]) == 0
    assert "2 new" in capsys.readouterr().out
    out = tmp_path / "back.md"
    assert cli_main(["export", "--data-dir", data, "--deck", "CLI deck", "-o", str(out)]) == 0
    assert parse(out).title == "CLI deck"
    bad = write(tmp_path, "Q: fine\nA: ok\n\nnonsense\n", "bad.md")
    assert cli_main(["import", "--data-dir", data, str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"flashcards: {bad}:4: expected 'key: value', got 'nonsense'"


def test_exported_file_gets_the_usual_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "perm.md"
        md_export.write(Draft(path="x", notes=[DraftNote("a", "Basic", ["q", "a"])]), out)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


# --------------------------------------------------------------------------- property: any draft round-trips

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_TEXT = st.lists(
    st.characters(blacklist_categories=("Cc", "Cs"))
    | st.sampled_from(["\n", "  ", "\t", "<br>", "&amp;", "{{c2::x}}", "![a](b)", ": ", "id: x", "# h"]),
    max_size=30,
).map("".join)
_NAME = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                max_size=12).map(str.strip).filter(bool)


def _normalised(value: str, field: bool = True) -> str:
    """What the format keeps of a value: lines without trailing blanks, no trailing empty lines,
    and (in fields) Markdown image syntax escaped."""
    lines = [line.rstrip() for line in (value.replace("![", "&#33;[") if field else value).split("\n")]
    while len(lines) > 1 and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


@st.composite
def drafts(draw):
    title = draw(st.none() | _NAME)
    d = Draft(path="gen", title=title, version=draw(st.none() | st.integers(0, 10**6)))
    decks = draw(st.lists(_NAME.filter(lambda s: "\n" not in s), min_size=1, max_size=3, unique=True))
    guids = draw(st.lists(st.from_regex(r"[A-Za-z0-9_.-]{1,10}", fullmatch=True), min_size=1, max_size=6,
                          unique=True))
    for guid in guids:
        kind = draw(st.sampled_from(["Basic", "Basic (and reversed card)", "Cloze"]))
        first = draw(_TEXT)
        if kind == "Cloze":
            first = "{{c1::" + draw(_NAME) + "}} " + first
        elif not first.strip():
            first = "front"
        fields = [first, draw(_TEXT)]
        tags = draw(st.lists(st.from_regex(r"[a-z0-9:_]{1,8}", fullmatch=True), max_size=3, unique=True))
        d.notes.append(DraftNote(guid, kind, fields, tags, draw(st.sampled_from(decks)), draw(_TEXT)))
    return d


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(d=drafts())
def test_any_draft_round_trips(tmp_path, d):
    out = tmp_path / "gen.md"
    md_export.write(d, out)
    back = parse(out)
    assert [(n.guid, n.notetype, n.deck, n.tags) for n in back.notes] == [
        (n.guid, n.notetype, n.deck, n.tags) for n in d.notes]
    for got, want in zip(back.notes, d.notes, strict=True):
        assert got.fields == [_normalised(f) for f in want.fields]
        assert got.source == _normalised(want.source, field=False)
    assert back.version == d.version
    # Exporting what was read gives the same file: the canonical form is a fixed point.
    assert md_export.render(back) == out.read_text("utf-8")


def test_errors_name_the_key_as_written_and_own_fields_win(tmp_path):
    with pytest.raises(ImportFailed, match=r"unknown key 'Q' for a 'Cloze' note \(fields: Text, Back Extra\)"):
        parse(write(tmp_path, "type: cloze\nQ: {{c1::x}}\n"))
    d = parse(write(tmp_path, "notetype: Pair\nkind: standard\nfield: Q\nfield: Other\ntemplate: One\n"
                              "front: {{Q}}\nback: {{Other}}\n\ntype: Pair\nQ: question\nOther: o\n"))
    assert d.notes[0].fields == ["question", "o"]


# ---------------------------------------------------------------- peek_version (the first-start check)

PEEK_CASES = {
    "plain": ("# T\n\nversion: 3\n\nQ: a\nA: b\n", 3),
    "no header": ("# T\n\nQ: a\nA: b\n", None),
    "no title": ("version: 2\ndeck: D\n\nQ: a\nA: b\n", 2),
    "version after a description with a blank line inside": (
        "# T\n\ndescription: first\n\n  second paragraph\nversion: 7\n\nQ: a\nA: b\n", 7),
    "a comment and a heading": ("<!-- made by hand -->\n# T\nversion: 4\n## Part one\nQ: a\nA: b\n", 4),
    "note type block first": (
        "# T\n\nnotetype: Mine\nfield: F\nfield: G\ntemplate: Card 1\nfront: {{F}}\nback: {{G}}\n\n"
        "type: Mine\nF: a\nG: b\n", None),
    "a note first, no header": ("id: x\nQ: a\nA: b\n\nid: y\nQ: c\nA: d\n", None),
}


@pytest.mark.parametrize("name", sorted(PEEK_CASES))
def test_peek_version_reads_what_parse_reads(tmp_path, name):
    from flashcards.importers.markdown import peek_version

    text, expected = PEEK_CASES[name]
    path = tmp_path / "deck.md"
    path.write_text(text, encoding="utf-8")
    try:
        parsed = parse(path).version
    except ImportFailed:
        parsed = "refused"
    assert (peek_version(path), parsed) == (expected, expected)


def test_peek_version_of_every_shipped_deck():
    from flashcards.firststart import shipped_deck_files
    from flashcards.importers.markdown import peek_version

    files = shipped_deck_files()
    assert files
    for path in files:
        assert peek_version(path) == parse(path).version, path.name


def test_peek_version_refuses_a_bad_version_like_parse(tmp_path):
    from flashcards.importers.markdown import peek_version

    path = tmp_path / "deck.md"
    path.write_text("# T\n\nversion: two\n\nQ: a\nA: b\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="version must be a whole number"):
        peek_version(path)
    with pytest.raises(ImportFailed, match="version must be a whole number"):
        parse(path)
