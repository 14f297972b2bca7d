"""A contact sheet: many figures on one PNG, each captioned with its problem id and what became of it,
so a build can be judged at a glance."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from .records import write_atomic


@dataclass(frozen=True)
class SheetItem:
    """One tile: the figure (a PNG file), and its two caption lines."""

    png_path: str
    title: str
    note: str = ""


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        from matplotlib import font_manager

        return ImageFont.truetype(font_manager.findfont("DejaVu Sans"), size)
    except (ImportError, OSError):
        return ImageFont.load_default()


def _fit(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int) -> str:
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def contact_sheet(
    items: Sequence[SheetItem], out: str | Path, columns: int = 4, tile: int = 320, max_items: int = 48
) -> tuple[Path, int]:
    """Write the first ``max_items`` figures as a grid of ``tile``-pixel thumbnails with their captions.

    A figure that cannot be read gets a tile saying so instead of stopping the sheet. Returns the
    path and the number of tiles.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> Image.new("RGB", (200, 100), "white").save(folder / "a.png")
    >>> path, n = contact_sheet([SheetItem(str(folder / "a.png"), "p-1", "exported")], folder / "sheet.png")
    >>> with Image.open(path) as sheet: n, sheet.size
    (1, (320, 364))
    """
    if columns < 1 or tile < 64:
        raise ValueError(f"contact_sheet: columns must be >= 1 and tile >= 64, got {columns}, {tile}")
    shown = list(items)[:max_items]
    font, small = _font(15), _font(13)
    caption = 44
    rows = max(1, -(-len(shown) // columns))
    sheet = Image.new("RGB", (min(columns, max(1, len(shown))) * tile, rows * (tile + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, item in enumerate(shown):
        x, y = (i % columns) * tile, (i // columns) * (tile + caption)
        try:
            with Image.open(item.png_path) as image:
                image = image.convert("RGB")
                image.thumbnail((tile - 12, tile - 12))
                sheet.paste(image, (x + (tile - image.width) // 2, y + (tile - image.height) // 2))
        except (OSError, ValueError) as e:
            draw.text(
                (x + 10, y + tile // 2), _fit(f"unreadable: {e}", small, tile - 20), fill="red", font=small
            )
        draw.rectangle((x + 2, y + 2, x + tile - 3, y + tile + caption - 3), outline=(200, 200, 200))
        draw.text((x + 8, y + tile), _fit(item.title, font, tile - 16), fill="black", font=font)
        colour = (0, 110, 0) if item.note == "exported" else (170, 60, 0)
        draw.text((x + 8, y + tile + 20), _fit(item.note, small, tile - 16), fill=colour, font=small)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG", optimize=False)
    return write_atomic(Path(out), buffer.getvalue()), len(shown)
