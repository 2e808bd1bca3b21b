"""Draw the ESDDNS brand images into custom_components/esddns/brand/.

Everything is drawn from shapes with Pillow (the wordmark uses Pillow's built-in default font),
at 4x the target size and downsampled with LANCZOS. No fetched assets; the output is
deterministic, so re-running it on an unchanged script leaves the PNGs unchanged.

    .venv/bin/python scripts/make-brand.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parent.parent / "custom_components" / "esddns" / "brand"
SUPERSAMPLE = 4

BLUE_TOP = (59, 130, 246)
BLUE_BOTTOM = (29, 78, 216)
TEAL = (20, 184, 166)
NAVY = (15, 36, 84)
WHITE = (255, 255, 255)
LIGHT_TEXT = (241, 245, 249)
LIGHT_BLUE = (96, 165, 250)

Point = tuple[float, float]
RGB = tuple[int, int, int]

# The icon is designed on a 256-unit grid.
APEX: Point = (128, 98)
SOURCES: tuple[Point, ...] = ((30, 36), (128, 17), (226, 36))
HOUSE: tuple[Point, ...] = (
    (128, 98),
    (236, 176),
    (206, 176),
    (206, 244),
    (50, 244),
    (50, 176),
    (20, 176),
)


def _rgba(color: RGB, alpha: int = 255) -> tuple[int, int, int, int]:
    return (*color, alpha)


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB) -> Image.Image:
    """A vertical gradient, top colour to bottom colour."""
    column = Image.new("RGBA", (1, size[1]))
    for y in range(size[1]):
        t = y / max(size[1] - 1, 1)
        r, g, b = (round(a + (z - a) * t) for a, z in zip(top, bottom, strict=True))
        column.putpixel((0, y), (r, g, b, 255))
    return column.resize(size)


def _rounded_polygon(
    draw: ImageDraw.ImageDraw, points: list[Point], radius: float, fill: int
) -> None:
    """Fill the polygon grown outwards by `radius`, so its outer corners come out rounded."""
    draw.polygon(points, fill=fill)
    draw.line([*points, points[0]], fill=fill, width=round(2 * radius), joint="curve")
    for x, y in points:
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def _beam(draw: ImageDraw.ImageDraw, start: Point, end: Point, width: float, color: RGB) -> None:
    """A straight line with round caps."""
    draw.line([start, end], fill=_rgba(color), width=round(width))
    r = width / 2
    for x, y in (start, end):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(color))


def _dot(draw: ImageDraw.ImageDraw, center: Point, radius: float, color: RGB) -> None:
    x, y = center
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=_rgba(color))


def _mark(canvas: int) -> Image.Image:
    """The mark, drawn at `canvas` pixels square (before any downsampling).

    Three independent sources converge on the home, which holds a DNS record. It reads on light
    and dark backgrounds alike, so there is no dark_icon.png.
    """
    k = canvas / 256

    def p(point: Point) -> Point:
        return (point[0] * k, point[1] * k)

    image = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    # Sources and the beams that meet at the roof's apex (the consensus).
    for source in SOURCES:
        _beam(draw, p(source), p(APEX), 11 * k, TEAL)
    for source in SOURCES:
        _dot(draw, p(source), 15 * k, TEAL)
        _dot(draw, p(source), 6.5 * k, WHITE)

    # The house, with a blue gradient, and a thin transparent gap separating it from the beams.
    house = [p(point) for point in HOUSE]
    gap = Image.new("L", image.size, 0)
    _rounded_polygon(ImageDraw.Draw(gap), house, 16 * k, 255)
    image.paste((0, 0, 0, 0), (0, 0), gap)
    mask = Image.new("L", image.size, 0)
    _rounded_polygon(ImageDraw.Draw(mask), house, 9 * k, 255)
    image.paste(_gradient(image.size, BLUE_TOP, BLUE_BOTTOM), (0, 0), mask)

    # The agreed address: a node at the apex.
    _dot(draw, p(APEX), 17 * k, WHITE)
    _dot(draw, p(APEX), 10 * k, TEAL)

    # The DNS record: a card with two rows (type badge + value).
    draw.rounded_rectangle((p((74, 160)), p((182, 226))), radius=10 * k, fill=_rgba(WHITE))
    for y, length in ((181, 46), (205, 32)):
        draw.rounded_rectangle((p((88, y - 6)), p((106, y + 6))), radius=6 * k, fill=_rgba(TEAL))
        draw.rounded_rectangle(
            (p((114, y - 6)), p((114 + length, y + 6))), radius=6 * k, fill=_rgba(NAVY)
        )

    return image


def draw_icon(size: int) -> Image.Image:
    """The square icon, `size` pixels wide."""
    return _mark(size * SUPERSAMPLE).resize((size, size), Image.Resampling.LANCZOS)


def draw_logo(height: int, text: RGB, accent: RGB) -> Image.Image:
    """The mark followed by the ESDDNS wordmark (Pillow's built-in font, emboldened by a stroke)."""
    canvas_h = height * SUPERSAMPLE
    mark = _mark(canvas_h)
    font = ImageFont.load_default(size=round(canvas_h * 0.42))
    stroke = round(canvas_h * 0.012)
    word, accented = "ESDDNS", "DDNS"
    gap = round(canvas_h * 0.10)
    left, top, right, bottom = font.getbbox(word, stroke_width=stroke)
    width = canvas_h + gap + round(right - left)
    image = Image.new("RGBA", (width, canvas_h), (0, 0, 0, 0))
    image.alpha_composite(mark)
    draw = ImageDraw.Draw(image)
    # Centre the capitals vertically on the mark; colour the "DDNS" part with the accent.
    x = canvas_h + gap - left
    y = (canvas_h - (bottom - top)) / 2 - top
    plain = word.removesuffix(accented)
    for part, x_part, color in ((plain, x, text), (accented, x + font.getlength(plain), accent)):
        ink = _rgba(color)
        draw.text((x_part, y), part, font=font, fill=ink, stroke_width=stroke, stroke_fill=ink)
    return image.resize((round(width / SUPERSAMPLE), height), Image.Resampling.LANCZOS)


def main() -> None:
    BRAND.mkdir(parents=True, exist_ok=True)
    outputs = {
        "icon.png": draw_icon(256),
        "icon@2x.png": draw_icon(512),
        "logo.png": draw_logo(256, NAVY, BLUE_BOTTOM),
        "dark_logo.png": draw_logo(256, LIGHT_TEXT, LIGHT_BLUE),
    }
    for name, image in outputs.items():
        image.save(BRAND / name, optimize=True)
        print(f"{BRAND / name}: {image.size[0]}x{image.size[1]}")


if __name__ == "__main__":
    main()
