"""The study queue and the study actions (answer, bury, suspend, flag, undo), Anki v3 semantics.

Queue for a deck and its subdecks at ``now``:

1. learning / relearning cards due now (by due time);
2. review cards due by the end of the study day, and new cards in deck order (the order they were
   added), new cards spread evenly among the reviews so neither starves;
3. only when nothing else is left: learning cards due within the next 20 minutes (learn ahead).

The card just answered is never shown again straight away if another card is available. Limits:
each deck's own new/review limits apply to its cards, capped by the limits of every ancestor up to
(and including) the deck being studied; what was studied today (from the review log) counts against
them. With "bury siblings", only one card per note is gathered, and answering a card buries its new
and review siblings until the next study day.

The queue lives in memory (so the next card costs microseconds) and is rebuilt when the study day
changes, when this collection object was written through another path, or when another connection
(the CLI, an import thread) committed.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from flashcards import scheduling
from flashcards.drafts import CardState, ReviewKind, review_id
from flashcards.scheduling import SchedState
from flashcards.timeutil import day_bounds, from_ms, local_tz, require_utc, study_day, to_ms

LEARN_AHEAD_MS = 20 * 60 * 1000
MAX_DURATION_MS = 60_000
_KIND_FOR_STATE = {int(k): int(v) for k, v in {
    CardState.NEW: ReviewKind.LEARN, CardState.LEARNING: ReviewKind.LEARN,
    CardState.REVIEW: ReviewKind.REVIEW, CardState.RELEARNING: ReviewKind.RELEARN}.items()}


@dataclass
class StudyCard:
    """The card to show. ``front``/``back`` (sanitised HTML) are rendered on first access."""

    card_id: int
    note_id: int
    state: int
    deck_id: int
    _col: object = field(repr=False, default=None)
    _rendered: object = field(repr=False, default=None)

    @property
    def rendered(self):
        if self._rendered is None:
            self._rendered = self._col.render(self.card_id)
        return self._rendered

    @property
    def front(self) -> str:
        return self.rendered.front

    @property
    def back(self) -> str:
        return self.rendered.back

    @property
    def deck_name(self) -> str:
        return self._col.deck_names().get(self.deck_id, "")


@dataclass
class _Gathered:
    learning: list  # heap of (due_ms, card_id, note_id, deck_id, state); entries not in ``lcur`` are stale
    main: deque  # (kind, card_id, note_id, deck_id, order key)  kind 0 new, 2 review
    new: int
    review: int
    lcur: dict = field(default_factory=dict)  # card id -> its live learning entry (lazy deletion)
    gone: set = field(default_factory=set)  # cards answered or dropped since the build


def _done_today(col, deck_ids: list[int], day_start_ms: int) -> tuple[dict, dict]:
    """New cards introduced and review cards answered today, per deck, from the review log.

    Counting rows (not distinct cards) is exact for new cards — only a card's first answer has
    state_before NEW — and is Anki's own measure for reviews ("reviews done today").
    """
    new, rev = {}, {}
    marks = ",".join("?" * len(deck_ids))
    for did, state_before, n in col._sql(
            f"SELECT deck_id, state_before, COUNT(*) FROM review WHERE id >= ? "
            f"AND deck_id IN ({marks}) AND kind IN (0, 1, 2, 3) AND rating > 0 "
            f"AND state_before IN (0, 2) GROUP BY deck_id, state_before",
            [day_start_ms << 20, *deck_ids]):
        (new if state_before == 0 else rev)[did] = n
    return new, rev


def _ancestors_within(name: str, root: str, by_name: dict[str, int]) -> list[int]:
    out = []
    while name != root and "::" in name:
        name = name.rsplit("::", 1)[0]
        if name in by_name:
            out.append(by_name[name])
        if name == root:
            break
    return out


# Queue entries come straight from these rows: (kind, card id, note id, deck id, order key).
_REVIEW_SQL = ("SELECT 2, id, note_id, deck_id, due_ms FROM card WHERE deck_id = ? AND state = 2 AND suspended = 0 "
               "AND buried_until <= ? AND due_ms < ? ORDER BY due_ms, id LIMIT ?")
_NEW_SQL = ("SELECT 0, id, note_id, deck_id, position FROM card WHERE deck_id = ? AND state = 0 AND suspended = 0 "
            "AND buried_until <= ? AND ? ORDER BY position, id LIMIT ?")


# The lazy queue's SQL: counts with the cap as a LIMIT (SQLite stops there), then pages in key order.
_REVIEW_COUNT_SQL = ("SELECT COUNT(*) FROM (SELECT 1 FROM card WHERE deck_id = ? AND state = 2 AND suspended = 0 "
                     "AND buried_until <= ? AND due_ms < ? LIMIT ?)")
_NEW_COUNT_SQL = ("SELECT COUNT(*) FROM (SELECT 1 FROM card WHERE deck_id = ? AND state = 0 AND suspended = 0 "
                  "AND buried_until <= ? AND ? LIMIT ?)")
_REVIEW_PAGE_SQL = _REVIEW_SQL.replace("ORDER BY", "AND (due_ms, id) > (?, ?) ORDER BY")
_NEW_PAGE_SQL = _NEW_SQL.replace("ORDER BY", "AND (position, id) > (?, ?) ORDER BY")
_FIRST_PAGE, _PAGE = 64, 512  # a small first page: the first card shows as soon as possible


def _rows(conn, sql: str, deck_id: int, today: int, bound: int, n: int, q: _Gathered):
    """Yield the first ``n`` queue rows of one deck and kind, read a page at a time in key order.

    Each page starts after the last key read (keyset paging), so answering cards meanwhile moves
    nothing; a card already answered or dropped in this queue (``q.gone``) is never yielded again.
    If fewer than ``n`` rows remain (the collection changed), the queue's count is corrected.
    """
    key = (-(1 << 62), -(1 << 62))
    page = _FIRST_PAGE
    while n > 0:
        rows = conn.execute(sql, (deck_id, today, bound, *key, min(page, n))).fetchall()
        if not rows:
            break
        key = (rows[-1][4], rows[-1][1])
        page = _PAGE
        for row in rows:
            if row[1] in q.gone:
                continue
            n -= 1
            yield row
    if n > 0:
        if sql is _REVIEW_PAGE_SQL:
            q.review -= n
        else:
            q.new -= n


def _interleave(reviews, n_rev: int, news, n_new: int):
    """Reviews with new cards spread evenly among them, as the eager gather merges them."""
    if not (n_rev and n_new):
        yield from reviews if n_rev else news
        return
    step = (n_rev + n_new) / n_new
    i = 0
    for k in range(n_new):
        slot = int(k * step)
        while i < slot:
            row = next(reviews, None)
            if row is None:
                break
            yield row
            i += 1
        row = next(news, None)
        if row is None:
            break
        yield row
        i += 1
    yield from reviews
    yield from news


class _LazyQueue:
    """The main queue read on demand from a row iterator: the deque operations the session uses.

    Only the head is materialised; iterating and ``del`` act on the rows read so far, which always
    include every card the session has shown.
    """

    __slots__ = ("_buf", "_rows")

    def __init__(self, rows):
        self._buf: deque = deque()
        self._rows = iter(rows)

    def _fill(self) -> bool:
        if self._buf:
            return True
        row = next(self._rows, None)
        if row is None:
            return False
        self._buf.append(row)
        return True

    def __bool__(self) -> bool:
        return self._fill()

    def __getitem__(self, i: int):
        if i != 0:
            raise IndexError("only the head of a lazy queue is addressable")
        if not self._fill():
            raise IndexError("queue is empty")
        return self._buf[0]

    def popleft(self):
        if not self._fill():
            raise IndexError("pop from an empty queue")
        return self._buf.popleft()

    def __iter__(self):
        return iter(self._buf)

    def __delitem__(self, i: int) -> None:
        del self._buf[i]


def _by_due_then_id(entry: tuple) -> tuple:
    return entry[4], entry[1]


def _take_unburied(cursor, cap: int, seen_notes: set) -> list:
    """Up to ``cap`` rows whose note is not queued yet, one per note (sibling burying).

    The cursor is read lazily and left once the cap is reached, however many siblings (a cloze
    note's other cards) are skipped on the way.
    """
    out = []
    for row in cursor:
        if len(out) >= cap:
            break
        if row[2] in seen_notes:
            continue
        seen_notes.add(row[2])
        out.append(row)
    return out


def gather(col, deck_id: int, now: datetime, count_only: bool = False, lazy: bool = True) -> _Gathered:
    """Build the queue (or only its counts) for a deck and its subdecks at ``now``.

    ``lazy=False`` reads every row up front (the reference the lazy queue is tested against; it is
    also the path taken whenever sibling burying could drop rows).
    """
    now_ms = to_ms(now)
    tz = local_tz()
    rollover = col.rollover_hour
    today = study_day(now, rollover, tz).toordinal()
    start, end = day_bounds(now, rollover, tz)
    start_ms, end_ms = to_ms(start), to_ms(end)
    names = col.deck_names()
    ids = col.subtree_ids(deck_id)
    ids.sort(key=lambda d: names[d].split("::"))
    by_name = {names[d]: d for d in ids}
    root = names[deck_id]
    done_new, done_rev = _done_today(col, ids, start_ms)
    # A deck's limits count what was studied today in it and in its subdecks (else studying a parent
    # after a restart would offer its whole limit again).
    for done in (done_new, done_rev):
        own = dict(done)
        for d in ids:
            done[d] = sum(n for x, n in own.items() if names[x] == names[d] or names[x].startswith(names[d] + "::"))
    rem_new, rem_rev = {}, {}
    bury = {}
    for d in ids:
        o = col.deck_options(d)
        rem_new[d] = max(0, o.new_per_day - done_new.get(d, 0))
        rem_rev[d] = max(0, o.reviews_per_day - done_rev.get(d, 0))
        bury[d] = o.bury_siblings
    marks = ",".join("?" * len(ids))
    learning = []
    for cid, due, nid, did, st in col._sql(
            f"SELECT id, due_ms, note_id, deck_id, state FROM card WHERE deck_id IN ({marks}) "
            f"AND state IN (1, 3) AND suspended = 0 AND buried_until <= ? AND due_ms < ?",
            [*ids, today, max(end_ms, now_ms + LEARN_AHEAD_MS)]):
        learning.append((due, cid, nid, did, st))
    heapq.heapify(learning)
    conn = col.db.connection()
    lcur = {x[1]: x for x in learning}
    if not lazy or (any(bury.values()) and col.has_multi_card_notes(ids)):
        # Sibling burying can drop rows (one card per note): read every row to know the counts.
        return _gather_eager(conn, ids, names, root, by_name, learning, lcur, rem_new, rem_rev, bury, today,
                             end_ms, count_only)
    # Every note has one card here, so no row is dropped: count with SQL and read rows only as the
    # queue drains (a review day of thousands of cards costs a few ms, not a Python tuple per card).
    takes: list[tuple[int, int, int]] = []  # (kind, deck, cards taken) in the eager gather's order
    for d in ids:
        anc = _ancestors_within(names[d], root, by_name)
        for kind, rem, sql in ((2, rem_rev, _REVIEW_COUNT_SQL), (0, rem_new, _NEW_COUNT_SQL)):
            cap = min([rem[d]] + [rem[a] for a in anc])
            if cap <= 0:
                continue
            n = conn.execute(sql, (d, today, end_ms if kind == 2 else 1, cap)).fetchone()[0]
            if n:
                takes.append((kind, d, n))
                rem[d] -= n
                for a in anc:
                    rem[a] -= n
    n_rev = sum(n for kind, _, n in takes if kind == 2)
    n_new = sum(n for kind, _, n in takes if kind == 0)
    q = _Gathered(learning, deque(), n_new, n_rev, lcur)
    if count_only:
        return q
    rev_streams = [_rows(conn, _REVIEW_PAGE_SQL, d, today, end_ms, n, q) for kind, d, n in takes if kind == 2]
    new_streams = [_rows(conn, _NEW_PAGE_SQL, d, today, 1, n, q) for kind, d, n in takes if kind == 0]
    reviews = rev_streams[0] if len(rev_streams) == 1 else heapq.merge(*rev_streams, key=_by_due_then_id)
    # (heapq.merge of no streams is an empty iterator)
    q.main = _LazyQueue(_interleave(reviews, n_rev, itertools.chain(*new_streams), n_new))
    return q


def _gather_eager(conn, ids, names, root, by_name, learning, lcur, rem_new, rem_rev, bury, today, end_ms,
                  count_only) -> _Gathered:
    """The queue read in full (the path when sibling burying may skip rows)."""
    seen_notes = {x[2] for x in learning}
    reviews: list = []
    news: list = []
    for d in ids:
        anc = _ancestors_within(names[d], root, by_name)
        for kind, rem, out, sql in ((2, rem_rev, reviews, _REVIEW_SQL), (0, rem_new, news, _NEW_SQL)):
            cap = min([rem[d]] + [rem[a] for a in anc])
            if cap <= 0:
                continue
            params = (d, today, end_ms if kind == 2 else 1)
            # Fast path: the first ``cap`` rows straight from SQLite, as queue entries. Sibling burying
            # only changes the result when two rows share a note or a note is already queued: then
            # take the slow path, which reads on past the skipped siblings.
            rows = conn.execute(sql, (*params, cap)).fetchall()
            nids = {r[2] for r in rows}
            if bury[d] and (len(nids) != len(rows) or not seen_notes.isdisjoint(nids)):
                rows = _take_unburied(conn.execute(sql, (*params, -1)), cap, seen_notes)
            else:
                seen_notes |= nids
            out.extend(rows)
            rem[d] -= len(rows)
            for a in anc:
                rem[a] -= len(rows)
    if len(ids) > 1:  # one deck's rows come sorted by (due, id) already
        reviews.sort(key=_by_due_then_id)
    if count_only:
        return _Gathered(learning, deque(), len(news), len(reviews), lcur)
    # Spread new cards evenly among reviews: new card k goes to position int(k * step) (positions are
    # distinct, as step >= 1), reviews fill the positions in between, in order.
    if news and reviews:
        step = (len(reviews) + len(news)) / len(news)
        merged: list = []
        r = 0
        for k, new_card in enumerate(news):
            take = int(k * step) - len(merged)
            merged.extend(reviews[r:r + take])
            r += take
            merged.append(new_card)
        merged.extend(reviews[r:])
        main = deque(merged)
    else:
        main = deque(reviews or news)
    return _Gathered(learning, main, len(news), len(reviews), lcur)


def due_counts(col, deck_id: int, now: datetime) -> tuple[int, int, int]:
    """(new, learning, review) due now for a deck and its subdecks, limits applied."""
    g = gather(col, deck_id, require_utc(now), count_only=True)
    now_ms = to_ms(now)
    lrn = sum(1 for x in g.learning if x[0] <= now_ms + LEARN_AHEAD_MS)
    return g.new, lrn, g.review


_CARD_STATE_SQL = (
    "SELECT c.state, c.step, c.stability, c.difficulty, c.due_ms, c.last_review_ms, c.reps, c.lapses, "
    "c.deck_id, c.note_id, c.ord, c.suspended, n.guid FROM card c JOIN note n ON n.id = c.note_id WHERE c.id = ?")
# The answer's read: the card's state, where it lives, and whether its note has other cards at all
# (one probe of the note's cards; the sibling query below runs only for notes that have some).
_ANSWER_STATE_SQL = _CARD_STATE_SQL.replace(
    " FROM card c", ", EXISTS (SELECT 1 FROM card s WHERE s.note_id = c.note_id AND s.id != c.id) FROM card c")
_INSERT_REVIEW_SQL = ("INSERT INTO review (id, card_id, note_guid, ord, deck_id, time_ms, rating, kind, state_before, "
                      "duration_ms, interval_s, undo) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)")
_UPDATE_CARD_SQL = ("UPDATE card SET state = ?, step = ?, stability = ?, difficulty = ?, due_ms = ?, "
                    "last_review_ms = ?, reps = ?, lapses = ? WHERE id = ?")
_UPDATE_CARD_SAME_STATE_SQL = ("UPDATE card SET step = ?, stability = ?, difficulty = ?, due_ms = ?, "
                               "last_review_ms = ?, reps = ?, lapses = ? WHERE id = ?")
_UNDO_JSON = json.JSONEncoder(separators=(",", ":"))  # one encoder, not one per answer


@contextmanager
def _immediate(conn):
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` straight on the connection (what ``atomic()`` issues, without
    its bookkeeping); COMMIT returns once the WAL is synced (synchronous=FULL). Rolled back on error."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class StudySession:
    """Studying one deck (and its subdecks): next card, answer, bury, suspend, flag, undo."""

    def __init__(self, col, deck_id: int):
        self.col = col
        self.deck_id = deck_id
        self._q: _Gathered | None = None
        self._built_day: int | None = None
        self._built_mut = -1
        self._skip: set[int] = set()
        self._last_answered: int | None = None
        self._front: int | None = None  # a card put back by undo, shown next
        self._undo: list[tuple] = []
        self._day_start_ms = self._day_end_ms = 0  # bounds of the study day the queue was built for
        self._today = 0
        self._day_of = None  # ms -> study day (FSRS's elapsed days), set with the day bounds

    # ---------------------------------------------------------------- queue

    def _ensure(self, now: datetime, external: bool = True) -> _Gathered:
        col = self.col
        # ``external=False`` (answering): a commit by another connection is picked up by the next
        # ``next_card``; the answer itself reads the card fresh from the database.
        changed = external and col.data_version_changed()
        now_ms = to_ms(now)
        # Recomputed on a change too: the rollover hour (a setting) may be what changed.
        if changed or col.mutations != self._built_mut or not (self._day_start_ms <= now_ms < self._day_end_ms):
            start, end = day_bounds(now, col.rollover_hour, local_tz())
            self._day_start_ms, self._day_end_ms = to_ms(start), to_ms(end)
            self._today = col.today(now)
            self._day_of = col.day_of()
        if self._q is None or changed or self._today != self._built_day or col.mutations != self._built_mut:
            self._q = gather(col, self.deck_id, now)
            self._built_day = self._today
            self._built_mut = col.mutations
            self._skip.clear()
        return self._q

    def invalidate(self) -> None:
        """Force a rebuild on the next call (after edits made elsewhere)."""
        self._q = None

    def _clean_learning_top(self, q: _Gathered) -> None:
        heap = q.learning
        while heap and (q.lcur.get(heap[0][1]) is not heap[0] or heap[0][1] in self._skip):
            heapq.heappop(heap)

    def _pop_learning_due(self, q: _Gathered, limit_ms: int, avoid: int | None):
        """The first learning card due by ``limit_ms`` (not ``avoid`` if another qualifies).

        The heap uses lazy deletion (see ``lcur``), so every operation here is O(log n) even with
        thousands of cards in learning.
        """
        self._clean_learning_top(q)
        heap = q.learning
        if not heap or heap[0][0] > limit_ms:
            return None
        top = heap[0]
        if top[1] == avoid:
            heapq.heappop(heap)
            self._clean_learning_top(q)
            other = heap[0] if heap and heap[0][0] <= limit_ms else None
            heapq.heappush(heap, top)
            if other is not None:
                return other
        return top

    def next_card(self, now: datetime | None = None) -> StudyCard | None:
        """The card to show now, or None when nothing is due (see :meth:`next_due`)."""
        from flashcards.timeutil import utc_now

        now = require_utc(now or utc_now())
        q = self._ensure(now)
        now_ms = to_ms(now)
        if self._front is not None:
            cid = self._front
            # The undone card comes back first, unless it was suspended, buried or deleted meanwhile.
            row = self.col._sql("SELECT note_id, state, deck_id FROM card WHERE id = ? AND suspended = 0 "
                                "AND buried_until <= ?", (cid, self.col.today(now))).fetchone()
            if row is not None:
                return StudyCard(cid, row[0], row[1], row[2], self.col)
            self._front = None
        avoid = self._last_answered
        lrn = self._pop_learning_due(q, now_ms, avoid)
        if lrn is not None and not (lrn[1] == avoid and self._main_head(q) is not None):
            return StudyCard(lrn[1], lrn[2], lrn[4], lrn[3], self.col)
        head = self._main_head(q)
        if head is not None:
            return StudyCard(head[1], head[2], head[0], head[3], self.col)
        if lrn is not None:
            return StudyCard(lrn[1], lrn[2], lrn[4], lrn[3], self.col)
        ahead = self._pop_learning_due(q, now_ms + LEARN_AHEAD_MS, avoid)
        if ahead is not None:
            return StudyCard(ahead[1], ahead[2], ahead[4], ahead[3], self.col)
        return None

    def _main_head(self, q: _Gathered):
        while q.main and q.main[0][1] in self._skip:
            k = q.main.popleft()
            if k[0] == 0:
                q.new -= 1
            else:
                q.review -= 1
        return q.main[0] if q.main else None

    def counts(self, now: datetime | None = None) -> tuple[int, int, int]:
        """Cards left now: (new, learning, review)."""
        from flashcards.timeutil import utc_now

        now = require_utc(now or utc_now())
        q = self._ensure(now)
        self._main_head(q)
        limit = to_ms(now) + LEARN_AHEAD_MS
        lrn = sum(1 for x in q.lcur.values() if x[0] <= limit and x[1] not in self._skip)
        return max(q.new, 0), lrn, max(q.review, 0)

    def next_due(self, now: datetime | None = None) -> datetime | None:
        """When the next card of this deck becomes due (after the queue for now is empty)."""
        from flashcards.timeutil import utc_now

        now = require_utc(now or utc_now())
        ids = self.col.subtree_ids(self.deck_id)
        marks = ",".join("?" * len(ids))
        row = self.col._sql(f"SELECT MIN(due_ms) FROM card WHERE deck_id IN ({marks}) AND state != 0 "
                            f"AND suspended = 0 AND due_ms > ?", [*ids, to_ms(now)]).fetchone()
        return from_ms(row[0]) if row and row[0] is not None else None

    # ---------------------------------------------------------------- answering

    def _card_state(self, card_id: int):
        row = self.col.db.connection().execute(_CARD_STATE_SQL, (card_id,)).fetchone()
        if row is None:
            from flashcards.errors import FlashcardsError

            raise FlashcardsError(f"no card with id {card_id}")
        return SchedState(*row[:8]), row[8], row[9], row[10], row[11], row[12]

    def intervals(self, card_id: int, now: datetime | None = None) -> dict[int, int]:
        """Seconds until due for each rating 1-4 — exactly what answering would apply."""
        from flashcards.timeutil import utc_now

        now_ms = to_ms(require_utc(now or utc_now()))
        s, deck_id, *_ = self._card_state(card_id)
        now_ms = max(now_ms, (s.last_review_ms or 0) + 1)
        return scheduling.preview(s, now_ms, self.col.deck_options(deck_id), card_id, day_of=self.col.day_of())

    def answer(self, card_id: int, rating: int, now: datetime | None = None, duration_ms: int = 0) -> SchedState:
        """Record an answer: one transaction appends the review and updates the card (and buries
        siblings / handles leeches as the deck says). Returns the card's new scheduling state."""
        from flashcards.timeutil import utc_now

        if rating not in scheduling.RATINGS:
            raise ValueError(f"rating must be 1-4, not {rating!r}")
        now = require_utc(now or utc_now())
        col = self.col
        self._ensure(now, external=False)
        now_ms = to_ms(now)
        today = self._today
        conn = col.db.connection()
        # The card is read inside the write transaction: another process (the CLI) cannot change it
        # between the read and the write, and the read shares the transaction's locks.
        with col.db.atomic() if col.db.in_transaction() else _immediate(conn):
            row = conn.execute(_ANSWER_STATE_SQL, (card_id,)).fetchone()
            if row is None:
                from flashcards.errors import FlashcardsError

                raise FlashcardsError(f"no card with id {card_id}")
            before = SchedState(*row[:8])
            deck_id, note_id, ord_, suspended, guid, has_siblings = row[8:]
            # Answers of one card are strictly time-ordered (replay sorts by id = time).
            now_ms = max(now_ms, (before.last_review_ms or 0) + 1)
            opts = col.deck_options(deck_id)
            # Study days since the last review (what scheduling.elapsed_study_days counts): today is known.
            last = before.last_review_ms
            elapsed = (None if last is None else 0 if last >= self._day_start_ms
                       else max(0, today - self._day_of(last)))
            after = scheduling.answer(before, rating, now_ms, opts, card_id, elapsed_days=elapsed)
            undo: dict = {"s": before.to_dict(), "susp": suspended}
            siblings: list[tuple[int, int]] = []
            if opts.bury_siblings and has_siblings:
                siblings = conn.execute("SELECT id, buried_until FROM card WHERE note_id = ? AND id != ? "
                                        "AND state IN (0, 2) AND buried_until <= ?",
                                        (note_id, card_id, today)).fetchall()
                if siblings:
                    undo["sib"] = siblings
            leech = (after.lapses > before.lapses and after.lapses >= opts.leech_threshold
                     and (after.lapses - opts.leech_threshold) % max(1, opts.leech_threshold // 2) == 0)
            if leech:
                tags = conn.execute("SELECT tags FROM note WHERE id = ?", (note_id,)).fetchone()[0]
                undo["leech"] = tagged = " leech " not in tags
            # Deterministic from time + card identity, the same key the .apkg importer derives from a
            # revlog id, so re-importing our own export (or merging another device's log) adds no duplicates.
            rid = review_id(now_ms, f"{now_ms}:{guid}:{ord_}")
            conn.execute(_INSERT_REVIEW_SQL, (
                rid, card_id, guid, ord_, deck_id, now_ms, rating, _KIND_FOR_STATE[before.state], int(before.state),
                max(0, min(int(duration_ms), MAX_DURATION_MS)), (after.due_ms - now_ms) // 1000,
                _UNDO_JSON.encode(undo)))
            columns = (after.step, after.stability, after.difficulty, after.due_ms, now_ms, after.reps, after.lapses,
                       card_id)
            # SQLite rewrites the entries of every index whose column is SET, changed or not: leaving
            # ``state`` out when it stays spares the new-card index a page write per answer.
            if int(after.state) == int(before.state):
                conn.execute(_UPDATE_CARD_SAME_STATE_SQL, columns)
            else:
                conn.execute(_UPDATE_CARD_SQL, (int(after.state), *columns))
            if siblings:
                conn.executemany("UPDATE card SET buried_until = ? WHERE id = ?",
                                 [(today + 1, sid) for sid, _ in siblings])
            if leech:
                if tagged:
                    col.add_tag(note_id, "leech")
                if opts.leech_action == "suspend":
                    conn.execute("UPDATE card SET suspended = 1 WHERE id = ?", (card_id,))
        self._undo.append(("answer", card_id, rid))
        self._after_change(card_id, now_ms, after, [sid for sid, _ in siblings],
                           removed=leech and opts.leech_action == "suspend", where=(note_id, deck_id),
                           # only new and review cards sit in the main queue: a learning card needs no scan
                           in_main=before.state in (CardState.NEW, CardState.REVIEW))
        return after

    def _after_change(self, card_id: int, now_ms: int, after: SchedState | None, buried: list[int],
                      removed: bool = False, where: tuple[int, int] | None = None,
                      in_main: bool = True) -> None:
        """Keep the in-memory queue in step with a write we made ourselves."""
        q = self._q
        self._front = None
        self._last_answered = card_id
        if q is None:
            return
        # Pop the card from wherever it sat; re-add it as learning if it is due again today.
        if q.main and q.main[0][1] == card_id:
            k = q.main.popleft()
            if k[0] == 0:
                q.new -= 1
            else:
                q.review -= 1
        elif in_main:
            for i, k in enumerate(q.main):
                if k[1] == card_id:
                    del q.main[i]
                    if k[0] == 0:
                        q.new -= 1
                    else:
                        q.review -= 1
                    break
            else:
                if isinstance(q.main, _LazyQueue):
                    # A card not read yet (answered without being shown): its place in the counts
                    # and limits is only known from the rows, so the next call rebuilds the queue.
                    self._q = None
                    self._built_mut = self.col.mutations
                    return
        q.gone.add(card_id)
        q.gone.update(buried)
        q.lcur.pop(card_id, None)  # its heap entry is now stale
        if after is not None and not removed and after.state in (CardState.LEARNING, CardState.RELEARNING):
            if after.due_ms < max(self._day_end_ms, now_ms + LEARN_AHEAD_MS):
                if where is None:
                    c = self.col.card_columns(card_id)
                    where = (c["note_id"], c["deck_id"])
                entry = (after.due_ms, card_id, where[0], where[1], int(after.state))
                q.lcur[card_id] = entry
                heapq.heappush(q.learning, entry)
        self._skip.update(buried)
        self._built_mut = self.col.mutations

    def bury(self, card_id: int, now: datetime | None = None) -> None:
        """Hide a card until the next study day (undoable)."""
        from flashcards.timeutil import utc_now

        now = require_utc(now or utc_now())
        c = self.col.card_columns(card_id)
        self.col.set_card_columns(card_id, buried_until=self.col.today(now) + 1)
        self._undo.append(("bury", card_id, c["buried_until"]))
        self._drop(card_id, now)

    def suspend(self, card_id: int, now: datetime | None = None) -> None:
        """Suspend a card (undoable)."""
        from flashcards.timeutil import utc_now

        now = require_utc(now or utc_now())
        c = self.col.card_columns(card_id)
        self.col.set_card_columns(card_id, suspended=1)
        self._undo.append(("suspend", card_id, c["suspended"]))
        self._drop(card_id, now)

    def set_flag(self, card_id: int, flag: int) -> None:
        """Set a card's flag (0 none, 1-7 colours; undoable). The card stays in the queue."""
        if not 0 <= int(flag) <= 7:
            raise ValueError("flag must be 0-7")
        c = self.col.card_columns(card_id)
        self.col.set_card_columns(card_id, flag=int(flag))
        self._undo.append(("flag", card_id, c["flag"]))
        self._built_mut = self.col.mutations

    def _drop(self, card_id: int, now: datetime) -> None:
        self._skip.add(card_id)
        q = self._q
        if q is not None:
            q.gone.add(card_id)
            if isinstance(q.main, _LazyQueue) and all(k[1] != card_id for k in q.main):
                # Not read yet (e.g. the card undo put back): its rows now read differently, so the
                # counts are only right after a rebuild (the write is in the database already).
                self._q = None
        if self._front == card_id:
            self._front = None
        self._built_mut = self.col.mutations

    def can_undo(self) -> bool:
        """Whether there is a study action to undo in this session."""
        return bool(self._undo)

    def undo(self) -> int | None:
        """Undo the last study action of this session (repeatable). Returns the card to show again."""
        if not self._undo:
            return None
        action, card_id, value = self._undo.pop()
        col = self.col
        if action == "answer":
            row = col._sql("SELECT undo FROM review WHERE id = ?", (value,)).fetchone()
            if row is None:  # removed elsewhere (e.g. a restore): nothing left to undo
                self.invalidate()
                return None
            undo = json.loads(row[0])
            s = SchedState.from_dict(undo["s"])
            note_id = col.card_columns(card_id)["note_id"]
            with col.db.atomic():
                col._sql("DELETE FROM review WHERE id = ?", (value,))
                col._write_state(card_id, s)
                col._sql("UPDATE card SET suspended = ? WHERE id = ?", (undo["susp"], card_id))
                if undo.get("sib"):
                    col.db.connection().executemany("UPDATE card SET buried_until = ? WHERE id = ?",
                                                    [(bu, sid) for sid, bu in undo["sib"]])
                if undo.get("leech"):
                    col.remove_tag(note_id, "leech")
            col._touch()
        elif action == "bury":
            col.set_card_columns(card_id, buried_until=value)
        elif action == "suspend":
            col.set_card_columns(card_id, suspended=value)
        elif action == "flag":
            col.set_card_columns(card_id, flag=value)
            self._built_mut = col.mutations
            return card_id
        self._q = None
        self._front = card_id
        self._last_answered = None
        return card_id
