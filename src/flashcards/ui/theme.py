"""Colours of the light and dark themes (RGBA lists, as Kivy wants them).

The app copies one palette onto its ``c_*`` properties; every .kv rule reads ``app.c_*``, so a theme
switch recolours the whole UI at once.
"""

from __future__ import annotations


def _hex(h: str, a: float = 1.0) -> list[float]:
    h = h.lstrip("#")
    return [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)] + [a]


PALETTES: dict[str, dict[str, list[float]]] = {
    "light": {
        "bg": _hex("f3f4f6"),
        "surface": _hex("ffffff"),
        "surface2": _hex("e5e7eb"),
        "border": _hex("d1d5db"),
        "text": _hex("111827"),
        "muted": _hex("6b7280"),
        "accent": _hex("2563eb"),
        "on_accent": _hex("ffffff"),
        "select": _hex("dbeafe"),
        "new": _hex("2563eb"),
        "learn": _hex("dc2626"),
        "review": _hex("16a34a"),
        "again": _hex("dc2626"),
        "hard": _hex("d97706"),
        "good": _hex("16a34a"),
        "easy": _hex("2563eb"),
        "danger": _hex("dc2626"),
        "bar": _hex("1f2937"),
        "on_bar": _hex("f9fafb"),
    },
    "dark": {
        "bg": _hex("111318"),
        "surface": _hex("1c1f26"),
        "surface2": _hex("2a2e37"),
        "border": _hex("3a3f4b"),
        "text": _hex("e5e7eb"),
        "muted": _hex("9ca3af"),
        "accent": _hex("3b82f6"),
        "on_accent": _hex("ffffff"),
        "select": _hex("1e3a5f"),
        "new": _hex("60a5fa"),
        "learn": _hex("f87171"),
        "review": _hex("4ade80"),
        "again": _hex("b91c1c"),
        "hard": _hex("b45309"),
        "good": _hex("15803d"),
        "easy": _hex("1d4ed8"),
        "danger": _hex("ef4444"),
        "bar": _hex("0b0d11"),
        "on_bar": _hex("f9fafb"),
    },
}

#: Hex (no #) of the cloze colour for each theme, for markup.
CLOZE_HEX = {"light": "1d4ed8", "dark": "60a5fa"}
#: Flag colours 1-7 (Anki's red, orange, green, blue, pink, turquoise, purple).
FLAG_NAMES = ["none", "red", "orange", "green", "blue", "pink", "turquoise", "purple"]
FLAG_COLORS = [None, _hex("ef4444"), _hex("f97316"), _hex("22c55e"), _hex("3b82f6"), _hex("ec4899"),
               _hex("14b8a6"), _hex("a855f7")]
