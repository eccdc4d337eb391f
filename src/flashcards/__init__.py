"""flashcards: spaced repetition with FSRS, a Kivy GUI, and Anki/CSV/Markdown import.

The core (everything outside ``flashcards.ui``) never imports Kivy.
"""

__version__ = "0.1.0"
