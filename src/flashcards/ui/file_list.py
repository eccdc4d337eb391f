"""A file list for choosing what to import: one folder at a time, in a RecycleView.

Kivy's FileChooser makes a tree node of several widgets for every entry of a folder and lays them
all out in one frame: a folder of 1,000 files (a Downloads folder) froze the window for 150-400 ms
a frame over two seconds here, and each redraw stencil-tested the whole list. This list reads the
folder on a worker thread (:func:`list_folder`, plain Python, no Kivy) and shows it in a
RecycleView, which makes only the rows on screen; it clips with a scissor
(:class:`~flashcards.ui.widgets.WindowClipBehavior`).

A tap on a folder opens it, a tap on a file chooses it (``on_choose``); the ↑ button or Backspace
goes up. A folder that cannot be read shows why, in words, and the list stays where it was.
"""

from __future__ import annotations

import os
import re
import stat
import threading
from dataclasses import dataclass
from pathlib import Path

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.views import RecycleDataViewBehavior

from flashcards.ui.widgets import SpareRowAdapter, WindowClipBehavior


@dataclass(frozen=True)
class Entry:
    """One line of the list: a folder or a file the importers read."""

    name: str
    path: str
    is_dir: bool
    size: int  # bytes; 0 for a folder


def list_folder(folder: str, suffixes: tuple[str, ...], show_hidden: bool = False) -> list[Entry]:
    """The sub-folders of ``folder``, then its files whose name ends in one of ``suffixes``
    (case-insensitive), each group by name (case-insensitive). Hidden entries (a leading dot) only
    with ``show_hidden``. An entry that vanishes or cannot be stat'ed while listing is left out.
    Raises ``OSError`` when the folder itself cannot be read."""
    wanted = tuple(s.lower() for s in suffixes)
    folders, files = [], []
    with os.scandir(folder) as it:
        for de in it:
            if not show_hidden and de.name.startswith("."):
                continue
            try:
                st = de.stat()  # follows links: a link to a folder is a folder
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                folders.append(Entry(de.name, de.path, True, 0))
            elif stat.S_ISREG(st.st_mode) and de.name.lower().endswith(wanted):
                files.append(Entry(de.name, de.path, False, st.st_size))
    folders.sort(key=_natural)
    files.sort(key=_natural)
    return folders + files


def _natural(entry: Entry) -> tuple:
    # "deck9" before "deck10", as file managers sort; case only breaks ties.
    parts = re.split(r"(\d+)", entry.name.casefold())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p), entry.name


def human_size(n: int) -> str:
    """``532 B``, ``14 KB``, ``3.2 MB``, ``1.1 GB`` (powers of 1,024, as file managers show)."""
    if n < 1024:
        return f"{n} B"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1024
        if n < 1024 or unit == "TB":
            return f"{n:.1f} {unit}" if n < 10 else f"{n:.0f} {unit}"
    raise AssertionError("unreachable")


def why_unreadable(error: OSError) -> str:
    """A short reason for a folder that cannot be listed."""
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, FileNotFoundError):
        return "it no longer exists"
    if isinstance(error, NotADirectoryError):
        return "it is not a folder"
    return error.strerror or type(error).__name__


class FileRow(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """A row of the list: the name (a folder's ends in "/") and, for a file, its size."""

    name = StringProperty("")
    size_text = StringProperty("")
    is_dir = BooleanProperty(False)
    selected = BooleanProperty(False)
    index = NumericProperty(-1)

    def refresh_view_attrs(self, rv, index, data):
        super().refresh_view_attrs(rv, index, data)  # sets every key of ``data`` as an attribute
        self.index = index
        self.name = data["name"] + ("/" if data["is_dir"] else "")
        self.size_text = "" if data["is_dir"] else human_size(data["bytes"])
        self.selected = data["path"] == rv.file_list.selected

    def on_release(self):
        rv = self.parent.recycleview if self.parent is not None else None
        if rv is not None and 0 <= self.index < len(rv.data):
            rv.file_list.open_entry(rv.data[self.index])


class FileListView(WindowClipBehavior, RecycleView):
    """The RecycleView of the rows, clipped by a scissor (WindowClipBehavior; its rule in widgets.kv)."""

    def __init__(self, **kw):
        self.file_list = None  # the FileList that owns this view (set by it)
        kw.setdefault("view_adapter", SpareRowAdapter())  # rows made ahead (make_row_ahead)
        super().__init__(**kw)


class FileList(BoxLayout):
    """The folder's path with an "up" button, then the folder's sub-folders and importable files.

    ``path`` is the folder shown; setting it lists that folder (on a worker thread: the newest
    request wins). ``files`` are the paths of the files listed, ``selected`` the file last
    chosen, ``error`` why the last folder asked for could not be shown ("" when it could).
    Event ``on_choose(path)``: a file was tapped.
    """

    __events__ = ("on_choose",)
    path = StringProperty("")
    suffixes = ListProperty([])
    show_hidden = BooleanProperty(False)
    files = ListProperty([])
    selected = StringProperty("")
    error = StringProperty("")
    #: True while a folder is being read (the status line says so after ``BUSY_AFTER`` seconds).
    listing = BooleanProperty(False)
    status = StringProperty("")
    #: The folder shown has no parent (the "up" button is off).
    at_top = BooleanProperty(False)
    BUSY_AFTER = 0.3

    def __init__(self, **kw):
        self._generation = 0
        self._shown = ""  # the folder whose entries are in the list
        self._quiet = False  # setting ``path`` to what is already listed: no new listing
        self._busy_note = Clock.create_trigger(self._note_busy, self.BUSY_AFTER)
        self._row_ahead = Clock.create_trigger(self.make_row_ahead, 0)
        super().__init__(**kw)
        self.fbind("path", self._list)
        self.fbind("suffixes", self._list)
        self.fbind("show_hidden", self._list)

    def on_kv_post(self, base_widget):
        self.ids.rv.file_list = self  # the rows reach this list through their view
        self._row_ahead()  # from the next frame (the screen is built ahead, on the deck list)
        if self.path:
            self._list()

    #: Row height (import_screen.kv's ``default_size``).
    ROW_HEIGHT = 40

    def make_row_ahead(self, *_) -> None:
        """One row widget a frame until there are enough for a window full of rows: the first folder
        shown otherwise made them (3-4 ms each) in the frame its entries arrived, 53 of 170 ms."""
        from kivy.core.window import Window

        adapter = self.ids.rv.view_adapter
        if adapter.rows_made() >= Window.height // dp(self.ROW_HEIGHT) + 2:
            return
        adapter.spare.append(FileRow())
        self._row_ahead()

    def on_choose(self, path):
        pass

    # -- listing

    def _list(self, *_):
        if not self.path or self._quiet:
            return
        self._generation += 1
        generation, folder = self._generation, os.path.abspath(os.path.expanduser(self.path))
        suffixes, hidden = tuple(self.suffixes), self.show_hidden
        self.listing = True
        self._busy_note()

        def work():
            try:
                entries, error = list_folder(folder, suffixes, hidden), ""
            except OSError as e:
                entries, error = None, why_unreadable(e)
            Clock.schedule_once(lambda dt: self._listed(generation, folder, entries, error))

        threading.Thread(target=work, name="file-list", daemon=True).start()

    def _listed(self, generation: int, folder: str, entries: list[Entry] | None, error: str) -> None:
        if generation != self._generation:
            return  # another folder was asked for meanwhile
        self.listing = False
        self._busy_note.cancel()
        if entries is None:
            self.error = f"Cannot open {Path(folder).name or folder}: {error}"
            self.status = self.error
            if self._shown:
                self._set_quietly(self._shown)  # the list stays where it was
            return
        self.error = ""
        self._shown = folder
        self._set_quietly(folder)  # the path as listed (absolute, no "~")
        self.at_top = os.path.dirname(folder) == folder
        rv = self.ids.rv
        # ("size" would be read by the layout as the row's size.)
        rv.data = [{"name": e.name, "path": e.path, "is_dir": e.is_dir, "bytes": e.size} for e in entries]
        rv.scroll_y = 1
        self.files = [e.path for e in entries if not e.is_dir]
        n_dirs = len(entries) - len(self.files)
        self.status = (f"{n_dirs} folder{'s' if n_dirs != 1 else ''}, {len(self.files)} file"
                       f"{'s' if len(self.files) != 1 else ''} to import" if entries else
                       "Nothing to import here (no sub-folders, no importable files)")

    def _set_quietly(self, path: str) -> None:
        self._quiet = True
        try:
            self.path = path
        finally:
            self._quiet = False

    def _note_busy(self, *_):
        if self.listing:
            self.status = "Opening…"

    # -- moving around

    def open_entry(self, entry: dict) -> None:
        """A tapped row: a folder opens, a file is chosen."""
        if entry["is_dir"]:
            self.path = entry["path"]
        else:
            self.select(entry["path"])
            self.dispatch("on_choose", entry["path"])

    def select(self, path: str) -> None:
        """Mark ``path`` as the chosen file (its row is highlighted)."""
        self.selected = path
        self.ids.rv.refresh_from_data()  # the rows on screen read ``selected`` again

    def go_up(self) -> None:
        """Show the parent folder (nothing at the top of the file system)."""
        parent = os.path.dirname(os.path.abspath(self.path))
        if parent and parent != os.path.abspath(self.path):
            self.path = parent

