"""Anki packages (``.apkg``, ``.colpkg``) -> :class:`~flashcards.drafts.Draft`.

``parse(path)`` reads every layout Anki has written (see :mod:`flashcards.importers.anki_package`),
maps note types, decks with their options, notes, cards with their scheduling and the review log onto
the draft, and extracts media into a temporary directory that ``Draft.cleanup`` removes. It writes
nothing to the collection; a hostile or damaged file raises :class:`~flashcards.errors.ImportFailed`
and leaves nothing behind.

Scheduling conventions carried over from Anki:

* review dues are day numbers counted from the collection's creation (``col.crt``, a day rollover),
  so they become ``crt + due days`` in epoch ms; (re)learning dues are epoch seconds, or day numbers
  for interday steps;
* cards in a filtered deck go back to their home deck (``odid``) and home due (``odue``);
* new cards' due is their position in the new queue;
* the FSRS memory state comes from ``cards.data`` (``s``, ``d``, ``lrt``) when Anki computed one;
  otherwise it is left ``None`` and the pipeline replays the review log.
"""

from __future__ import annotations

import gc
import json
import re
import shutil
import sqlite3
import tempfile
from collections import defaultdict
from html import unescape
from pathlib import Path
from urllib.parse import unquote

from flashcards.drafts import (
    CardState,
    Draft,
    DraftCard,
    DraftDeck,
    DraftMedia,
    DraftNote,
    DraftNotetype,
    DraftReview,
    DraftTemplate,
    ReviewKind,
    review_id,
)
from flashcards.errors import FlashcardsError, ImportFailed
from flashcards.importers.anki_collection import CollectionError, DeckConfig, Reader, connect
from flashcards.importers.anki_package import Budget, Package, PackageError, safe_media_name, unique_name
from flashcards.options import DeckOptions

DAY_S = 86400
MAX_FIELD_BYTES = 1_000_000
MAX_REVIEW_DURATION_MS = 60_000
# Extraction cap: generous for real packages (stored media compress ~1:1, SQLite 5-20:1), yet a
# bomb stops early. ``parse(max_bytes=...)`` overrides it.
MIN_EXTRACT_BYTES = 256 << 20
EXTRACT_RATIO = 200
MAX_EXTRACT_BYTES = 16 << 30
_EPOCH_SECONDS_FLOOR = 1_000_000_000  # Anki's own test: a (re)learning due above this is a timestamp
# Bounds that keep hostile numbers out of the store (SQLite integers are 64-bit; review ids need
# time_ms < 2**43): times up to the year 9999, positions, ordinals, intervals up to 1000 years.
MAX_MS = 253_402_300_799_999
MAX_POSITION = 1_000_000_000
MAX_ORD = 10_000
MAX_INTERVAL_DAYS = 365_000
MAX_INTERVAL_S = MAX_INTERVAL_DAYS * DAY_S


def _ms(value: int) -> int | None:
    """An epoch-ms time, or None when it is outside 1970..9999 (the pipeline then uses the last review)."""
    return value if 0 <= value <= MAX_MS else None


def extract_limit(package_size: int) -> int:
    """How many bytes unpacking a package of ``package_size`` bytes may write in all."""
    return min(MAX_EXTRACT_BYTES, max(MIN_EXTRACT_BYTES, package_size * EXTRACT_RATIO))


def parse(path: str | Path, *, max_bytes: int | None = None) -> Draft:
    """Read the Anki package at ``path`` into a draft (nothing is written to the collection).

    Media are extracted to a temporary directory referenced by ``DraftMedia.path``; call
    ``draft.cleanup()`` when done. ``max_bytes`` caps the bytes unpacking may write (default:
    :func:`extract_limit`). Raises :class:`ImportFailed` for a file that is not a readable Anki package.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise ImportFailed(path, f"cannot read the file ({e.strerror or e})") from None
    tmp = Path(tempfile.mkdtemp(prefix="flashcards-apkg-"))
    # Building a draft makes millions of small acyclic objects, all alive until the import ends.
    # Full collections would walk them again each time the heap grew by a quarter (a third of the
    # parse time at 100,000 notes), so they wait until the parse is done; the young generations are
    # still collected as usual, while their objects are fresh in the CPU's caches (a pass over all
    # of them at the end, as after pausing the collector, costs twice as much).
    thresholds = gc.get_threshold()
    gc.set_threshold(thresholds[0], thresholds[1], 1 << 30)
    try:
        draft = _parse(path, tmp, Budget(max_bytes if max_bytes is not None else extract_limit(size)))
    except (PackageError, CollectionError) as e:
        shutil.rmtree(tmp, ignore_errors=True)
        # One line: SQLite's messages may quote a damaged schema's text, newlines and all.
        raise ImportFailed(path, " ".join(str(e).split())) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        gc.set_threshold(*thresholds)
    draft.cleanup = lambda: shutil.rmtree(tmp, ignore_errors=True)
    return draft


def _parse(path: Path, tmp: Path, budget: Budget) -> Draft:
    draft = Draft(path=str(path))
    db_path = tmp / "collection.sqlite"
    with Package(path, budget) as pkg:
        pkg.extract_collection(db_path)
        conn = connect(db_path)
        try:
            _read_collection(Reader(conn), draft, path)
        except CollectionError:
            raise
        except (
            TypeError,
            ValueError,
            KeyError,
            IndexError,
            AttributeError,
            OverflowError,
            sqlite3.Error,
        ) as e:
            # Typed checks above catch what real damage looks like; this is the net for the rest.
            raise CollectionError(f"damaged collection ({type(e).__name__}: {e})") from e
        finally:
            conn.close()
        renames = _extract_media(pkg, tmp / "media", draft)
    db_path.unlink()
    if renames:
        _rewrite_references(draft, renames)
    _warn_missing_media(draft)
    return draft


# ---------------------------------------------------------------------------- media


def _extract_media(pkg: Package, media_dir: Path, draft: Draft) -> dict[str, str]:
    """Extract the package's media under safe names; returns ``{original name: new name}`` for those
    renamed (unsafe characters, or a clash with another file's name)."""
    media_dir.mkdir()
    taken: set[str] = set()
    renames: dict[str, str] = {}
    for i, entry in enumerate(pkg.media_entries()):
        name = unique_name(safe_media_name(entry.name), taken)
        dst = media_dir / str(i)  # our own name on disk: the package's names never touch the file system
        warning = pkg.extract_media(entry, dst)
        if warning:
            draft.warnings.append(warning)
            continue
        taken.add(name.casefold())
        if name != entry.name:
            renames[entry.name] = name
        draft.media.append(DraftMedia(name=name, path=dst))
    return renames


# <img src="x">, <audio src=x>, <source src='x'>, <object data="x">, and [sound:x]
_REF = re.compile(
    r"""(?P<pre><(?:img|audio|video|source|object|embed)\b[^>]*?\b(?:src|data)\s*=\s*)"""
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>"']+))"""
    r"""|\[sound:(?P<sound>[^\]]+)\]""",
    re.IGNORECASE,
)


def _ref_names(value: str) -> list[str]:
    """Names a field refers to, as written (``&amp;``-escaped or %-encoded spellings included)."""
    out = []
    for m in _REF.finditer(value):
        out.append(m.group("dq") or m.group("sq") or m.group("bare") or m.group("sound") or "")
    return out


def _lookup(raw: str, table) -> str | None:
    """The key of ``table`` a reference ``raw`` means (as written, HTML-unescaped, or %-decoded)."""
    for candidate in (raw, unescape(raw), unquote(unescape(raw))):
        if candidate in table:
            return candidate
    return None


def _rewrite_references(draft: Draft, renames: dict[str, str]) -> None:
    """Point references at the names media got on import (only those that changed)."""

    def replace(m: re.Match) -> str:
        if m.group("sound") is not None:
            key = _lookup(m.group("sound"), renames)
            return f"[sound:{renames[key]}]" if key else m.group(0)
        raw = next(g for g in (m.group("dq"), m.group("sq"), m.group("bare")) if g is not None)
        key = _lookup(raw, renames)
        if key is None:
            return m.group(0)
        new = renames[key].replace("&", "&amp;").replace('"', "&quot;")
        return f'{m.group("pre")}"{new}"'

    for note in draft.notes:
        note.fields = [_REF.sub(replace, f) if ("<" in f or "[sound:" in f) else f for f in note.fields]


def _warn_missing_media(draft: Draft) -> None:
    """One warning naming the referenced files the package does not hold (not fatal)."""
    have = {m.name for m in draft.media}
    missing: dict[str, None] = {}
    for note in draft.notes:
        for value in note.fields:
            # Cheap test: every reference holds "=" (src=, data=) or "[" ([sound:]); most fields neither.
            if "=" not in value and "[" not in value:
                continue
            for raw in _ref_names(value):
                if not raw or "://" in raw or raw.startswith(("data:", "//")):
                    continue  # web addresses and inline data are not files
                if _lookup(raw, have) is None:
                    missing[unquote(unescape(raw))] = None
    if missing:
        names = list(missing)
        shown = ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")
        draft.warnings.append(
            f"{len(names)} media file(s) referenced by notes are not in the package: {shown}"
        )


# ---------------------------------------------------------------------------- collection


def _read_collection(reader: Reader, draft: Draft, path: Path) -> None:
    notetypes = reader.notetypes()
    decks = reader.decks()
    configs = reader.deck_configs()

    # Note type names must be unique in the draft; schema 11 does not enforce it.
    nt_name: dict[int, str] = {}
    seen: set[str] = set()
    for ntid in sorted(notetypes):
        name = notetypes[ntid].name.strip() or "Note type"
        base, i = name, 2
        while name.casefold() in seen:
            name, i = f"{base} ({i})", i + 1
        seen.add(name.casefold())
        nt_name[ntid] = name

    deck_name = {did: _clean_deck_name(d.name) for did, d in decks.items()}
    # A card's home deck: its name and options (filtered or unknown decks fall back to Default).
    home_of = {did: (deck_name[did], configs.get(d.config_id)) for did, d in decks.items() if not d.filtered}
    fallback = ("Default", None)

    cards_by_note: dict[int, list[tuple]] = {}
    for row in reader.cards():
        rows = cards_by_note.get(row[1])
        if rows is None:
            cards_by_note[row[1]] = [row]
        else:
            rows.append(row)
    reviews_by_card: dict[int, list[tuple]] = defaultdict(list)
    for row in reader.revlog():
        reviews_by_card[row[1]].append(row)

    used_nt: dict[int, None] = {}
    used_decks: set[str] = set()
    odd_rows = 0
    crt = reader.crt
    v1 = reader.v1_scheduler
    if not 0 <= crt <= MAX_MS // 1000:
        raise CollectionError(f"damaged collection (creation time {crt})")
    no_reviews: tuple = ()
    notes = draft.notes
    nt_fields = {mid: len(nt.fields) for mid, nt in notetypes.items()}
    max_chars = MAX_FIELD_BYTES // 4  # a UTF-8 character is at most 4 bytes: shorter notes need no measuring
    for index, (nid, guid, mid, tags, flds) in enumerate(reader.notes(), start=1):
        if type(flds) is not str or type(guid) is not str:
            if not isinstance(flds, str) or not isinstance(guid, str):
                raise CollectionError(f"damaged collection (note {nid} is not text)")
        fields = flds.split("\x1f")
        if len(flds) > max_chars:
            for i, value in enumerate(fields):
                size = len(value.encode("utf-8"))
                if size > MAX_FIELD_BYTES:
                    raise ImportFailed(
                        path,
                        f"note {guid!r} ({_snippet(fields[0])}) has a field over 1 MB"
                        f" (field {i + 1}: {size:,} bytes); refusing the file",
                        index,
                    )
        n_fields = nt_fields.get(mid)
        if not n_fields:
            nt = notetypes.get(mid)
            why = (
                "a note type missing from the package"
                if nt is None
                else f"note type {nt.name!r}, which has no fields"
            )
            draft.skipped.append((index, f"note {guid!r} uses {why}"))
            continue
        if len(fields) != n_fields:
            if len(fields) < n_fields:
                fields += [""] * (n_fields - len(fields))
            elif any(fields[n_fields:]):
                nt = notetypes[mid]
                draft.skipped.append(
                    (
                        index,
                        f"note {guid!r} has {len(fields)} fields, its note type {nt.name!r} {n_fields}",
                    )
                )
                continue
            else:
                del fields[n_fields:]
        used_nt[mid] = None

        rows = cards_by_note.get(nid)
        cards: list[DraftCard] | None = None
        note_deck = "Default"
        if rows:
            if len(rows) > 1:
                rows.sort(key=_by_ord)
            cards = []
            for k, row in enumerate(rows):
                cid, _nid, did, ord_, ctype, queue, due, left, odue, odid, flags, _data = row
                name, config = home_of.get(odid or did, fallback)
                if k == 0:
                    note_deck = name
                    used_decks.add(name)
                elif name != note_deck:
                    used_decks.add(name)
                if (
                    ctype == 0
                    and not odid
                    and type(ord_) is int
                    and type(ctype) is int
                    and type(queue) is int
                    and type(due) is int
                    and type(left) is int
                    and type(odue) is int
                    and type(odid) is int
                    and type(flags) is int
                    and 0 <= ord_ < MAX_ORD
                    and cid not in reviews_by_card
                ):
                    # The common case (shared decks): a plain new card, in its home deck. The same
                    # values as _card's first branch, without the call.
                    cards.append(
                        DraftCard(
                            ord_,
                            None if name == note_deck else name,
                            suspended=queue == -1,
                            buried=queue in (-2, -3),
                            flag=flags & 7,
                            position=min(due, MAX_POSITION) if due > 0 else 0,
                        )
                    )
                    continue
                card, bad = _card(
                    row,
                    None if name == note_deck else name,
                    guid,
                    crt,
                    config,
                    reviews_by_card.get(cid, no_reviews),
                    v1,
                )
                odd_rows += bad
                cards.append(card)
        else:
            used_decks.add("Default")
        notes.append(
            DraftNote(
                guid,
                nt_name[mid],
                fields,
                tags.split() if type(tags) is str else [],
                note_deck,
                "",
                cards,
                index,
            )
        )

    card_ids = {row[0] for rows in cards_by_note.values() for row in rows} if reviews_by_card else set()
    stray = sum(len(v) for cid, v in reviews_by_card.items() if cid not in card_ids)
    if stray:
        draft.warnings.append(f"{stray} review-log row(s) belong to cards not in the package; ignored")
    if odd_rows:
        draft.warnings.append(f"{odd_rows} review-log row(s) with unknown rating or kind; ignored")

    for ntid in used_nt:
        nt = notetypes[ntid]
        draft.notetypes.append(
            DraftNotetype(
                name=nt_name[ntid],
                fields=tuple(nt.fields),
                templates=tuple(DraftTemplate(n, q, a) for n, q, a in nt.templates),
                is_cloze=nt.is_cloze,
                css=nt.css,
            )
        )

    # Every normal deck the package holds (shared decks ship empty parents too), but Anki's
    # built-in "Default" only when a card is in it.
    names: dict[str, DraftDeck] = {}
    for did in sorted(decks):
        d = decks[did]
        name = deck_name[did]
        if d.filtered or (did == 1 and name not in used_decks) or name in names:
            continue
        options = _options(configs.get(d.config_id), d.desired_retention, draft.warnings, name)
        names[name] = DraftDeck(name=name, options=options, description=d.description)
    if "Default" in used_decks and "Default" not in names:
        names["Default"] = DraftDeck(name="Default")
    draft.decks = list(names.values())


def _by_ord(row: tuple):
    # A hostile file's ordinal may not be a number: sort those last (_card then refuses the file).
    return (0, row[3]) if type(row[3]) is int else (1, 0)


def _clean_deck_name(name: str) -> str:
    parts = [p.strip() for p in name.split("::")]
    return "::".join(p for p in parts if p) or "Default"


def _snippet(value: str) -> str:
    text = re.sub(r"<[^>]*>", "", value[:400]).strip()
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


_KINDS = {k.value: k for k in ReviewKind}
_STATES = tuple(CardState)


def _card(
    row: tuple, deck: str, guid: str, crt: int, config: DeckConfig | None, revlog, v1: bool = False
) -> tuple[DraftCard, int]:
    """One card row -> DraftCard; also returns how many of its review rows were unusable.

    ``v1``: the package comes from Anki 2.0's scheduler, where a lapsed card relearns as a review
    card in the learning queue and learning answers had three buttons (Again, Good, Easy).
    """
    cid, _nid, _did, ord_, ctype, queue, due, left, odue, odid, flags, data = row
    # SQLite columns hold any type: a hostile file must not reach arithmetic with text or floats.
    if not (
        type(ord_) is int
        and type(ctype) is int
        and type(queue) is int
        and type(due) is int
        and type(left) is int
        and type(odue) is int
        and type(odid) is int
        and type(flags) is int
        and 0 <= ord_ < MAX_ORD
    ):
        raise CollectionError(f"damaged collection (card {cid} has a malformed column)")
    if odid:
        due = odue  # a filtered deck's due is a queue order; the home due is kept in odue
    if ctype == 0 and not revlog:  # the common case (shared decks): a plain new card
        return DraftCard(
            ord=ord_,
            deck=deck,
            suspended=queue == -1,
            buried=queue in (-2, -3),
            flag=flags & 7,
            position=min(due, MAX_POSITION) if due > 0 else 0,
        ), 0
    state = _STATES[ctype] if ctype in (0, 1, 2, 3) else CardState.NEW
    if v1 and state == CardState.REVIEW and queue in (1, 3):
        state = CardState.RELEARNING
    card = DraftCard(
        ord=ord_,
        deck=deck,
        state=state,
        suspended=queue == -1,
        buried=queue in (-2, -3),
        flag=flags & 7,
    )
    if state == CardState.NEW:
        card.position = min(max(due, 0), MAX_POSITION)
    elif state == CardState.REVIEW:
        card.due_ms = _ms((crt + due * DAY_S) * 1000)
    else:
        # (Re)learning: epoch seconds for steps within a day, a day number for interday steps.
        card.due_ms = _ms(due * 1000 if due > _EPOCH_SECONDS_FLOOR else (crt + due * DAY_S) * 1000)
        steps = (
            (config.learn_steps if state == CardState.LEARNING else config.relearn_steps) if config else []
        )
        remaining = left % 1000  # Anki: steps left to graduate (the thousands count today's steps)
        card.step = min(max(len(steps) - remaining, 0), max(len(steps) - 1, 0))

    bad = 0
    last_rated = None
    for rid, _c, ease, ivl, time_ms, rtype in revlog:
        kind = _KINDS.get(rtype)
        if (
            kind is None
            or ease not in (0, 1, 2, 3, 4)
            or type(rid) is not int
            or not 0 < rid <= MAX_MS
            or type(ivl) is not int
            or type(time_ms) is not int
        ):
            bad += 1
            continue
        if ease == 0 and kind in (ReviewKind.LEARN, ReviewKind.REVIEW, ReviewKind.RELEARN):
            kind = ReviewKind.MANUAL  # a row without an answer is a manual change, whatever its type
        elif v1 and kind in (ReviewKind.LEARN, ReviewKind.RELEARN) and ease in (2, 3):
            ease += 1  # three-button Good/Easy are four-button Good/Easy
        if ease:
            last_rated = rid
        card.reviews.append(
            DraftReview(
                id=review_id(rid, f"{rid}:{guid}:{ord_}"),
                time_ms=rid,
                rating=ease,
                kind=kind,
                duration_ms=min(max(int(time_ms), 0), MAX_REVIEW_DURATION_MS),
                interval_s=(-ivl if ivl < 0 else ivl * DAY_S)
                if -MAX_INTERVAL_S <= ivl <= MAX_INTERVAL_DAYS
                else None,
            )
        )

    if state != CardState.NEW:
        memory = _memory(data)
        if memory:
            card.stability, card.difficulty, lrt = memory
            card.last_review_ms = _ms(lrt * 1000) if lrt else last_rated
        else:
            card.last_review_ms = last_rated
    return card, bad


def _memory(data) -> tuple[float, float, int | None] | None:
    """``(stability, difficulty, last review s)`` from ``cards.data`` when Anki's FSRS computed it."""
    if not data or not isinstance(data, str) or data == "{}":
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    s, d, lrt = value.get("s"), value.get("d"), value.get("lrt")
    if (
        not isinstance(s, int | float)
        or not isinstance(d, int | float)
        or not 0 < s < 1e6
        or not 1 <= d <= 10
    ):
        return None  # (NaN and infinities fail these comparisons too)
    return float(s), float(d), int(lrt) if isinstance(lrt, int) and lrt > 0 else None


def fsrs21(params: list[float]) -> list[float] | None:
    """FSRS parameters as the 21 of FSRS-6, or None when they cannot be converted faithfully.

    FSRS-5's 19 become FSRS-6's by adding w19 = 0 (no stability term in same-day reviews) and
    w20 = 0.5 (FSRS-5's fixed forgetting-curve decay). FSRS-4.5's 17 are not converted: its initial
    difficulty formula differs, and the optimiser or the defaults do better than a guess.
    """
    if len(params) == 21:
        return list(params)
    if len(params) == 19:
        return [*params, 0.0, 0.5]
    return None


def _options(
    config: DeckConfig | None, deck_retention: float | None, warnings: list[str], deck: str
) -> dict | None:
    """Deck options in :class:`DeckOptions` keys; values our options refuse are left out (the deck
    keeps our default for them) and named in a warning."""
    if config is None:
        return None
    options: dict = {
        "new_per_day": config.new_per_day,
        "reviews_per_day": config.reviews_per_day,
        "learning_steps": list(config.learn_steps),
        "relearning_steps": list(config.relearn_steps),
        "maximum_interval": config.maximum_interval,
        "bury_siblings": config.bury,
        "leech_threshold": config.leech_threshold,
        "leech_action": None
        if config.leech_suspend is None
        else ("suspend" if config.leech_suspend else "tag"),
        "desired_retention": deck_retention if deck_retention is not None else config.desired_retention,
    }
    options = {k: v for k, v in options.items() if v is not None}
    options["fsrs_parameters"] = fsrs21(config.fsrs_params)
    refused = []
    for key in list(options):
        try:
            DeckOptions.from_dict({key: options[key]}).validated()
        except FlashcardsError:
            refused.append(key)
            if key == "fsrs_parameters":
                options[key] = None
            else:
                del options[key]
    if refused:
        warnings.append(f"deck {deck!r}: option(s) out of range kept at their defaults: {', '.join(refused)}")
    return options
