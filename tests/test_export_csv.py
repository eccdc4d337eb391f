"""CSV/TSV export: Anki's header lines; read back as updates by our importer and by Anki itself."""

from __future__ import annotations

import os

import pytest

from flashcards.drafts import Draft, DraftNote
from flashcards.errors import ExportFailed
from flashcards.exporters import csv as csv_export
from flashcards.importers.csv import parse


def sample_draft() -> Draft:
    d = Draft(path="test")
    d.notes = [
        DraftNote("g2", "Cloze", ["{{c1::Paris}} is the capital", "extra"], [], "Lang", ""),
        DraftNote("#g1,x", "Basic", ["<b>chat</b>", "cat\nline two"], ["t1", "lang::fr"], "Lang::French",
                  "Book p. 1"),
        DraftNote("g3", "Basic (and reversed card)", ["f", 'say "hi"'], ["x"], "Lang", "src, with comma"),
    ]
    return d


def test_tsv_exact_output(tmp_path):
    p = tmp_path / "out.tsv"
    progress = []
    assert csv_export.write(sample_draft(), p, progress=lambda done, total: progress.append((done, total))) == 3
    assert p.read_text("utf-8") == (
        "#separator:tab\n"
        "#html:true\n"
        "#guid column:1\n"
        "#notetype column:2\n"
        "#deck column:3\n"
        "#tags column:7\n"
        "#columns:guid\tnotetype\tdeck\tField 1\tField 2\tSource\ttags\n"
        "g2\tCloze\tLang\t{{c1::Paris}} is the capital\textra\t\t\n"
        "g3\tBasic (and reversed card)\tLang\tf\t\"say \"\"hi\"\"\"\tsrc, with comma\tx\n"
        "\"#g1,x\"\tBasic\tLang::French\t<b>chat</b>\t\"cat\nline two\"\tBook p. 1\tt1 lang::fr\n"
    )
    assert progress == [(3, 3)]


def test_csv_uses_commas_and_field_names_of_a_single_notetype(tmp_path):
    d = Draft(path="t")
    d.notes = [DraftNote("#a", "Basic", ["q", "a, b"], [], "D", "")]
    p = tmp_path / "out.csv"
    csv_export.write(d, p)
    assert p.read_text("utf-8").splitlines()[-2:] == [
        "#columns:guid,notetype,deck,Front,Back,Source,tags",
        '"#a",Basic,D,q,"a, b",,',
    ]


@pytest.mark.parametrize("suffix", [".tsv", ".csv", ".txt"])
def test_our_import_reads_the_export_back(tmp_path, suffix):
    p = tmp_path / f"out{suffix}"
    src = sample_draft()
    csv_export.write(src, p)
    back = parse(p)
    assert back.skipped == [] and back.warnings == []
    got = {n.guid: (n.notetype, n.fields, n.tags, n.deck, n.source) for n in back.notes}
    assert got == {n.guid: (n.notetype, n.fields, n.tags, n.deck, n.source) for n in src.notes}


def test_custom_notetype_with_more_fields_pads_the_others(tmp_path):
    d = Draft(path="t")
    d.notes = [DraftNote("a", "Vocab", ["語", "ご", "word"], ["jp"], "JP", "dict"),
               DraftNote("b", "Basic", ["q", "a"], [], "JP", "")]
    p = tmp_path / "out.tsv"
    csv_export.write(d, p)
    back = parse(p)
    assert [(n.notetype, n.fields, n.source, n.tags) for n in back.notes] == [
        ("Vocab", ["語", "ご", "word"], "dict", ["jp"]),
        ("Basic", ["q", "a"], "", []),
    ]


def test_field_named_source_is_refused(tmp_path):
    from flashcards.drafts import DraftNotetype, DraftTemplate

    d = Draft(path="t")
    d.notetypes = [DraftNotetype("Quote", ("Text", "Source"), (DraftTemplate("c", "{{Text}}", "{{Source}}"),))]
    d.notes = [DraftNote("a", "Quote", ["x", "y"])]
    with pytest.raises(ExportFailed, match="field named 'Source'"):
        csv_export.write(d, tmp_path / "q.csv")
    assert list(tmp_path.iterdir()) == []


def test_failure_leaves_no_partial_file(tmp_path):
    p = tmp_path / "out.tsv"
    p.write_text("old content")
    d = sample_draft()
    d.notes.append(DraftNote("bad", "Basic", ["q", None], [], "Lang", ""))  # type: ignore[list-item]
    with pytest.raises(TypeError):
        csv_export.write(d, p)
    assert p.read_text() == "old content"
    assert os.listdir(tmp_path) == ["out.tsv"]


# --------------------------------------------------------------------------- Anki reads it


def anki_import_csv(col, path):
    from anki.collection import ImportCsvRequest

    metadata = col.get_csv_metadata(path=str(path), delimiter=None)
    return col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log


def anki_notes(col):
    out = {}
    for nid in col.find_notes(""):
        n = col.get_note(nid)
        decks = sorted({col.decks.name(c.did) for c in n.cards()})
        out[n.guid] = (n.note_type()["name"], list(n.fields), sorted(n.tags), decks)
    return out


@pytest.mark.parametrize("suffix", [".tsv", ".csv"])
def test_anki_imports_the_export_and_reads_it_back_as_updates(tmp_path, suffix):
    anki_collection = pytest.importorskip("anki.collection")
    p = tmp_path / f"out{suffix}"
    src = sample_draft()
    csv_export.write(src, p)
    col = anki_collection.Collection(str(tmp_path / "anki.anki2"))
    try:
        log = anki_import_csv(col, p)
        assert (len(log.new), len(log.updated)) == (3, 0)
        assert anki_notes(col) == {
            "#g1,x": ("Basic", ["<b>chat</b>", "cat\nline two"], ["lang::fr", "t1"], ["Lang::French"]),
            "g2": ("Cloze", ["{{c1::Paris}} is the capital", "extra"], [], ["Lang"]),
            "g3": ("Basic (and reversed card)", ["f", 'say "hi"'], ["x"], ["Lang"]),
        }
        assert sorted(d.name for d in col.decks.all_names_and_ids()) == ["Default", "Lang", "Lang::French"]
        # Edit one note and export again: Anki updates it in place, adds nothing.
        src.notes[1].fields[1] = "chat (m.)"
        src.notes[1].tags = ["t1", "t2"]
        csv_export.write(src, p)
        log = anki_import_csv(col, p)
        assert (len(log.new), len(log.updated)) == (0, 1)
        assert col.note_count() == 3
        assert anki_notes(col)["#g1,x"] == ("Basic", ["<b>chat</b>", "chat (m.)"], ["t1", "t2"], ["Lang::French"])
    finally:
        col.close()


# --------------------------------------------------------------------------- end to end: flashcards export


def test_cli_export_csv_reimports_unchanged_and_into_a_fresh_collection(tmp_path, capsys):
    from flashcards import cli

    data = tmp_path / "data"
    src = tmp_path / "in.tsv"
    src.write_text("#html:true\n#deck column:1\n#columns:deck\tFront\tBack\tSource\ttags\n"
                   "Lang::French\tchat\t<i>cat</i>\tLarousse\tnoun fr\nLang\tun\tone\t\t\nOther\tx\ty\t\t\n",
                   encoding="utf-8")
    assert cli.main(["import", "--data-dir", str(data), str(src)]) == 0
    for suffix in (".csv", ".tsv"):
        out = tmp_path / f"lang{suffix}"
        assert cli.main(["export", "--data-dir", str(data), "--deck", "Lang", "-o", str(out)]) == 0
        assert f"exported 2 notes to {out}" in capsys.readouterr().out
        assert cli.main(["import", "--data-dir", str(data), str(out)]) == 0
        assert f"{out}: 0 new, 0 updated, 2 unchanged, 0 skipped" in capsys.readouterr().out
        fresh = tmp_path / f"fresh{suffix}"
        assert cli.main(["import", "--data-dir", str(fresh), str(out)]) == 0
        assert f"{out}: 2 new" in capsys.readouterr().out
    back = parse(tmp_path / "lang.tsv")
    assert sorted((n.deck, n.fields, n.tags, n.source) for n in back.notes) == [
        ("Lang", ["un", "one"], [], ""),
        ("Lang::French", ["chat", "<i>cat</i>"], ["noun", "fr"], "Larousse"),
    ]
