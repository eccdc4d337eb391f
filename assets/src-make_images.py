"""Regenerate the app icon and the Android presplash (not shipped: ``src-*`` is excluded from packages).

Run from the repository root with Pillow available (``pip install pillow==12.0.0``, not a project
dependency: the PNGs are committed)::

    python assets/src-make_images.py

Writes ``assets/icon.png`` (512x512, legacy launcher icon), ``assets/icon_fg.png`` and ``assets/icon_bg.png``
(432x432, Android 8+ adaptive icon layers: the launcher masks them, so the cards stay inside the central
66% safe zone) and ``assets/presplash.png`` (shown by python-for-android while Python starts, centred on
``android.presplash_color``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ASSETS = Path(__file__).resolve().parent
SCALE = 4  # draw at 4x and downsample: Pillow's shapes are not anti-aliased

TEAL_DARK = (17, 94, 89)
TEAL = (15, 118, 110)
MINT = (153, 246, 228)
WHITE = (255, 255, 255)
INK = (19, 78, 74)
AMBER = (245, 158, 11)
PRESPLASH_BG = TEAL_DARK  # keep equal to android.presplash_color in buildozer.spec (#115E59)


def _gradient(size: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    img = Image.new("RGB", (size, size))
    draw = ImageDraw.Draw(img)
    for y in range(size):
        t = y / (size - 1)
        color = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True))
        draw.line([(0, y), (size, y)], fill=color)
    return img


def _card_layer(size: int, w: int, h: int, fill, angle: float, lines: bool) -> Image.Image:
    """One card (rounded rectangle), rotated by ``angle`` degrees around the canvas centre."""
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    x0, y0 = (size - w) // 2, (size - h) // 2
    radius = w // 9
    draw.rounded_rectangle([x0, y0, x0 + w, y0 + h], radius=radius, fill=fill)
    if lines:
        # A stylised card: question bar, the dividing rule, two answer bars.
        pad = w // 7
        bar = h // 11
        draw.rounded_rectangle(
            [x0 + pad, y0 + h * 0.18, x0 + w * 0.62, y0 + h * 0.18 + bar], radius=bar // 2, fill=INK
        )
        rule_y = y0 + h * 0.47
        draw.rounded_rectangle(
            [x0 + pad, rule_y, x0 + w - pad, rule_y + bar * 0.35], radius=bar // 4, fill=MINT
        )
        for i, right in enumerate((0.80, 0.55)):
            top = y0 + h * (0.62 + i * 0.17)
            draw.rounded_rectangle(
                [x0 + pad, top, x0 + w * right, top + bar * 0.8], radius=bar // 2, fill=TEAL
            )
    return layer.rotate(angle, resample=Image.Resampling.BICUBIC, center=(size / 2, size / 2))


def _shadow(layer: Image.Image, offset: int, blur: int) -> Image.Image:
    alpha = layer.getchannel("A")
    shadow = Image.new("RGBA", layer.size, (0, 0, 0, 0))
    shadow.putalpha(alpha.point(lambda a: a * 0.35))
    shadow = shadow.transform(
        layer.size, Image.Transform.AFFINE, (1, 0, 0, 0, 1, -offset), resample=Image.Resampling.BILINEAR
    )
    return shadow.filter(ImageFilter.GaussianBlur(blur))


def _check_badge(size: int, cx: float, cy: float, r: float) -> Image.Image:
    layer = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=AMBER)
    width = max(1, round(r * 0.28))
    pts = [(cx - r * 0.45, cy + r * 0.02), (cx - r * 0.1, cy + r * 0.38), (cx + r * 0.5, cy - r * 0.35)]
    draw.line(pts, fill=WHITE, width=width, joint="curve")
    for x, y in (pts[0], pts[-1]):
        draw.ellipse([x - width / 2, y - width / 2, x + width / 2, y + width / 2], fill=WHITE)
    return layer


def _cards(size: int, unit: float) -> Image.Image:
    """The two stacked cards and the badge on a transparent canvas; ``unit`` = card width."""
    w, h = round(unit), round(unit * 0.72)
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    back = _card_layer(size, w, h, MINT, 9, lines=False)
    back = back.transform(back.size, Image.Transform.AFFINE, (1, 0, -unit * 0.04, 0, 1, unit * 0.10))
    front = _card_layer(size, w, h, WHITE, -4, lines=True)
    front = front.transform(front.size, Image.Transform.AFFINE, (1, 0, unit * 0.03, 0, 1, -unit * 0.05))
    for layer in (back, front):
        canvas.alpha_composite(_shadow(layer, round(unit * 0.025), round(unit * 0.02)))
        canvas.alpha_composite(layer)
    centre = size / 2
    canvas.alpha_composite(_check_badge(size, centre + unit * 0.40, centre + unit * 0.30, unit * 0.16))
    return canvas


def make_icon(px: int = 512) -> Image.Image:
    size = px * SCALE
    bg = _gradient(size, TEAL, TEAL_DARK).convert("RGBA")
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, size - 1, size - 1], radius=size // 5, fill=255)
    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    icon.paste(bg, (0, 0), mask)
    icon.alpha_composite(_cards(size, size * 0.62))
    return icon.resize((px, px), Image.Resampling.LANCZOS)


def make_adaptive(px: int = 432) -> tuple[Image.Image, Image.Image]:
    size = px * SCALE
    fg = _cards(size, size * 0.40)  # inside the 66% safe zone after the launcher's mask
    bg = _gradient(size, TEAL, TEAL_DARK).convert("RGBA")
    return fg.resize((px, px), Image.Resampling.LANCZOS), bg.resize((px, px), Image.Resampling.LANCZOS)


def make_presplash(px: int = 800, font_path: str | None = None) -> Image.Image:
    size = px * SCALE
    img = Image.new("RGBA", (size, size), PRESPLASH_BG + (255,))
    cards = _cards(size, size * 0.42)
    img.alpha_composite(cards.transform(cards.size, Image.Transform.AFFINE, (1, 0, 0, 0, 1, size * 0.08)))
    if font_path:
        font = ImageFont.truetype(font_path, round(size * 0.085))
        draw = ImageDraw.Draw(img)
        draw.text((size / 2, size * 0.80), "Flashcards", font=font, fill=WHITE, anchor="mm")
    return img.resize((px, px), Image.Resampling.LANCZOS)


def _font() -> str | None:
    # Kivy ships Roboto; use it when Kivy is importable in this interpreter or in the project venv.
    candidates = list((ASSETS.parent / ".venv").glob("lib/python3*/site-packages/kivy/data/fonts/Roboto-Bold.ttf"))
    try:
        import kivy  # noqa: F401  (only to find its data folder)

        candidates.insert(0, Path(kivy.kivy_data_dir) / "fonts" / "Roboto-Bold.ttf")
    except ImportError:
        pass
    return next((str(p) for p in candidates if p.is_file()), None)


def main() -> int:
    make_icon().save(ASSETS / "icon.png", optimize=True)
    fg, bg = make_adaptive()
    fg.save(ASSETS / "icon_fg.png", optimize=True)
    bg.convert("RGB").save(ASSETS / "icon_bg.png", optimize=True)
    font = _font()
    if font is None:
        print("Roboto-Bold.ttf not found: presplash drawn without its title", file=sys.stderr)
    make_presplash(font_path=font).convert("RGB").save(ASSETS / "presplash.png", optimize=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
