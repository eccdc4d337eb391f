"""The ``flashcards`` command: every subcommand, every bad-input path (one line on stderr, exit 1,
nothing changed), usage errors (exit 2), and the terminal study loop driven through stdin."""

from __future__ import annotations

import json
import pathlib
import sqlite3

import pytest
from core_helpers import NOW, add_basic, run_cli

from flashcards import cli
from flashcards.collection import Collection


def state_of(data_dir) -> dict:
    """Every table, the media and backup folders: what 'nothing changed' compares."""
    out = {}
    con = sqlite3.connect(f"file:{data_dir / 'collection.db'}?mode=ro", uri=True)
    try:
        for t in ("deck", "notetype", "note", "card", "review", "setting", "shipped_deck"):
            out[t] = con.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
    finally:
        con.close()
    for sub in ("media", "backups"):
        d = data_dir / sub
        out[sub] = sorted(p.name for p in d.iterdir()) if d.is_dir() else []
    return out


@pytest.fixture
def home(data_dir):
    """A data dir holding a small collection: deck Lang::French with two notes, Default with one."""
    col = Collection.open(data_dir)
    try:
        add_basic(col, "chat", "cat", deck="Lang::French")
        add_basic(col, "chien", "dog", deck="Lang::French")
        add_basic(col, "hello", "world")
    finally:
        col.close()
    return data_dir


def run(capsys, *argv, data_dir=None) -> tuple[int, str, str]:
    """``flashcards ARGV`` in-process: (exit status, stdout, stderr)."""
    args = list(argv) + (["--data-dir", str(data_dir)] if data_dir is not None else [])
    try:
        status = cli.main(args)
    except SystemExit as e:  # argparse usage errors and --version
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_line_error(status, err, *words):
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("flashcards: ")
    assert "Traceback" not in err
    for w in words:
        assert w in lines[0]


def tsv(path, rows):
    path.write_text("#separator:tab\n#html:false\n" + "".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


# ---------------------------------------------------------------- import


def test_import_prints_a_summary(capsys, home, tmp_path):
    f = tsv(tmp_path / "words.tsv", [("eins", "one"), ("zwei", "two"), ("", "skipped row")])
    status, out, err = run(capsys, "import", str(f), "--deck", "Lang::German", data_dir=home)
    assert status == 0, err
    assert f"{f}: 2 new, 0 updated, 0 unchanged, 1 skipped" in out
    assert "skipped (line 5)" in out
    status, out, _ = run(capsys, "import", str(f), "--deck", "Lang::German", data_dir=home)
    assert status == 0 and "0 new, 0 updated, 2 unchanged" in out
    assert len(state_of(home)["backups"]) == 2  # one automatic backup per import run


def _bad_inputs(tmp_path):
    (tmp_path / "folder.csv").mkdir()
    bad_quote = tmp_path / "quote.tsv"
    bad_quote.write_text("#separator:tab\nok\tfine\n\"never closed\tx\n", encoding="utf-8")
    bad_md = tmp_path / "deck.md"
    bad_md.write_text("# T\n\nQ: q\nA: a\n\nnot a key value line\n", encoding="utf-8")
    bad_header = tmp_path / "header.csv"
    bad_header.write_text("#html:maybe\na,b\n", encoding="utf-8")
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\x00\x01\x02\xff" * 100)
    docx = tmp_path / "deck.docx"
    docx.write_bytes(b"PK\x03\x04")
    apkg = tmp_path / "deck.apkg"
    apkg.write_bytes(b"this is not a zip archive" * 20)
    return {
        "missing": (tmp_path / "missing.csv", ["missing.csv", "no such file"]),
        "folder": (tmp_path / "folder.csv", ["folder.csv"]),
        "unclosed-quote": (bad_quote, [f"{bad_quote}:3"]),
        "malformed-md": (bad_md, [f"{bad_md}:6"]),
        "bad-header": (bad_header, [f"{bad_header}:1", "#html"]),
        "binary": (binary, ["binary.md"]),
        "unsupported-suffix": (docx, ["deck.docx", ".docx"]),
        "not-a-zip-apkg": (apkg, ["deck.apkg"]),
    }


@pytest.mark.parametrize("kind", ["missing", "folder", "unclosed-quote", "malformed-md", "bad-header", "binary",
                                  "unsupported-suffix", "not-a-zip-apkg"])
def test_import_bad_input(capsys, home, tmp_path, kind):
    path, words = _bad_inputs(tmp_path)[kind]
    before = state_of(home)
    status, out, err = run(capsys, "import", str(path), data_dir=home)
    assert_one_line_error(status, err, *words)
    assert state_of(home) == before


def test_import_unreadable_file(capsys, home, tmp_path, monkeypatch):
    # Tests may run as root, for whom chmod 000 changes nothing: make the read itself fail.
    f = tsv(tmp_path / "locked.tsv", [("q", "a")])
    real = pathlib.Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.tsv":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    before = state_of(home)
    status, _, err = run(capsys, "import", str(f), data_dir=home)
    assert_one_line_error(status, err, "locked.tsv", "Permission denied")
    assert state_of(home) == before


def test_import_bad_deck_name(capsys, home, tmp_path):
    f = tsv(tmp_path / "x.tsv", [("q", "a")])
    before = state_of(home)
    status, _, err = run(capsys, "import", str(f), "--deck", "A::::B", data_dir=home)
    assert_one_line_error(status, err, "A::::B")
    assert state_of(home) == before


def test_one_bad_file_does_not_stop_the_others(capsys, home, tmp_path):
    good = tsv(tmp_path / "good.tsv", [("q", "a")])
    status, out, err = run(capsys, "import", str(tmp_path / "missing.tsv"), str(good), data_dir=home)
    assert_one_line_error(status, err, "missing.tsv")
    assert "good.tsv: 1 new" in out
    assert len(state_of(home)["note"]) == 4


def test_import_needs_a_path(capsys, home):
    status, _, err = run(capsys, "import", data_dir=home)
    assert status == 2 and "PATH" in err


# ---------------------------------------------------------------- export


def test_export_markdown_and_reimport(capsys, home, tmp_path):
    out_file = tmp_path / "french.md"
    status, out, err = run(capsys, "export", "--deck", "Lang", "-o", str(out_file), data_dir=home)
    assert status == 0, err
    assert out.strip() == f"exported 2 notes to {out_file}"
    text = out_file.read_text(encoding="utf-8")
    assert "chat" in text and "chien" in text and "hello" not in text
    status, out, _ = run(capsys, "import", str(out_file), data_dir=home)
    assert status == 0 and "0 new, 0 updated, 2 unchanged" in out


@pytest.mark.parametrize("argv,words", [
    (["--deck", "Nope", "-o", "{tmp}/x.md"], ["Nope"]),
    (["-o", "{tmp}/x.docx"], ["x.docx", ".docx"]),
    (["-o", "{tmp}/no/such/folder/x.md"], ["x.md", "does not exist"]),
])
def test_export_bad_input(capsys, home, tmp_path, argv, words):
    before = state_of(home)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    status, _, err = run(capsys, "export", *argv, data_dir=home)
    assert_one_line_error(status, err, *words)
    assert not (tmp_path / "x.md").exists() and not (tmp_path / "x.docx").exists()
    assert state_of(home) == before


def test_export_needs_an_output(capsys, home):
    status, _, err = run(capsys, "export", data_dir=home)
    assert status == 2 and "-o" in err


# ---------------------------------------------------------------- decks, stats, check, backup


def test_decks(capsys, home):
    status, out, _ = run(capsys, "decks", "--json", data_dir=home)
    assert status == 0
    rows = {r["name"]: r for r in json.loads(out)}
    assert set(rows) == {"Default", "Lang", "Lang::French"}
    assert rows["Lang"] == {"name": "Lang", "notes": 2, "cards": 2, "new": 2, "learning": 0, "review": 0}
    assert rows["Default"]["new"] == 1
    status, out, _ = run(capsys, "decks", data_dir=home)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["deck", "new", "learn", "due", "notes", "cards"]
    assert [ln.split()[0] for ln in lines[1:]] == ["Default", "Lang", "French"]
    assert lines[3].startswith("  French")


def test_decks_on_an_empty_collection(capsys, data_dir):
    status, out, _ = run(capsys, "decks", data_dir=data_dir)
    assert status == 0 and "no decks yet" in out
    status, out, _ = run(capsys, "decks", "--json", data_dir=data_dir)
    assert json.loads(out) == []


def test_stats_json_keys(capsys, home):
    (home / "media" / "pic.png").write_bytes(b"x")
    status, out, _ = run(capsys, "stats", "--json", data_dir=home)
    assert status == 0
    data = json.loads(out)
    for key in ("notes", "cards", "reviews", "reviews_today", "due_today", "decks", "media_files", "suspended"):
        assert isinstance(data[key], int), key
    assert (data["notes"], data["cards"], data["reviews"], data["decks"], data["media_files"]) == (3, 3, 0, 3, 1)
    status, out, _ = run(capsys, "stats", data_dir=home)
    assert status == 0 and "notes: 3" in out and "media files: 1" in out


def test_check(capsys, home):
    status, out, _ = run(capsys, "check", data_dir=home)
    assert status == 0
    assert "database integrity: ok" in out and "repaired from the review log: 0" in out


def test_check_repairs(capsys, home):
    col = Collection.open(home)
    try:
        cid = col._sql("SELECT MIN(id) FROM card").fetchone()[0]
        col.study(col.deck_id("Default")).answer(cid, 3, NOW)
        col._sql("UPDATE card SET due_ms = 0 WHERE id = ?", (cid,))
    finally:
        col.close()
    status, out, _ = run(capsys, "check", data_dir=home)
    assert status == 0 and "repaired from the review log: 1" in out
    status, out, _ = run(capsys, "check", data_dir=home)
    assert "repaired from the review log: 0" in out


def test_backup_command(capsys, home):
    status, out, _ = run(capsys, "backup", data_dir=home)
    assert status == 0 and "backup written:" in out
    assert len(state_of(home)["backups"]) == 1


def test_restore_bad_file(capsys, home, tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_text("not sqlite")
    before = state_of(home)
    status, _, err = run(capsys, "restore", str(junk), data_dir=home)
    assert_one_line_error(status, err, "junk.db")
    assert state_of(home) == before


def test_data_dir_from_environment(capsys, data_dir, monkeypatch):
    monkeypatch.setenv("FLASHCARDS_HOME", str(data_dir))
    status, out, _ = run(capsys, "stats", "--json")
    assert status == 0 and json.loads(out)["notes"] == 0
    assert (data_dir / "collection.db").is_file()


def test_unusable_data_dir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    status, _, err = run(capsys, "stats", data_dir=blocker / "sub")
    assert_one_line_error(status, err, str(blocker / "sub"))


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize("argv", [["frobnicate"], ["stats", "--bogus"], ["review", "--deck"],
                                  ["import", "--deck", "x"]])
def test_usage_errors_exit_2(capsys, data_dir, argv):
    status, out, err = run(capsys, *argv, data_dir=data_dir)
    assert status == 2 and "usage:" in err
    assert not (data_dir / "collection.db").exists()


def test_version(capsys):
    from flashcards import __version__

    status, out, _ = run(capsys, "--version")
    assert status == 0 and out.strip() == f"flashcards {__version__}"


# ---------------------------------------------------------------- review (terminal study loop)


def _answers(data_dir) -> list[tuple[int, int]]:
    con = sqlite3.connect(f"file:{data_dir / 'collection.db'}?mode=ro", uri=True)
    try:
        return con.execute("SELECT card_id, rating FROM review ORDER BY id").fetchall()
    finally:
        con.close()


def test_review_through_stdin_in_process(capsys, home, monkeypatch):
    lines = iter(["", "3", "", "u", "", "4", "", "x", "1", "q"])
    prompts = []

    def fake_input(prompt=""):
        prompts.append(prompt)
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    status, out, err = run(capsys, "review", "--deck", "Lang", data_dir=home)
    assert status == 0, err
    # Good on chat, undo, Easy on chat (the undone card comes back), an invalid key, Again on chien, quit.
    assert [r for _, r in _answers(home)] == [4, 1]
    assert "undone." in out and "answer with 1, 2, 3 or 4" in out and "stopped: 2 answered." in out
    assert "chat" in out and "cat" in out and "[Lang::French]" in out
    assert prompts[0] == "(Enter: show answer, u: undo, q: quit) "
    assert prompts[1].startswith("1 Again (1m)  2 Hard (6m)  3 Good (10m)  4 Easy (")


def test_review_subprocess_until_finished(home):
    # Enter then Easy for each of the two cards of Lang: both go to review, nothing left.
    r = run_cli("review", "--deck", "Lang", data_dir=home, input="\n4\n\n4\n")
    assert r.returncode == 0, r.stderr
    assert "finished: 2 answered." in r.stdout and "Next card due" in r.stdout
    assert [rating for _, rating in _answers(home)] == [4, 4]
    assert r.stderr == ""


def test_review_end_of_input_stops_cleanly(home):
    r = run_cli("review", data_dir=home, input="")
    assert r.returncode == 0 and "stopped: 0 answered." in r.stdout and r.stderr == ""


def test_review_nothing_due(capsys, data_dir):
    status, out, _ = run(capsys, "review", data_dir=data_dir)
    assert status == 0 and "nothing due" in out


def test_review_unknown_deck(capsys, home):
    before = state_of(home)
    status, _, err = run(capsys, "review", "--deck", "Nope", data_dir=home)
    assert_one_line_error(status, err, "Nope")
    assert state_of(home) == before


def test_bad_input_in_a_subprocess_has_no_traceback(home, tmp_path):
    before = state_of(home)
    r = run_cli("import", str(tmp_path / "missing.csv"), data_dir=home)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip() == f"flashcards: {tmp_path / 'missing.csv'}: no such file"
    r = run_cli("export", "--deck", "Nope", "-o", str(tmp_path / "x.md"), data_dir=home)
    assert r.returncode == 1 and r.stderr.strip() == "flashcards: no deck named 'Nope'"
    r = run_cli("import", data_dir=home)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert state_of(home) == before


def test_bare_command_loads_shipped_decks_backs_up_then_starts_the_gui(capsys, data_dir, monkeypatch):
    import sys
    import types

    started = []
    fake_pkg = types.ModuleType("flashcards.ui")
    fake_pkg.__path__ = []
    fake_app = types.ModuleType("flashcards.ui.app")
    def fake_main(d, col=None):  # the app's main() runs on the command's open collection, then closes it
        started.append(d)
        assert col is not None and col.data_dir == d
        col.close()

    fake_app.main = fake_main
    monkeypatch.setitem(sys.modules, "flashcards.ui", fake_pkg)
    monkeypatch.setitem(sys.modules, "flashcards.ui.app", fake_app)
    status, _, err = run(capsys, data_dir=data_dir)
    assert status == 0, err
    assert started == [data_dir]
    st = state_of(data_dir)
    assert st["shipped_deck"] and st["note"]  # the shipped decks were loaded
    assert len(st["backups"]) == 1  # the daily backup
    status, _, _ = run(capsys, data_dir=data_dir)
    assert state_of(data_dir)["note"] == st["note"] and len(state_of(data_dir)["backups"]) == 1


def test_help_lists_every_command(capsys):
    status, out, _ = run(capsys, "--help")
    assert status == 0
    for name in ("import", "export", "decks", "stats", "review", "backup", "restore", "check"):
        assert name in out


def test_kivy_no_args_is_set_before_any_kivy_import():
    import os
    import subprocess
    import sys

    from core_helpers import SRC

    env = {k: v for k, v in os.environ.items() if k != "KIVY_NO_ARGS"}
    env["PYTHONPATH"] = str(SRC)
    code = "import os, flashcards.cli; print(os.environ.get('KIVY_NO_ARGS'))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert r.stdout.strip() == "1", r.stderr


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_export_csv_reimports_as_updates(capsys, home, tmp_path, suffix):
    col = Collection.open(home)
    try:
        nid = col._sql("SELECT id FROM note WHERE sort_field = 'chat'").fetchone()[0]
        col.update_note(nid, ["chat", "cat"], tags=["animals"], source="Le Petit Prince, ch. 2", now=NOW)
        cid = col._sql("SELECT id FROM card WHERE note_id = ?", (nid,)).fetchone()[0]
        col.study(col.deck_id("Lang")).answer(cid, 3, NOW)
        progress = col.card_columns(cid)
    finally:
        col.close()
    out_file = tmp_path / f"all{suffix}"
    status, out, err = run(capsys, "export", "-o", str(out_file), data_dir=home)
    assert status == 0, err
    text = out_file.read_text(encoding="utf-8")
    assert "#guid column:" in text and "#notetype column:" in text and "#deck column:" in text
    assert "Le Petit Prince" in text
    status, out, _ = run(capsys, "import", str(out_file), data_dir=home)
    assert status == 0 and "0 new, 0 updated, 3 unchanged, 0 skipped" in out
    out_file.write_text(text.replace("chien", "chien (m.)"), encoding="utf-8")
    status, out, _ = run(capsys, "import", str(out_file), data_dir=home)
    assert status == 0 and "0 new, 1 updated, 2 unchanged, 0 skipped" in out
    col = Collection.open(home)
    try:
        assert col.card_columns(cid) == progress
        assert col.note(nid).source == "Le Petit Prince, ch. 2" and col.note(nid).tags == ["animals"]
        assert col._sql("SELECT COUNT(*) FROM note").fetchone()[0] == 3
    finally:
        col.close()


def test_data_dir_before_or_after_the_command(capsys, home, tmp_path):
    status, out, _ = run(capsys, "--data-dir", str(home), "stats", "--json")
    assert status == 0 and json.loads(out)["notes"] == 3
    status, out, _ = run(capsys, "--data-dir", str(tmp_path / "elsewhere"), "stats", "--json", data_dir=home)
    assert status == 0 and json.loads(out)["notes"] == 3  # the one after the command wins
