"""Pick a file to import: Android's own picker on the phone, a Kivy file chooser on the desktop.

On Android the app cannot read other apps' files by path. The Storage Access Framework's picker
(``ACTION_OPEN_DOCUMENT``) hands back a ``content://`` URI with a read grant; ``androidstorage4kivy``
copies that document into the app's cache under its display name, so the importers (which choose
the format by suffix) get an ordinary local path. Android-only modules (``android``, ``jnius``,
``androidstorage4kivy``) are imported only when ``kivy.utils.platform == "android"``.

Use from the GUI::

    from flashcards.ui.android_picker import pick_import_file

    pick_import_file(on_picked=self.import_path, on_cancel=None, on_error=self.show_error)

Every callback runs on Kivy's main thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from kivy.clock import Clock
from kivy.logger import Logger
from kivy.metrics import dp
from kivy.utils import platform

from flashcards.importing import IMPORTERS

#: What the importers read (``flashcards.importing`` dispatches on these suffixes).
IMPORT_SUFFIXES: tuple[str, ...] = tuple(IMPORTERS)

#: Our request code for ``startActivityForResult`` (any app-unique int).
REQUEST_CODE = 0x0F1A
RESULT_OK = -1  # android.app.Activity.RESULT_OK

Picked = Callable[[str], None]
Cancelled = Callable[[], None] | None
Failed = Callable[[str], None] | None


def is_android() -> bool:
    """Whether we run on Android (python-for-android sets Kivy's platform)."""
    return platform == "android"


def pick_import_file(
    on_picked: Picked,
    on_cancel: Cancelled = None,
    on_error: Failed = None,
    *,
    suffixes: Sequence[str] = IMPORT_SUFFIXES,
    start_dir: str | os.PathLike | None = None,
):
    """Let the user choose one file; call ``on_picked(path)``, ``on_cancel()`` or ``on_error(message)``.

    Android: the system picker; the result is a local copy in the app's cache named like the
    user's file. Elsewhere: a popup with Kivy's file chooser filtered to ``suffixes``, starting in
    ``start_dir`` (default: the home folder). Returns the desktop popup (``None`` on Android).
    """
    if is_android():
        AndroidPicker(on_picked, on_cancel, on_error).open()
        return None
    popup = desktop_picker(on_picked, on_cancel, suffixes=suffixes, start_dir=start_dir)
    popup.open()
    return popup


def _on_main_thread(callback: Callable | None, *args) -> None:
    # Android delivers activity results on its UI thread, the copy runs on a worker thread:
    # Kivy widgets may only be touched from the Kivy thread.
    if callback is not None:
        Clock.schedule_once(lambda _dt: callback(*args), 0)


class AndroidPicker:
    """One request to Android's document picker (Storage Access Framework)."""

    def __init__(self, on_picked: Picked, on_cancel: Cancelled = None, on_error: Failed = None):
        self.on_picked = on_picked
        self.on_cancel = on_cancel
        self.on_error = on_error

    def open(self) -> None:
        """Start the system picker for any document type (Android knows no MIME type for .apkg/.md)."""
        from android import activity, mActivity  # noqa: PLC0415 - Android only
        from jnius import autoclass  # noqa: PLC0415 - Android only

        intent_class = autoclass("android.content.Intent")
        intent = intent_class(intent_class.ACTION_OPEN_DOCUMENT)
        intent.addCategory(intent_class.CATEGORY_OPENABLE)
        intent.setType("*/*")
        activity.bind(on_activity_result=self._on_activity_result)
        try:
            mActivity.startActivityForResult(intent, REQUEST_CODE)
        except Exception as exc:  # a JavaException: no picker app on this device
            activity.unbind(on_activity_result=self._on_activity_result)
            Logger.warning(f"Import: cannot open Android's file picker: {exc}")
            _on_main_thread(self.on_error, f"Android's file picker could not be opened: {exc}")

    def _on_activity_result(self, request_code: int, result_code: int, intent) -> None:
        if request_code != REQUEST_CODE:
            return  # someone else's activity result
        from android import activity  # noqa: PLC0415 - Android only

        activity.unbind(on_activity_result=self._on_activity_result)
        # Coming back from another activity sometimes leaves a black window until a redraw.
        _on_main_thread(_refresh_window)
        uri = intent.getData() if (result_code == RESULT_OK and intent is not None) else None
        if uri is None:
            _on_main_thread(self.on_cancel)
            return
        # Copying a large package on Android's UI thread would freeze the app (and trip an ANR).
        threading.Thread(target=self._copy, args=(uri,), name="import-copy", daemon=True).start()

    def _copy(self, uri) -> None:
        try:
            from androidstorage4kivy import SharedStorage  # noqa: PLC0415 - Android only

            path = SharedStorage().copy_from_shared(uri)
        except Exception as exc:  # Java/IO errors from the content provider
            Logger.warning(f"Import: copying the chosen document failed: {exc}")
            _on_main_thread(self.on_error, f"The chosen file could not be read: {exc}")
        else:
            if path and Path(path).is_file():
                _on_main_thread(self.on_picked, str(path))
            else:
                _on_main_thread(self.on_error, "The chosen file could not be read.")
        finally:
            # pyjnius attaches every thread that calls Java; a thread that ends attached crashes the VM.
            from jnius import detach  # noqa: PLC0415 - Android only

            detach()


def _refresh_window() -> None:
    from kivy.base import EventLoop  # noqa: PLC0415

    if EventLoop.window is not None:  # never create a window just for this
        EventLoop.window.update_viewport()


def _matches(suffixes: Sequence[str]) -> Callable[[str, str], bool]:
    wanted = tuple(s.lower() for s in suffixes)

    def accept(folder: str, filename: str) -> bool:
        return filename.lower().endswith(wanted)

    return accept


def desktop_picker(
    on_picked: Picked,
    on_cancel: Cancelled = None,
    *,
    suffixes: Sequence[str] = IMPORT_SUFFIXES,
    start_dir: str | os.PathLike | None = None,
):
    """A popup with Kivy's list file chooser and Import/Cancel buttons (48 dp touch targets)."""
    # Imported here: building widgets needs a window, and this module is imported by the app early.
    from kivy.uix.boxlayout import BoxLayout  # noqa: PLC0415
    from kivy.uix.button import Button  # noqa: PLC0415
    from kivy.uix.filechooser import FileChooserListView  # noqa: PLC0415
    from kivy.uix.popup import Popup  # noqa: PLC0415

    start = Path(start_dir).expanduser() if start_dir else Path.home()
    chooser = FileChooserListView(
        path=str(start if start.is_dir() else Path.home()), filters=[_matches(suffixes)], dirselect=False
    )
    buttons = BoxLayout(size_hint_y=None, height=dp(56), spacing=dp(8), padding=(0, dp(4), 0, 0))
    cancel = Button(text="Cancel")
    choose = Button(text="Import", disabled=True)
    buttons.add_widget(cancel)
    buttons.add_widget(choose)
    content = BoxLayout(orientation="vertical", spacing=dp(4))
    content.add_widget(chooser)
    content.add_widget(buttons)
    popup = Popup(title="Import a file (" + ", ".join(suffixes) + ")", content=content, size_hint=(0.95, 0.95))
    popup.chooser = chooser
    popup.import_button = choose
    popup.cancel_button = cancel
    state = {"done": False}

    def finish(path: str | None, dismiss: bool = True) -> None:
        if state["done"]:
            return  # a double tap on Import must not import twice
        state["done"] = True
        if dismiss:
            popup.dismiss()
        if path is not None:
            on_picked(path)
        elif on_cancel is not None:
            on_cancel()

    def selection_changed(_chooser, selection) -> None:
        choose.disabled = not (selection and Path(selection[0]).is_file())

    def submit(_chooser, selection, _touch=None) -> None:
        if selection and Path(selection[0]).is_file():
            finish(selection[0])

    chooser.bind(selection=selection_changed, on_submit=submit)
    choose.bind(on_release=lambda _b: submit(chooser, chooser.selection))
    cancel.bind(on_release=lambda _b: finish(None))
    # Dismissed by tapping outside or by the back key: that is a cancel too.
    popup.bind(on_dismiss=lambda _p: finish(None, dismiss=False))
    return popup
