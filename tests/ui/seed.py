"""Collections to drive the GUI with (built through the core's public API only)."""

from __future__ import annotations

from datetime import UTC, datetime

NOW = datetime(2026, 3, 10, 12, 0, 0, tzinfo=UTC)

WORDS = [("la casa", "the house"), ("el perro", "the dog"), ("el gato", "the cat"), ("la mesa", "the table"),
         ("el libro", "the book"), ("la ventana", "the window"), ("el agua", "the water"),
         ("la puerta", "the door")]


def spanish(col, n: int = len(WORDS)) -> int:
    """A deck 'Spanish' with ``n`` Basic notes (new cards) and a subdeck; returns the deck id."""
    did = col.add_deck("Spanish")
    sub = col.add_deck("Spanish::Verbs")
    for front, back in WORDS[:n]:
        col.add_note("Basic", [front, back], ["vocab"], deck_id=did, now=NOW)
    col.add_note("Basic", ["<b>hablar</b>", "to speak"], ["verb"], deck_id=sub, now=NOW)
    return did


def mixed_scripts(col) -> int:
    """One deck whose cards mix scripts, HTML, Kivy-markup-lookalikes, a cloze and a long field."""
    did = col.add_deck("World")
    col.add_note("Basic", ["Привет, мир! Γειά σου κόσμε. 日本語のテキスト. 한국어 문장 😀👍",
                           "<b>bold</b>, <i>italic</i>, <u>underline</u>, H<sub>2</sub>O, x<sup>2</sup><br>"
                           "<ul><li>first</li><li>second</li></ul>Literal: [b]not bold[/b] [color=ff0000]x[/color]"],
                 ["scripts"], deck_id=did, now=NOW)
    col.add_note("Cloze", ["The capital of {{c1::France::country}} is {{c2::Paris}}.", ""], [], deck_id=did, now=NOW)
    long = " ".join(f"Sentence number {i} of a very long field that must still be readable." for i in range(600))
    col.add_note("Basic", ["A very long field", long], ["long"], deck_id=did, now=NOW)
    return did
