"""Start the Flashcards app: buildozer's entry point (python-for-android runs this file on the phone).

The package is shipped as source under ``src/`` (exactly as in the repository), so this file puts
``src/`` on ``sys.path`` first. On Android the collection lives in the app's private files folder,
the folder Kivy reports as ``App.user_data_dir``; elsewhere the app decides (``--data-dir`` style
resolution in :mod:`flashcards.paths`). ``python main.py`` from a checkout runs the desktop app.
"""

from __future__ import annotations

import os
import sys
import time

ROOT = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(ROOT, "src")
if os.path.isdir(SRC) and SRC not in sys.path:
    sys.path.insert(0, SRC)


def android_data_dir() -> str:
    """Android's ``Context.getFilesDir()``: what ``App.user_data_dir`` returns there (private, backed up)."""
    from jnius import autoclass, cast  # noqa: PLC0415 - Android only

    activity = autoclass("org.kivy.android.PythonActivity").mActivity
    context = cast("android.content.Context", activity)
    return cast("java.io.File", context.getFilesDir()).getAbsolutePath()


def android_timezone() -> str | None:
    """Name Android's time zone in ``$TZ`` (it has no /etc/localtime): DST-correct study days.

    ``flashcards.timeutil`` reads ``$TZ`` through zoneinfo, which finds the zone in the ``tzdata``
    package shipped in the APK. Only region names (``Europe/Berlin``) and UTC are used: a custom
    ``GMT+05:30`` id would mean the opposite offset to libc's POSIX ``TZ`` rules.
    """
    if os.environ.get("TZ"):
        return None
    from jnius import autoclass  # noqa: PLC0415 - Android only

    zone = str(autoclass("java.util.TimeZone").getDefault().getID() or "")
    if "/" not in zone and zone != "UTC":
        return None
    os.environ["TZ"] = zone
    time.tzset()
    return zone


def data_dir() -> str | None:
    """The collection folder for this platform; ``None`` lets the app resolve it (desktop)."""
    from kivy.utils import platform  # noqa: PLC0415 - after sys.path is set, before the app module

    if platform == "android":
        android_timezone()
        return android_data_dir()
    return None


def prepare(folder: str | None):
    """What ``flashcards`` does on the desktop before its window opens, for the phone too.

    Loads the shipped decks (first start, or a newer version shipped with an update) and makes the
    day's backup. A problem there is logged, not fatal: the user's collection still opens.
    Returns the resolved data dir (a ``Path``).
    """
    from kivy.logger import Logger  # noqa: PLC0415

    from flashcards.backup import daily_backup  # noqa: PLC0415 - needs src/ on sys.path
    from flashcards.collection import Collection  # noqa: PLC0415
    from flashcards.errors import FlashcardsError  # noqa: PLC0415
    from flashcards.firststart import load_shipped_decks  # noqa: PLC0415
    from flashcards.paths import resolve_data_dir  # noqa: PLC0415
    from flashcards.timeutil import utc_now  # noqa: PLC0415

    path = resolve_data_dir(folder)
    col = Collection.open(path)
    try:
        for message in load_shipped_decks(col):
            Logger.info(f"Flashcards: {message}")
        daily_backup(col, utc_now())
    except (FlashcardsError, OSError) as exc:
        Logger.warning(f"Flashcards: start-up step failed, continuing: {exc}")
    finally:
        col.close()
    return path


def main() -> int:
    """Run the GUI; returns the process exit status."""
    from flashcards.ui.app import main as run_app  # noqa: PLC0415 - needs src/ on sys.path

    status = run_app(prepare(data_dir()))
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
