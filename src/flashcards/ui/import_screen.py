"""Import: pick a file, see the plan (deck, new / updated / unchanged / skipped), import it.

Files are picked from :class:`~flashcards.ui.file_list.FileList` on the desktop, from Android's
own picker on the phone.

Parsing, planning and writing run in a child process on desktop (:class:`ProcessImport`), on
worker threads elsewhere (:class:`ThreadImport`); either has its own database connection and uses
the core's ``importing`` API. Progress and results come back to the main thread through the
Clock; while the import runs the rest of the app waits (navigation is off) but the window keeps
drawing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from kivy.clock import Clock
from kivy.logger import Logger
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.utils import platform

from flashcards import importing
from flashcards.errors import FlashcardsError
from flashcards.gcpause import paused as gc_paused
from flashcards.import_job import plan_summary
from flashcards.ui.file_list import FileList  # noqa: F401  (import_screen.kv's rows)
from flashcards.ui.widgets import FCScreen

SUFFIXES = tuple(importing.IMPORTERS)


# --------------------------------------------------------------------------------------- jobs
# An import job parses and plans a file, waits for "Import", then writes it. Both kinds report to
# the screen through the same calls, made on the main thread: planned(summary), progress(done,
# total), done(summary_text, path), failed(message).


class ThreadImport:
    """The job on worker threads of this process (each with its own database connection).

    Used where no second Python process can be started (Android) and as the fallback. The cyclic
    GC is paused while a worker builds (see :func:`gc_paused`); the worker still holds the GIL
    about half the time, which slows the window's frames."""

    def __init__(self, col, path: str, screen):
        self.col, self.path, self.screen = col, path, screen
        self._draft = self._plan = None
        self._cancelled = False
        threading.Thread(target=self._plan_work, name="import-plan", daemon=True).start()

    def _plan_work(self):
        draft = plan = summary = error = None
        try:
            with gc_paused():  # no collection over the draft, in this thread or the window's
                draft = importing.parse(self.path)
                plan = importing.plan(self.col, draft)
                summary = plan_summary(draft, plan)
        except FlashcardsError as e:
            error = str(e)
        except MemoryError:
            error = f"{Path(self.path).name}: the file is too large to import"
        finally:
            self.col.db.close()  # this thread's connection only
        self._draft, self._plan = draft, plan
        if self._cancelled or error:
            self._cleanup()
        if self._cancelled:
            return
        if error:
            Clock.schedule_once(lambda dt: self.screen._job_failed(self, error))
        else:
            Clock.schedule_once(lambda dt: self.screen._job_planned(self, summary))

    def apply(self) -> None:
        threading.Thread(target=self._apply_work, name="import-apply", daemon=True).start()

    def _apply_work(self):
        result = error = None
        col = self.col
        try:
            col.backup()
            with gc_paused():
                result = importing.apply(col, self._plan, progress=self.screen._job_progress)
        except FlashcardsError as e:
            error = str(e)
        except MemoryError:
            error = "not enough memory to import this file"
        finally:
            self._cleanup()
            col.db.close()  # this thread's connection only
        if error:
            Clock.schedule_once(lambda dt: self.screen._job_failed(self, error))
        else:
            summary = result.summary()
            Clock.schedule_once(lambda dt: self.screen._job_done(self, summary, result.path))

    def _cleanup(self):
        draft, self._draft, self._plan = self._draft, None, None
        if draft is not None and callable(draft.cleanup):
            draft.cleanup()

    def cancel(self) -> None:
        self._cancelled = True
        self._cleanup()


#: The child process of :class:`ProcessImport`: the core's import job (no Kivy in it).
CHILD_ARGS = ("-m", "flashcards.import_job")


class ProcessImport:
    """The job in a child Python process (desktop), with its own database connection.

    A worker thread holds the GIL about half the time while it parses and writes, and every frame
    of the window waited for it (importing 20,000 notes: frames of 60-110 ms). A child process
    shares no GIL with the window and runs at a lower priority; it gets the path, sends the plan's
    summary, waits for "apply", writes with the core's ``importing.apply`` and sends its progress
    and result. Nothing of the draft comes back: the window only shows numbers and text.
    """

    def __init__(self, col, path: str, screen):
        import flashcards

        self.path, self.screen = path, screen
        self._cancelled = self._applying = self._ended = False
        env = dict(os.environ)
        root = str(Path(flashcards.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, *CHILD_ARGS, str(col.data_dir), str(path)], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True, encoding="utf-8")
        threading.Thread(target=self._read, name="import-child", daemon=True).start()

    def _read(self):
        heard = False
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            heard = True
            if "progress" in msg:
                self.screen._job_progress(*msg["progress"])
            elif "planned" in msg:
                Clock.schedule_once(lambda dt, s=msg["planned"]: self.screen._job_planned(self, s))
            elif "error" in msg:
                self._ended = True
                Clock.schedule_once(lambda dt, m=msg["error"]: self.screen._job_failed(self, m))
            elif "done" in msg:
                self._ended = True
                Clock.schedule_once(lambda dt, m=msg: self.screen._job_done(self, m["done"], m["path"]))
        code = self.proc.wait()
        if not heard and code != 0 and not self._cancelled:
            # The child could not even start (no usable interpreter, e.g. a packaged app): the
            # screen does the job on a worker thread instead.
            Clock.schedule_once(lambda dt: self.screen._job_unavailable(self, code))
        elif not self._ended and not self._cancelled and (code != 0 or self._applying):
            self._stderr.seek(0)
            tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-1:]
            message = f"the import stopped unexpectedly ({tail[0] if tail else f'exit status {code}'})"
            Clock.schedule_once(lambda dt: self.screen._job_failed(self, message))
        self._stderr.close()
        self.proc.stdout.close()
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def apply(self) -> None:
        self._applying = True
        try:
            self.proc.stdin.write("apply\n")
            self.proc.stdin.flush()
        except OSError:  # the child is gone: _read reports how it ended
            pass

    def cancel(self) -> None:
        """Drop the plan; a child still planning is stopped (it has written nothing)."""
        self._cancelled = True
        if not self._applying and self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.stdin.close()
        except OSError:
            pass


class ImportScreen(FCScreen):
    escape_leaves_field = True
    #: Import in a child process (desktop); a worker thread where there is no second interpreter.
    use_process = platform not in ("android", "ios") and not getattr(sys, "frozen", False)
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
        self._job = None  # the ThreadImport or ProcessImport of the chosen file
        self._summary = None
        self._pending = None
        self._chooser_place = None  # the chooser column's parent while it is out (on_stage)
        # At most ten progress redraws a second: each one re-renders the label and the bar.
        self._progress_trigger = Clock.create_trigger(self._show_progress, 0.1)

    #: Stages in which the plan (then the result) stands alone, without the file list.
    ALONE = ("importing", "done")

    def on_stage(self, _screen, stage: str) -> None:
        # While the file is written, and on its result, the file list is out of the window: it
        # cannot be used while writing, and every progress redraw (software GL repaints the whole
        # window ten times a second) drew it again. The plan stands alone in the middle; the list
        # comes back with "Import another file" (or on coming back to the screen), not in the
        # frame that shows the result (putting it back then was a frame of 60-67 ms).
        column = self.ids.chooser_column
        if stage in self.ALONE and column.parent is not None:
            self._chooser_place = column.parent
            column.parent.remove_widget(column)
        elif stage not in self.ALONE and column.parent is None and self._chooser_place is not None:
            place = self._chooser_place
            place.add_widget(column, index=len(place.children))  # back in front of the plan

    def enter(self, back: bool = False, path: str | None = None, **kwargs) -> None:
        chooser = self.ids.chooser
        if not chooser.path or not Path(chooser.path).is_dir():
            chooser.path = str(Path.home())
        if path:
            self.choose(path)
        elif self.stage in ("done", "error"):
            self.reset()

    def leave(self) -> None:
        if self.stage != "importing":
            self._cancel_job()

    def reset(self) -> None:
        if self.stage == "importing":
            return
        self._cancel_job()
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
            return  # an import is running
        if selection:
            p = Path(selection[0])
            if p.is_file():
                self.choose(str(p))

    # ------------------------------------------------------------------ plan

    def choose(self, path: str) -> None:
        """Parse and plan ``path`` in the background, then show what it would do."""
        self._cancel_job()
        self.path = path
        self.stage = "planning"
        self.can_import = False
        self.error_text = ""
        self.plan_text = f"Reading {Path(path).name}…"
        self._job = self._start_job(path)

    def _start_job(self, path: str):
        if self.use_process:
            try:
                return ProcessImport(self.col, path, self)
            except OSError as e:  # no second interpreter here: the thread does the same work
                Logger.info(f"Flashcards: importing in this process ({e})")
        return ThreadImport(self.col, path, self)

    def _job_unavailable(self, job, code: int) -> None:
        if job is self._job and self.stage == "planning":
            Logger.warning(f"Flashcards: the import process ended with status {code}; importing in this process")
            self._job = ThreadImport(self.col, self.path, self)

    def _job_planned(self, job, summary: dict) -> None:
        if job is not self._job:
            return  # another file was chosen meanwhile
        self._summary = summary
        decks = summary["decks"]
        deck_line = ", ".join(decks[:5]) + (f" and {len(decks) - 5} more" if len(decks) > 5 else "")
        skipped = summary["skipped_count"]
        lines = [f"[b]{_esc(Path(self.path).name)}[/b]",
                 f"Into deck{'s' if len(decks) != 1 else ''}: {_esc(deck_line) if decks else '—'}",
                 f"[b]{summary['new']}[/b] new   ·   [b]{summary['updated']}[/b] updated   ·   "
                 f"[b]{summary['unchanged']}[/b] unchanged   ·   [b]{skipped}[/b] skipped"]
        for where, why in summary["skipped"]:
            lines.append(_esc(f"skipped{f' (line {where})' if where is not None else ''}: {why}"))
        if skipped > 5:
            lines.append(f"… and {skipped - 5} more skipped")
        for w in summary["warnings"]:
            lines.append(_esc(f"warning: {w}"))
        self.plan_text = "\n".join(lines)
        self.stage = "planned"
        self.can_import = summary["new"] + summary["updated"] > 0 or summary["to_write"] > 0

    # ------------------------------------------------------------------ import

    def start_import(self) -> None:
        if self._job is None or self.stage != "planned":
            return
        self.stage = "importing"
        self.app.busy = True
        self.progress = 0
        self.progress_max = max(1, self._summary["to_write"])
        self.progress_text = "Backing up…"
        self._job.apply()

    def _job_progress(self, done: int, total: int) -> None:
        # Called from the job's thread, possibly thousands of times: coalesced into one redraw.
        self._pending = (done, total)
        self._progress_trigger()

    def _show_progress(self, *_):
        if self._pending is None:
            return
        done, total = self._pending
        self.progress_max = max(1, total)
        self.progress = min(done, total)
        self.progress_text = f"Importing… {done:,} of {total:,} notes"

    def _job_done(self, job, summary: str, path: str) -> None:
        if job is not self._job:
            return
        self._job = None
        self.app.busy = False
        self.col.data_version_changed()  # the job's commit: drop cached decks/options
        self.progress = self.progress_max
        self.stage = "done"
        if summary.startswith(path):
            summary = Path(path).name + summary[len(path):]
        self.result_text = _esc(summary)

    def _job_failed(self, job, message: str) -> None:
        if job is not self._job:
            return
        self._job = None
        if self.stage == "importing":
            self.app.busy = False
            self.col.data_version_changed()
        self._failed(message)

    def _failed(self, message: str) -> None:
        self.stage = "error"
        self.error_text = message
        self.can_import = False

    def _cancel_job(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.cancel()

    def on_key(self, key, codepoint, modifiers):
        if key == 13 and self.stage == "planned":
            self.start_import()
            return True
        if key == 8 and not self.app.busy and platform != "android":  # Backspace: the folder above
            self.ids.chooser.go_up()
            return True
        return False


def _esc(text: str) -> str:
    from flashcards.ui.html_markup import plain_markup

    return plain_markup(text)
