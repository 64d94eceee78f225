"""Product pictures for the demo: a card per product drawn with Pillow.

The demo ships no photographs; a coloured card with the product's brand and
name makes the storefront and its screenshots readable. The colour follows
the category, so related products look related. Deterministic: the same
product always gets the same bytes.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import textwrap

from PIL import Image, ImageDraw, ImageFont

SIZE = (480, 480)


def _palette(key: str) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    digest = hashlib.sha256(key.encode()).digest()
    hue = digest[0] / 255
    # A soft background and a darker ink of the same hue.
    background = colorsys.hls_to_rgb(hue, 0.86, 0.45)
    ink = colorsys.hls_to_rgb(hue, 0.25, 0.55)
    return tuple(int(c * 255) for c in background), tuple(int(c * 255) for c in ink)


def product_card(*, title: str, brand: str, category: str) -> bytes:
    """A JPEG card showing the product's brand, title and category."""
    background, ink = _palette(category)
    image = Image.new("RGB", SIZE, background)
    draw = ImageDraw.Draw(image)
    brand_font = ImageFont.load_default(size=26)
    title_font = ImageFont.load_default(size=36)
    small_font = ImageFont.load_default(size=20)
    draw.rounded_rectangle((24, 24, SIZE[0] - 24, SIZE[1] - 24), radius=28, outline=ink, width=4)
    draw.text((48, 56), brand.upper(), fill=ink, font=brand_font)
    y = 130
    for line in textwrap.wrap(title, width=18)[:5]:
        draw.text((48, y), line, fill=ink, font=title_font)
        y += 48
    draw.text((48, SIZE[1] - 84), category, fill=ink, font=small_font)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=82)
    return buffer.getvalue()
