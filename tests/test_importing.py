"""The import pipeline: parse dispatch, plan (a preview that writes nothing), apply (one transaction)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
from core_helpers import NOW, add_basic, card_ids, stored_state

from flashcards import importing
from flashcards.drafts import (
    CardState,
    Draft,
    DraftCard,
    DraftDeck,
    DraftMedia,
    DraftNote,
    DraftReview,
    ReviewKind,
    review_id,
)
from flashcards.errors import ImportFailed
from flashcards.timeutil import DAY_MS, to_ms


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def tsv(path, rows, header="#separator:tab\n#html:false\n"):
    return write(path, header + "".join("\t".join(r) + "\n" for r in rows))


def snapshot(col) -> dict:
    """Everything an import could change, for 'nothing changed' checks."""
    tables = {}
    for t in ("deck", "notetype", "note", "card", "review", "setting", "shipped_deck"):
        tables[t] = col._sql(f"SELECT * FROM {t} ORDER BY 1").fetchall()
    tables["media"] = sorted(p.name for p in col.media_dir.iterdir())
    return tables


# ---------------------------------------------------------------- parse


def test_parse_dispatches_on_suffix(tmp_path):
    d = importing.parse(tsv(tmp_path / "a.tsv", [("q", "a")]))
    assert [n.fields for n in d.notes] == [["q", "a"]]
    d = importing.parse(write(tmp_path / "b.md", "# Deck B\n\nQ: q\nA: a\n"))
    assert d.title == "Deck B" and d.notes[0].deck == "Deck B"
    d = importing.parse(tsv(tmp_path / "c.TXT", [("x", "y")]))
    assert d.notes[0].fields == ["x", "y"]


@pytest.mark.parametrize("name,words", [
    ("missing.csv", "no such file"),
    ("deck.docx", "unsupported file type '.docx'"),
    ("noext", "unsupported file type '(none)'"),
])
def test_parse_refuses_with_the_file_name(tmp_path, name, words):
    p = tmp_path / name
    if name != "missing.csv":
        p.write_bytes(b"data")
    with pytest.raises(ImportFailed) as e:
        importing.parse(p)
    assert str(p) in str(e.value) and words in str(e.value)


def test_parse_refuses_a_folder(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(ImportFailed, match="folder|directory"):
        importing.parse(tmp_path / "dir.csv")


def test_parse_malformed_files_name_file_and_line(tmp_path):
    p = write(tmp_path / "bad.tsv", "#separator:tab\nok\tfine\n\"never closed\tx\n")
    with pytest.raises(ImportFailed) as e:
        importing.parse(p)
    assert e.value.path == str(p) and e.value.line == 3
    p = write(tmp_path / "bad.md", "# T\n\nQ: fine\nA: ok\n\nthis is not a key value line\n")
    with pytest.raises(ImportFailed) as e:
        importing.parse(p)
    assert e.value.path == str(p) and e.value.line == 6


# ---------------------------------------------------------------- plan and apply


def test_plan_is_a_preview_and_apply_writes(col, tmp_path):
    add_basic(col, "existing")
    before = snapshot(col)
    f = tsv(tmp_path / "x.tsv", [("one", "1"), ("two", "2"), ("", "no front"), ("three", "3")])
    draft = importing.parse(f)
    plan = importing.plan(col, draft)
    assert (plan.new, plan.updated, plan.unchanged, len(plan.skipped)) == (3, 0, 0, 1)
    assert plan.summary() == "3 new, 0 updated, 0 unchanged, 1 skipped"
    assert snapshot(col) == before
    calls = []
    result = importing.apply(col, plan, progress=lambda done, total: calls.append((done, total)))
    assert (result.new, result.updated, result.unchanged, len(result.skipped)) == (3, 0, 0, 1)
    assert calls[-1] == (3, 3)
    assert "skipped (line 5)" in result.summary()
    assert col._sql("SELECT COUNT(*) FROM note").fetchone()[0] == 4
    # New cards follow the existing ones, in file order.
    order = [r[0] for r in col._sql(
        "SELECT n.sort_field FROM card c JOIN note n ON n.id = c.note_id ORDER BY c.position")]
    assert order == ["existing", "one", "two", "three"]


def test_reimport_unchanged_then_updated_keeps_progress(col, tmp_path, now):
    f = tsv(tmp_path / "x.tsv", [("one", "1"), ("two", "2")])
    importing.apply(col, importing.plan(col, importing.parse(f)))
    did = col.deck_id("Default")
    s = col.study(did)
    c = s.next_card(now)
    s.answer(c.card_id, 3, now)
    progress = stored_state(col, c.card_id)
    r = importing.apply(col, importing.plan(col, importing.parse(f)))
    assert (r.new, r.updated, r.unchanged) == (0, 0, 2)
    f = tsv(tmp_path / "x.tsv", [("one", "1 changed"), ("two", "2"), ("new", "n")])
    r = importing.apply(col, importing.plan(col, importing.parse(f)))
    assert (r.new, r.updated, r.unchanged) == (1, 1, 1)
    assert stored_state(col, c.card_id) == progress
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 1
    nid = col.card_columns(c.card_id)["note_id"]
    assert col.note(nid).fields == ["one", "1 changed"]


def test_deck_override(col, tmp_path):
    f = write(tmp_path / "x.md", "# Somewhere\n\nQ: q\nA: a\n")
    r = importing.apply(col, importing.plan(col, importing.parse(f), deck=" Lang :: French "))
    assert r.decks == ["Lang::French"]
    assert set(col.deck_names().values()) == {"Lang", "Lang::French"}


def test_a_failing_apply_changes_nothing(col, tmp_path, monkeypatch):
    add_basic(col, "existing")
    before = snapshot(col)
    draft = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "a"], deck="New deck")],
                  media=[DraftMedia("pic.png", data=b"\x89PNG")])
    plan = importing.plan(col, draft)

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importing, "_apply_scheduling", boom)
    with pytest.raises(RuntimeError):
        importing.apply(col, plan)
    assert snapshot(col) == before  # no note, no deck, no media file left behind


def test_media_written_and_name_clash_renamed(col):
    (col.media_dir / "pic.png").write_bytes(b"old picture")
    draft = Draft(path="x", notes=[DraftNote("g1", "Basic", ['<img src="pic.png">', "a"]),
                                   DraftNote("g2", "Basic", ["[sound:same.mp3] x", "b"])],
                  media=[DraftMedia("pic.png", data=b"new picture"), DraftMedia("same.mp3", data=b"mp3"),
                         DraftMedia("../evil.sh", data=b"rm -rf")])
    (col.media_dir / "same.mp3").write_bytes(b"mp3")
    r = importing.apply(col, importing.plan(col, draft))
    renamed = f"pic-{hashlib.sha1(b'new picture').hexdigest()[:8]}.png"
    assert (col.media_dir / renamed).read_bytes() == b"new picture"
    assert (col.media_dir / "pic.png").read_bytes() == b"old picture"
    assert r.media_added == 1  # same.mp3 identical: not copied again
    assert any("unsafe" in w for w in r.warnings)
    assert not (col.data_dir / "evil.sh").exists()
    fields = [row[0] for row in col._sql("SELECT fields FROM note ORDER BY id")]
    assert renamed in fields[0] and "same.mp3" in fields[1]


def test_skips_are_reported_not_fatal(col):
    draft = Draft(path="x", notes=[
        DraftNote("g1", "Basic", ["ok", "a"], line=1),
        DraftNote("g1", "Basic", ["dup", "a"], line=2),
        DraftNote("g2", "Basic", ["q", "a", "extra"], line=3),
        DraftNote("g3", "Cloze", ["no cloze here", ""], line=4),
        DraftNote("g4", "Basic", ["<br>", "a"], line=5),
    ])
    plan = importing.plan(col, draft)
    assert plan.new == 1
    assert [w for w, _ in plan.skipped] == [2, 3, 4, 5]


def test_unknown_notetype_or_bad_deck_refuses_the_file(col):
    with pytest.raises(ImportFailed, match="unknown note type"):
        importing.plan(col, Draft(path="f", notes=[DraftNote("g", "Nope", ["a", "b"], line=7)]))
    with pytest.raises(ImportFailed, match="empty level"):
        importing.plan(col, Draft(path="f", notes=[DraftNote("g", "Basic", ["a", "b"], deck="A::::B")]))


def test_deck_options_come_only_with_decks_the_import_creates(col):
    col.deck_id("Old", create=True)
    draft = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "a"], deck="Old"),
                                   DraftNote("g2", "Basic", ["q2", "a"], deck="Fresh")],
                  decks=[DraftDeck("Old", {"new_per_day": 1}), DraftDeck("Fresh", {"new_per_day": 2}),
                         ])
    importing.apply(col, importing.plan(col, draft))
    assert col.deck_options(col.deck_id("Old")).new_per_day == 20
    assert col.deck_options(col.deck_id("Fresh")).new_per_day == 2


# ---------------------------------------------------------------- scheduling brought by a file


def _history(t0: int, ratings_and_gaps, key="dev1"):
    out, t = [], t0
    for i, (rating, gap_days) in enumerate(ratings_and_gaps):
        t += gap_days * DAY_MS
        kind = ReviewKind.LEARN if i == 0 else ReviewKind.REVIEW
        out.append(DraftReview(review_id(t, f"{key}:{i}"), t, rating, kind, 5000))
    return out


def test_history_without_memory_state_is_replayed(col, now):
    t0 = to_ms(now) - 60 * DAY_MS
    reviews = _history(t0, [(3, 0), (3, 3), (3, 10), (1, 20)])
    last = reviews[-1].time_ms
    card = DraftCard(0, state=CardState.REVIEW, due_ms=last + 2 * DAY_MS, last_review_ms=last, reviews=reviews)
    draft = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "a"], cards=[card])])
    r = importing.apply(col, importing.plan(col, draft))
    assert r.reviews_added == 4
    cid = card_ids(col, col._sql("SELECT id FROM note").fetchone()[0])[0]
    s = stored_state(col, cid)
    assert (s.state, s.due_ms, s.reps, s.lapses) == (CardState.REVIEW, last + 2 * DAY_MS, 4, 1)
    assert s.stability is not None and s.difficulty is not None
    assert s == col.replayed_state(cid)
    # Study it here, then import the same file again: the history is not duplicated and the
    # newer local progress is kept.
    sess = col.study(col.deck_id("Default"))
    sess.answer(cid, 3, now)
    mine = stored_state(col, cid)
    r = importing.apply(col, importing.plan(col, draft))
    assert r.reviews_added == 0
    assert stored_state(col, cid) == mine == col.replayed_state(cid)
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 5


def test_memory_state_from_the_file_is_the_baseline(col, now):
    t = to_ms(now) - 5 * DAY_MS
    card = DraftCard(0, state=CardState.REVIEW, due_ms=t + 10 * DAY_MS, stability=12.5, difficulty=4.25,
                     last_review_ms=t, reviews=_history(t, [(3, 0)]), flag=3, suspended=True)
    draft = Draft(path="x", notes=[DraftNote("g1", "Basic (and reversed card)", ["q", "a"], cards=[card])])
    importing.apply(col, importing.plan(col, draft))
    c1, c2 = card_ids(col, col._sql("SELECT id FROM note").fetchone()[0])
    s = stored_state(col, c1)
    assert (s.state, s.stability, s.difficulty, s.due_ms, s.last_review_ms) == (
        CardState.REVIEW, 12.5, 4.25, t + 10 * DAY_MS, t)
    cols = col.card_columns(c1)
    assert (cols["flag"], cols["suspended"]) == (3, 1)
    assert col.card_columns(c2)["state"] == CardState.NEW  # the other card the file did not mention
    assert s == col.replayed_state(c1)
    # Answers after the baseline replay on top of it.
    col.set_suspended([c1], False)
    sess = col.study(col.deck_id("Default"))
    sess.answer(c1, 3, now + timedelta(days=6))
    assert stored_state(col, c1) == col.replayed_state(c1)
    assert stored_state(col, c1).stability > 12.5


def test_import_file_makes_a_backup_first(col, tmp_path):
    f = tsv(tmp_path / "x.tsv", [("q", "a")])
    importing.import_file(col, f)
    backups = list((col.data_dir / "backups").glob("collection-*.db"))
    assert len(backups) == 1


def test_export_markdown_then_reimport_is_unchanged(col, tmp_path):
    from flashcards import exporting

    did = col.deck_id("Lang::French", create=True)
    col.add_note("Basic", ["chat", "cat"], tags=["animals"], deck_id=did, now=NOW)
    col.add_note("Cloze", ["le {{c1::chien}}", "dog"], deck_id=did, now=NOW)
    before = snapshot(col)
    out = tmp_path / "french.md"
    assert exporting.export(col, out) == 2
    r = importing.apply(col, importing.plan(col, importing.parse(out)))
    assert (r.new, r.updated, r.unchanged) == (0, 0, 2)
    assert snapshot(col) == before


def test_merging_a_newer_file_into_newer_local_progress_keeps_the_cache_a_replay(col, now):
    """Device A's file brings answers made after the last import but before this device's own answer:
    the history is merged by id, and the card still equals replaying it."""
    t0 = to_ms(now) - 30 * DAY_MS
    full = _history(t0, [(3, 0), (3, 2), (3, 5), (3, 9)], key="devA")

    def draft_with(reviews):
        last = reviews[-1].time_ms
        card = DraftCard(0, state=CardState.REVIEW, due_ms=last + 5 * DAY_MS, last_review_ms=last,
                         reviews=list(reviews))
        return Draft(path="a", notes=[DraftNote("g1", "Basic", ["q", "a"], cards=[card])])

    importing.apply(col, importing.plan(col, draft_with(full[:2])))  # the first export of device A
    cid = col._sql("SELECT id FROM card").fetchone()[0]
    col.study(col.deck_id("Default")).answer(cid, 3, now)  # studied here, after everything on A
    importing.apply(col, importing.plan(col, draft_with(full)))  # A's later export
    assert col._sql("SELECT COUNT(*) FROM review").fetchone()[0] == 5
    assert stored_state(col, cid) == col.replayed_state(cid)
    assert col.check()["cards_repaired"] == 0


def test_if_matches_keep_and_duplicate(col):
    from flashcards.drafts import IfMatches

    importing.apply(col, importing.plan(col, Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "a"])])))
    keep = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "changed"], line=3)], if_matches=IfMatches.KEEP)
    plan = importing.plan(col, keep)
    assert (plan.new, plan.updated, plan.skipped) == (0, 0, [(3, "already in the collection (keep current)")])
    importing.apply(col, plan)
    assert [json.loads(r[0]) for r in col._sql("SELECT fields FROM note")] == [["q", "a"]]
    dup = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "changed"])], if_matches=IfMatches.DUPLICATE)
    r = importing.apply(col, importing.plan(col, dup))
    assert r.new == 1 and col._sql("SELECT COUNT(*) FROM note").fetchone()[0] == 2


def test_match_scope_deck(col):
    importing.apply(col, importing.plan(col, Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "a"],
                                                                              deck="One")])))
    other = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "b"], deck="Two")], match_scope_deck=True)
    r = importing.apply(col, importing.plan(col, other))
    assert (r.new, r.updated) == (1, 0)
    same = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "c"], deck="One")], match_scope_deck=True)
    r = importing.apply(col, importing.plan(col, same))
    assert (r.new, r.updated) == (0, 1)


def test_reimporting_the_same_history_keeps_local_flags_and_suspension(col, now):
    t = to_ms(now) - 5 * DAY_MS
    card = DraftCard(0, state=CardState.REVIEW, due_ms=t + 10 * DAY_MS, stability=12.5, difficulty=4.25,
                     last_review_ms=t, reviews=_history(t, [(3, 0)]))
    draft = Draft(path="x", notes=[DraftNote("g1", "Basic", ["q", "a"], cards=[card])])
    importing.apply(col, importing.plan(col, draft))
    cid = col._sql("SELECT id FROM card").fetchone()[0]
    col.set_suspended([cid], True)
    col.set_card_columns(cid, flag=4)
    before = col.card_columns(cid)
    r = importing.apply(col, importing.plan(col, draft))
    assert (r.new, r.updated, r.unchanged, r.reviews_added) == (0, 0, 1, 0)
    assert col.card_columns(cid) == before  # identical content changes nothing


def test_reimporting_our_own_apkg_changes_no_card(col, tmp_path, now):
    """A file that brings no answer the log lacks leaves the card's schedule as it is (Anki's format rounds
    due dates to days and memory states to 4 decimals, so its state is not a better baseline)."""
    from flashcards import exporting

    did = col.deck_id("Lang::Fr", create=True)
    for i in range(3):
        add_basic(col, f"q{i}", deck="Lang::Fr")
    col.add_note("Cloze", ["{{c1::x}} {{c2::y}}", ""], deck_id=did, now=NOW)
    s = col.study(col.deck_id("Lang"))
    t = now
    for _ in range(6):
        c = s.next_card(t)
        s.answer(c.card_id, 3, t)
        t += timedelta(minutes=11)
    before = snapshot(col)
    exporting.export(col, tmp_path / "all.apkg")
    r = importing.apply(col, importing.plan(col, importing.parse(tmp_path / "all.apkg")))
    assert (r.new, r.updated, r.reviews_added) == (0, 0, 0)
    after = snapshot(col)
    assert after["card"] == before["card"]
    assert after["review"] == before["review"]


def test_a_plan_made_stale_by_another_import_is_refused_cleanly(col, tmp_path):
    """The GUI shows a plan as a preview; if the same notes are imported elsewhere (the CLI, another
    thread) before the user confirms, applying it fails with a clear message and writes nothing."""
    import threading

    f = tsv(tmp_path / "x.tsv", [("one", "1"), ("two", "2")])
    stale = importing.plan(col, importing.parse(f))

    def elsewhere():
        try:
            importing.import_file(col, f, backup=False)
        finally:
            col.db.close()

    th = threading.Thread(target=elsewhere)
    th.start()
    th.join(30)
    before = snapshot(col)
    with pytest.raises(ImportFailed, match="changed since this import was previewed"):
        importing.apply(col, stale)
    assert snapshot(col) == before
    r = importing.apply(col, importing.plan(col, importing.parse(f)))
    assert (r.new, r.unchanged) == (0, 2)


def test_a_plan_updating_a_note_deleted_meanwhile_is_refused_cleanly(col, tmp_path):
    f = tsv(tmp_path / "x.tsv", [("one", "1")])
    importing.apply(col, importing.plan(col, importing.parse(f)))
    f = tsv(tmp_path / "x.tsv", [("one", "1 changed")])
    stale = importing.plan(col, importing.parse(f))
    assert stale.updated == 1
    col.delete_notes([stale.items[0].note_id])
    before = snapshot(col)
    with pytest.raises(ImportFailed, match="changed since"):
        importing.apply(col, stale)
    assert snapshot(col) == before


def _card_indexes(col) -> list:
    return col._sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'card' "
                    "ORDER BY name").fetchall()


def test_a_big_import_rebuilds_the_card_indexes_it_dropped(col, tmp_path, monkeypatch):
    # A big import into a small table builds the card indexes after the insert (here: "big" is 2).
    monkeypatch.setattr(importing, "REINDEX_MIN_CARDS", 2)
    add_basic(col, "existing")
    indexes = _card_indexes(col)
    assert len(indexes) >= 3
    f = tsv(tmp_path / "x.tsv", [("one", "1"), ("two", "2"), ("three", "3")])
    r = importing.apply(col, importing.plan(col, importing.parse(f)))
    assert r.new == 3
    assert _card_indexes(col) == indexes
    assert col._sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    order = [r[0] for r in col._sql(
        "SELECT n.sort_field FROM card c JOIN note n ON n.id = c.note_id ORDER BY c.position")]
    assert order == ["existing", "one", "two", "three"]


def test_a_big_import_that_fails_keeps_the_card_indexes(col, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "REINDEX_MIN_CARDS", 2)
    indexes = _card_indexes(col)
    before = snapshot(col)

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importing, "_apply_scheduling", boom)  # runs after the cards are inserted
    f = tsv(tmp_path / "x.tsv", [("one", "1"), ("two", "2"), ("three", "3")])
    with pytest.raises(RuntimeError):
        importing.apply(col, importing.plan(col, importing.parse(f)))
    assert snapshot(col) == before
    assert _card_indexes(col) == indexes


def test_foreign_key_checks_are_back_on_after_an_import(col, tmp_path, monkeypatch):
    f = tsv(tmp_path / "x.tsv", [("one", "1"), ("two", "2")])
    importing.apply(col, importing.plan(col, importing.parse(f)))
    assert col._sql("PRAGMA foreign_keys").fetchone()[0] == 1

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(importing, "_apply_scheduling", boom)
    f = tsv(tmp_path / "y.tsv", [("three", "3")])
    with pytest.raises(RuntimeError):
        importing.apply(col, importing.plan(col, importing.parse(f)))
    assert col._sql("PRAGMA foreign_keys").fetchone()[0] == 1


def test_the_import_checks_the_keys_its_rows_name(col):
    # SQLite's per-row foreign-key checks are paused during apply; _check_references stands in.
    nid = add_basic(col, "existing")
    did = col.deck_id("Default")
    ntid = col._sql("SELECT notetype_id FROM note WHERE id = ?", (nid,)).fetchone()[0]
    conn = col.db.connection()
    note = (nid + 1, "g", ntid, "[]", " ", "", "", 0, 0)
    importing._check_references(conn, [note], [(1, nid + 1, 0, did), (2, nid, 1, did)], [nid])
    with pytest.raises(RuntimeError, match="deck"):
        importing._check_references(conn, [note], [(1, nid + 1, 0, 9999)], [])
    with pytest.raises(RuntimeError, match="notetype"):
        importing._check_references(conn, [note[:2] + (9999,) + note[3:]], [], [])
    with pytest.raises(RuntimeError, match="note that does not exist"):
        importing._check_references(conn, [note], [(1, nid + 7, 0, did)], [nid + 7])
    with pytest.raises(RuntimeError, match="note that does not exist"):
        importing._check_references(conn, [note], [(1, nid, 0, did)], [])  # not planned as an update


def test_no_index_rebuild_where_statistics_were_gathered(col, tmp_path, monkeypatch):
    monkeypatch.setattr(importing, "REINDEX_MIN_CARDS", 2)
    add_basic(col, "existing")
    col._sql("ANALYZE")
    stats = col._sql("SELECT * FROM sqlite_stat1 ORDER BY 1, 2").fetchall()
    assert any(idx and idx.startswith("card_") for _tbl, idx, _stat in stats)
    f = tsv(tmp_path / "x.tsv", [("one", "1"), ("two", "2"), ("three", "3")])
    assert importing.apply(col, importing.plan(col, importing.parse(f))).new == 3
    assert col._sql("SELECT * FROM sqlite_stat1 ORDER BY 1, 2").fetchall() == stats


def test_an_import_never_gives_a_new_card_a_deleted_cards_id(tmp_path):
    """The deleted card's reviews stay in the log under its id: an imported card must not inherit them."""
    from datetime import UTC, datetime

    from flashcards.collection import Collection

    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    col = Collection.open(tmp_path / "data")
    try:
        did = col.deck_id("D", create=True)
        nid = col.add_note("Basic", ["q", "a"], deck_id=did, now=now)
        old = col._sql("SELECT id FROM card WHERE note_id = ?", (nid,)).fetchone()[0]
        col.study(did).answer(old, 3, now)
        col.delete_notes([nid])
        tsv = tmp_path / "new.tsv"
        tsv.write_text("#separator:tab\n#deck:D\nfresh\tanswer\n", encoding="utf-8")
        importing.import_file(col, tsv)
        (card,) = [r.card_id for r in col.search("fresh")]
        assert card > old and col.card_info(card, now).reviews == []
    finally:
        col.close()
