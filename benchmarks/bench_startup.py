"""Start-up time of the GUI with a 100,000-card collection against a bare Kivy window.

Measures, in fresh processes, the wall time from just before the process is spawned to the first
frame drawn after the first screen is filled (the deck list's rows exist and the top bar holds its
action buttons), for:

* ``bare``: a Kivy App whose root is one Label (the floor: Python + Kivy + SDL + GL start-up);
* ``app``:  ``flashcards``'s app on a data dir holding 100,000 cards (built once, through the core's
  own CSV import, and cached under the temp dir).

Both children run with Python's bytecode cache on (in a private ``PYTHONPYCACHEPREFIX``, filled by
a warm-up run of each), as an installed app runs: pip and the Android build ship ``.pyc`` files, and
Kivy's own modules in the venv are compiled already. Without it (``PYTHONDONTWRITEBYTECODE`` set in
the environment) the app's own modules, and only those, were compiled from source at every start.
``--no-pyc`` measures that way instead.

``--via-cli`` starts the app the way the ``flashcards`` command does (``flashcards.cli.main``: the
shipped decks and the day's backup before ``ui.main``) on a copy of the collection: the warm-up run
makes that day's backup, so the measured runs are ordinary starts; with ``--first-of-day`` the
copy's backups are deleted before every run, so each run makes the day's backup as the first start
of a day does.

Prints ONE JSON line on stdout: medians in seconds, their ratio, and the runs; progress on stderr.
Usage: ``python benchmarks/bench_startup.py [--runs 5] [--cards 100000] [--no-pyc] [--via-cli [--first-of-day]]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD_COMMON = r"""
import os, sys, time, tempfile
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ["KIVY_HOME"] = tempfile.mkdtemp(prefix="kivy-bench-")
"""

CHILD_BARE = CHILD_COMMON + r"""
from kivy.config import Config
Config.set("graphics", "width", "1280"); Config.set("graphics", "height", "800")
from kivy.app import App
from kivy.clock import Clock
from kivy.uix.label import Label

class Bare(App):
    def load_kv(self, filename=None):
        return False  # no kv file (and no source file to look beside when run with -c)
    def build(self):
        return Label(text="hello")
    def on_start(self):
        from kivy.core.window import Window
        def flipped(*_):
            Window.unbind(on_flip=flipped)
            print(repr(time.time()), flush=True)
            self.stop()
        Clock.schedule_once(lambda dt: Window.bind(on_flip=flipped), 0)
Bare().run()
"""

APP_CLASS = r"""
from pathlib import Path
from flashcards.ui import app as ui

from kivy.clock import Clock

class Bench(ui.FlashcardsApp):
    def on_start(self):
        super().on_start()
        from kivy.core.window import Window
        decks = self.root.get_screen("decks")
        rv, bar = decks.ids.rv, decks.ids.bar
        def flipped(*_):
            if not rv.children or not rv.children[0].children:
                return  # the deck rows are not laid out yet: not the first screen
            if bar.narrow or len(bar.ids.action_box.children) != len(bar.actions):
                return  # the top bar's buttons are not there yet (a 1280-wide bar shows them all)
            Window.unbind(on_flip=flipped)
            print(repr(time.time()), flush=True)
            self.stop()
        Window.bind(on_flip=flipped)
"""

CHILD_APP = CHILD_COMMON + APP_CLASS + r"""
data_dir = Path(sys.argv[1])
ui.main(data_dir, app_class=Bench)
"""

# What the ``flashcards`` command does: the CLI opens the collection, loads the shipped decks if
# they are new, makes the day's backup, closes it, then ui.main opens it again for the window.
CHILD_CLI = CHILD_COMMON + APP_CLASS + r"""
from flashcards import cli
ui.FlashcardsApp = Bench  # ui.main builds the class it finds there
sys.exit(cli.main(["--data-dir", sys.argv[1]]))
"""


def build_collection(cards: int) -> Path:
    """A data dir with ``cards`` Basic notes in 20 decks (cached between runs)."""
    target = Path(tempfile.gettempdir()) / f"flashcards-bench-startup-{cards}"
    if (target / "collection.db").exists() and (target / ".complete").exists():
        return target
    sys.path.insert(0, str(ROOT / "src"))
    from flashcards import importing
    from flashcards.collection import Collection

    print(f"building a {cards:,}-card collection in {target} ...", file=sys.stderr)
    target.mkdir(parents=True, exist_ok=True)
    csv_path = target / "cards.csv"
    with csv_path.open("w", encoding="utf-8") as f:
        f.write("#separator:tab\n#deck column:3\n")
        for i in range(cards):
            f.write(f"question {i}\tanswer {i}\tBench::Deck {i % 20:02d}\n")
    col = Collection.open(target)
    try:
        importing.import_file(col, csv_path, backup=False)
    finally:
        col.close()
    csv_path.unlink()
    (target / ".complete").write_text("ok")
    return target


CPU: list[float] = []  # CPU seconds of each child, in run order
PYC_DIR: str | None = None  # the children's bytecode cache; None: compile from source every time


def run_child(code: str, *args: str) -> float:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    if PYC_DIR is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYC_DIR
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.time()
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                         timeout=120)
    if out.returncode != 0 or not out.stdout.strip():
        raise SystemExit(f"child failed ({out.returncode}):\n{out.stderr[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the whole child (start-up and its shutdown): steadier than wall time on a
    # machine other jobs are loading; reported beside the wall-time figures, not instead of them.
    CPU.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return float(out.stdout.strip().splitlines()[-1]) - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cards", type=int, default=100_000)
    ap.add_argument("--no-pyc", action="store_true", help="no bytecode cache: compile modules at each start")
    ap.add_argument("--via-cli", action="store_true", help="start through flashcards.cli.main, on a copy")
    ap.add_argument("--first-of-day", action="store_true", help="with --via-cli: every run makes the day's backup")
    args = ap.parse_args()
    if args.first_of_day and not args.via_cli:
        ap.error("--first-of-day needs --via-cli")
    global PYC_DIR
    if not args.no_pyc:
        PYC_DIR = tempfile.mkdtemp(prefix="flashcards-bench-pyc-")
    data_dir = build_collection(args.cards)
    child, copy_dir = CHILD_APP, None
    if args.via_cli:
        # The CLI writes (shipped decks, backups): keep the cached collection as it is.
        copy_dir = Path(tempfile.mkdtemp(prefix="flashcards-bench-startup-cli-"))
        data_dir = Path(shutil.copytree(data_dir, copy_dir / "data"))
        child = CHILD_CLI

    def run_app() -> float:
        if args.first_of_day:
            # A new study day for the app: no backup made today (the setting is what it checks).
            shutil.rmtree(data_dir / "backups", ignore_errors=True)
            db = sqlite3.connect(data_dir / "collection.db")
            try:
                with db:
                    db.execute("DELETE FROM setting WHERE key = 'last_backup_day'")
            finally:
                db.close()
        return run_child(child, str(data_dir))

    run_child(CHILD_BARE)  # warm the file cache once for both
    run_app()
    bare, app, bare_cpu, app_cpu = [], [], [], []
    for i in range(args.runs):
        bare.append(run_child(CHILD_BARE))
        bare_cpu.append(CPU[-1])
        app.append(run_app())
        app_cpu.append(CPU[-1])
        print(f"run {i + 1}/{args.runs}: bare {bare[-1]:.3f} s, app {app[-1]:.3f} s", file=sys.stderr)
    if PYC_DIR is not None:
        shutil.rmtree(PYC_DIR, ignore_errors=True)
    if copy_dir is not None:
        shutil.rmtree(copy_dir, ignore_errors=True)
    b, a = statistics.median(bare), statistics.median(app)
    print(json.dumps({"benchmark": "startup_first_screen", "cards": args.cards, "runs": args.runs,
                      "bare_kivy_s": round(b, 3), "app_s": round(a, 3), "ratio": round(a / b, 2),
                      "target_ratio": 1.5, "bytecode_cache": not args.no_pyc,
                      "entry": "flashcards.cli.main" if args.via_cli else "flashcards.ui.app.main",
                      "first_of_day": args.first_of_day,
                      "cpu_bare_s": round(statistics.median(bare_cpu), 3),
                      "cpu_app_s": round(statistics.median(app_cpu), 3),
                      "cpu_ratio": round(statistics.median(app_cpu) / statistics.median(bare_cpu), 2),
                      "bare_runs": [round(x, 3) for x in bare],
                      "app_runs": [round(x, 3) for x in app]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
