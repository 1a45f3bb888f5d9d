#!/usr/bin/env python3
"""Draw the app icons of the iHub addons (256x256 PNG).

    python3 scripts/make_icons.py

writes ``ihub/static/description/icon.png`` (a hub: a central node linked to six satellites),
``ihub_demo_integration/static/description/icon.png`` (a lab flask) and
``ihub_odoo_contacts/static/description/icon.png`` (two people, a two-way arrow). Each icon is
drawn four times larger and scaled down, so that its edges are smooth. Needs Pillow.
"""

import math
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
SIZE = 256
SCALE = 4  # supersampling factor
WHITE = (255, 255, 255, 255)


def _canvas(top, bottom):
    """A transparent canvas holding a rounded square filled with a vertical gradient."""
    size = SIZE * SCALE
    gradient = Image.new("RGBA", (size, size))
    draw = ImageDraw.Draw(gradient)
    for y in range(size):
        t = y / (size - 1)
        color = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)) + (255,)
        draw.line([(0, y), (size, y)], fill=color)
    mask = Image.new("L", (size, size), 0)
    margin = 8 * SCALE
    ImageDraw.Draw(mask).rounded_rectangle(
        [margin, margin, size - margin, size - margin], radius=48 * SCALE, fill=255
    )
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    image.paste(gradient, (0, 0), mask)
    return image


def _circle(draw, center, radius, fill=None, outline=None, width=0):
    x, y = center
    draw.ellipse(
        [x - radius, y - radius, x + radius, y + radius], fill=fill, outline=outline, width=width
    )


def _finish(image, path):
    image = image.resize((SIZE, SIZE), Image.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)
    print(f"wrote {path.relative_to(ROOT)}")


def hub_icon():
    """A central node linked to six satellite nodes, white on teal."""
    image = _canvas((0x1F, 0xA8, 0xA0), (0x11, 0x6E, 0x8A))
    draw = ImageDraw.Draw(image)
    s = SCALE
    center = (128 * s, 128 * s)
    orbit = 72 * s
    satellites = [
        (
            center[0] + orbit * math.cos(math.radians(a)),
            center[1] + orbit * math.sin(math.radians(a)),
        )
        for a in range(-90, 270, 60)
    ]
    # A faint ring linking the satellites, then the spokes.
    _circle(draw, center, orbit, outline=(255, 255, 255, 90), width=5 * s)
    for point in satellites:
        draw.line([center, point], fill=WHITE, width=10 * s)
    for point in satellites:
        _circle(draw, point, 19 * s, fill=WHITE)
        _circle(draw, point, 9 * s, fill=(0x17, 0x8C, 0x95, 255))
    _circle(draw, center, 36 * s, fill=WHITE)
    _circle(draw, center, 22 * s, fill=(0xF5, 0xA6, 0x23, 255))
    return image


def demo_icon():
    """A lab flask with bubbles, white on violet."""
    image = _canvas((0x8E, 0x5B, 0xD6), (0x5B, 0x2F, 0x9E))
    draw = ImageDraw.Draw(image)
    s = SCALE

    def p(x, y):
        return (x * s, y * s)

    neck_left, neck_right, neck_top, neck_bottom = 108, 148, 58, 112
    base_left, base_right, base_y = 58, 198, 204
    flask = [
        p(neck_left, neck_top),
        p(neck_right, neck_top),
        p(neck_right, neck_bottom),
        p(base_right, base_y - 14),
        p(base_right - 6, base_y),
        p(base_left + 6, base_y),
        p(base_left, base_y - 14),
        p(neck_left, neck_bottom),
    ]
    draw.polygon(flask, fill=WHITE)
    # The liquid: the lower part of the flask, in a second colour.
    liquid_y = 150
    t = (liquid_y - neck_bottom) / (base_y - 14 - neck_bottom)
    left_x = neck_left + (base_left - neck_left) * t
    right_x = neck_right + (base_right - neck_right) * t
    inset = 12
    liquid = [
        p(left_x + inset, liquid_y),
        p(right_x - inset, liquid_y),
        p(base_right - inset - 2, base_y - 18),
        p(base_right - inset - 8, base_y - inset),
        p(base_left + inset + 8, base_y - inset),
        p(base_left + inset + 2, base_y - 18),
    ]
    draw.polygon(liquid, fill=(0x2E, 0xC4, 0x8E, 255))
    # The rim of the neck.
    draw.rounded_rectangle(
        [p(neck_left - 12, neck_top - 14), p(neck_right + 12, neck_top + 4)],
        radius=8 * s,
        fill=WHITE,
    )
    # Bubbles rising from the liquid.
    _circle(draw, p(112, 176), 8 * s, fill=WHITE)
    _circle(draw, p(140, 166), 6 * s, fill=WHITE)
    _circle(draw, p(150, 186), 5 * s, fill=WHITE)
    _circle(draw, p(176, 70), 9 * s, outline=WHITE, width=4 * s)
    _circle(draw, p(190, 44), 6 * s, outline=WHITE, width=3 * s)
    return image


def contacts_icon():
    """Two people and a two-way arrow, white on blue: contacts kept in step between two Odoos."""
    image = _canvas((0x3A, 0x8D, 0xDE), (0x1D, 0x4F, 0x9C))
    draw = ImageDraw.Draw(image)
    s = SCALE

    def person(cx, top, scale):
        _circle(draw, (cx * s, (top + 22 * scale) * s), 22 * scale * s, fill=WHITE)
        draw.rounded_rectangle(
            [
                ((cx - 38 * scale) * s, (top + 50 * scale) * s),
                ((cx + 38 * scale) * s, (top + 110 * scale) * s),
            ],
            radius=30 * scale * s,
            fill=WHITE,
        )

    person(88, 54, 1.0)
    person(170, 70, 0.8)
    # The arrows below: one each way.
    y1, y2 = 190, 214
    draw.line([(60 * s, y1 * s), (196 * s, y1 * s)], fill=WHITE, width=8 * s)
    draw.polygon(
        [(196 * s, (y1 - 12) * s), (214 * s, y1 * s), (196 * s, (y1 + 12) * s)], fill=WHITE
    )
    draw.line([(60 * s, y2 * s), (196 * s, y2 * s)], fill=(255, 255, 255, 170), width=8 * s)
    draw.polygon(
        [(60 * s, (y2 - 12) * s), (42 * s, y2 * s), (60 * s, (y2 + 12) * s)],
        fill=(255, 255, 255, 170),
    )
    return image


def main():
    _finish(hub_icon(), ROOT / "ihub" / "static" / "description" / "icon.png")
    _finish(demo_icon(), ROOT / "ihub_demo_integration" / "static" / "description" / "icon.png")
    _finish(contacts_icon(), ROOT / "ihub_odoo_contacts" / "static" / "description" / "icon.png")


if __name__ == "__main__":
    main()
