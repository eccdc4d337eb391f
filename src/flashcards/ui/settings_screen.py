"""Settings: per-deck study options and the global ones (day rollover, theme, font size), and the
deck's personal scheduling: fitting FSRS parameters to its history and the desired-retention advisor.

Fitting and the advisor's simulation take seconds, so they run on a worker thread (its own database
connection) while a busy indicator turns; their results come back to the Kivy thread by the Clock.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from kivy.clock import Clock
from kivy.logger import Logger
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, ObjectProperty, StringProperty

from flashcards import optimizer
from flashcards.errors import FlashcardsError
from flashcards.ui.optimize_panel import parameter_table
from flashcards.ui.widgets import FCButton, FCScreen


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
    #: Personal scheduling: what the deck uses now, what the optimizer/advisor are doing.
    params_text = StringProperty("")
    opt_busy = BooleanProperty(False)
    opt_text = StringProperty("")
    opt_is_error = BooleanProperty(False)
    plan = ObjectProperty(None, allownone=True)
    advice_busy = BooleanProperty(False)
    advice_text = StringProperty("")
    advice = ObjectProperty(None, allownone=True)
    current_retention = NumericProperty(0)
    min_items = NumericProperty(optimizer.MIN_TRAINING_ITEMS)

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
        self.clear_personal()

    def deck_changed(self, name: str) -> None:
        did = getattr(self, "_ids_by_name", {}).get(name)
        if did is not None and did != self.deck_id:
            self.deck_id = did
            self.load_deck()
            self.clear_personal()

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
        self.current_retention = o.desired_retention
        self.params_text = _params_summary(o.fsrs_parameters)

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
        if self.deck_id:
            self.current_retention = self.col.deck_options(self.deck_id).desired_retention

    # ------------------------------------------------------------------ personal scheduling

    def clear_personal(self) -> None:
        """Forget a shown fit or curve (another deck, the screen entered again); a job still running
        for the old deck is ignored when it finishes."""
        self._job = getattr(self, "_job", 0) + 1
        self.min_items = optimizer.MIN_TRAINING_ITEMS
        self.opt_busy = self.advice_busy = False
        self.opt_text = self.advice_text = ""
        self.opt_is_error = False
        self.plan = None
        self.advice = None
        self._show_plan()

    def on_opt_text(self, _inst, text: str) -> None:
        if text:
            self._reveal("opt_text")

    def _deck_name(self) -> str | None:
        return self.col.deck_names().get(self.deck_id) if self.deck_id else None

    def _background(self, work, done, failed) -> None:
        """Run ``work(col)`` on a worker thread; ``done(result)`` or ``failed(message)`` on the Kivy
        thread, unless the screen moved on (another deck) in the meantime."""
        job = self._job
        col = self.col

        def finish(callback, value):
            Clock.schedule_once(lambda _dt: callback(value) if job == self._job else None, 0)

        def run():
            try:
                result = work(col)
            except FlashcardsError as e:  # the user's situation, in words
                finish(failed, str(e))
            except Exception as e:  # noqa: BLE001 - shown, not raised on a thread nobody watches
                Logger.exception("Flashcards: personal scheduling failed")
                finish(failed, f"Something went wrong: {e}")
            else:
                finish(done, result)
            finally:
                col.db.close()  # this thread's connection only

        threading.Thread(target=run, name="settings-fsrs", daemon=True).start()

    def optimize(self) -> None:
        """The "Optimize parameters" button: fit on a worker thread, then show what would change."""
        if self.opt_busy:
            return
        self.plan = None
        self._show_plan()
        if not optimizer.optimizer_available():
            self.opt_text = (f"This device cannot fit parameters — {optimizer.MISSING_MESSAGE}. Optimize the "
                             "deck on the desktop and export it: fitted parameters travel with exported "
                             "packages, and the deck uses them here once imported.")
            self.opt_is_error = True
            return
        deck = self._deck_name()
        if deck is None:
            return
        self.opt_busy = True
        self.opt_is_error = False
        self.opt_text = f"Fitting parameters to the review history of {deck}…"
        self._background(lambda col: optimizer.plan_optimization(col, deck), self._plan_ready, self._opt_failed)

    def _opt_failed(self, text: str) -> None:
        self.opt_busy = False
        self.opt_text = text
        self.opt_is_error = True

    def _plan_ready(self, plan) -> None:
        self.opt_busy = False
        fit = plan.fit
        if not fit.fitted:
            self.opt_is_error = True
            if fit.n_items < fit.min_items:
                self.opt_text = (f"Not enough history to fit yet: {fit.n_items:,} of this deck's reviews came a day "
                                 f"or more after the card's previous review, and fitting needs at least "
                                 f"{fit.min_items:,}. The current parameters stay.")
            else:
                self.opt_text = fit.message[0].upper() + fit.message[1:] + "."
            return
        self.plan = plan
        self.opt_is_error = False
        self.opt_text = plan_summary(plan)
        self._show_plan()

    def _show_plan(self) -> None:
        """Fill the result box: the old/new parameter table and Apply / Cancel (empty without a plan)."""
        box = self.ids.get("opt_result")
        if box is None:
            return
        box.clear_widgets()
        plan = self.plan
        if plan is None:
            return
        box.add_widget(parameter_table(plan.fit.previous, plan.fit.parameters))
        buttons = _button_row()
        cancel = FCButton(text="Cancel", size_hint_x=None, width=dp(120), bg=self.app.c_surface2, fg=self.app.c_text)
        cancel.bind(on_release=lambda *_: self.cancel_plan())
        apply = FCButton(text="Apply", bold=True, size_hint_x=None, width=dp(160), bg=self.app.c_accent,
                         fg=self.app.c_on_accent)
        apply.bind(on_release=lambda *_: self.apply_plan())
        buttons.add_widget(cancel)
        buttons.add_widget(apply)
        box.add_widget(buttons)
        self.apply_button, self.cancel_button = apply, cancel

    def cancel_plan(self) -> None:
        self.plan = None
        self.opt_text = "Not applied: the deck keeps its parameters."
        self.opt_is_error = False
        self._show_plan()

    def apply_plan(self) -> None:
        """Store the fitted parameters; rescheduling every card takes a while on a big deck."""
        plan = self.plan
        if plan is None or self.opt_busy:
            return
        self.opt_busy = True
        self.opt_text = "Storing the parameters and rescheduling the cards…"
        self.plan = None
        self._show_plan()
        now = self.app.now()
        self._background(lambda col: optimizer.apply_optimization(col, plan, now),
                         self._applied, self._opt_failed)

    def _applied(self, n: int) -> None:
        self.opt_busy = False
        self.opt_is_error = False
        self.opt_text = (f"Applied: the deck now uses its own parameters; {n:,} card{'s' if n != 1 else ''} "
                         "rescheduled from their history.")
        self.load_deck()
        self.advice = None

    def advise(self) -> None:
        """The "Retention advisor" button: simulate workload for each desired retention, off the UI thread."""
        if self.advice_busy:
            return
        self.advice = None
        if not optimizer.optimizer_available():
            self.advice_text = ("The retention advisor simulates with the desktop's optimizer ("
                                + optimizer.MISSING_MESSAGE + ").")
            return
        deck = self._deck_name()
        if deck is None:
            return
        self.advice_busy = True
        self.advice_text = "Simulating a year of study for desired retention 0.70 – 0.97…"
        self._background(lambda col: optimizer.deck_retention_advice(col, deck), self._advice_ready,
                         self._advice_failed)

    def _advice_failed(self, text: str) -> None:
        self.advice_busy = False
        self.advice_text = text

    def _advice_ready(self, advice) -> None:
        self.advice_busy = False
        self.advice = advice
        rec = min(advice.points, key=lambda p: abs(p.desired_retention - advice.recommended))
        self.advice_text = (
            f"Recommended desired retention: {advice.recommended:.2f} — about {rec.minutes_per_day:.0f} min "
            f"({rec.reviews_per_day:.0f} reviews) a day and {rec.memorized:,.0f} cards memorized after "
            f"{advice.days} days, for {advice.deck_size:,} cards at {advice.new_per_day} new a day. "
            "Above it, each extra card remembered costs more study time.")
        self._reveal("advice_text")

    def _reveal(self, widget_id: str) -> None:
        # After the next layout pass (new content has no size yet): scroll so the widget's top is at
        # the top of the view, where reading starts (ScrollView.scroll_to would show its bottom edge).
        def scroll(_dt):
            w, sv = self.ids.get(widget_id), self.ids.scroll
            content = sv.children[0] if sv.children else None
            if w is None or content is None or w.height <= 0:
                return
            spare = content.height - sv.height
            if spare <= 0:
                return
            w_top = w.to_window(w.x, w.top)[1]
            sv_top = sv.to_window(sv.x, sv.top)[1]
            sv.scroll_y = min(1.0, max(0.0, sv.scroll_y - (sv_top - w_top - dp(8)) / spare))

        Clock.schedule_once(scroll, 0.05)

    def use_recommended(self) -> None:
        """Put the recommended retention in the field and save it with the rest of the deck's options."""
        if self.advice is None:
            return
        self.ids.retention.text = f"{self.advice.recommended:.2f}"
        self.save()


def _button_row():
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.widget import Widget

    row = BoxLayout(size_hint_y=None, height=dp(48), spacing=dp(8))
    row.add_widget(Widget())
    return row


def _params_summary(parameters) -> str:
    if not parameters:
        return "FSRS-6 defaults (not fitted to this deck's history yet)"
    return "Fitted: " + "  ".join(f"{x:.3g}" for x in parameters)


def plan_summary(plan) -> str:
    """What storing a fit changes, in a few lines (the parameter table shows the values)."""
    fit = plan.fit
    lines = [f"Fitted to {fit.n_reviews:,} reviews of {fit.n_cards:,} cards in {fit.seconds:.2f} s "
             f"({len(plan.deck_ids)} deck{'s' if len(plan.deck_ids) != 1 else ''}: this one and its subdecks)."]
    lines += plan.outcome_lines()  # the CLI's wording too
    if plan.differing_decks:
        lines.append(f"{plan.differing_decks} subdeck(s) use other parameters now; all get the fitted ones.")
    return "\n".join(lines)
