"""The note editor: add a note (Basic, Basic and reversed, Cloze, ...) or edit one's fields and tags.

Fields hold HTML, as Anki stores them; the editor shows it as text. Validation (a Cloze note needs
``{{c1::...}}``, the first field must not be empty) is the core's: its message is shown in words.
"""

from __future__ import annotations

from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from flashcards.errors import FlashcardsError
from flashcards.ui.widgets import FCScreen

DEFAULT_NOTETYPE = "Basic"


class FieldEditor(BoxLayout):
    name = StringProperty("")
    text = StringProperty("")


class EditorScreen(FCScreen):
    mode = StringProperty("add")  # "add" or "edit"
    note_id = NumericProperty(0)
    notetypes = ListProperty([])
    decks = ListProperty([])
    message = StringProperty("")
    message_is_error = BooleanProperty(False)
    added = NumericProperty(0)

    def enter(self, back: bool = False, note_id: int | None = None, deck_id: int | None = None,
              notetype: str | None = None, **kwargs) -> None:
        if back:
            return
        self.message = ""
        self.added = 0
        names = self.col.deck_names()
        self.decks = sorted(names.values(), key=lambda n: n.split("::"))
        if note_id is not None:
            note = self.col.note(note_id)
            self.mode = "edit"
            self.note_id = note_id
            self.notetypes = [note.notetype]
            self.ids.notetype.text = note.notetype
            self.ids.deck.text = note.deck
            self._build_fields(note.field_names, note.fields)
            self.ids.tags.text = " ".join(note.tags)
        else:
            self.mode = "add"
            self.note_id = 0
            self.notetypes = self.col.notetype_names()
            nt = notetype or self.col.get_setting("last_notetype", DEFAULT_NOTETYPE)
            if nt not in self.notetypes:
                nt = self.notetypes[0]
            deck = names.get(deck_id) if deck_id is not None else self.col.get_setting("last_deck", None)
            if deck not in self.decks:
                deck = self.decks[0] if self.decks else "Default"
            self.ids.deck.text = deck
            if self.ids.notetype.text == nt:
                self.notetype_changed(nt)
            self.ids.notetype.text = nt
            self.ids.tags.text = ""

    def notetype_changed(self, name: str) -> None:
        if self.mode != "add" or not name:
            return
        try:
            names = self.col.notetype_fields(name)
        except FlashcardsError as e:
            self.error(e)
            return
        self._build_fields(names, [""] * len(names))

    def _build_fields(self, names, values):
        box = self.ids.fields
        box.clear_widgets()
        for n, v in zip(names, values, strict=False):
            box.add_widget(FieldEditor(name=n, text=v))
        if box.children:
            first = box.children[-1]
            first.ids.input.focus = False

    def field_values(self) -> list[str]:
        return [w.ids.input.text for w in reversed(self.ids.fields.children)]

    def set_field(self, index: int, text: str) -> None:
        """Fill a field (tests and the cloze helper)."""
        list(reversed(self.ids.fields.children))[index].ids.input.text = text

    def tags(self) -> list[str]:
        return self.ids.tags.text.replace(",", " ").split()

    def save(self) -> None:
        fields = self.field_values()
        try:
            if self.mode == "edit":
                self.col.update_note(self.note_id, fields, self.tags(), now=self.app.now())
                self.app.go_back()
                return
            deck_name = self.ids.deck.text
            deck_id = self.col.deck_id(deck_name, create=True) if deck_name else None
            self.col.add_note(self.ids.notetype.text, fields, self.tags(), deck_id=deck_id, now=self.app.now())
        except FlashcardsError as e:
            self.message = str(e)
            self.message_is_error = True
            return
        self.col.set_setting("last_notetype", self.ids.notetype.text)
        self.col.set_setting("last_deck", deck_name)
        self.added += 1
        self.message = f"Added to {deck_name}. Add another, or go back." if self.added == 1 else \
            f"Added {self.added} notes to {deck_name}."
        self.message_is_error = False
        for w in self.ids.fields.children:
            w.ids.input.text = ""
        if self.ids.fields.children:
            self.ids.fields.children[-1].ids.input.focus = True

    def insert_cloze(self) -> None:
        """Wrap the selection of the focused field in the next cloze number (Anki's Ctrl+Shift+C)."""
        fields = list(reversed(self.ids.fields.children))
        target = next((w.ids.input for w in fields if w.ids.input.focus), fields[0].ids.input if fields else None)
        if target is None:
            return
        from flashcards.render import cloze_numbers

        n = max([0, *[m for v in self.field_values() for m in cloze_numbers(v)]]) + 1
        sel = target.selection_text
        if sel:
            start = min(target.selection_from, target.selection_to)
            end = max(target.selection_from, target.selection_to)
            target.text = target.text[:start] + f"{{{{c{n}::{sel}}}}}" + target.text[end:]
        else:
            target.insert_text(f"{{{{c{n}::}}}}")
        target.focus = True

    def on_key(self, key, codepoint, modifiers):
        return False
