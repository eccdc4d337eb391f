"""The ``flashcards`` command: the GUI when run bare, and subcommands over the same core.

Contract (users' scripts and the other parts rely on it; extend, never break):

* every subcommand takes ``--data-dir DIR`` (else ``$FLASHCARDS_HOME``, else the platform default);
* bad input -> one line on stderr naming the file (and line), exit status 1, nothing changed;
* usage errors -> exit status 2 (argparse).

Feature modules add subcommands through :data:`EXTENSIONS` (each has ``register(subparsers, parent)``).
"""

from __future__ import annotations

import os

# Kivy parses sys.argv when imported; keep it off our options (must precede any kivy import).
os.environ.setdefault("KIVY_NO_ARGS", "1")

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from flashcards import __version__  # noqa: E402
from flashcards.errors import FlashcardsError  # noqa: E402

EXTENSIONS = ("flashcards.cli_derive", "flashcards.cli_optimize")


def open_collection(args):
    """Open the collection named by ``--data-dir`` / ``$FLASHCARDS_HOME`` / the platform default."""
    from flashcards.collection import Collection

    return Collection.open(getattr(args, "data_dir", None))


def _progress_for(total_hint: str):
    try:
        from flashcards.progress import TerminalProgress
    except ImportError:
        return None
    return TerminalProgress(total_hint)


def cmd_import(args) -> int:
    from flashcards import importing

    col = open_collection(args)
    status = 0
    backed_up = False
    try:
        for path in args.paths:
            try:
                draft = importing.parse(path)
                try:
                    plan = importing.plan(col, draft, args.deck)
                    if not backed_up:
                        col.backup()
                        backed_up = True
                    result = importing.apply(col, plan, progress=_progress_for(f"importing {Path(path).name}"))
                finally:
                    if callable(draft.cleanup):
                        draft.cleanup()
            except FlashcardsError as e:
                print(f"flashcards: {e}", file=sys.stderr)
                status = 1
                continue
            print(result.summary())
    finally:
        col.close()
    return status


def cmd_export(args) -> int:
    from flashcards import exporting

    col = open_collection(args)
    try:
        n = exporting.export(col, args.output, deck=args.deck, scheduling=not args.no_scheduling,
                             progress=_progress_for(f"exporting {Path(args.output).name}"))
    finally:
        col.close()
    print(f"exported {n} notes to {args.output}")
    return 0


def cmd_decks(args) -> int:
    col = open_collection(args)
    try:
        rows = col.deck_tree()
    finally:
        col.close()
    if args.json:
        print(json.dumps([{"name": r.name, "notes": r.notes, "cards": r.cards, "new": r.new,
                           "learning": r.learning, "review": r.review} for r in rows], ensure_ascii=False))
        return 0
    if not rows:
        print("no decks yet: import a file with `flashcards import FILE`")
        return 0
    width = max(len("  " * r.depth + r.short_name) for r in rows)
    print(f"{'deck':<{width}}  {'new':>5} {'learn':>5} {'due':>5}  {'notes':>6} {'cards':>6}")
    for r in rows:
        print(f"{'  ' * r.depth + r.short_name:<{width}}  {r.new:>5} {r.learning:>5} {r.review:>5}  "
              f"{r.notes:>6} {r.cards:>6}")
    return 0


def cmd_stats(args) -> int:
    from flashcards import stats
    from flashcards.timeutil import utc_now

    col = open_collection(args)
    try:
        data = stats.summary(col, utc_now())
    finally:
        col.close()
    if args.json:
        print(json.dumps(data))
    else:
        for k, v in data.items():
            print(f"{k.replace('_', ' ')}: {v}")
    return 0


def cmd_review(args) -> int:
    from flashcards import render
    from flashcards.scheduling import format_interval
    from flashcards.timeutil import utc_now

    col = open_collection(args)
    try:
        rows = col.deck_tree()
        if args.deck:
            deck_id = col.deck_id(args.deck)
        else:
            due = [r for r in rows if r.depth == 0 and (r.new or r.learning or r.review)]
            if not due:
                print("nothing due: well done")
                return 0
            deck_id = due[0].id
        session = col.study(deck_id)
        answered = 0

        def ask(prompt: str) -> str | None:
            try:
                return input(prompt)
            except EOFError:
                return None

        while True:
            card = session.next_card(utc_now())
            if card is None:
                nd = session.next_due(utc_now())
                print(f"finished: {answered} answered." + (f" Next card due {nd:%Y-%m-%d %H:%M} UTC." if nd else ""))
                return 0
            new, lrn, rev = session.counts(utc_now())
            print(f"\n[{card.deck_name}]  new {new} · learning {lrn} · review {rev}")
            print(render.plain_text(card.front))
            shown = utc_now()
            line = ask("(Enter: show answer, u: undo, q: quit) ")
            if line is None or line.strip().lower() == "q":
                print(f"stopped: {answered} answered.")
                return 0
            if line.strip().lower() == "u":
                undone = session.undo() is not None
                answered -= undone  # the loop's only undoable action is an answer
                print("undone." if undone else "nothing to undo.")
                continue
            print("-" * 40)
            print(render.plain_text(card.back))
            ivl = session.intervals(card.card_id, utc_now())
            labels = "  ".join(f"{r} {name} ({format_interval(ivl[r])})"
                               for r, name in ((1, "Again"), (2, "Hard"), (3, "Good"), (4, "Easy")))
            while True:
                line = ask(f"{labels}  u: undo  q: quit > ")
                if line is None or line.strip().lower() == "q":
                    print(f"stopped: {answered} answered.")
                    return 0
                choice = line.strip().lower()
                if choice == "u":
                    undone = session.undo() is not None
                    answered -= undone
                    print("undone." if undone else "nothing to undo.")
                    break
                if choice in ("1", "2", "3", "4"):
                    elapsed = int((utc_now() - shown).total_seconds() * 1000)
                    session.answer(card.card_id, int(choice), utc_now(), elapsed)
                    answered += 1
                    break
                print("answer with 1, 2, 3 or 4 (or u / q)")
    finally:
        col.close()


def cmd_backup(args) -> int:
    col = open_collection(args)
    try:
        path = col.backup()
    finally:
        col.close()
    print(f"backup written: {path}")
    return 0


def cmd_restore(args) -> int:
    from flashcards.backup import restore, restore_unopenable
    from flashcards.paths import resolve_data_dir
    from flashcards.timeutil import utc_now

    try:
        col = open_collection(args)
    except FlashcardsError as e:
        # The collection itself is damaged (or from a newer app): restore at file level, keeping it aside.
        aside = restore_unopenable(resolve_data_dir(args.data_dir), args.file, utc_now())
        print(f"the collection could not be opened ({e});\nrestored {args.file} "
              f"(the unopenable collection was moved to {aside})")
        return 0
    try:
        safety = restore(col, args.file, utc_now())
    finally:
        col.close()
    print(f"restored {args.file} (the previous collection was saved as {safety})")
    return 0


def cmd_check(args) -> int:
    col = open_collection(args)
    try:
        report = col.check()
    finally:
        col.close()
    ok = report["integrity"] == ["ok"] and not report["foreign_key_problems"]
    print(f"database integrity: {', '.join(report['integrity'])}; foreign key problems: "
          f"{report['foreign_key_problems']}; card schedules repaired from the review log: {report['cards_repaired']}")
    return 0 if ok else 1


def cmd_gui(args) -> int:
    import threading

    from flashcards.firststart import load_shipped_decks

    col = open_collection(args)
    try:
        load_shipped_decks(col)
        col.rollover_hour  # noqa: B018 - the settings read once, before a second thread wants them
        from flashcards.ui.app import main as gui_main
    except BaseException:
        col.close()
        raise
    # The day's backup copies the whole database (0.1-0.3 s with 100,000 cards, mostly disk
    # writes): on a thread of its own, with its own connection, once the window is up (or at once
    # when the window closes sooner).
    go = threading.Event()
    backup = threading.Thread(target=_daily_backup_on_this_thread, args=(col, go), name="daily-backup")
    backup.start()
    try:
        return gui_main(col.data_dir, col=col) or 0
    finally:
        go.set()
        backup.join()  # a window closed at once still leaves the day's backup complete


#: Seconds from the start of the ``flashcards`` command to the day's backup (the window's first
#: frames come first: the copy competes for the disk and the second core).
DAILY_BACKUP_DELAY_S = 3.0


def _daily_backup_on_this_thread(col, go) -> None:
    import sqlite3

    from flashcards.backup import daily_backup
    from flashcards.timeutil import utc_now

    go.wait(DAILY_BACKUP_DELAY_S)
    try:
        daily_backup(col, utc_now())
    except (FlashcardsError, OSError, sqlite3.Error) as e:  # the app still opens; say why
        print(f"flashcards: the daily backup failed: {e}", file=sys.stderr)
    finally:
        col.db.close()  # this thread's connection only (peewee keeps one per thread)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands from this module and from :data:`EXTENSIONS`)."""
    data_dir_help = "collection folder (default: $FLASHCARDS_HOME or the platform's user data dir)"
    # Subcommands accept --data-dir too; their copy must not reset a value given before the command.
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--data-dir", metavar="DIR", default=argparse.SUPPRESS, help=data_dir_help)
    top = argparse.ArgumentParser(add_help=False)
    top.add_argument("--data-dir", metavar="DIR", default=None, help=data_dir_help)
    parser = argparse.ArgumentParser(
        prog="flashcards", parents=[top],
        description="Spaced-repetition flashcards (FSRS). Without a command, opens the app.")
    parser.add_argument("--version", action="version", version=f"flashcards {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("import", parents=[parent], help="import decks (.csv .tsv .txt .md .apkg .colpkg)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--deck", help="put every imported note into this deck")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", parents=[parent], help="export to .apkg, .csv, .tsv or .md")
    p.add_argument("-o", "--output", required=True, metavar="FILE")
    p.add_argument("--deck", help="export only this deck (and its subdecks)")
    p.add_argument("--no-scheduling", action="store_true", help="leave out review history and scheduling")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("decks", parents=[parent], help="list decks with cards due now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_decks)

    p = sub.add_parser("stats", parents=[parent], help="collection statistics")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("review", parents=[parent], help="study in the terminal")
    p.add_argument("--deck", help="deck to study (default: the first deck with cards due)")
    p.set_defaults(func=cmd_review)

    p = sub.add_parser("backup", parents=[parent], help="back up the collection to backups/")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", parents=[parent], help="replace the collection with a backup")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("check", parents=[parent], help="check the database and repair card schedules")
    p.set_defaults(func=cmd_check)

    for name in EXTENSIONS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            if e.name != name:
                raise
            continue
        module.register(sub, parent)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``flashcards`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return cmd_gui(args)
        return args.func(args)
    except FlashcardsError as e:
        print(f"flashcards: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("flashcards: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
