"""``python -m flashcards``: same as the ``flashcards`` console script."""

from flashcards.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
