"""The CSV/TSV/plain-text importer: Anki's header lines, quoting, encodings, separator detection."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashcards.drafts import IfMatches, content_guid
from flashcards.errors import ImportFailed
from flashcards.importers.csv import parse


def write(tmp_path, text: str, name: str = "notes.txt", encoding: str = "utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def fields(draft):
    return [n.fields for n in draft.notes]


# --------------------------------------------------------------------------- header lines


def test_full_header_with_meta_columns(tmp_path):
    p = write(
        tmp_path,
        "#separator:Pipe\n"
        "#html:true\n"
        "#tags:global extra\n"
        "#guid column:1\n"
        "#notetype column:2\n"
        "#deck column:3\n"
        "#tags column:6\n"
        "#if matches:keep both\n"
        "#match scope:notetype + deck\n"
        "g1|Basic|Lang::French|<b>chat</b>|cat|t1 t2\n"
        "g2|Cloze|Lang|{{c1::Paris}} is the capital|extra|\n",
    )
    d = parse(p)
    assert d.if_matches is IfMatches.DUPLICATE
    assert d.match_scope_deck is True
    a, b = d.notes
    assert (a.guid, a.notetype, a.deck, a.fields, a.tags, a.line) == (
        "g1", "Basic", "Lang::French", ["<b>chat</b>", "cat"], ["global", "extra", "t1", "t2"], 10,
    )
    assert (b.guid, b.notetype, b.deck, b.fields, b.tags, b.line) == (
        "g2", "Cloze", "Lang", ["{{c1::Paris}} is the capital", "extra"], ["global", "extra"], 11,
    )
    assert d.skipped == [] and d.warnings == []


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("tab", "a\tb,c\n", ["a", "b,c"]),
        ("comma", "a,b;c\n", ["a", "b;c"]),
        ("semicolon", "a;b,c\n", ["a", "b,c"]),
        ("pipe", "a|b,c\n", ["a", "b,c"]),
        ("colon", "a:b,c\n", ["a", "b,c"]),
        ("space", "a b,c\n", ["a", "b,c"]),
        (",", "a,b\tc\n", ["a", "b\tc"]),
        ("\t", "a\tb,c\n", ["a", "b,c"]),
        (" ", "a b\n", ["a", "b"]),
        ("^", "a^b,c\n", ["a", "b,c"]),
        ("TAB", "a\tb\n", ["a", "b"]),
    ],
)
def test_separator_header(tmp_path, value, text, expected):
    d = parse(write(tmp_path, f"#separator:{value}\n#html:true\n{text}"))
    assert fields(d) == [expected]


def test_if_matches_and_match_scope_values(tmp_path):
    for value, expected in [("update current", IfMatches.UPDATE), ("keep current", IfMatches.KEEP),
                            ("keep both", IfMatches.DUPLICATE)]:
        d = parse(write(tmp_path, f"#if matches:{value}\n#match scope:notetype\nq\ta\n"))
        assert d.if_matches is expected
        assert d.match_scope_deck is False
    assert parse(write(tmp_path, "q\ta\n")).if_matches is IfMatches.UPDATE


def test_global_notetype_and_deck(tmp_path):
    d = parse(write(tmp_path, "#notetype:Basic (and reversed card)\n#deck:Spanish::Verbs\nhablar\tto speak\n"))
    (n,) = d.notes
    assert (n.notetype, n.deck, n.fields) == ("Basic (and reversed card)", "Spanish::Verbs", ["hablar", "to speak"])


def test_defaults_without_header(tmp_path):
    (n,) = parse(write(tmp_path, "q\ta\n")).notes
    assert (n.notetype, n.deck, n.tags, n.source, n.cards, n.line) == ("Basic", "Default", [], "", None, 1)
    assert n.guid == content_guid("q", "Basic")


def test_legacy_tags_first_line(tmp_path):
    (n,) = parse(write(tmp_path, "tags:old style\nq\ta\n")).notes
    assert n.tags == ["old", "style"]
    assert n.line == 2


def test_columns_map_fields_by_name_and_source(tmp_path):
    p = write(
        tmp_path,
        "#separator:comma\n#html:true\n#columns:Back,Source,Front,Notes\n#tags column:4\n"
        "answer,Book p. 12,question,t1\n",
    )
    (n,) = parse(p).notes
    assert n.fields == ["question", "answer"]
    assert n.source == "Book p. 12"
    assert n.tags == ["t1"]


def test_columns_with_unknown_names_fall_back_to_position(tmp_path):
    p = write(tmp_path, "#columns:Question\tAnswer\nq\ta\n")
    assert fields(parse(p)) == [["q", "a"]]


def test_columns_header_before_separator_uses_final_separator(tmp_path):
    p = write(tmp_path, "#columns:Front;Back;Source\n#separator:semicolon\nq;a;src\n")
    (n,) = parse(p).notes
    assert (n.fields, n.source) == (["q", "a"], "src")


def test_unknown_header_keys_are_comments(tmp_path):
    p = write(tmp_path, "#made by: a script\n# just a comment\nq\ta\n")
    assert fields(parse(p)) == [["q", "a"]]


# --------------------------------------------------------------------------- rows


def test_quoted_fields_with_newlines_and_separators(tmp_path):
    text = '#separator:comma\n"line one\nline two","a, b"\n"say ""hi""",x\nlast,row\n'
    d = parse(write(tmp_path, text))
    assert fields(d) == [["line one<br>line two", "a, b"], ['say "hi"', "x"],
                         ["last", "row"]]
    assert [n.line for n in d.notes] == [2, 4, 5]


def test_html_true_keeps_markup_and_newlines(tmp_path):
    d = parse(write(tmp_path, '#separator:comma\n#html:true\n"<b>a</b>\nb",c & d\n'))
    assert fields(d) == [["<b>a</b>\nb", "c & d"]]


def test_plain_text_is_escaped(tmp_path):
    d = parse(write(tmp_path, '#html:false\na < b & c > d\t"x\r\ny\rz"\n'))
    assert fields(d) == [["a &lt; b &amp; c &gt; d", "x<br>y<br>z"]]


def test_rows_of_different_lengths_are_padded_and_trimmed(tmp_path):
    d = parse(write(tmp_path, "#tags column:3\nonly front\nq\ta\ttag\textra\tmore\n"))
    assert fields(d) == [["only front", ""], ["q", "a"]]
    assert d.notes[1].tags == ["tag"]
    assert d.warnings == [
        "1 row(s) had more columns than their note type has fields; the extra columns were ignored"
    ]


def test_third_column_is_tags_as_in_anki(tmp_path):
    d = parse(write(tmp_path, "q1\ta1\tt1 t2\nq2\ta2\tt3\n"))
    assert [(n.fields, n.tags) for n in d.notes] == [(["q1", "a1"], ["t1", "t2"]), (["q2", "a2"], ["t3"])]


def test_rows_with_empty_first_field_are_skipped_with_their_line(tmp_path):
    d = parse(write(tmp_path, "#separator:tab\nq\ta\n\tno front\n  \tblank front\nq2\ta2\n"))
    assert fields(d) == [["q", "a"], ["q2", "a2"]]
    assert d.skipped == [(3, "the first field is empty"), (4, "the first field is empty")]


def test_comment_lines_and_blank_lines_in_the_body(tmp_path):
    text = 'q1\ta1\n# a comment\n\n"multi\n# not a comment"\ta2\n#another\nq3\ta3\n'
    d = parse(write(tmp_path, text))
    assert fields(d) == [["q1", "a1"], ["multi<br># not a comment", "a2"], ["q3", "a3"]]
    assert [n.line for n in d.notes] == [1, 4, 7]


def test_notetype_column_without_value_is_skipped(tmp_path):
    d = parse(write(tmp_path, "#notetype column:1\n\tq\ta\nBasic\tq\ta\n"))
    assert fields(d) == [["q", "a"]]
    assert d.skipped == [(2, "no note type in column 1")]


def test_unknown_notetype_keeps_every_free_column(tmp_path):
    d = parse(write(tmp_path, "#notetype column:1\n#html:true\nJapanese\t語\tご\tword\n"))
    (n,) = d.notes
    assert (n.notetype, n.fields) == ("Japanese", ["語", "ご", "word"])
    assert d.warnings == ["note type(s) not built in: Japanese; they must exist in the collection"]


def test_deck_column_empty_value_uses_file_deck(tmp_path):
    d = parse(write(tmp_path, "#deck:Main\n#deck column:3\nq\ta\tSub\nq2\ta2\t\n"))
    assert [n.deck for n in d.notes] == ["Sub", "Main"]


# --------------------------------------------------------------------------- guids


def test_guids_are_stable_and_repeated_first_fields_kept(tmp_path):
    p = write(tmp_path, "same\tone\nsame\ttwo\nother\tx\n")
    d1, d2 = parse(p), parse(p)
    g = [n.guid for n in d1.notes]
    assert g == [n.guid for n in d2.notes]
    assert len(set(g)) == 3
    assert g[0] == content_guid("same", "Basic")
    assert g[1] == content_guid("same", "Basic", "2")


def test_repeated_explicit_guid_is_skipped(tmp_path):
    d = parse(write(tmp_path, "#guid column:1\nG\tq\ta\nG\tq2\ta2\n\tq3\ta3\n"))
    assert [n.guid for n in d.notes] == ["G", content_guid("q3", "Basic")]
    assert d.skipped == [(3, "guid G already used on line 2")]


# --------------------------------------------------------------------------- encodings


def test_utf8_bom(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes(b"\xef\xbb\xbf#separator:comma\nq,\xc3\xa9\n")
    d = parse(p)
    assert fields(d) == [["q", "é"]]
    assert d.warnings == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16(tmp_path, encoding):
    d = parse(write(tmp_path, "#separator:tab\nслово\tword\n", encoding=encoding))
    assert fields(d) == [["слово", "word"]]
    if encoding == "utf-16":
        assert d.warnings == []
    else:
        assert d.warnings == [f"the file has no byte-order mark; read as {encoding.upper()}"]


def test_cp1252_fallback_warns(tmp_path):
    d = parse(write(tmp_path, "caf\u00e9\tna\u00efve \u20ac\nsecond\tline\n", encoding="cp1252"))
    assert fields(d) == [["café", "naïve €"], ["second", "line"]]
    assert d.warnings == [
        "the file is not UTF-8 (first bad byte on line 1); read as Windows-1252 (cp1252): check accented letters"
    ]


# --------------------------------------------------------------------------- separator detection


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Anki's issue #5253: a comma file must not be cut at colons.
        ("Meeting,9:00\nLunch,12:30\nTrain,17:45\n", [["Meeting", "9:00"], ["Lunch", "12:30"], ["Train", "17:45"]]),
        ("a,b,x::y::z\nc,d,e::f\n", [["a", "b"], ["c", "d"]]),
        ("front;back\nq;a: colon\n", [["front", "back"], ["q", "a: colon"]]),
        ("q\ta, b\nq2\tc\n", [["q", "a, b"], ["q2", "c"]]),
        ("one|two\nthree|four\n", [["one", "two"], ["three", "four"]]),
        ("front:back\nother:side, with comma\n", [["front", "back"], ["other", "side, with comma"]]),
        ("word meaning\nanother one\n", [["word", "meaning"], ["another", "one"]]),
        ("single\ncolumn only\n", [["single", ""], ["column only", ""]]),
        ('"a, quoted",b\n"c",d\n', [["a, quoted", "b"], ["c", "d"]]),
    ],
)
def test_separator_detection(tmp_path, text, expected):
    assert fields(parse(write(tmp_path, text))) == expected


def test_colon_tags_never_split_a_comma_file(tmp_path):
    text = "#tags column:3\nq1,a1,lang::fr verb\nq2,a2,lang::de::noun\nq3,a3,x\n"
    d = parse(write(tmp_path, text))
    assert [(n.fields, n.tags) for n in d.notes] == [
        (["q1", "a1"], ["lang::fr", "verb"]), (["q2", "a2"], ["lang::de::noun"]), (["q3", "a3"], ["x"]),
    ]


# --------------------------------------------------------------------------- errors


def test_missing_file(tmp_path):
    with pytest.raises(ImportFailed) as e:
        parse(tmp_path / "nope.csv")
    assert str(e.value) == f"{tmp_path / 'nope.csv'}: no such file"


def test_directory(tmp_path):
    with pytest.raises(ImportFailed, match="is a directory"):
        parse(tmp_path)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("#separator:weird\nq\ta\n", 1, "unknown separator 'weird'"),
        ("#deck:X\n#html:yes\nq\ta\n", 2, "#html must be true or false, not 'yes'"),
        ("#tags column:two\nq\ta\n", 1, "#tags column must be a column number"),
        ("#if matches:overwrite\nq\ta\n", 1, "#if matches must be one of"),
        ("#match scope:deck\nq\ta\n", 1, "#match scope must be notetype or notetype + deck"),
        ("#deck column:2\n#tags column:2\nq\ta\n", 2, "column 2 cannot be both the deck and the tags column"),
        ("#notetype:\nq\ta\n", 1, "#notetype needs a note type name"),
        ('q\ta\nq2\t"never closed\nmore\n', 2, "a quoted field starting on this line is never closed"),
    ],
)
def test_errors_name_the_line(tmp_path, text, line, message):
    p = write(tmp_path, text)
    with pytest.raises(ImportFailed) as e:
        parse(p)
    assert e.value.line == line
    assert e.value.path == str(p)
    assert message in str(e.value)
    assert str(e.value).startswith(f"{p}:{line}: ")


def test_header_only_file_gives_empty_draft(tmp_path):
    d = parse(write(tmp_path, "#separator:tab\n#deck:X\n"))
    assert d.notes == [] and d.skipped == []
    assert parse(write(tmp_path, "")).notes == []


def test_field_too_large_is_an_error_with_line(tmp_path):
    big = "x" * (csv.field_size_limit() + 10)
    with pytest.raises(ImportFailed) as e:
        parse(write(tmp_path, f"q\ta\n{big}\tb\n"))
    assert e.value.line == 2


# --------------------------------------------------------------------------- round trip property

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(_text.filter(lambda s: s.strip() != "" and not s.startswith("#")), _text),
                  min_size=1, max_size=6),
    sep=st.sampled_from(["\t", ",", ";", "|"]),
)
def test_whatever_csv_writer_writes_reads_back(tmp_path_factory, rows, sep):
    tmp = tmp_path_factory.mktemp("rt")
    buf = io.StringIO()
    name = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}[sep]
    buf.write(f"#separator:{name}\n#html:true\n")
    # "\r\n" as terminator makes the writer quote fields holding either character.
    w = csv.writer(buf, delimiter=sep, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for front, back in rows:
        # A field that starts with "#" or holds line breaks is quoted, so it can't read as a comment.
        w.writerow([front, back])
    d = parse(write(tmp, buf.getvalue()))
    # Nothing is normalised in HTML mode: what went in comes out, line endings included.
    assert fields(d) == [[f, b] for f, b in rows]


# --------------------------------------------------------------------------- end to end: flashcards import


def note_rows(data_dir):
    from flashcards.collection import Collection

    with Collection.open(data_dir) as c:
        return c._sql("SELECT n.guid, n.fields, n.tags, n.source, d.name FROM note n "
                      "JOIN card k ON k.note_id = n.id AND k.ord = 0 JOIN deck d ON d.id = k.deck_id "
                      "ORDER BY n.id").fetchall()


def test_cli_import_then_reimport_matches_the_same_notes(tmp_path, capsys):
    from flashcards import cli

    data = tmp_path / "data"
    p = write(tmp_path, "#deck:Verbs\n#columns:Front\tBack\tSource\nhablar\tto speak\tbook\n\tno front\n"
                        "comer\tto eat & drink\t\n", name="verbs.tsv")
    assert cli.main(["import", "--data-dir", str(data), str(p)]) == 0
    out = capsys.readouterr().out
    assert f"{p}: 2 new, 0 updated, 0 unchanged, 1 skipped" in out
    assert "skipped (line 4): the first field is empty" in out
    rows = note_rows(data)
    assert [(g, f, s, d) for g, f, _t, s, d in rows] == [
        (content_guid("hablar", "Basic"), '["hablar", "to speak"]', "book", "Verbs"),
        (content_guid("comer", "Basic"), '["comer", "to eat &amp; drink"]', "", "Verbs"),
    ]
    assert cli.main(["import", "--data-dir", str(data), str(p)]) == 0
    assert f"{p}: 0 new, 0 updated, 2 unchanged, 1 skipped" in capsys.readouterr().out
    p.write_text("#deck:Verbs\n#columns:Front\tBack\tSource\nhablar\tto talk\tbook\ncomer\tto eat & drink\t\n")
    assert cli.main(["import", "--data-dir", str(data), str(p)]) == 0
    assert f"{p}: 0 new, 1 updated, 1 unchanged, 0 skipped" in capsys.readouterr().out
    assert [r[1] for r in note_rows(data)] == ['["hablar", "to talk"]', '["comer", "to eat &amp; drink"]']


def test_cli_import_deck_option_and_keep_current(tmp_path, capsys):
    from flashcards import cli

    data = tmp_path / "data"
    p = write(tmp_path, "#deck:Ignored\nq\ta\n", name="a.csv")
    assert cli.main(["import", "--data-dir", str(data), "--deck", "Chosen::Sub", str(p)]) == 0
    assert [r[4] for r in note_rows(data)] == ["Chosen::Sub"]
    p.write_text("#if matches:keep current\nq\tchanged\n")
    assert cli.main(["import", "--data-dir", str(data), str(p)]) == 0
    assert "0 new, 0 updated, 0 unchanged, 1 skipped" in capsys.readouterr().out
    assert [r[1] for r in note_rows(data)] == ['["q", "a"]']


def test_cli_bad_file_changes_nothing_and_names_the_line(tmp_path, capsys):
    from flashcards import cli

    data = tmp_path / "data"
    good = write(tmp_path, "q\ta\n", name="good.tsv")
    bad = write(tmp_path, 'q2\ta2\nq3\t"unclosed\n', name="bad.tsv")
    assert cli.main(["import", "--data-dir", str(data), str(bad), str(good)]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip() == (f"flashcards: {bad}:2: a quoted field starting on this line is never "
                                    'closed (missing ")')
    assert "good.tsv: 1 new" in captured.out
    assert [r[1] for r in note_rows(data)] == ['["q", "a"]']  # the bad file wrote nothing


def test_column_named_tags_is_the_tags_column(tmp_path):
    d = parse(write(tmp_path, "#columns:Front\tBack\tSource\tTags\nq\ta\tsrc\tt1 t2\n"))
    (n,) = d.notes
    assert (n.fields, n.source, n.tags) == (["q", "a"], "src", ["t1", "t2"])


@pytest.mark.parametrize("eol", ["\r\n", "\r"])
def test_windows_and_old_mac_line_endings(tmp_path, eol):
    text = eol.join(["#separator:comma", "#columns:Front,Back", 'q1,"two' + eol + 'lines"', "q2,a2", ""])
    d = parse(write(tmp_path, text))
    assert fields(d) == [["q1", "two<br>lines"], ["q2", "a2"]]
    assert [n.line for n in d.notes] == [3, 5]
