"""Build hook: ship the repository's ``decks/`` and ``assets/`` inside the installed package.

The source of truth stays at the repository root (buildozer packages it from there too); a regular
(non-editable) install copies both folders to ``flashcards/data/`` so an installed app finds its
shipped decks, fonts and icons without the repository.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


class BuildWithData(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "flashcards" / "data"
        for name in ("decks", "assets"):
            src = ROOT / name
            if src.is_dir():
                dst = target / name
                if dst.exists():
                    shutil.rmtree(dst)
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.xcf", "src-*"))


setup(cmdclass={"build_py": BuildWithData})
