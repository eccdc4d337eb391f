"""Start ``phone_run.py`` in its own process with a phone's size and density (set before Kivy loads)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = HERE / "phone_run.py"
SHOTS = HERE.parents[1] / "screenshots" / "phone"  # kept for people to look at (git-ignored)

# name -> (width px, height px, density). Widths are multiples of 4 (Kivy's screenshot shears others).
PHONES = {
    "small": (720, 1280, 2.0),  # 360 x 640 dp
    "tall": (1080, 2400, 2.625),  # 411 x 914 dp: a 1080x2400 phone at 420 dpi
}


def run_phone(scenario: str, phone: str, tmp_path: Path, data_dir: Path | None = None, timeout: float = 240) -> dict:
    """Run ``scenarios.<scenario>`` on ``phone``; returns the report (screenshots in ``report['out']``,
    copied to ``screenshots/phone/<scenario>-<phone>/``)."""
    width, height, density = PHONES[phone]
    tmp_path.mkdir(parents=True, exist_ok=True)
    home = tmp_path / "home"  # the desktop import screen lists the home folder: give it something to show
    (home / "Decks").mkdir(parents=True, exist_ok=True)
    (home / "spanish.csv").write_text("front,back\nser,to be\n", encoding="utf-8")
    out = tmp_path / "out"  # this run's own folder: runs in parallel (other people's) must not mix
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIVY", "KCFG", "PYTEST"))}
    env.update(
        KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", KIVY_USE_DEFAULTCONFIG="1",
        KIVY_HOME=str(tmp_path / "kivy_home"), KIVY_METRICS_DENSITY=str(density), KIVY_DPI=str(round(160 * density)),
        KCFG_GRAPHICS_WIDTH=str(width), KCFG_GRAPHICS_HEIGHT=str(height), KCFG_GRAPHICS_RESIZABLE="0",
        FLASHCARDS_HOME=str(data_dir or tmp_path / "data"), HOME=str(tmp_path / "home"), TZ="UTC",
        PYTHONDONTWRITEBYTECODE="1",
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, str(RUNNER), scenario, str(out)],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    report_file = out / "report.json"
    if not report_file.exists():
        raise AssertionError(f"no report (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    # A copy for people to look at, replacing the previous run's.
    keep = SHOTS / f"{scenario}-{phone}"
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(out, keep, dirs_exist_ok=True)
    report["out"] = str(out)
    report["kept"] = str(keep)
    report["stderr"] = proc.stderr[-4000:]
    if report.get("error"):
        raise AssertionError(f"scenario {scenario} on {phone} failed:\n{report['error']}\n{proc.stderr[-3000:]}")
    return report
