"""Images from the media folder, sounds (silently skipped without audio), the remembered window size."""

from __future__ import annotations

import base64

from conftest import press, pump, type_char
from seed import NOW

# A 2x2 red PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAYAAABytg0kAAAAFklEQVR4nGP8z8DwnwEJMDGgAQYGBgAq9gIDXkYxHwAAAABJRU5ErkJggg==")


def media_deck(col):
    (col.media_dir / "dot.png").write_bytes(PNG)
    (col.media_dir / "hello.mp3").write_bytes(b"not really an mp3")
    did = col.add_deck("Media")
    col.add_note("Basic", ['Look: <img src="dot.png"> and <img src="missing.png">', "heard [sound:hello.mp3]"],
                 [], deck_id=did, now=NOW)
    return did


def test_images_show_from_the_media_folder_and_sounds_never_crash(make_app):
    from kivy.uix.image import Image

    app = make_app(media_deck)
    type_char("s")
    study = app.root.get_screen("study")
    content = study.ids.card_view.ids.content
    images = [w for w in content.children if isinstance(w, Image)]
    assert len(images) == 1 and images[0].source.endswith("dot.png")
    assert any("missing image: missing.png" in getattr(w, "text", "") for w in content.children)
    press(32, " ", text=" ")
    labels = [w.text for w in content.children if hasattr(w, "markup")]
    assert any("[ref=sound:0]" in t for t in labels)  # a tappable speaker where [sound:] was
    type_char("r")  # replay: an undecodable file / no audio device is skipped, not an error
    study.play_one(0)
    pump(3)
    type_char("3")
    assert study.finished or study.card is not None


def test_window_size_is_remembered(make_app):
    from kivy.core.window import Window

    app = make_app()
    Window.size = (1024, 700)
    pump(3)
    app._store_window_size()
    assert app.col.get_setting("window_size") == [int(Window.system_size[0]), int(Window.system_size[1])]
    Window.size = (1280, 800)
    pump(3)


def test_configure_kivy_uses_the_remembered_size_rounded_for_screenshots(monkeypatch):
    from kivy.config import Config

    from flashcards.ui.app import configure_kivy

    old = Config.get("graphics", "width"), Config.get("graphics", "height")
    monkeypatch.delenv("KCFG_GRAPHICS_WIDTH", raising=False)
    try:
        configure_kivy((1003, 700))
        assert (Config.get("graphics", "width"), Config.get("graphics", "height")) == ("1000", "700")
        assert Config.get("kivy", "exit_on_escape") == "0"
    finally:
        Config.set("graphics", "width", old[0])
        Config.set("graphics", "height", old[1])
