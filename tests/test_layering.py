"""The core (everything in flashcards except flashcards.ui) never imports Kivy (or the UI)."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from core_helpers import SRC

PKG = SRC / "flashcards"


def core_modules() -> list[str]:
    mods = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if "ui" in parts[1:2]:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts[-1] == "__main__":
            continue
        mods.append(".".join(parts))
    return mods


def test_core_modules_found():
    mods = core_modules()
    for m in ("flashcards.collection", "flashcards.study", "flashcards.scheduling", "flashcards.cli",
              "flashcards.importing", "flashcards.importers.csv"):
        assert m in mods
    assert not any(m.startswith("flashcards.ui") for m in mods)


def test_importing_the_core_does_not_import_kivy(tmp_path):
    code = (
        "import importlib, sys\n"
        f"mods = {core_modules()!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "from flashcards import cli\n"
        "cli.build_parser()\n"
        f"assert cli.main(['stats', '--json', '--data-dir', {str(tmp_path / 'd')!r}]) == 0\n"
        "bad = sorted(m for m in sys.modules if m == 'kivy' or m.startswith(('kivy.', 'flashcards.ui')))\n"
        "print('LOADED', bad)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("FLASHCARDS_HOME", None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "LOADED []" in r.stdout


def test_no_kivy_import_statement_in_the_core():
    offenders = []
    for path in PKG.rglob("*.py"):
        if path.relative_to(PKG).parts[0] == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for n in names:
                if n == "kivy" or n.startswith("kivy."):
                    offenders.append(f"{path.relative_to(SRC)}: {n}")
    assert offenders == []


def test_the_core_and_cli_work_without_optional_packages(tmp_path):
    """On the phone (and in a plain install) kivy may be absent from the core's view and the optional
    extras (fsrs-rs-python for fitting, the anki package used by tests) are missing: every core module
    must still import and the CLI must still run."""
    code = (
        "import importlib, importlib.abc, sys\n"
        "BLOCKED = ('kivy', 'fsrs_rs_python', 'anki', 'buildozer', 'pythonforandroid')\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        f"for m in {core_modules()!r}:\n"
        "    importlib.import_module(m)\n"
        "from flashcards import cli\n"
        f"assert cli.main(['stats', '--json', '--data-dir', {str(tmp_path / 'd')!r}]) == 0\n"
        "try:\n"
        "    cli.main(['--help'])\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0\n"
        "print('OK')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("FLASHCARDS_HOME", None)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.strip().endswith("OK")
