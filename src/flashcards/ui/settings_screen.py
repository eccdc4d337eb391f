"""Settings: per-deck study options and the global ones (day rollover, theme, font size)."""

from __future__ import annotations

from dataclasses import replace

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from flashcards.errors import FlashcardsError
from flashcards.ui.widgets import FCScreen


def _steps_text(steps) -> str:
    return " ".join(f"{s:g}" for s in steps)


def _parse_steps(text: str, what: str) -> list[float]:
    out = []
    for part in text.replace(",", " ").split():
        try:
            out.append(float(part.rstrip("m")))
        except ValueError:
            raise FlashcardsError(f"{what}: {part!r} is not a number of minutes") from None
    return out


def _int(text: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise FlashcardsError(f"{what} must be a whole number") from None


class SettingsScreen(FCScreen):
    escape_leaves_field = True
    deck_names = ListProperty([])
    deck_id = NumericProperty(0)
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    dark = BooleanProperty(False)

    def enter(self, back: bool = False, deck_id: int | None = None, **kwargs) -> None:
        if back:
            return
        names = self.col.deck_names()
        self._ids_by_name = {n: d for d, n in names.items()}
        self.deck_names = sorted(names.values(), key=lambda n: n.split("::"))
        if deck_id is None or deck_id not in names:
            deck_id = next(iter(sorted(names, key=lambda d: names[d].split("::"))), 0)
        self.deck_id = deck_id or 0
        self.ids.deck.text = names.get(deck_id, "")
        self.load_deck()
        self.ids.rollover.text = str(self.col.rollover_hour)
        self.dark = self.app.theme_name == "dark"
        self.ids.font_size.value = self.app.font_size
        self.message = ""

    def deck_changed(self, name: str) -> None:
        did = getattr(self, "_ids_by_name", {}).get(name)
        if did is not None and did != self.deck_id:
            self.deck_id = did
            self.load_deck()

    def load_deck(self) -> None:
        if not self.deck_id:
            return
        o = self.col.deck_options(self.deck_id)
        self.ids.retention.text = f"{o.desired_retention:.2f}"
        self.ids.new_per_day.text = str(o.new_per_day)
        self.ids.reviews_per_day.text = str(o.reviews_per_day)
        self.ids.learning_steps.text = _steps_text(o.learning_steps)
        self.ids.relearning_steps.text = _steps_text(o.relearning_steps)
        self.ids.maximum_interval.text = str(o.maximum_interval)

    def save(self) -> None:
        try:
            if self.deck_id:
                old = self.col.deck_options(self.deck_id)
                try:
                    retention = float(self.ids.retention.text.strip())
                except ValueError:
                    raise FlashcardsError("desired retention must be a number such as 0.90") from None
                opts = replace(
                    old,
                    desired_retention=retention,
                    new_per_day=_int(self.ids.new_per_day.text, "New cards/day"),
                    reviews_per_day=_int(self.ids.reviews_per_day.text, "Reviews/day"),
                    learning_steps=_parse_steps(self.ids.learning_steps.text, "Learning steps"),
                    relearning_steps=_parse_steps(self.ids.relearning_steps.text, "Relearning steps"),
                    maximum_interval=_int(self.ids.maximum_interval.text, "Maximum interval"),
                )
                n = self.col.set_deck_options(self.deck_id, opts, now=self.app.now())
            else:
                n = 0
            self.col.set_setting("rollover_hour", _int(self.ids.rollover.text, "Day starts at (hour)"))
            self.app.set_theme("dark" if self.dark else "light")
            self.app.set_font_size(int(self.ids.font_size.value))
        except FlashcardsError as e:
            self.message = str(e)
            self.message_is_error = True
            return
        self.message = "Saved." + (f" {n} card{'s' if n != 1 else ''} rescheduled." if n else "")
        self.message_is_error = False
