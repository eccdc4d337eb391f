"""Work the window does per frame: labels drawn again get new textures (no stall in Mesa)."""

from __future__ import annotations

from seed import spanish


def test_a_label_drawn_again_at_the_same_size_gets_a_new_texture(make_app):
    from kivy.core.text import Label as CoreLabel

    make_app(spanish)  # the app installs it when it builds
    label = CoreLabel(text="12", font_size=20, font_name="FCSans")
    label.refresh()
    before = label.texture
    label.text = "13"  # the same size in Noto Sans (tabular digits): Kivy alone refills it in place
    label.refresh()
    assert tuple(label.texture.size) == tuple(before.size)
    assert label.texture is not before
