"""Decks: the deck tree with due counts; study, add, rename, delete; entry to the other screens."""

from __future__ import annotations

from kivy.app import App
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp, sp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.widget import Widget

from flashcards.errors import FlashcardsError
from flashcards.ui.widgets import FCLabel, FCScreen, WindowClipBehavior, confirm, prompt

KEY_UP, KEY_DOWN, KEY_ENTER, KEY_NUMPAD_ENTER, KEY_HOME, KEY_END = 273, 274, 13, 271, 278, 279


#: (text, bold, size in px) -> texture of a count, rendered in white and tinted when drawn.
_COUNT_TEXTURES: dict = {}


def count_texture(text: str, bold: bool):
    """The texture of one count as the deck list draws it (rendered once per distinct number)."""
    size = sp(16)
    key = (text, bold, size)
    tex = _COUNT_TEXTURES.get(key)
    if tex is None:
        from kivy.core.text import Label as CoreLabel

        label = CoreLabel(text=text, font_size=size, bold=bold, font_name="FCSans")
        label.refresh()
        tex = _COUNT_TEXTURES[key] = label.texture
    return tex


class DeckCounts(Widget):
    """A deck row's new / learning / due numbers in three 56 dp columns.

    Drawn from shared textures instead of three Labels per row: the same few numbers repeat down
    the list, and each Label cost a text render, a canvas and a dozen bindings on the first frame.
    """

    new = NumericProperty(0)
    learning = NumericProperty(0)
    review = NumericProperty(0)

    def __init__(self, **kw):
        self._cells = []
        super().__init__(**kw)
        with self.canvas:
            for _ in range(3):
                self._cells.append((Color(), Rectangle()))
        self.bind(pos=self._redraw, size=self._redraw, new=self._redraw, learning=self._redraw,
                  review=self._redraw)
        app = App.get_running_app()
        if app is not None:
            for name in ("c_new", "c_learn", "c_review", "c_muted"):  # a theme switch
                app.fbind(name, self._redraw)
        self._redraw()

    def _redraw(self, *_):
        if not self._cells:
            return
        app = App.get_running_app()
        colors = (app.c_new, app.c_learn, app.c_review) if app else ([0, 0, 0, 1],) * 3
        muted = app.c_muted if app else [0.5, 0.5, 0.5, 1]
        step = dp(56) + dp(4)
        for i, (value, (color, rect)) in enumerate(zip((self.new, self.learning, self.review), self._cells, strict=True)):
            value = int(value)
            tex = count_texture(str(value), bool(value))
            color.rgba = colors[i] if value else muted
            w, h = tex.size
            rect.texture = tex
            rect.size = (w, h)
            # y + height / 2, not center_y: that alias may not be updated yet when size fires.
            rect.pos = (int(self.x + i * step + (dp(56) - w) / 2), int(self.y + (self.height - h) / 2))


class DeckListView(WindowClipBehavior, RecycleView):
    """The deck list: a RecycleView clipped by a scissor, not a stencil (WindowClipBehavior). The
    deck list is on the window most of the time; its stencil made each redraw of it the costliest
    of any screen under a software renderer."""


class DeckRowView(RecycleDataViewBehavior, ButtonBehavior, BoxLayout):
    """One deck line: name (indented by depth) and its new / learning / due counts.

    Built in Python rather than by a kv rule, as the first frame creates one per visible deck:
    applying the rule (its canvas and bindings) was about a fifth of the ~2 ms a row took to
    create (the first frame's 8 rows: 16-20 ms -> 13-16 ms). ``children[-1]`` is the name label,
    ``children[0]`` the counts.
    """

    index = NumericProperty(0)
    deck_id = NumericProperty(0)
    name = StringProperty("")
    depth = NumericProperty(0)
    new = NumericProperty(0)
    learning = NumericProperty(0)
    review = NumericProperty(0)
    selected = BooleanProperty(False)

    def __init__(self, **kw):
        self._bg = None
        super().__init__(**kw)
        self.size_hint_y = None
        self.height = dp(56)
        self.spacing = dp(4)
        with self.canvas.before:
            self._bg_color = Color()
            self._bg = Rectangle()
            self._rule_color = Color()
            self._rule = Rectangle()
            # A subdeck's tree connector, drawn rather than typed: the box-drawing character is not
            # in the default font, and looking it up read three font files before the first frame.
            self._tree_color = Color(rgba=(0, 0, 0, 0))
            self._tree = Line(width=dp(1))
        self.label = FCLabel(plain=self.name, font_size="17sp", bold=self.selected, halign="left",
                             valign="middle", shorten=True, shorten_from="right")
        self.label.text_size = self.label.size
        self.label.fbind("size", _set_text_size)
        self.counts = DeckCounts(size_hint_x=None, width=dp(56) * 3 + dp(4) * 2)
        self.add_widget(self.label)
        self.add_widget(self.counts)
        self.fbind("pos", self._draw)
        self.fbind("size", self._draw)
        self.fbind("depth", self._draw_depth)
        self.fbind("selected", self._draw_selected)
        self.fbind("name", _pass_to, self.label, "plain")
        for name in ("new", "learning", "review"):
            self.fbind(name, _pass_to, self.counts, name)
        app = App.get_running_app()
        if app is not None:
            for name in ("c_select", "c_surface", "c_border", "c_muted"):  # a theme switch
                app.fbind(name, self._draw_colors)
        self._draw_depth()
        self._draw_colors()

    def _draw_colors(self, *_):
        app = App.get_running_app()
        if app is None:
            return
        self._bg_color.rgba = app.c_select if self.selected else app.c_surface
        self._rule_color.rgba = app.c_border
        self._tree_color.rgba = app.c_muted if self.depth else (0, 0, 0, 0)

    def _draw_selected(self, _inst, selected):
        self.label.bold = selected
        self._draw_colors()

    def _draw_depth(self, *_):
        self.padding = (dp(12) + dp(22) * self.depth, 0, dp(8), 0)
        self._draw_colors()
        self._draw()

    def _draw(self, *_):
        if self._bg is None:
            return
        x, y = self.pos
        w, h = self.size
        self._bg.pos = (x, y)
        self._bg.size = (w, h)
        self._rule.pos = (x, y)
        self._rule.size = (w, dp(1))
        if self.depth:
            cx = x + dp(22) * self.depth
            mid = y + h / 2
            self._tree.points = (cx - dp(4), y + h - dp(16), cx - dp(4), mid, cx + dp(6), mid)
        else:
            self._tree.points = ()

    def refresh_view_attrs(self, rv, index, data):
        self.index = index
        return super().refresh_view_attrs(rv, index, data)

    def on_release(self):
        screen = self.parent.recycleview.screen if self.parent else None
        if screen is None:
            return
        if screen.selected_index == self.index:
            screen.study_selected()
        else:
            screen.select(self.index)


def _set_text_size(label, size):
    label.text_size = size


def _pass_to(target, attr, _inst, value):
    setattr(target, attr, value)


class DecksScreen(FCScreen):
    selected_index = NumericProperty(-1)
    empty = BooleanProperty(False)
    total_due = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self.rows = []

    def top_actions(self):
        return [("Add deck", self.add_deck), ("Import", lambda: self.app.show("import")),
                ("Browse", lambda: self.app.show("browse")), ("Stats", lambda: self.app.show("stats")),
                ("Settings", lambda: self.app.show("settings", deck_id=self.selected_deck_id()))]

    def enter(self, back: bool = False, **kwargs) -> None:
        self.refresh(keep_selection=back)

    def refresh(self, keep_selection: bool = True) -> None:
        keep = self.selected_deck_id() if keep_selection else None
        prefetch, self.app.prefetch = self.app.prefetch, None
        rows = prefetch.take() if prefetch is not None else None
        self.rows = rows if rows is not None else self.col.deck_tree(self.app.now())
        self.empty = not self.rows
        index = -1
        if keep is not None:
            index = next((i for i, r in enumerate(self.rows) if r.id == keep), -1)
        if index < 0:
            # The first deck with cards due is selected at start.
            index = next((i for i, r in enumerate(self.rows) if r.new + r.learning + r.review), 0 if self.rows else -1)
        top = [r for r in self.rows if r.depth == 0]
        due = sum(r.new + r.learning + r.review for r in top)
        self.total_due = f"{due} card{'s' if due != 1 else ''} to study today" if self.rows else ""
        self.selected_index = index
        self._fill()

    def _fill(self):
        self.ids.rv.data = [
            {"deck_id": r.id, "name": r.short_name, "depth": r.depth, "new": r.new, "learning": r.learning,
             "review": r.review, "selected": i == self.selected_index}
            for i, r in enumerate(self.rows)]

    def select(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(len(self.rows) - 1, index))
        self.selected_index = index
        for i, d in enumerate(self.ids.rv.data):
            d["selected"] = i == index
        self.ids.rv.refresh_from_data()
        self._scroll_to(index)

    def _scroll_to(self, index: int) -> None:
        rv = self.ids.rv
        n = len(self.rows)
        if n <= 1 or rv.height <= 0:
            return
        row_h = rv.children[0].default_size[1] if rv.children else 56
        content = n * row_h
        if content <= rv.height:
            return
        top_of_row = index * row_h
        view_top = (1 - rv.scroll_y) * (content - rv.height)
        if top_of_row < view_top:
            rv.scroll_y = 1 - top_of_row / (content - rv.height)
        elif top_of_row + row_h > view_top + rv.height:
            rv.scroll_y = max(0.0, 1 - (top_of_row + row_h - rv.height) / (content - rv.height))

    def selected_row(self):
        if 0 <= self.selected_index < len(self.rows):
            return self.rows[self.selected_index]
        return None

    def selected_deck_id(self):
        row = self.selected_row()
        return row.id if row else None

    # ------------------------------------------------------------------ actions

    def study_selected(self) -> None:
        row = self.selected_row()
        if row is not None:
            self.app.show("study", deck_id=row.id)

    def add_deck(self) -> None:
        def create(name):
            try:
                did = self.col.add_deck(name or "")
            except FlashcardsError as e:
                self.error(e, "Cannot add the deck")
                return
            self.refresh(keep_selection=False)
            self.select(next((i for i, r in enumerate(self.rows) if r.id == did), 0))

        prompt("Add deck", "Name (use :: for a subdeck, e.g. Languages::French)", "", create, ok_text="Add")

    def rename_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return

        def rename(name):
            try:
                self.col.rename_deck(row.id, name or "")
            except FlashcardsError as e:
                self.error(e, "Cannot rename the deck")
                return
            self.refresh()

        prompt("Rename deck", "New full name (A::B moves it under A)", row.name, rename, ok_text="Rename")

    def delete_selected(self) -> None:
        row = self.selected_row()
        if row is None:
            return

        def delete():
            try:
                self.col.delete_deck(row.id)
            except FlashcardsError as e:
                self.error(e, "Cannot delete the deck")
                return
            self.refresh(keep_selection=False)

        subs = sum(1 for r in self.rows if r.name.startswith(row.name + "::"))
        extra = f" and its {subs} subdeck{'s' if subs != 1 else ''}" if subs else ""
        confirm("Delete deck?", f"Delete “{row.name}”{extra} with {row.cards} card{'s' if row.cards != 1 else ''}? "
                "The review history is kept.", delete)

    # ------------------------------------------------------------------ keys

    def on_key(self, key, codepoint, modifiers):
        if modifiers & {"ctrl", "alt", "meta"}:
            return False
        if key == KEY_UP:
            self.select(self.selected_index - 1)
            return True
        if key == KEY_DOWN:
            self.select(self.selected_index + 1)
            return True
        if key == KEY_HOME:
            self.select(0)
            return True
        if key == KEY_END:
            self.select(len(self.rows) - 1)
            return True
        if key in (KEY_ENTER, KEY_NUMPAD_ENTER):
            self.study_selected()
            return True
        return False

    def on_text(self, text):
        actions = {"s": self.study_selected, "/": self.study_selected, "b": lambda: self.app.show("browse"),
                   "t": lambda: self.app.show("stats"), "i": lambda: self.app.show("import"),
                   "a": lambda: self.app.show("editor", deck_id=self.selected_deck_id())}
        fn = actions.get(text)
        if fn is None:
            return False
        fn()
        return True
