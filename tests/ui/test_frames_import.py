"""An import's worker leaves no collector pass to the window (the collector is paused while it
builds, and what it built is frozen, not walked, afterwards); the file chooser lists a folder from
the frame after the one that chose it."""

from __future__ import annotations

import gc

from conftest import pump, wait_until
from seed import spanish


def test_the_collector_is_paused_until_the_last_worker_is_done_and_their_objects_frozen():
    from flashcards.ui.widgets import gc_paused

    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    with gc_paused():
        with gc_paused():
            kept = [[i] for i in range(5000)]  # tracked objects, alive after the pause
            assert not gc.isenabled()
        assert not gc.isenabled()  # another worker is still building
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + 5000  # frozen: no collection walks them
    assert gc.get_count()[0] < 700  # and nothing young is left to walk at the next allocation
    assert len(kept) == 5000


def test_an_import_through_the_screen_leaves_its_draft_frozen_and_the_collector_on(make_app, tmp_path):
    path = tmp_path / "many.tsv"
    with path.open("w", encoding="utf-8") as f:
        f.write("#separator:tab\n#deck:Many\n")
        for i in range(3000):
            f.write(f"слово {i}\tword {i}\n")
    app = make_app(spanish)
    app.show("import")
    screen = app.root.get_screen("import")
    frozen = gc.get_freeze_count()
    screen.choose(str(path))
    wait_until(lambda: screen.stage in ("planned", "error"))
    assert screen.stage == "planned", screen.error_text
    assert "[b]3000[/b] new" in screen.plan_text
    assert gc.isenabled()
    assert gc.get_freeze_count() > frozen + 3000  # the draft's notes, waiting for "Import"
    screen.start_import()
    wait_until(lambda: screen.stage in ("done", "error"))
    assert screen.stage == "done", screen.error_text
    assert gc.isenabled()
    assert app.col.db.connection().execute(
        "SELECT COUNT(*) FROM card c JOIN deck d ON d.id = c.deck_id WHERE d.name = 'Many'").fetchone()[0] == 3000


def test_the_file_chooser_lists_a_folder_from_the_next_frame(make_app, tmp_path):
    folder = tmp_path / "decks"
    folder.mkdir()
    for i in range(5):
        (folder / f"deck{i}.csv").write_text("front,back\n")
    app = make_app(spanish)
    app.show("import")
    chooser = app.root.get_screen("import").ids.chooser
    wait_until(lambda: getattr(chooser, "_gitems_gen", 0) is None)  # the first folder is listed
    chooser.path = str(folder)
    pump(1)  # Kivy starts the listing in the frame after the path changed ...
    assert chooser._gitems == [] and chooser._gitems_gen is not None
    assert chooser._next_slice.is_triggered  # ... and the first entries are made in the next one
    wait_until(lambda: len(chooser.files) >= 5)
    assert {p.rsplit("/", 1)[-1] for p in chooser.files} >= {f"deck{i}.csv" for i in range(5)}
