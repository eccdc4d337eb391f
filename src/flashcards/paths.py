"""Where the collection lives: ``--data-dir`` > ``$FLASHCARDS_HOME`` > the platform's user data dir.

The GUI passes its own folder in (``App.user_data_dir`` on Android); the core never asks Kivy.
"""

from __future__ import annotations

import os
from pathlib import Path

DB_NAME = "collection.db"
MEDIA_DIR = "media"
BACKUP_DIR = "backups"


def resolve_data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """The data dir to use: ``explicit`` if given, else ``$FLASHCARDS_HOME``, else platformdirs'."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("FLASHCARDS_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("flashcards", appauthor=False))
