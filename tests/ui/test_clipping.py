"""Scroll views clip with a scissor at their place in the window, wherever their ancestors move
them; the import screen takes the file chooser out of the window while it writes."""

from __future__ import annotations

from conftest import pixels, pump, pump_for, screenshot, tap, wait_until
from seed import spanish


def _near(a, b):
    return all(abs(x - y) <= 2 for x, y in zip(a, b, strict=True))


RED, GREEN = (255, 0, 0), (0, 255, 0)


def _painted(rgb, **kw):
    from kivy.graphics import Color, Rectangle
    from kivy.uix.widget import Widget

    w = Widget(**kw)
    with w.canvas:
        Color(rgb[0] / 255, rgb[1] / 255, rgb[2] / 255, 1)
        rect = Rectangle(pos=w.pos, size=w.size)
    w.bind(pos=lambda *_: setattr(rect, "pos", w.pos), size=lambda *_: setattr(rect, "size", w.size))
    return w


def test_a_clipped_view_follows_a_moving_relative_layout_and_nests_in_another(make_app):
    from kivy.core.window import Window
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.relativelayout import RelativeLayout

    from flashcards.ui.widgets import ClippedScrollView

    make_app(spanish)
    stage = FloatLayout(size=Window.size)
    box = RelativeLayout(size_hint=(None, None), size=(400, 400), pos=(100, 100))
    view = ClippedScrollView(size_hint=(None, None), size=(200, 100), pos=(50, 50), do_scroll_x=False)
    # Red content three times taller than the view: what is outside the view must not show.
    view.add_widget(_painted(RED, size_hint=(None, None), size=(200, 300)))
    box.add_widget(view)
    stage.add_widget(box)
    Window.add_widget(stage)  # on top of the app
    try:
        pump(3)
        assert view.clip_box == [150, 150, 200, 100]  # the layout's place plus the view's
        inside, above, below = pixels([(250, 200), (250, 260), (250, 140)])
        assert _near(inside, RED), inside
        assert not _near(above, RED) and not _near(below, RED), (above, below)

        box.pos = (300, 20)  # the layout moves: the view's own pos (in the layout) does not
        pump(3)
        assert view.clip_box == [350, 70, 200, 100]
        inside, old_place, above = pixels([(450, 120), (250, 200), (450, 180)])
        assert _near(inside, RED) and not _near(old_place, RED) and not _near(above, RED)

        # Into an outer clipped view, half of it outside that one: Kivy cuts the inner scissor to
        # the outer one, as stencils nested did.
        box.remove_widget(view)
        outer = ClippedScrollView(size_hint=(None, None), size=(100, 400), pos=(600, 100), do_scroll_y=False)
        holder = RelativeLayout(size_hint=(None, None), size=(300, 400))
        holder.add_widget(view)
        view.pos = (0, 200)
        outer.add_widget(holder)
        stage.add_widget(outer)
        pump(3)
        assert view.clip_box == [600, 300, 200, 100]  # moved to its new parent
        in_both, outside_outer = pixels([(650, 350), (750, 350)])
        assert _near(in_both, RED), in_both
        assert not _near(outside_outer, RED), outside_outer
    finally:
        Window.remove_widget(stage)
        pump(2)


def _tsv(tmp_path, n):
    path = tmp_path / "words.tsv"
    with path.open("w", encoding="utf-8") as f:
        f.write("#separator:tab\n#deck:Words\n")
        for i in range(n):
            f.write(f"слово {i}\tword {i}\n")
    return path


def test_the_chooser_leaves_the_window_while_an_import_writes_and_comes_back(make_app, tmp_path):
    app = make_app(spanish)
    app.show("import")
    screen = app.root.get_screen("import")
    column, chooser = screen.ids.chooser_column, screen.ids.chooser
    panel = column.parent
    wait_until(lambda: chooser.path and not chooser.listing)
    screen.choose(str(_tsv(tmp_path, 30000)))  # long enough to see it write
    wait_until(lambda: screen.stage in ("planned", "error"), timeout=60)
    assert screen.stage == "planned", screen.error_text
    assert chooser.get_root_window() is not None  # shown while the plan is read

    writing = []
    screen.bind(progress=lambda *_: writing.append((column.parent, screen.ids.progress_bar.width)))
    screen.start_import()
    pump(3)
    assert screen.stage == "importing"
    assert column.parent is None and chooser.get_root_window() is None
    bar = screen.ids.progress_bar
    assert abs(bar.center_x - panel.center_x) < 2 and bar.width < panel.width * 0.6  # alone, centred
    screenshot("33-import-writing")
    wait_until(lambda: screen.stage in ("done", "error"), timeout=60)
    assert screen.stage == "done", screen.error_text
    assert writing and all(parent is None for parent, _ in writing)
    pump(3)
    assert column.parent is None  # the result stands alone too
    button = screen.ids.import_button
    assert button.text == "Import another file" and not button.disabled
    screenshot("34-import-result")
    tap(button)  # the file list comes back, left of the plan, for the next file
    assert screen.stage == "choose" and column.parent is panel and chooser.get_root_window() is not None
    assert len(panel.children) == 2 and column.right <= screen.ids.progress_bar.x
    assert button.text == "Import" and button.disabled


def test_the_scroll_bar_does_not_redraw_the_window_while_it_fades(make_app):
    from kivy.core.window import Window

    from flashcards.ui.widgets import ClippedScrollView

    app = make_app(spanish)
    app.show("settings")
    screen = app.root.get_screen("settings")
    view = next(w for w in screen.walk() if isinstance(w, ClippedScrollView))
    pump_for(1.0)
    assert view.viewport_size[1] > view.height  # a bar to show
    view.scroll_y = 0.5  # Kivy then fades the bar's colour for half a second
    pump(3)
    flips = []

    def flipped(*_):
        flips.append(1)

    Window.bind(on_flip=flipped)
    try:
        pump_for(0.8)
    finally:
        Window.unbind(on_flip=flipped)
    assert len(flips) <= 2, len(flips)  # drawn in a steady colour: nothing to redraw


def test_the_deck_list_clips_its_rows_to_itself(make_app):
    def many_decks(col):
        for i in range(30):
            col.add_deck(f"Deck {i:02d}")

    app = make_app(many_decks)
    rv = app.root.get_screen("decks").ids.rv
    pump(3)
    assert rv.viewport_size[1] > rv.height * 1.5  # more rows than the list shows
    x = rv.to_window(rv.x + rv.width * 0.5, 0)[0]  # right of the names, left of the counts
    top = rv.to_window(0, rv.top)[1]
    (before,) = pixels([(x, top + 3)])  # the column header just above the list
    rv.scroll_y = 0.5  # rows now pass under the header's edge
    pump(4)
    above, inside = pixels([(x, top + 3), (x, top - 30)])
    assert _near(above, before), (above, before)
    assert _near(inside, tuple(round(c * 255) for c in app.c_surface[:3])), inside  # a row
    assert not _near(before, inside)  # the header and a row differ: a row above the edge would show
