"""The Android-only code paths (file picker, data dir, time zone), driven through stand-ins for
``android``, ``jnius`` and ``androidstorage4kivy`` that record what the code asks of Android.

What they check is our side of the contract: the request sent to Android, the handling of the
result (picked, cancelled, someone else's result, a failing copy), callbacks on Kivy's thread, the
worker thread detached from the JVM, and the values main.py derives from Android.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import types
from importlib import resources
from pathlib import Path

for _key, _value in {
    "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1", "KIVY_NO_FILELOG": "1", "KIVY_USE_DEFAULTCONFIG": "1",
}.items():  # fmt: skip
    os.environ.setdefault(_key, _value)

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


class FakeIntent:
    ACTION_OPEN_DOCUMENT = "android.intent.action.OPEN_DOCUMENT"
    CATEGORY_OPENABLE = "android.intent.category.OPENABLE"

    def __init__(self, action=None, data=None):
        self.action, self.data, self.categories, self.type = action, data, [], None

    def addCategory(self, category):  # noqa: N802 - Java's name
        self.categories.append(category)

    def setType(self, mime):  # noqa: N802
        self.type = mime

    def getData(self):  # noqa: N802
        return self.data


class FakeAndroid:
    """Installs fake ``android``/``jnius``/``androidstorage4kivy`` modules and records the calls."""

    def __init__(self, monkeypatch, tmp_path):
        self.bound, self.started, self.detached, self.copied = [], [], [], []
        self.copy_error: Exception | None = None
        self.tmp = tmp_path
        self.zone = "Europe/Berlin"

        android = types.ModuleType("android")
        android.activity = types.SimpleNamespace(
            bind=lambda on_activity_result: self.bound.append(on_activity_result),
            unbind=lambda on_activity_result: self.bound.remove(on_activity_result),
        )
        android.mActivity = types.SimpleNamespace(
            startActivityForResult=lambda intent, code: self.started.append((intent, code)),
        )
        jnius = types.ModuleType("jnius")
        jnius.detach = lambda: self.detached.append(threading.current_thread().name)
        jnius.cast = lambda _cls, obj: obj
        files_dir = tmp_path / "files"
        files_dir.mkdir()
        classes = {
            "android.content.Intent": FakeIntent,
            "java.util.TimeZone": types.SimpleNamespace(
                getDefault=lambda: types.SimpleNamespace(getID=lambda: self.zone)
            ),
            "org.kivy.android.PythonActivity": types.SimpleNamespace(
                mActivity=types.SimpleNamespace(
                    getFilesDir=lambda: types.SimpleNamespace(getAbsolutePath=lambda: str(files_dir))
                )
            ),
        }
        jnius.autoclass = classes.__getitem__
        storage = types.ModuleType("androidstorage4kivy")

        fake = self

        class SharedStorage:
            def copy_from_shared(self, uri):
                fake.copied.append((uri, threading.current_thread().name))
                if fake.copy_error is not None:
                    raise fake.copy_error
                path = fake.tmp / "cache" / "Spanish verbs.apkg"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(b"PK")
                return str(path)

        storage.SharedStorage = SharedStorage
        for name, module in (("android", android), ("jnius", jnius), ("androidstorage4kivy", storage)):
            monkeypatch.setitem(sys.modules, name, module)


@pytest.fixture
def fake_android(monkeypatch, tmp_path):
    from flashcards.ui import android_picker

    monkeypatch.setattr(android_picker, "platform", "android")
    return FakeAndroid(monkeypatch, tmp_path)


def _pump(until, timeout=5.0):
    """Advance Kivy's clock until ``until()`` (callbacks scheduled from other threads run here)."""
    from kivy.clock import Clock

    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the picker's callback")
        Clock.tick()
        time.sleep(0.005)


class Calls:
    def __init__(self):
        self.picked, self.cancelled, self.errors, self.threads = [], [], [], []

    def on_picked(self, path):
        self.threads.append(threading.current_thread())
        self.picked.append(path)

    def on_cancel(self):
        self.threads.append(threading.current_thread())
        self.cancelled.append(True)

    def on_error(self, message):
        self.threads.append(threading.current_thread())
        self.errors.append(message)

    def any(self):
        return bool(self.picked or self.cancelled or self.errors)


def test_picker_asks_android_for_any_openable_document(fake_android):
    from flashcards.ui import android_picker

    calls = Calls()
    assert android_picker.pick_import_file(calls.on_picked, calls.on_cancel, calls.on_error) is None
    ((intent, code),) = fake_android.started
    assert code == android_picker.REQUEST_CODE
    assert intent.action == FakeIntent.ACTION_OPEN_DOCUMENT
    assert intent.categories == [FakeIntent.CATEGORY_OPENABLE]
    assert intent.type == "*/*"  # Android has no MIME type for .apkg or .md
    assert len(fake_android.bound) == 1


def test_picked_document_is_copied_off_the_ui_thread_and_delivered_on_kivys(fake_android):
    from flashcards.ui import android_picker

    calls = Calls()
    android_picker.pick_import_file(calls.on_picked, calls.on_cancel, calls.on_error)
    (callback,) = fake_android.bound
    callback(android_picker.REQUEST_CODE, android_picker.RESULT_OK, FakeIntent(data="content://docs/42"))
    assert fake_android.bound == []  # unbound after our result
    _pump(calls.any)
    assert calls.picked == [str(fake_android.tmp / "cache" / "Spanish verbs.apkg")]
    assert calls.cancelled == [] and calls.errors == []
    ((uri, copy_thread),) = fake_android.copied
    assert uri == "content://docs/42"
    assert copy_thread == "import-copy" != threading.current_thread().name
    assert fake_android.detached == ["import-copy"]  # the worker left the JVM before ending
    assert calls.threads == [threading.current_thread()]


def test_cancelled_picker_calls_on_cancel_and_copies_nothing(fake_android):
    from flashcards.ui import android_picker

    calls = Calls()
    android_picker.pick_import_file(calls.on_picked, calls.on_cancel, calls.on_error)
    (callback,) = fake_android.bound
    callback(android_picker.REQUEST_CODE, 0, None)  # RESULT_CANCELED, no intent
    _pump(calls.any)
    assert calls.cancelled == [True] and calls.picked == [] and fake_android.copied == []


def test_other_activity_results_are_left_alone(fake_android):
    from flashcards.ui import android_picker

    calls = Calls()
    android_picker.pick_import_file(calls.on_picked, calls.on_cancel, calls.on_error)
    (callback,) = fake_android.bound
    callback(android_picker.REQUEST_CODE + 1, android_picker.RESULT_OK, FakeIntent(data="content://x"))
    assert fake_android.bound == [callback]  # still waiting for ours
    assert fake_android.copied == []


def test_a_failing_copy_reports_an_error(fake_android):
    from flashcards.ui import android_picker

    fake_android.copy_error = OSError("permission revoked")
    calls = Calls()
    android_picker.pick_import_file(calls.on_picked, calls.on_cancel, calls.on_error)
    fake_android.bound[0](android_picker.REQUEST_CODE, android_picker.RESULT_OK, FakeIntent(data="content://d/1"))
    _pump(calls.any)
    assert calls.picked == []
    assert calls.errors == ["The chosen file could not be read: permission revoked"]
    assert fake_android.detached == ["import-copy"]


def test_import_suffixes_match_the_importers():
    from flashcards import importing
    from flashcards.ui.android_picker import IMPORT_SUFFIXES, _matches

    assert set(IMPORT_SUFFIXES) == set(importing.IMPORTERS) and ".apkg" in IMPORT_SUFFIXES
    accept = _matches(IMPORT_SUFFIXES)
    assert accept("/d", "Deck.APKG") and accept("/d", "notes.md") and not accept("/d", "photo.jpg")


def _load_main(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))
    sys.modules.pop("main", None)
    import main

    return main


def test_main_uses_androids_files_dir_and_zone(fake_android, monkeypatch):
    import kivy.utils

    main = _load_main(monkeypatch)
    monkeypatch.setattr(kivy.utils, "platform", "android")
    monkeypatch.delenv("TZ", raising=False)
    monkeypatch.setattr(time, "tzset", lambda: None)  # the process keeps its zone
    assert main.data_dir() == str(fake_android.tmp / "files")
    assert os.environ["TZ"] == "Europe/Berlin"
    # The zone must resolve on the phone, where only the tzdata package has it.
    assert resources.files("tzdata.zoneinfo").joinpath("Europe", "Berlin").is_file()


@pytest.mark.parametrize("zone", ["GMT+05:30", ""])
def test_main_leaves_tz_alone_for_offset_ids(fake_android, monkeypatch, zone):
    main = _load_main(monkeypatch)
    monkeypatch.delenv("TZ", raising=False)
    fake_android.zone = zone
    assert main.android_timezone() is None
    assert "TZ" not in os.environ


def test_main_on_the_desktop_lets_the_app_choose(monkeypatch):
    main = _load_main(monkeypatch)
    assert main.data_dir() is None
    assert str(ROOT / "src") in sys.path
