"""An import's worker leaves no collector pass to the window (the collector is paused while it
builds, and what it built is frozen, not walked, afterwards); the import runs in a child process,
or on a thread where there is none."""

from __future__ import annotations

import gc

from conftest import pump_for, screenshot, wait_until
from seed import spanish


def test_the_collector_is_paused_until_the_last_worker_is_done_and_their_objects_frozen():
    from flashcards.gcpause import paused as gc_paused

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


def _many_tsv(tmp_path, n=3000):
    path = tmp_path / "many.tsv"
    with path.open("w", encoding="utf-8") as f:
        f.write("#separator:tab\n#deck:Many\n")
        for i in range(n):
            f.write(f"слово {i}\tword {i}\n")
        f.write("\tno front\n")
    return path


def _cards_in(app, deck):
    return app.col.db.connection().execute(
        "SELECT COUNT(*) FROM card c JOIN deck d ON d.id = c.deck_id WHERE d.name = ?", (deck,)).fetchone()[0]


def _choose_many(make_app, tmp_path):
    """The app after its warm-up, on the import screen, with the 3,000-note file chosen:
    (app, screen, the freeze count before choosing)."""
    path = _many_tsv(tmp_path)
    app = make_app(spanish)
    pump_for(1.2)  # the warm-up after start (it freezes the app's objects itself)
    app.show("import")
    screen = app.root.get_screen("import")
    frozen = gc.get_freeze_count()
    screen.choose(str(path))
    return app, screen, frozen


def test_a_thread_import_leaves_its_draft_frozen_and_the_collector_on(make_app, tmp_path, monkeypatch):
    from flashcards.ui.import_screen import ImportScreen, ThreadImport

    monkeypatch.setattr(ImportScreen, "use_process", False)  # Android's way
    app, screen, frozen = _choose_many(make_app, tmp_path)
    assert isinstance(screen._job, ThreadImport)
    wait_until(lambda: screen.stage in ("planned", "error"))
    assert screen.stage == "planned", screen.error_text
    assert "[b]3000[/b] new" in screen.plan_text and "[b]1[/b] skipped" in screen.plan_text
    # The collector is back on once no worker pauses it. (Waited for, not asserted at once: another
    # worker of the app, e.g. a search thread, may hold its own pause for a moment; a pause the
    # import leaked would never end.)
    wait_until(gc.isenabled, timeout=5)
    assert gc.get_freeze_count() > frozen + 3000  # the draft's notes, waiting for "Import"
    screen.start_import()
    wait_until(lambda: screen.stage in ("done", "error"))
    assert screen.stage == "done", screen.error_text
    assert not app.busy
    wait_until(gc.isenabled, timeout=5)
    assert _cards_in(app, "Many") == 3000


def test_a_process_import_plans_and_writes_in_a_child_and_the_window_sees_it(make_app, tmp_path):
    import os

    from flashcards.ui.import_screen import ImportScreen, ProcessImport

    assert ImportScreen.use_process  # the desktop default
    app, screen, frozen = _choose_many(make_app, tmp_path)
    job = screen._job
    assert isinstance(job, ProcessImport) and job.proc.pid != os.getpid()
    wait_until(lambda: screen.stage in ("planned", "error"), timeout=60)
    assert screen.stage == "planned", screen.error_text
    assert "Many" in screen.plan_text and "[b]3000[/b] new" in screen.plan_text
    assert "[b]1[/b] skipped" in screen.plan_text and "line" in screen.plan_text
    assert gc.get_freeze_count() < frozen + 3000  # no draft in this process
    assert _cards_in(app, "Many") == 0  # planned, nothing written
    assert app.col.deck_names()  # the window's connection still works meanwhile
    screen.start_import()
    assert app.busy
    wait_until(lambda: screen.stage in ("done", "error"), timeout=60)
    assert screen.stage == "done", screen.error_text
    assert "3000 new" in screen.result_text and "many.tsv" in screen.result_text
    assert not app.busy and job.proc.wait(timeout=10) == 0
    assert _cards_in(app, "Many") == 3000
    assert "Many" in app.col.deck_names().values()  # the cached names were dropped
    screenshot("31-import-done-in-a-child-process")


def test_a_process_import_reports_a_bad_file_and_a_cancel_stops_the_child(make_app, tmp_path):
    bad = tmp_path / "broken.apkg"
    bad.write_bytes(b"this is not a zip file")
    app = make_app(spanish)
    app.show("import")
    screen = app.root.get_screen("import")
    screen.choose(str(bad))
    wait_until(lambda: screen.stage in ("planned", "error"), timeout=60)
    assert screen.stage == "error" and "broken.apkg" in screen.error_text
    assert "\n" not in screen.error_text and "Traceback" not in screen.error_text

    screen.choose(str(_many_tsv(tmp_path)))
    job = screen._job
    wait_until(lambda: screen.stage == "planned", timeout=60)
    screen.reset()  # "Cancel": the child waiting for "apply" ends, nothing written
    assert job.proc.wait(timeout=10) is not None
    assert screen.stage == "choose" and _cards_in(app, "Many") == 0


def test_when_the_child_cannot_start_the_import_runs_on_a_thread(make_app, tmp_path, monkeypatch):
    from flashcards.ui import import_screen

    monkeypatch.setattr(import_screen, "CHILD_ARGS", ("-c", "import sys; sys.exit(3)"))  # a child that fails
    app = make_app(spanish)
    app.show("import")
    screen = app.root.get_screen("import")
    screen.choose(str(_many_tsv(tmp_path, 50)))
    assert isinstance(screen._job, import_screen.ProcessImport)
    wait_until(lambda: screen.stage in ("planned", "error"), timeout=60)
    assert screen.stage == "planned", screen.error_text
    assert isinstance(screen._job, import_screen.ThreadImport)
    screen.start_import()
    wait_until(lambda: screen.stage in ("done", "error"))
    assert screen.stage == "done" and _cards_in(app, "Many") == 50
