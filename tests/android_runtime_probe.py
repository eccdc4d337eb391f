"""Run the app's code the way the phone would see it; used by tests/test_android_build.py in a subprocess.

``python [-OO] tests/android_runtime_probe.py CONFIG.json OUT.json``

Before anything else, an import hook refuses every module the phone will not have: third-party
packages that ``buildozer.spec`` does not list (installed here for the desktop or the tests), the
stdlib modules Python 3.12-3.14 removed, and the ones python-for-android's Python leaves out. Then it
imports every module of the ``flashcards`` package, runs the app through ``main.py`` for a moment (when
the GUI exists), tries the features that must degrade (zstd .apkg, optimizer) and writes what it saw:
modules loaded, imports refused (and from which file), errors. The test decides what is acceptable.
"""

from __future__ import annotations

import importlib
import importlib.abc
import json
import os
import pkgutil
import sys
import traceback

CONFIG = json.loads(open(sys.argv[1], encoding="utf-8").read())
OUT = sys.argv[2]
ROOT = CONFIG["root"]
ALLOWED = set(CONFIG["allowed_top_level"])  # third-party import names the phone will have
MISSING_STDLIB = set(CONFIG["missing_stdlib"])  # full module names absent from the phone's Python
STDLIB = set(sys.stdlib_module_names)
APP = {"flashcards", "main"}

baseline = set(sys.modules)  # site/.pth imports that happened before us: not the app's doing
refused: list[dict] = []


def _caller() -> str:
    # The first frame outside the import machinery and this hook is the file that asked for the module.
    frame = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith("<frozen") or name == __file__ or "importlib" in name):
            return os.path.relpath(name, ROOT) if name.startswith(ROOT) else name
        frame = frame.f_back
    return "?"


class PhoneFinder(importlib.abc.MetaPathFinder):
    """Refuses what python-for-android will not put in the APK."""

    def find_spec(self, fullname, path=None, target=None):
        top = fullname.partition(".")[0]
        parts = fullname.split(".")
        prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
        if prefixes & MISSING_STDLIB:
            why = "not in the phone's Python"
        elif top in STDLIB or top in ALLOWED or top in APP or top.startswith("_sysconfigdata"):
            return None  # let the normal finders load it
        else:
            why = "not in buildozer.spec requirements"
        refused.append({"module": fullname, "by": _caller(), "why": why})
        raise ModuleNotFoundError(f"No module named {fullname!r} (phone simulation: {why})", name=fullname)


sys.meta_path.insert(0, PhoneFinder())
sys.path.insert(0, ROOT)  # main.py; main.py puts src/ on the path itself
import main as app_main  # noqa: E402 - after the hook on purpose

result: dict = {"import_errors": {}, "app_ran": False, "app_error": None, "degrade": {}}

# 1. Every module of the package (module-level imports; lazy imports are checked statically).
import flashcards  # noqa: E402

for info in pkgutil.walk_packages(flashcards.__path__, "flashcards."):
    try:
        importlib.import_module(info.name)
    except BaseException:  # noqa: BLE001 - report, do not stop: the test lists them all
        result["import_errors"][info.name] = traceback.format_exc(limit=6)

# 2. The app itself, through main.py, for a few frames.
if CONFIG.get("run_app"):
    try:
        from kivy.app import App
        from kivy.clock import Clock

        def _stop(_dt):
            app = App.get_running_app()
            if app is not None:
                result["app_ran"] = True
                result["app_class"] = type(app).__name__
                app.stop()

        Clock.schedule_once(_stop, CONFIG.get("run_seconds", 1.5))
        app_main.main()
    except BaseException:  # noqa: BLE001
        result["app_error"] = traceback.format_exc(limit=8)

# What the start-up left in the data dir: the shipped decks, loaded on first start.
try:
    import sqlite3

    from flashcards.paths import DB_NAME, resolve_data_dir

    db = resolve_data_dir(None) / DB_NAME
    if db.is_file():
        with sqlite3.connect(db) as conn:
            result["shipped_decks"] = [list(r) for r in conn.execute("SELECT key, version FROM shipped_deck")]
except BaseException:  # noqa: BLE001
    result["shipped_decks_error"] = traceback.format_exc(limit=4)

# 3. Optional features must fail with words, not tracebacks.
for name, call in CONFIG.get("degrade", {}).items():
    module_name, _, func = call["func"].rpartition(".")
    try:
        value = getattr(importlib.import_module(module_name), func)(*call.get("args", []))
        result["degrade"][name] = {"returned": repr(value)}
    except BaseException as exc:  # noqa: BLE001
        result["degrade"][name] = {
            "raised": type(exc).__name__,
            "mro": [c.__name__ for c in type(exc).__mro__],
            "message": str(exc),
        }

result["loaded"] = sorted(set(sys.modules) - baseline)
result["refused"] = refused
result["optimize"] = sys.flags.optimize
with open(OUT, "w", encoding="utf-8") as fh:
    json.dump(result, fh, indent=1)
