"""Exceptions the core raises for problems a user can fix (bad files, unknown decks, ...).

The CLI prints ``str(error)`` as one line on stderr and exits with status 1; the GUI shows it in words.
Anything else escaping the core is a bug.
"""

from __future__ import annotations


class FlashcardsError(Exception):
    """A problem with the user's input or data, described in words fit to show them."""


class ImportFailed(FlashcardsError):
    """A file could not be imported. Nothing was written.

    ``path`` names the file and ``line`` (when known) the line or note where the problem is.
    """

    def __init__(self, path: object, message: str, line: int | None = None):
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ExportFailed(FlashcardsError):
    """An export could not be written; no partial file is left behind."""


class SchemaTooNew(FlashcardsError):
    """The database was written by a newer version of the app."""


class UnknownDeck(FlashcardsError):
    """A deck name that does not exist in the collection."""

    def __init__(self, name: str):
        self.name = name
        super().__init__(f"no deck named {name!r}")


class OptionalFeatureMissing(FlashcardsError):
    """A feature needs an optional package that is not installed here (e.g. on the phone)."""
