"""Import: pick a file, see the plan (deck, new / updated / unchanged / skipped), import it.

Parsing, planning and writing run on a worker thread; peewee gives that thread its own database
connection. Progress comes back through ``@mainthread``; while the import runs the rest of the app
waits (navigation is off) but the window keeps drawing.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from kivy.clock import Clock, mainthread
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.filechooser import FileChooserListView
from kivy.utils import platform

from flashcards import importing
from flashcards.errors import FlashcardsError
from flashcards.ui.widgets import FCScreen, gc_paused

SUFFIXES = tuple(importing.IMPORTERS)


class FCFileChooser(FileChooserListView):
    """Kivy's list file chooser, making its entries a few milliseconds' worth per frame.

    Kivy's own loop adds entries for at least 50 ms and at least ten of them each time (every
    entry is a kv template of a few labels): listing a folder froze the window for 200-800 ms
    per frame, more while an import's worker thread was parsing. This one starts in the frame
    after the folder changes (not in the one that changed it, e.g. the frame that builds the
    screen), stops after ``BUDGET`` seconds (at least one entry) and goes on in the next frame.
    Kivy's "Opening" overlay shows only for a folder that takes longer than ``OVERLAY_AFTER``
    seconds.
    """

    BUDGET = 0.008
    OVERLAY_AFTER = 0.5

    def __init__(self, **kw):
        self._next_slice = Clock.create_trigger(self._create_files_entries, 0)
        self._listing_since = 0.0
        super().__init__(**kw)

    def _update_files(self, *args, **kwargs):
        # Kivy's, except that the first slice is made in the next frame, and by our trigger only
        # (Kivy also ran a 0.1 s interval: two slices in some frames).
        self._gitems = []
        self._gitems_parent = kwargs.get("parent", None)
        self._gitems_gen = self._generate_file_entries(path=kwargs.get("path", self.path),
                                                       parent=self._gitems_parent)
        self.path = os.path.abspath(self.path)
        self._hide_progress()
        self._listing_since = time.perf_counter()
        self._next_slice()

    def cancel(self, *largs):
        self._next_slice.cancel()
        super().cancel(*largs)

    def _create_files_entries(self, *args):
        start = time.perf_counter()
        finished = False
        index = total = 1
        while True:
            try:
                index, total, item = next(self._gitems_gen)
                self._gitems.append(item)
            except (StopIteration, TypeError):  # TypeError: no listing under way (_gitems_gen None)
                finished = True
                break
            if time.perf_counter() - start > self.BUDGET:
                break
        if not finished:
            if start - self._listing_since > self.OVERLAY_AFTER:
                self._show_progress()
                self._progress.total = total
                self._progress.index = index
            self._next_slice()
            return True
        self._next_slice.cancel()
        # All entries made: hand them to the view as Kivy does. (Handing each slice's entries over
        # as they are made was slower: the list lays out every entry again each time.)
        items = self._gitems or []
        self._items = items
        parent = self._gitems_parent
        if parent is None:
            self.dispatch("on_entries_cleared")
            for entry in items:
                self.dispatch("on_entry_added", entry, parent)
        else:
            parent.entries[:] = items
            for entry in items:
                self.dispatch("on_subentry_to_entry", entry, parent)
        self.files[:] = self._get_file_paths(items)
        self._hide_progress()
        self._gitems = None
        self._gitems_gen = None
        ev = self._create_files_entries_ev
        if ev is not None:
            ev.cancel()
        return False


class ImportScreen(FCScreen):
    escape_leaves_field = True
    path = StringProperty("")
    stage = StringProperty("choose")  # choose | planning | planned | importing | done | error
    plan_text = StringProperty("")
    result_text = StringProperty("")
    error_text = StringProperty("")
    progress = NumericProperty(0)
    progress_max = NumericProperty(1)
    progress_text = StringProperty("")
    can_import = BooleanProperty(False)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._plan = None
        self._draft = None
        self._summary = None
        self._pending = None
        # At most ten progress redraws a second: each one re-renders the label and the bar.
        self._progress_trigger = Clock.create_trigger(self._show_progress, 0.1)

    def enter(self, back: bool = False, path: str | None = None, **kwargs) -> None:
        chooser = self.ids.chooser
        if not chooser.path or not Path(chooser.path).is_dir():
            chooser.path = str(Path.home())
        if path:
            self.choose(path)
        elif self.stage in ("done", "error"):
            self.reset()

    def leave(self) -> None:
        self._discard_draft()

    def reset(self) -> None:
        self._discard_draft()
        self.stage = "choose"
        self.plan_text = self.result_text = self.error_text = ""
        self.can_import = False
        self.progress = 0

    def pick(self) -> None:
        """Android: the system picker (Storage Access Framework); elsewhere the chooser on screen."""
        if platform == "android":
            from flashcards.ui.android_picker import pick_import_file

            pick_import_file(on_picked=self.choose, on_cancel=None, on_error=lambda msg: self._failed(str(msg)))

    def chooser_selected(self, selection) -> None:
        if self.app.busy:
            return  # an import is running (the chooser is not disabled: that re-rendered every entry)
        if selection:
            p = Path(selection[0])
            if p.is_file():
                self.choose(str(p))

    # ------------------------------------------------------------------ plan

    def choose(self, path: str) -> None:
        """Parse and plan ``path`` on a worker thread, then show what it would do."""
        self._discard_draft()
        self.path = path
        self.stage = "planning"
        self.can_import = False
        self.error_text = ""
        self.plan_text = f"Reading {Path(path).name}…"
        col = self.col

        def work():
            draft = plan = summary = None
            try:
                with gc_paused():  # no collection over the draft, in this thread or the window's
                    draft = importing.parse(path)
                    plan = importing.plan(col, draft)
                    # The plan's counts walk every note (deck_names: 60 ms for 20,000): here, not in a frame.
                    summary = {"decks": plan.deck_names, "new": plan.new, "updated": plan.updated,
                               "unchanged": plan.unchanged,
                               "to_write": sum(1 for i in plan.items if i.action != "skip")}
                error = None
            except FlashcardsError as e:
                error = str(e)
            except MemoryError:
                error = f"{Path(path).name}: the file is too large to import"
            finally:
                col.db.close()  # this thread's connection only
            self._planned(path, draft, plan, error, summary)

        threading.Thread(target=work, name="import-plan", daemon=True).start()

    @mainthread
    def _planned(self, path, draft, plan, error, summary=None):
        if path != self.path:
            if draft is not None and callable(draft.cleanup):
                draft.cleanup()
            return
        if error:
            self._failed(error)
            return
        self._draft, self._plan, self._summary = draft, plan, summary
        decks = summary["decks"]
        deck_line = ", ".join(decks[:5]) + (f" and {len(decks) - 5} more" if len(decks) > 5 else "")
        lines = [f"[b]{_esc(Path(path).name)}[/b]",
                 f"Into deck{'s' if len(decks) != 1 else ''}: {_esc(deck_line) if decks else '—'}",
                 f"[b]{summary['new']}[/b] new   ·   [b]{summary['updated']}[/b] updated   ·   "
                 f"[b]{summary['unchanged']}[/b] unchanged   ·   [b]{len(plan.skipped)}[/b] skipped"]
        for where, why in plan.skipped[:5]:
            lines.append(_esc(f"skipped{f' (line {where})' if where is not None else ''}: {why}"))
        if len(plan.skipped) > 5:
            lines.append(f"… and {len(plan.skipped) - 5} more skipped")
        for w in (draft.warnings or [])[:5]:
            lines.append(_esc(f"warning: {w}"))
        self.plan_text = "\n".join(lines)
        self.stage = "planned"
        self.can_import = summary["new"] + summary["updated"] > 0 or summary["to_write"] > 0

    # ------------------------------------------------------------------ import

    def start_import(self) -> None:
        if self._plan is None or self.stage != "planned":
            return
        plan, draft = self._plan, self._draft
        self._plan = self._draft = None
        self.stage = "importing"
        self.app.busy = True
        self.progress = 0
        self.progress_max = max(1, self._summary["to_write"])
        self.progress_text = "Backing up…"
        col = self.col

        def report(done, total):
            # Called on the worker thread, possibly thousands of times: coalesce into one redraw.
            self._pending = (done, total)
            self._progress_trigger()

        def work():
            result = error = None
            try:
                col.backup()
                with gc_paused():
                    result = importing.apply(col, plan, progress=report)
            except FlashcardsError as e:
                error = str(e)
            except MemoryError:
                error = "not enough memory to import this file"
            finally:
                if callable(draft.cleanup):
                    draft.cleanup()
                col.db.close()  # this thread's connection only
            self._imported(result, error)

        threading.Thread(target=work, name="import-apply", daemon=True).start()

    def _show_progress(self, *_):
        if self._pending is None:
            return
        done, total = self._pending
        self.progress_max = max(1, total)
        self.progress = min(done, total)
        self.progress_text = f"Importing… {done:,} of {total:,} notes"

    @mainthread
    def _imported(self, result, error):
        self.app.busy = False
        self.col.data_version_changed()  # the worker's commit: drop cached decks/options
        if error:
            self._failed(error)
            return
        self.progress = self.progress_max
        self.stage = "done"
        summary = result.summary()
        if summary.startswith(result.path):
            summary = Path(result.path).name + summary[len(result.path):]
        self.result_text = _esc(summary)

    def _failed(self, message: str) -> None:
        self.stage = "error"
        self.error_text = message
        self.can_import = False

    def _discard_draft(self) -> None:
        draft, self._draft, self._plan = self._draft, None, None
        if draft is not None and callable(draft.cleanup):
            draft.cleanup()

    def on_key(self, key, codepoint, modifiers):
        if key == 13 and self.stage == "planned":
            self.start_import()
            return True
        return False


def _esc(text: str) -> str:
    from flashcards.ui.html_markup import plain_markup

    return plain_markup(text)
