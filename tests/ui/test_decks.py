"""The deck list: keyboard selection, and adding, renaming and deleting decks through the dialogs."""

from __future__ import annotations

from conftest import press, pump_for, tap, type_char
from seed import spanish

from flashcards.ui.widgets import open_modal

UP, DOWN = 273, 274


def answer_dialog(text: str | None = None) -> None:
    pump_for(0.3)
    dialog = open_modal()
    assert dialog is not None
    if text is not None:
        dialog.ids.field.text = text
    tap(dialog.ids.ok_button)
    pump_for(0.3)


def test_add_rename_delete_decks_and_move_with_arrows(make_app):
    app = make_app(spanish)
    decks = app.root.get_screen("decks")
    assert decks.selected_row().name == "Spanish"  # the first deck with cards due
    press(DOWN)
    assert decks.selected_row().name == "Spanish::Verbs"
    press(UP)
    press(UP)  # stays on the first row
    assert decks.selected_row().name == "Spanish"

    decks.add_deck()
    answer_dialog("Languages::French")
    names = [r.name for r in decks.rows]
    assert "Languages" in names and "Languages::French" in names
    assert decks.selected_row().name == "Languages::French"

    decks.add_deck()
    answer_dialog("Spanish")  # exists: the reason is shown in words, nothing changes
    err = open_modal()
    assert err is not None and "already exists" in err.message
    press(27)
    pump_for(0.3)

    decks.rename_selected()
    answer_dialog("Languages::Français")
    assert decks.selected_row().name == "Languages::Français"

    decks.delete_selected()
    answer_dialog()
    assert "Languages::Français" not in [r.name for r in decks.rows]
    # Shortcuts still work once the dialogs are gone.
    type_char("s")
    assert app.root.current == "study"
