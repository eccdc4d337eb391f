"""The ``flashcards`` command without a subcommand: shipped decks, the day's backup, then the window."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

# Runs ``flashcards --data-dir DIR`` (cli.main, as the console script does) with an app that closes
# itself once its first screen is drawn; prints what the deck list showed.
CHILD = r"""
import json, sys
from kivy.clock import Clock
from flashcards.ui import app as ui
from flashcards import cli

seen = {}

class Closing(ui.FlashcardsApp):
    def on_start(self):
        super().on_start()
        def look(_dt):
            rows = self.root.get_screen("decks").ids.rv.data
            if not rows:
                return None
            seen["decks"] = sorted(r["name"] for r in rows) if "name" in rows[0] else len(rows)
            self.stop()
            return False
        Clock.schedule_interval(look, 0.05)
        Clock.schedule_once(lambda dt: self.stop(), 60)  # a watchdog

ui.FlashcardsApp = Closing
code = cli.main(["--data-dir", sys.argv[1]])
print(json.dumps({"code": code, **seen}))
"""


def run_gui_command(data: Path, tmp_path: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(SRC) + os.pathsep + env.get("PYTHONPATH", "")
    env["KIVY_HOME"] = str(tmp_path / "kivy-home")
    env["KIVY_NO_ARGS"] = "1"
    out = subprocess.run([sys.executable, "-c", CHILD, str(data)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "daily backup failed" not in out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def backups(data: Path) -> list[str]:
    return sorted(p.name for p in (data / "backups").glob("*.db")) if (data / "backups").is_dir() else []


def test_first_start_shows_the_article_deck_and_takes_the_days_backup(tmp_path):
    data = tmp_path / "data"
    first = run_gui_command(data, tmp_path)
    assert first["code"] == 0
    assert first["decks"], "the deck list showed no deck"
    # The backup ran on its own thread while the window opened, and was complete when the command
    # returned: a whole, sound copy of the collection, with the shipped deck in it.
    made = backups(data)
    assert len(made) == 1 and not list((data / "backups").glob("*.part"))
    copy = sqlite3.connect(data / "backups" / made[0])
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT COUNT(*) FROM note").fetchone()[0] > 0
    finally:
        copy.close()
    db = sqlite3.connect(data / "collection.db")
    try:
        day = db.execute("SELECT value FROM setting WHERE key = 'last_backup_day'").fetchone()
    finally:
        db.close()
    assert day is not None
    # The same study day: no second backup.
    second = run_gui_command(data, tmp_path)
    assert second["code"] == 0 and backups(data) == made
