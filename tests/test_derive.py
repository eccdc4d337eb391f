"""Deriving decks from articles: text cleaning, structure, sentences, cards, ids, errors, the CLI."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from flashcards import derive, importing
from flashcards.cli import main as cli_main
from flashcards.collection import Collection
from flashcards.drafts import BASIC, CLOZE, REVERSED
from flashcards.errors import ImportFailed
from flashcards.importers.markdown import parse as parse_md
from flashcards.textclean import DecodeError, clean_text, decode, repair_entities, repair_mojibake

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "articles"
APOLLO = FIXTURES / "apollo-scraped.txt"
PRINTING = FIXTURES / "printing-press-plain.txt"
STALIN = next(
    (p for p in (ROOT.parent / "shared/article/beyond-fear-stalin.txt",
                 Path("/work/shared/article/beyond-fear-stalin.txt")) if p.is_file()),
    ROOT.parent / "shared/article/beyond-fear-stalin.txt",
)
KINDS = {"year", "years", "decade", "date", "number", "person", "organisation", "place", "event", "name"}


def stalin_path() -> Path:
    if not STALIN.is_file():
        pytest.skip("the shared article is not here")
    return STALIN


# --------------------------------------------------------------------------- decoding and repair


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_decode_unicode_encodings(encoding):
    text = "It’s a café — “naïve”.\r\nSecond line"
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # no BOM: recognised by its NUL bytes
        data = text.encode(encoding)
    decoded, _enc, warnings = decode(data)
    assert decoded == "It’s a café — “naïve”.\nSecond line"
    assert warnings == []


def test_decode_bom_variants_are_named():
    assert decode(codecs.BOM_UTF8 + b"x y z")[1] == "utf-8"
    assert decode(codecs.BOM_UTF16_LE + "x y".encode("utf-16-le"))[1] == "utf-16-le"
    assert decode(codecs.BOM_UTF16_BE + "x y".encode("utf-16-be"))[1] == "utf-16-be"


def test_decode_falls_back_to_cp1252_with_a_warning():
    text, encoding, warnings = decode("“Quoted” – 5 €".encode("cp1252"))
    assert (text, encoding) == ("“Quoted” – 5 €", "cp1252")
    assert warnings == ["not valid UTF-8: decoded as cp1252 (Windows Western)"]


def test_decode_refuses_binary():
    with pytest.raises(DecodeError, match="binary"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    with pytest.raises(DecodeError, match="binary"):
        decode(b"text\x00with a nul")


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("the worldrsquo;s most", "the world’s most"),
        ("Stalinrsquo;s", "Stalin’s"),
        ("ldquo;quoted,rdquo; he said", "“quoted,” he said"),
        ("1937ndash;1938 mdash; a hellip;", "1937–1938 — a …"),
        ("a&nbsp;b", "a\u00a0b"),
        ("&amp;rsquo; and amp;rsquo; and &amp;amp;mdash;", "’ and ’ and —"),
        ("&rsquo;&#8217;&#x2019;#8217;", "’’’’"),
        ("Tom amp; Jerry", "Tom & Jerry"),
        # words that merely end like an entity name stay as they are
        ("At times; the camp; a belt; copy; apt;", "At times; the camp; a belt; copy; apt;"),
    ],
)
def test_repair_entities(raw, clean):
    assert repair_entities(raw) == clean


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("Itâ€™s", "It’s"),
        ("â€œquotedâ€\x9d", "“quoted”"),
        ("cafÃ© au lait", "café au lait"),
        ("Â© 2019", "© 2019"),
        ("â€”", "—"),
        ("naÃƒÂ¯ve", "naïve"),  # mojibake twice over
        ("Ångström and Âge and é", "Ångström and Âge and é"),  # genuine letters stay
    ],
)
def test_repair_mojibake(raw, clean):
    assert repair_mojibake(raw) == clean


def test_clean_text_normalises_spaces():
    assert clean_text("A\u00a0>\u00a0B  \u200bC \nD\t\tE") == "A > B C\nD E"


# --------------------------------------------------------------------------- structure


def test_structure_of_the_stalin_article():
    text = clean_text(stalin_path().read_text("utf-8"))
    article = derive.structure(text)
    assert article.title == "Beyond Fear: Notable Threats to Joseph Stalin in the Soviet Union"
    assert [(s.tag, s.heading) for s in article.sections] == [
        ("intro", "Joseph Stalin: A Fearsome Leader with His Own Fears"),
        ("notable-political-rivals", "Notable Political Rivals"),
        ("military-threats-and-warnings", "Military Threats and Warnings"),
        ("internal-power-struggles-within-the-nkvd", "Internal Power Struggles within the NKVD"),
        ("international-confrontations-and-news", "International Confrontations and News"),
        ("the-communist-party-elite", "The Communist Party Elite"),
        ("conclusion", None),
    ]
    assert sorted(article.dropped) == sorted([
        "CareerCruise",
        "Location:HOME > Workplace > content",
        "Workplace",
        "February 02, 2025Workplace4348",
        "Joseph Stalin: A Fearsome Leader with His Own Fears While Joseph Stali",
    ])
    assert article.sections[0].paragraphs[0].startswith("While Joseph Stalin is renowned")
    assert article.sections[-1].paragraphs[0].startswith("Despite his formidable position")
    sentences = [s for _sec, s in article.sentences()]
    assert len(sentences) == 29
    assert "The NKVD (People’s Commissariat for Internal Affairs) was another entity that contributed to " \
           "Stalin’s paranoia." in sentences
    assert not any(re.search(r"rsquo|CareerCruise|Workplace", s) for s in sentences)


def test_structure_of_a_scraped_page_with_mojibake_and_footer():
    text, _enc, _w = decode(APOLLO.read_bytes())
    article = derive.structure(clean_text(text))
    assert article.title == "Apollo 11 and the First Steps on the Moon"
    assert [s.tag for s in article.sections] == [
        "intro", "a-race-against-time", "landing-in-the-sea-of-tranquility", "returning-home"]
    dropped = " | ".join(article.dropped)
    for junk in ("SpaceDaily Digest", "Menu", "Home » History » Space Exploration", "Share this article",
                 "By Staff Writer", "Advertisement", "Related articles", "cookies", "© 2019",
                 "three astronauts..."):
        assert junk in dropped
    sentences = [s for _sec, s in article.sentences()]
    assert sentences[0] == "Fifty years ago, three astronauts left Earth on a mission that changed how " \
                           "humanity sees itself."
    assert "Armstrong’s first words from the surface were “The Eagle has landed.”" in sentences
    assert any("21.5 hours on the lunar surface — most of it inside Eagle — and" in s for s in sentences)
    assert "The Saturn V rocket, designed by a team led by Dr. Wernher von Braun, stood 110.6 metres tall." \
        in sentences
    assert not any("â€" in s or "&" in s or "mdash" in s for s in sentences)


def test_structure_of_plain_wrapped_paragraphs():
    text, encoding, _w = decode(PRINTING.read_bytes())
    assert encoding == "cp1252"
    article = derive.structure(clean_text(text))
    assert article.title is None
    assert [(s.tag, s.heading, len(s.paragraphs)) for s in article.sections] == [("intro", None, 4)]
    first = derive.split_sentences(article.sections[0].paragraphs[0])
    assert first[:2] == [
        "The printing press changed Europe more quickly than almost any invention before it.",
        "Johannes Gutenberg, a goldsmith from Mainz, developed a press with movable metal type around 1440.",
    ]


def test_markdown_style_headings_and_repeated_paragraphs():
    text = ("My Topic Title\n\nFirst paragraph says that Ada Lovelace wrote notes in 1843.\n\nA Heading\n\n"
            "Second paragraph mentions Charles Babbage, the inventor of the engine, in 1837.\n\n"
            "First paragraph says that Ada Lovelace wrote notes in 1843.\n")
    article = derive.structure(text)
    assert article.title == "My Topic Title"
    assert [(s.tag, len(s.paragraphs)) for s in article.sections] == [("intro", 1), ("a-heading", 1)]
    assert article.dropped == ["First paragraph says that Ada Lovelace wrote notes in 1843."]


@pytest.mark.parametrize(
    "paragraph,expected",
    [
        ("President John F. Kennedy spoke. Then he left.", ["President John F. Kennedy spoke.", "Then he left."]),
        ("It weighed 21.5 kg. It flew in 1969.", ["It weighed 21.5 kg.", "It flew in 1969."]),
        ("Dr. Wernher von Braun led it. Gen. Smith agreed.", ["Dr. Wernher von Braun led it.", "Gen. Smith agreed."]),
        ("The U.S. Army moved. The end came.", ["The U.S. Army moved.", "The end came."]),
        ("He lived in Washington D.C. Then he moved.", ["He lived in Washington D.C.", "Then he moved."]),
        ("Born c. 1400 in Mainz, he died in 1468. Really?", ["Born c. 1400 in Mainz, he died in 1468.", "Really?"]),
        ("He said “Go.” They went! Did they?", ["He said “Go.”", "They went!", "Did they?"]),
        ("Prices rose approx. 5 percent, e.g. bread.", ["Prices rose approx. 5 percent, e.g. bread."]),
    ],
)
def test_split_sentences(paragraph, expected):
    assert derive.split_sentences(paragraph) == expected


# --------------------------------------------------------------------------- cards


def all_drafts():
    drafts = [derive.derive_file(APOLLO), derive.derive_file(PRINTING)]
    if STALIN.is_file():
        drafts.append(derive.derive_file(STALIN))
    return drafts


def cloze_parts(text: str) -> tuple[str, str, str]:
    m = re.search(r"\{\{c1::(.*?)::(\w+)\}\}", text)
    assert m, text
    return m.group(1), m.group(2), text[: m.start()] + " " + text[m.end():]


def test_every_card_is_sound():
    for draft in all_drafts():
        assert draft.notes
        for note in draft.notes:
            assert note.source and note.tags and note.guid.startswith("h")
            if note.notetype == CLOZE.name:
                answer, hint, rest = cloze_parts(note.fields[0])
                assert hint in KINDS
                assert note.fields[0].count("{{c") == 1
                # Readable: removing the markup gives back the source sentence.
                assert re.sub(r"\{\{c1::(.*?)::\w+\}\}", r"\1", note.fields[0]) == note.source
            else:
                answer = note.fields[1]
                rest = note.fields[0]
            words = re.findall(r"\w+", answer.lower())
            assert words and not all(w in derive.STOPWORDS for w in words), note.fields
            assert answer.lower() not in rest.lower(), f"answer {answer!r} readable in {rest!r}"
            if note.notetype == CLOZE.name and answer[0].isupper():
                for part in answer.split():
                    if len(part) > 2 and part[0].isupper():
                        assert not re.search(rf"\b{re.escape(part)}\b", rest), (answer, rest)


def test_cards_of_the_stalin_article():
    draft = derive.derive_file(stalin_path())
    assert draft.title == "Beyond Fear: Notable Threats to Joseph Stalin in the Soviet Union"
    by_type = {t: [n for n in draft.notes if n.notetype == t] for t in (BASIC.name, CLOZE.name, REVERSED.name)}
    assert [n.fields for n in by_type[REVERSED.name]] == [["NKVD", "People’s Commissariat for Internal Affairs"]]
    assert ["Who was the leader of Nazi Germany?", "Adolf Hitler"] in [n.fields for n in by_type[BASIC.name]]
    clozes = {cloze_parts(n.fields[0])[:2] for n in by_type[CLOZE.name]}
    for expected in [("1929", "year"), ("1924", "year"), ("1930s", "decade"), ("1937-1938", "years"),
                     ("Leon Trotsky", "person"), ("Nikolai Yezhov", "person"), ("Winston Churchill", "person"),
                     ("World War II", "event"), ("Great Purge", "event"), ("Communist Party", "organisation"),
                     ("Red Army", "organisation"), ("NKVD", "organisation"), ("Bolshevik Revolution", "event")]:
        assert expected in clozes
    # The article's subject is on every card's deck already: no card asks for "Stalin".
    answers = [cloze_parts(n.fields[0])[0] if n.notetype == CLOZE.name else n.fields[1] for n in draft.notes]
    assert not [a for a in answers if "Stalin" in a]
    assert {t for n in draft.notes for t in n.tags} == {
        "intro", "notable-political-rivals", "military-threats-and-warnings",
        "internal-power-struggles-within-the-nkvd", "international-confrontations-and-news",
        "the-communist-party-elite", "conclusion"}


def test_cards_of_the_other_articles():
    apollo = derive.derive_file(APOLLO)
    clozes = {cloze_parts(n.fields[0])[:2] for n in apollo.notes if n.notetype == CLOZE.name}
    for expected in [("July 16, 1969", "date"), ("384,400 kilometres", "number"), ("John F. Kennedy", "person"),
                     ("110.6 metres", "number"), ("Kennedy Space Center", "place"), ("Pacific Ocean", "place"),
                     ("Richard Nixon", "person"), ("21 days", "number")]:
        assert expected in clozes
    pairs = [n.fields for n in apollo.notes if n.notetype != CLOZE.name]
    assert ["NASA", "National Aeronautics and Space Administration"] in pairs
    assert ["Who stayed in orbit aboard the command module, Columbia?", "Collins"] in pairs
    # "Saturn V" and "USS Hornet" are not people.
    assert not {c for c in clozes if c[0] in ("Saturn V", "USS Hornet") and c[1] == "person"}

    printing = derive.derive_file(PRINTING)
    assert printing.title == "printing-press-plain"
    assert printing.warnings == ["not valid UTF-8: decoded as cp1252 (Windows Western)"]
    clozes = {cloze_parts(n.fields[0])[:2] for n in printing.notes if n.notetype == CLOZE.name}
    for expected in [("1440", "year"), ("1455", "year"), ("180 copies", "number"), ("Martin Luther", "person"),
                     ("Johannes Gutenberg", "person"), ("20 million", "number"), ("1517", "year")]:
        assert expected in clozes


def test_question_patterns():
    known = {"Trotsky": "person", "Leon Trotsky": "person"}
    cards = derive.cards_for_sentence("Trotsky was exiled in 1929, which angered his allies.", known)
    fields = [c.fields for c in cards if c.notetype == BASIC.name]
    assert ("Who was exiled in 1929, which angered his allies?", "Trotsky") in fields
    assert ("When was Trotsky exiled?", "1929") in fields
    cards = derive.cards_for_sentence("The Treaty of Versailles was signed on June 28, 1919, ending the war.", {})
    assert ("When was the Treaty of Versailles signed?", "June 28, 1919") in [c.fields for c in cards]
    cards = derive.cards_for_sentence(
        "The Office of Strategic Services (OSS) was founded during the war and later dissolved.", {})
    assert ("OSS", "Office of Strategic Services") in [c.fields for c in cards]


def test_no_card_when_the_answer_shows_elsewhere():
    known = {"Lenin": "person", "Vladimir Lenin": "person"}
    cards = derive.cards_for_sentence("Vladimir Lenin founded the party, and Lenin’s allies followed him.", known)
    assert not [c for c in cards if c.answer == "Vladimir Lenin"]
    cards = derive.cards_for_sentence("The war began in 1914 and the 1914 crisis spread fast.", {})
    assert not [c for c in cards if c.answer == "1914"]


def test_fields_are_html_escaped():
    cards = derive.cards_for_sentence("The firm Smith & Sons <Ltd> sold 500 tonnes of steel in 1901.", {})
    texts = [c.fields[0] for c in cards]
    assert "The firm Smith &amp; Sons &lt;Ltd&gt; sold 500 tonnes of steel in {{c1::1901::year}}." in texts


def test_duplicates_are_removed():
    para = "Marie Curie won the Nobel Prize in 1903, the first woman to do so."
    text = f"Curie\n\n{para}\n\n{para}\n\nShe won a second prize in 1911, this time for chemistry.\n"
    draft = derive.derive(text, "curie.txt")
    sources = [n.source for n in draft.notes]
    assert sources.count(para) == len([n for n in draft.notes if n.source == para])
    assert len({n.guid for n in draft.notes}) == len(draft.notes)
    assert len({(n.source, n.fields[0]) for n in draft.notes}) == len(draft.notes)


def test_ids_are_stable_across_corrections():
    text = APOLLO.read_bytes().decode("utf-8")
    first = derive.derive(text, APOLLO)
    again = derive.derive(text, APOLLO)
    assert [n.guid for n in first.notes] == [n.guid for n in again.notes]
    corrected = text.replace("stood 110.6 metres tall", "stood 110.6 metres high")
    second = derive.derive(corrected, APOLLO)
    changed = {n.guid for n in first.notes if "110.6 metres tall" in n.source}
    assert changed and not changed & {n.guid for n in second.notes}
    unchanged = {n.guid for n in first.notes} - changed
    assert unchanged <= {n.guid for n in second.notes}
    # The deck name does not change the ids either.
    assert [n.guid for n in derive.derive(text, APOLLO, deck="Space").notes] == [n.guid for n in first.notes]


@pytest.mark.parametrize(
    "data,message",
    [
        (b"", "the file is empty"),
        (b"  \n\n\t \n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 10, "binary"),
        (b"Groceries\n\nMilk\n\nEggs\n\nBread\n", "no sentences found"),
        (b"the end. yes. no.", "no sentences found"),
        (b"It was a quiet day and nothing much happened at all.\n", "nothing worth a card"),
    ],
)
def test_bad_input_is_refused(tmp_path, data, message):
    p = tmp_path / "article.txt"
    p.write_bytes(data)
    with pytest.raises(ImportFailed) as e:
        derive.derive_file(p)
    assert message in str(e.value)
    assert str(e.value).startswith(str(p))


# --------------------------------------------------------------------------- CLI


def test_cli_derive_imports_and_rederives_without_change(tmp_path, capsys):
    data = str(tmp_path / "data")
    assert cli_main(["derive", "--data-dir", data, str(APOLLO)]) == 0
    out = capsys.readouterr().out
    n = len(derive.derive_file(APOLLO).notes)
    assert f"{n} new, 0 updated, 0 unchanged" in out
    assert "deck 'Apollo 11 and the First Steps on the Moon'" in out
    assert cli_main(["derive", "--data-dir", data, str(APOLLO)]) == 0
    assert f"0 new, 0 updated, {n} unchanged" in capsys.readouterr().out
    assert cli_main(["derive", "--data-dir", data, "--deck", "Printing", str(PRINTING)]) == 0
    col = Collection.open(data)
    try:
        names = {r.name: r.notes for r in col.deck_tree()}
    finally:
        col.close()
    assert names["Apollo 11 and the First Steps on the Moon"] == n
    assert names["Printing"] == len(derive.derive_file(PRINTING).notes)


def test_cli_derive_writes_files_that_import_reads(tmp_path, capsys):
    out = tmp_path / "apollo.md"
    assert cli_main(["derive", str(APOLLO), "-o", str(out), "--deck", "Space"]) == 0
    n = len(derive.derive_file(APOLLO).notes)
    assert capsys.readouterr().out.startswith(f"wrote {n} notes")
    md = parse_md(out)
    assert len(md.notes) == n and {x.deck for x in md.notes} == {"Space"}
    assert md.notes[0].source
    data = str(tmp_path / "data")
    assert cli_main(["import", "--data-dir", data, str(out)]) == 0
    # Importing the file and deriving straight in give the same notes (same ids).
    assert cli_main(["derive", "--data-dir", data, "--deck", "Space", str(APOLLO)]) == 0
    assert f"0 new, 0 updated, {n} unchanged" in capsys.readouterr().out

    for suffix in (".csv", ".tsv", ".apkg"):
        other = tmp_path / f"apollo{suffix}"
        assert cli_main(["derive", str(APOLLO), "-o", str(other)]) == 0
        back = importing.parse(other)
        try:
            assert sorted(x.guid for x in back.notes) == sorted(x.guid for x in md.notes), suffix
        finally:
            if callable(back.cleanup):
                back.cleanup()


def test_cli_derive_errors_change_nothing(tmp_path, capsys):
    data = str(tmp_path / "data")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert cli_main(["derive", "--data-dir", data, str(empty)]) == 1
    assert capsys.readouterr().err == f"flashcards: {empty}: the file is empty\n"
    assert cli_main(["derive", str(APOLLO), "-o", str(tmp_path / "deck.xyz")]) == 1
    assert "cannot write '.xyz'" in capsys.readouterr().err
    assert not (tmp_path / "deck.xyz").exists()
    assert cli_main(["derive", "--data-dir", data, str(tmp_path / "missing.txt")]) == 1
    assert "cannot read the file" in capsys.readouterr().err
    col = Collection.open(data)
    try:
        assert col._sql("SELECT count(*) FROM note").fetchone()[0] == 0
    finally:
        col.close()


HTML_ARTICLE = """<html><head><title>Site | Fire</title><style>p { color: red }</style></head><body>
<nav>Home | About</nav>
<h1>The Great Fire of London</h1>
<p>The Great Fire of London began on 2 September 1666 in a bakery on Pudding Lane.[1] It burned for four
days.</p>
<h2>Damage</h2>
<ul><li>About 13,200 houses were destroyed.</li><li>Old St Paul&#8217;s Cathedral was lost.</li></ul>
<p>King Charles II ordered a rebuilding plan, and Christopher Wren designed the new cathedral.[citation needed]</p>
<footer>(c) the site</footer></body></html>
"""

MARKDOWN_ARTICLE = """# Volcanoes

## Mount Vesuvius

Mount **Vesuvius** erupted in 79 AD and buried [Pompeii](https://example.org/pompeii).

* The eruption killed about 2,000 people.
* Pliny the Younger described it in two letters.
"""


def test_html_article():
    article = derive.structure(clean_text(derive.strip_markup(HTML_ARTICLE)))
    assert article.title == "The Great Fire of London"
    assert [(s.tag, s.paragraphs) for s in article.sections] == [
        ("intro", ["The Great Fire of London began on 2 September 1666 in a bakery on Pudding Lane. "
                   "It burned for four days."]),
        ("damage", ["About 13,200 houses were destroyed.", "Old St Paul’s Cathedral was lost.",
                    "King Charles II ordered a rebuilding plan, and Christopher Wren designed the new "
                    "cathedral."]),
    ]
    draft = derive.derive(HTML_ARTICLE, "fire.html")
    clozes = {cloze_parts(n.fields[0])[:2] for n in draft.notes}
    assert clozes >= {("2 September 1666", "date"), ("Great Fire of London", "event"), ("Pudding Lane", "place"),
                      ("13,200 houses", "number"), ("Charles II", "person"), ("Christopher Wren", "person")}
    # "Old St Paul" is the start of a longer name, not a person.
    assert not [c for c in clozes if c[0].startswith("Old St Paul")]


def test_markdown_article():
    article = derive.structure(clean_text(derive.strip_markup(MARKDOWN_ARTICLE)))
    assert article.title == "Volcanoes"
    assert [(s.tag, s.heading, len(s.paragraphs)) for s in article.sections] == [
        ("mount-vesuvius", "Mount Vesuvius", 3)]
    draft = derive.derive(MARKDOWN_ARTICLE, "volcanoes.md")
    fields = [n.fields for n in draft.notes]
    assert ["Mount Vesuvius erupted in {{c1::79 AD::year}} and buried Pompeii.", ""] in fields
    assert ["Which place erupted in 79 AD and buried Pompeii?", "Mount Vesuvius"] in fields
    assert ["The eruption killed about {{c1::2,000 people::number}}.", ""] in fields
    assert not any("*" in f or "](" in f for pair in fields for f in pair)


def test_rederiving_a_corrected_article_keeps_progress(tmp_path, capsys):
    from datetime import UTC, datetime

    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    data = tmp_path / "data"
    article = tmp_path / "apollo.txt"
    article.write_bytes(APOLLO.read_bytes())
    assert cli_main(["derive", "--data-dir", str(data), str(article)]) == 0
    col = Collection.open(data)
    try:
        session = col.study(col.deck_id("Apollo 11 and the First Steps on the Moon"))
        card = session.next_card(now)
        session.answer(card.card_id, 3, now)
        studied_source = col._sql("SELECT source FROM note WHERE id = ?", (card.note_id,)).fetchone()[0]
        before = col.card_columns(card.card_id)
    finally:
        col.close()
    assert "110.6 metres tall" not in studied_source
    article.write_text(article.read_text("utf-8").replace("110.6 metres tall", "110.6 metres high"), "utf-8")
    capsys.readouterr()
    assert cli_main(["derive", "--data-dir", str(data), str(article)]) == 0
    out = capsys.readouterr().out
    changed = len([n for n in derive.derive_file(APOLLO).notes if "110.6 metres tall" in n.source])
    total = len(derive.derive_file(article).notes)
    assert f"{changed} new, 0 updated, {total - changed} unchanged" in out
    col = Collection.open(data)
    try:
        after = col.card_columns(card.card_id)
    finally:
        col.close()
    assert {k: after[k] for k in ("state", "due_ms", "reps", "stability")} == {
        k: before[k] for k in ("state", "due_ms", "reps", "stability")}
    assert after["reps"] == 1


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PIECES = st.sampled_from([
    "The ", "NKVD ", "(People’s Commissariat for Internal Affairs) ", "in 1929. ", "Dr. ", "J. F. Kennedy ",
    "\n\n", "\n", "Home > A > B\n", "rsquo;", "â€™", "3.5 km ", "Leon Trotsky ", ", the leader of X, ",
    "was exiled in 1929, ", "…", "...", "# ", "* ", "<p>", "</p>", "[1]", "May 5, 1945 ", "Trotsky ",
])


@settings(max_examples=100, deadline=None)
@given(text=st.lists(_PIECES | st.text(max_size=5), max_size=40).map("".join))
def test_any_text_derives_or_fails_cleanly(text):
    """Whatever the text, derive returns sound notes or raises ImportFailed: never anything else."""
    try:
        draft = derive.derive(text, "any.txt")
    except ImportFailed:
        return
    assert draft.notes
    for note in draft.notes:
        assert note.fields[0].strip() and note.source and note.guid
        if note.notetype == CLOZE.name:
            assert note.fields[0].count("{{c1::") == 1


def test_dated_heading_inside_the_text_is_a_heading_not_a_date_line():
    text = ("Revolution in Germany\n\nPosted by admin | March 3, 2020\n\n"
            "The German Revolution began in November 1918 when sailors mutinied in Kiel.\n\n"
            "January 5, 1919: The Spartacist Uprising\n\n"
            "Workers in Berlin rose against the government of Friedrich Ebert in January 1919.\n")
    article = derive.structure(text)
    assert article.title == "Revolution in Germany"
    assert article.dropped == ["Posted by admin | March 3, 2020"]
    assert [(s.tag, s.heading) for s in article.sections] == [
        ("intro", None),
        ("january-5-1919-the-spartacist-uprising", "January 5, 1919: The Spartacist Uprising"),
    ]
