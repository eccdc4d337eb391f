"""``flashcards optimize [--deck NAME] [--yes]``: fit FSRS parameters to your own review history.

Shows the current and fitted parameters, how well each predicts your history, and what storing them
changes (due dates that move, average interval); stores them on confirmation (or with ``--yes``), which
reschedules every affected card from its history in one transaction. Needs the ``optimizer`` extra.
"""

from __future__ import annotations

import sys

from flashcards import optimizer

# FSRS-6's 21 parameters, in order (what each one shapes).
PARAMETER_NAMES = (
    "initial stability, Again", "initial stability, Hard", "initial stability, Good",
    "initial stability, Easy", "initial difficulty", "initial difficulty, rating slope",
    "difficulty change per rating", "difficulty mean reversion", "recall stability, scale",
    "recall stability, stability decay", "recall stability, retrievability", "forget stability, scale",
    "forget stability, difficulty", "forget stability, stability", "forget stability, retrievability",
    "Hard penalty", "Easy bonus", "same-day stability, scale", "same-day stability, offset",
    "same-day stability, stability decay", "forgetting curve decay",
)


def register(subparsers, parent) -> None:
    """Add the ``optimize`` subcommand."""
    p = subparsers.add_parser(
        "optimize", parents=[parent],
        help="fit FSRS parameters to your review history (needs the optimizer extra)",
        description="Fit FSRS-6 parameters to the review history of a deck and its subdecks (default: all "
                    f"decks). With fewer than {optimizer.MIN_TRAINING_ITEMS} reviews made a day or more after "
                    "the card's previous review the current parameters are kept.")
    p.add_argument("--deck", metavar="NAME", help="deck to fit (with its subdecks); default: all decks")
    p.add_argument("--yes", "-y", action="store_true", help="store the fitted parameters without asking")
    p.set_defaults(func=cmd_optimize)


def report(plan: optimizer.OptimizationPlan) -> str:
    """The text shown before asking to store: parameters, fit quality and schedule changes."""
    fit = plan.fit
    lines = [f"Scope: {plan.scope} ({len(plan.deck_ids)} deck(s), {fit.n_cards} cards with history, "
             f"{fit.n_reviews} reviews, {fit.n_items} a day or more after the card's previous review)."]
    if not fit.fitted:
        lines.append(fit.message[0].upper() + fit.message[1:] + ".")
        return "\n".join(lines)
    lines.append(fit.message[0].upper() + fit.message[1:] + ".")
    if plan.differing_decks:
        lines.append(f"Note: {plan.differing_decks} deck(s) in scope use other parameters than the ones "
                     "shown as current; all get the fitted ones.")
    lines.append("")
    lines.append(f"{'':4}{'parameter':36}{'current':>10}{'fitted':>10}")
    for i, (name, old, new) in enumerate(zip(PARAMETER_NAMES, fit.previous, fit.parameters, strict=True)):
        mark = "" if abs(old - new) < 5e-5 else "  *"
        lines.append(f"w{i:<3}{name:36}{old:>10.4f}{new:>10.4f}{mark}")
    outcome = plan.outcome_lines()
    if outcome:
        lines.append("")
        lines.extend(outcome)
    return "\n".join(lines)


def _confirm(prompt: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(prompt).strip().lower() in ("y", "yes")
    except EOFError:
        return False


def cmd_optimize(args) -> int:
    """Fit, show the report, and store on confirmation."""
    from flashcards.cli import open_collection

    col = open_collection(args)
    try:
        plan = optimizer.plan_optimization(col, args.deck)
        print(report(plan))
        if not plan.fit.fitted:
            return 0
        if not args.yes and not _confirm("Store these parameters and reschedule? [y/N] "):
            print("Not stored." + ("" if sys.stdin.isatty() else " (Use --yes to store without asking.)"))
            return 0
        n = optimizer.apply_optimization(col, plan)
        print(f"Stored; {n} cards rescheduled from their history.")
        return 0
    finally:
        col.close()
