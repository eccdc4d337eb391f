"""Where the shipped decks and assets are, installed or from a source checkout / buildozer app dir."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    installed = _PKG / "data" / name
    if installed.is_dir():
        return installed
    # Source checkout (src/flashcards -> repo root) or buildozer (main.py beside decks/).
    for base in (_PKG.parent.parent, _PKG.parent):
        candidate = base / name
        if candidate.is_dir():
            return candidate
    return installed


def decks_dir() -> Path:
    """Folder holding the shipped decks (``decks/`` in the repository)."""
    return _find("decks")


def assets_dir() -> Path:
    """Folder holding icons, fonts and images (``assets/`` in the repository)."""
    return _find("assets")
