"""The import screen's file list: folders then importable files, opened and chosen by touch; a
folder that cannot be read says why and the list stays where it was."""

from __future__ import annotations

import os

import pytest
from conftest import press, pump, screenshot, tap, wait_until
from seed import spanish


def _tree(root):
    root.mkdir(exist_ok=True)
    (root / "Anki exports").mkdir()
    (root / "anki exports old").mkdir()
    (root / ".hidden").mkdir()
    (root / "Anki exports" / "french.apkg").write_bytes(b"x" * 3000)
    (root / "deck10.csv").write_text("a,b\n")
    (root / "deck9.csv").write_text("a,b\n")
    (root / "Notes.MD").write_text("# Deck\n")
    (root / "photo.jpg").write_bytes(b"\xff\xd8")
    (root / ".secret.csv").write_text("a,b\n")
    return root


def test_list_folder_gives_folders_then_importable_files_in_natural_order(tmp_path):
    from flashcards.importing import IMPORTERS
    from flashcards.ui.file_list import human_size, list_folder

    _tree(tmp_path)
    entries = list_folder(str(tmp_path), tuple(IMPORTERS))
    assert [(e.name, e.is_dir) for e in entries] == [
        ("Anki exports", True), ("anki exports old", True),
        ("deck9.csv", False), ("deck10.csv", False), ("Notes.MD", False)]  # no .jpg, nothing hidden
    assert entries[2].size == 4 and entries[2].path == str(tmp_path / "deck9.csv")
    assert ".hidden" in [e.name for e in list_folder(str(tmp_path), tuple(IMPORTERS), show_hidden=True)]
    with pytest.raises(NotADirectoryError):
        list_folder(str(tmp_path / "deck9.csv"), (".csv",))
    assert [human_size(n) for n in (0, 1023, 1024, 3000, 15 * 1024 * 1024, 5 * 2**40)] == [
        "0 B", "1023 B", "1.0 KB", "2.9 KB", "15 MB", "5.0 TB"]


def _rows(files):
    rv = files.ids.rv
    pump(2)
    return {view.name: view for view in rv.layout_manager.children}


def test_folders_open_and_files_are_chosen_by_touch(make_app, tmp_path):
    root = _tree(tmp_path / "home")
    app = make_app(spanish)
    app.show("import")
    screen = app.root.get_screen("import")
    files = screen.ids.chooser
    files.path = str(root)
    wait_until(lambda: files._shown == str(root) and not files.listing)
    assert files.status == "2 folders, 3 files to import"
    assert files.files == [str(root / n) for n in ("deck9.csv", "deck10.csv", "Notes.MD")]
    rows = _rows(files)
    assert set(rows) == {"Anki exports/", "anki exports old/", "deck9.csv", "deck10.csv", "Notes.MD"}
    assert rows["deck9.csv"].size_text == "4 B" and rows["Anki exports/"].size_text == ""
    screenshot("07b-import-file-list")

    tap(rows["Anki exports/"])  # a folder opens
    wait_until(lambda: files._shown == str(root / "Anki exports") and not files.listing)
    assert files.path == str(root / "Anki exports") and files.status == "0 folders, 1 file to import"
    assert screen.stage == "choose"
    press(8)  # Backspace: the folder above
    wait_until(lambda: files._shown == str(root) and not files.listing)

    tap(_rows(files)["deck9.csv"])  # a file is chosen: its plan is read
    assert files.selected == str(root / "deck9.csv") and _rows(files)["deck9.csv"].selected
    wait_until(lambda: screen.stage in ("planned", "error"), timeout=60)
    assert screen.stage == "planned" and "deck9.csv" in screen.plan_text


def test_an_unreadable_folder_says_why_and_the_list_stays(make_app, tmp_path, monkeypatch):
    from flashcards.ui import file_list

    root = _tree(tmp_path / "home")
    locked = root / "Anki exports"
    scandir = os.scandir

    def guarded(path):  # what chmod 000 does for a user who is not root (tests may run as root)
        if os.path.abspath(path) == str(locked):
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(file_list.os, "scandir", guarded)
    app = make_app(spanish)
    app.show("import")
    files = app.root.get_screen("import").ids.chooser
    files.path = str(root)
    wait_until(lambda: files._shown == str(root) and not files.listing)
    tap(_rows(files)["Anki exports/"])
    wait_until(lambda: not files.listing and files.error)
    assert files.error == "Cannot open Anki exports: permission denied"
    assert files.path == str(root) and len(files.files) == 3


def test_a_folder_that_vanished_says_why_and_the_list_stays(make_app, tmp_path):
    root = _tree(tmp_path / "home")
    app = make_app(spanish)
    app.show("import")
    files = app.root.get_screen("import").ids.chooser
    files.path = str(root)
    wait_until(lambda: files._shown == str(root) and not files.listing)
    files.path = str(root / "gone")
    wait_until(lambda: not files.listing)
    assert files.error == "Cannot open gone: it no longer exists" and files.status == files.error
    assert files.path == str(root) and len(files.files) == 3 and len(files.ids.rv.data) == 5
    screenshot("07c-import-folder-gone")
    files.go_up()  # and it goes on working
    wait_until(lambda: files._shown == str(tmp_path) and not files.listing)
    assert files.error == "" and files.status == "2 folders, 0 files to import"  # home/ and the data dir


def test_the_newest_folder_asked_for_wins(make_app, tmp_path):
    root = _tree(tmp_path / "home")
    app = make_app(spanish)
    app.show("import")
    files = app.root.get_screen("import").ids.chooser
    files.path = str(root)
    files.path = str(root / "Anki exports")  # before the first listing came back
    wait_until(lambda: not files.listing)
    pump(5)
    assert files.path == str(root / "Anki exports") and files.files == [str(root / "Anki exports" / "french.apkg")]


def test_a_big_folder_makes_only_the_rows_on_screen(make_app, tmp_path):
    folder = tmp_path / "downloads"
    folder.mkdir()
    for i in range(2000):
        (folder / f"deck{i}.csv").write_text("a,b\n")
    (folder / "photo.jpg").write_bytes(b"")  # not importable: not listed
    app = make_app(spanish)
    app.show("import")
    files = app.root.get_screen("import").ids.chooser
    files.path = str(folder)
    wait_until(lambda: files._shown == str(folder) and not files.listing)
    rv = files.ids.rv
    assert len(rv.data) == 2000 and files.files[:3] == [str(folder / f"deck{i}.csv") for i in range(3)]
    rows = _rows(files)
    assert 5 < len(rows) < 40  # the rows that fit in the view (Kivy's chooser made 2,000 nodes)
    rv.scroll_y = 0  # to the end: the same few rows now show the last files
    pump(4)
    assert "deck1999.csv" in _rows(files) and len(_rows(files)) < 40


def test_rows_are_made_ahead_one_per_frame_and_the_first_folder_uses_them(make_app, tmp_path):
    from flashcards.ui.file_list import FileRow

    folder = tmp_path / "decks"
    folder.mkdir()
    for i in range(40):
        (folder / f"deck{i}.csv").write_text("a,b\n")
    app = make_app(spanish)
    screen = app.screen("import")  # built ahead, as the app does on the deck list
    files = screen.ids.chooser
    adapter = files.ids.rv.view_adapter
    assert adapter.rows_made() == 0
    pump(1)
    assert len(adapter.spare) == 1  # one a frame
    wait_until(lambda: not files._row_ahead.is_triggered)
    ahead = {id(row) for row in adapter.spare}
    assert len(ahead) >= 15 and all(isinstance(row, FileRow) for row in adapter.spare)
    files.path = str(folder)
    app.show("import")
    wait_until(lambda: files._shown == str(folder) and not files.listing)
    shown = _rows(files)
    assert len(shown) >= 10 and {id(row) for row in shown.values()} <= ahead  # none made in that frame
