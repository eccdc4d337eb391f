"""The first-start loader: shipped decks imported once, newer versions re-imported as updates
(progress kept), a deck the user deleted never brought back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from core_helpers import NOW, card_ids, stored_state

from flashcards.firststart import load_shipped_decks, shipped_deck_files


def deck_v1(version: int = 1, deck_header: str = "") -> str:
    return (f"# Capitals\n\nversion: {version}\n{deck_header}description: Small test deck.\n\n"
            "id: cap-fr\nQ: Capital of France?\nA: Paris\n\n"
            "id: cap-de\nQ: Capital of Germany?\nA: Berlin\n\n"
            "id: cap-cloze\ncloze: The capital of Italy is {{c1::Rome}}.\n")


def deck_v2(deck_header: str = "") -> str:
    return (f"# Capitals\n\nversion: 2\n{deck_header}description: Small test deck.\n\n"
            "id: cap-fr\nQ: Capital of France?\nA: Paris (since 987)\n\n"
            "id: cap-de\nQ: Capital of Germany?\nA: Berlin\n\n"
            "id: cap-cloze\ncloze: The capital of Italy is {{c1::Rome}}.\n\n"
            "id: cap-es\nQ: Capital of Spain?\nA: Madrid\n")


@pytest.fixture
def shipped(tmp_path):
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "capitals.md").write_text(deck_v1(), encoding="utf-8")
    (folder / "README.md").write_text("# How to write decks\n\nNot a deck.\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not a deck either", encoding="utf-8")
    return folder


def note_count(col) -> int:
    return col._sql("SELECT COUNT(*) FROM note").fetchone()[0]


def test_only_md_files_except_the_readme(shipped):
    assert [p.name for p in shipped_deck_files(shipped)] == ["capitals.md"]
    assert shipped_deck_files(shipped / "nowhere") == []


def test_loaded_once(col, shipped):
    msgs = load_shipped_decks(col, shipped)
    assert msgs == ["loaded shipped deck 'Capitals' (version 1): 3 new, 0 updated"]
    assert note_count(col) == 3
    assert col._sql("SELECT key, version, deck_name, deleted FROM shipped_deck").fetchall() == [
        ("capitals", 1, "Capitals", 0)]
    assert load_shipped_decks(col, shipped) == []
    assert note_count(col) == 3


def test_a_start_with_nothing_newer_parses_no_deck(col, shipped, monkeypatch):
    """Every start of the app asks: the version comes from the file's header, the deck is not parsed."""
    from flashcards import importing

    load_shipped_decks(col, shipped)

    def no_parse(path):
        raise AssertionError(f"{path} parsed")

    monkeypatch.setattr(importing, "parse", no_parse)
    assert load_shipped_decks(col, shipped) == []
    (shipped / "capitals.md").write_text(deck_v2(), encoding="utf-8")
    with pytest.raises(AssertionError, match="capitals.md parsed"):
        load_shipped_decks(col, shipped)


def test_newer_version_updates_and_keeps_progress(col, shipped):
    load_shipped_decks(col, shipped)
    did = col.deck_id("Capitals")
    s = col.study(did)
    answered = []
    t = NOW
    for _ in range(2):
        c = s.next_card(t)
        s.answer(c.card_id, 4, t)
        answered.append(c.card_id)
        t += timedelta(seconds=10)
    progress = {cid: stored_state(col, cid) for cid in answered}
    (shipped / "capitals.md").write_text(deck_v2(), encoding="utf-8")
    msgs = load_shipped_decks(col, shipped)
    assert msgs == ["updated shipped deck 'Capitals' (version 2): 1 new, 1 updated"]
    assert note_count(col) == 4
    assert {cid: stored_state(col, cid) for cid in answered} == progress
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 2
    fr = col._sql("SELECT id FROM note WHERE guid = 'cap-fr'").fetchone()[0]
    assert col.note(fr).fields == ["Capital of France?", "Paris (since 987)"]
    assert col._sql("SELECT version FROM shipped_deck").fetchone()[0] == 2
    assert load_shipped_decks(col, shipped) == []


def test_an_older_file_does_not_downgrade(col, shipped):
    (shipped / "capitals.md").write_text(deck_v2(), encoding="utf-8")
    load_shipped_decks(col, shipped)
    (shipped / "capitals.md").write_text(deck_v1(), encoding="utf-8")
    assert load_shipped_decks(col, shipped) == []
    fr = col._sql("SELECT id FROM note WHERE guid = 'cap-fr'").fetchone()[0]
    assert col.note(fr).fields[1] == "Paris (since 987)"


@pytest.mark.parametrize("deck_header", ["", "deck: Geography::Capitals\n"], ids=["title", "deck-header"])
def test_a_deleted_deck_is_not_brought_back(col, shipped, deck_header):
    (shipped / "capitals.md").write_text(deck_v1(deck_header=deck_header), encoding="utf-8")
    load_shipped_decks(col, shipped)
    name = "Geography::Capitals" if deck_header else "Capitals"
    assert name in col.deck_names().values()
    col.delete_deck(col.deck_id(name))
    assert note_count(col) == 0
    assert load_shipped_decks(col, shipped) == []
    (shipped / "capitals.md").write_text(deck_v2(deck_header=deck_header), encoding="utf-8")
    assert load_shipped_decks(col, shipped) == []
    assert note_count(col) == 0 and name not in col.deck_names().values()


def test_a_renamed_deck_is_still_tracked(col, shipped):
    load_shipped_decks(col, shipped)
    col.rename_deck(col.deck_id("Capitals"), "Mine::Capitals")
    col.delete_deck(col.deck_id("Mine"))
    (shipped / "capitals.md").write_text(deck_v2(), encoding="utf-8")
    assert load_shipped_decks(col, shipped) == []
    assert note_count(col) == 0


def test_updates_of_a_renamed_deck_go_to_its_new_name(col, shipped):
    load_shipped_decks(col, shipped)
    col.rename_deck(col.deck_id("Capitals"), "Geo::Capitals")
    (shipped / "capitals.md").write_text(deck_v2(), encoding="utf-8")
    assert load_shipped_decks(col, shipped) == [
        "updated shipped deck 'Geo::Capitals' (version 2): 1 new, 1 updated"]
    assert sorted(col.deck_names().values()) == ["Geo", "Geo::Capitals"]  # no second 'Capitals'
    decks = {g: d for g, d in col._sql(
        "SELECT n.guid, d.name FROM card c JOIN note n ON n.id = c.note_id JOIN deck d ON d.id = c.deck_id")}
    assert decks == dict.fromkeys(["cap-fr", "cap-de", "cap-cloze", "cap-es"], "Geo::Capitals")
    # Deleting it now is remembered under its new name: a later version does not bring it back.
    col.delete_deck(col.deck_id("Geo"))
    (shipped / "capitals.md").write_text(deck_v2().replace("version: 2", "version: 3"), encoding="utf-8")
    assert load_shipped_decks(col, shipped) == []
    assert note_count(col) == 0


def test_a_shipped_subdeck_moved_with_its_renamed_parent_stays_deleted(col, shipped):
    (shipped / "capitals.md").write_text(deck_v1(deck_header="deck: Geo::Capitals\n"), encoding="utf-8")
    load_shipped_decks(col, shipped)
    col.rename_deck(col.deck_id("Geo"), "World")
    assert col._sql("SELECT deck_name FROM shipped_deck").fetchone()[0] == "World::Capitals"
    col.delete_deck(col.deck_id("World"))
    (shipped / "capitals.md").write_text(deck_v2(deck_header="deck: Geo::Capitals\n"), encoding="utf-8")
    assert load_shipped_decks(col, shipped) == []
    assert note_count(col) == 0


def test_a_new_shipped_deck_in_a_later_version_is_loaded(col, shipped):
    load_shipped_decks(col, shipped)
    (shipped / "rivers.md").write_text("# Rivers\n\nversion: 1\n\nid: r1\nQ: Longest river?\nA: Nile\n",
                                       encoding="utf-8")
    assert load_shipped_decks(col, shipped) == ["loaded shipped deck 'Rivers' (version 1): 1 new, 0 updated"]
    assert {"Capitals", "Rivers"} <= set(col.deck_names().values())


def test_the_real_shipped_decks_load(col):
    from flashcards.resources import decks_dir

    files = shipped_deck_files()
    assert files and all(p.parent == decks_dir() for p in files)
    msgs = load_shipped_decks(col)
    assert len(msgs) == len(files)
    assert note_count(col) > 0
    assert load_shipped_decks(col) == []
    cards = card_ids(col, col._sql("SELECT MIN(id) FROM note").fetchone()[0])
    assert cards
