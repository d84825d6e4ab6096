"""Export of review notes: a CSV table, and a PDF with one page per comment showing the annotated still.

The CSV's columns (``CSV_COLUMNS``), one row per comment (replies included):

- ``film``, ``shot``, ``version``: the film's title, the shot's and the version's numbers;
  ``comment`` the comment's id, ``reply_to`` the id of the comment it answers (empty when none).
- ``frame``, ``frame_end``: the shot frames commented on, 0-based, as stored (``frame_end`` empty
  unless the comment spans frames): for machines.
- ``number``, ``number_end``: the same frames as the review page numbers them on screen,
  ``start_number + frame`` (an image sequence's own file numbers, e.g. 86400..., else the film's
  start number + frame); ``number_end`` empty when ``frame_end`` is.
- ``film_frame``: the frame's index in the shot's scan (0-based: ``shot.start_frame + frame``).
- ``timecode``: the timecode the review page shows at ``frame`` (HH:MM:SS:FF non-drop at the
  shot's fps): the scan's own (its DPX header's timecode + frames) where it has one, else the
  film's at the shot's place in it.
- ``author``, ``created_at`` (ISO 8601, seconds), ``resolved`` (yes/no), ``text``, and
  ``drawing_shapes`` (how many shapes the comment's drawing has).

Numbers and timecode come from ``webapp.catalogue.selectors.shot_numbering``, as the review page,
the film page and live sessions show them; the PDF's heading shows the same.

Authors are named as everywhere else: the username, or a live session guest's name marked "(guest)".
The still is the proxy frame of the commented version's media, or of the shot's original scan
when the version has no media; a grey box says so when neither can be read.
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from webapp.catalogue.access import person_label
from webapp.catalogue.models import MediaAsset
from webapp.catalogue.proxies import ProxyError, proxy_frame, proxy_height_for
from webapp.catalogue.selectors import shot_numbering
from webapp.catalogue.timecode import media_frame, rate_ratio, timecode
from webapp.review.models import Comment

CSV_COLUMNS = [
    "film", "shot", "version", "comment", "reply_to", "frame", "frame_end", "number", "number_end", "film_frame",
    "timecode", "author", "created_at", "resolved", "text", "drawing_shapes",
]
# A4 landscape at 100 dpi: big enough for a 480-line proxy and a readable note.
PAGE_SIZE = (1169, 827)
MARGIN = 40
STILL_BOX = (PAGE_SIZE[0] - 2 * MARGIN, 520)
STILL_HEIGHT = 720  # the proxy height asked for (the scan's own height when smaller)
MAX_PDF_PAGES = 500
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEFAULT_COLOUR = "#ff3b30"
DEFAULT_WIDTH = 0.004


def shown(comment: Comment) -> tuple[int, int | None, str]:
    """The comment's frame numbers (first, last or None) and timecode as the review page shows
    them: ``webapp.catalogue.selectors.shot_numbering`` of its shot (``source`` and ``film`` loaded)."""
    shot = comment.version.shot
    numbering = shot_numbering(shot=shot, film_start=shot.film.frame_number_start)
    last = None if comment.frame_end is None else numbering.start_number + comment.frame_end
    return (numbering.start_number + comment.frame, last,
            timecode(numbering.timecode_start + comment.frame, shot.fps))


def comment_rows(comments: Iterable[Comment]) -> Iterable[dict]:
    for comment in comments:
        version, shot = comment.version, comment.version.shot
        number, number_end, shown_timecode = shown(comment)
        yield {
            "film": shot.film.title, "shot": shot.number, "version": version.number, "comment": comment.pk,
            "reply_to": comment.reply_to_id or "", "frame": comment.frame,
            "frame_end": "" if comment.frame_end is None else comment.frame_end,
            "number": number, "number_end": "" if number_end is None else number_end,
            "film_frame": shot.start_frame + comment.frame, "timecode": shown_timecode,
            "author": person_label(comment.author), "created_at": comment.created_at.isoformat(timespec="seconds"),
            "resolved": "yes" if comment.resolved else "no", "text": comment.text,
            "drawing_shapes": len(comment.drawing or []),
        }


# Spreadsheets run a cell starting with one of these as a formula (=HYPERLINK(...), +cmd|...).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell a spreadsheet shows as text (OWASP's CSV injection rule): a string starting like a
    formula gets a leading single quote. Anyone who may comment, a guest too, writes these cells."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def comments_csv(comments: Iterable[Comment]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in comment_rows(comments))
    return out.getvalue()


@cache
def _font(size: int, bold: bool = False):
    path = FONT_DIR / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")
    try:
        return ImageFont.truetype(str(path), size)
    except OSError:  # no DejaVu on this machine: Pillow's own scalable font
        return ImageFont.load_default(size)


def _still(comment: Comment) -> Image.Image | None:
    version, shot = comment.version, comment.version.shot
    # Comments count shot frames; a retimed version's media shows another frame at that time.
    media_index = media_frame(comment.frame, rate_ratio(shot.fps, version.media.fps if version.media else None))
    candidates: list[tuple[MediaAsset | None, int]] = [(version.media, media_index), (shot.source, shot.start_frame + comment.frame)]
    for asset, index in candidates:
        if asset is None:
            continue
        try:
            jpeg = proxy_frame(asset=asset, height=proxy_height_for(asset, STILL_HEIGHT), index=index)
        except (ProxyError, OSError):
            continue
        return Image.open(io.BytesIO(jpeg)).convert("RGB")
    return None


def drawing_render(image: Image.Image, drawing: list[dict] | None) -> Image.Image:
    """Draw the comment's shapes (normalised coordinates) onto ``image`` in place; return it."""
    if not drawing:
        return image
    width, height = image.size
    pen = ImageDraw.Draw(image)

    def at(x: float, y: float) -> tuple[float, float]:
        return x * width, y * height

    for shape in drawing:
        colour = shape.get("colour", DEFAULT_COLOUR)
        stroke = max(1, round(shape.get("width", DEFAULT_WIDTH) * width))
        kind = shape["type"]
        if kind == "freehand":
            pen.line([at(*p) for p in shape["points"]], fill=colour, width=stroke, joint="curve")
        elif kind == "rect":
            x0, y0 = at(shape["x"], shape["y"])
            x1, y1 = at(shape["x"] + shape["w"], shape["y"] + shape["h"])
            pen.rectangle([x0, y0, x1, y1], outline=colour, width=stroke)
        elif kind == "arrow":
            (x0, y0), (x1, y1) = at(*shape["from"]), at(*shape["to"])
            pen.line([(x0, y0), (x1, y1)], fill=colour, width=stroke)
            length = max(1e-6, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            head = max(8.0, stroke * 4.0)
            left = (x1 - head * ux + head * 0.5 * uy, y1 - head * uy - head * 0.5 * ux)
            right = (x1 - head * ux - head * 0.5 * uy, y1 - head * uy + head * 0.5 * ux)
            pen.polygon([(x1, y1), left, right], fill=colour)
        elif kind == "text":
            size = max(12, round(height * 0.04))
            pen.text(at(shape["x"], shape["y"]), shape["text"], fill=colour, font=_font(size, bold=True),
                     stroke_width=2, stroke_fill="#000000")
    return image


def heading(comment: Comment) -> str:
    """The PDF page's heading: film, shot, version, and the frame numbers and timecode as the
    review page shows them (the CSV's ``number``, ``number_end`` and ``timecode``)."""
    version, shot = comment.version, comment.version.shot
    number, number_end, shown_timecode = shown(comment)
    frames = f"frame {number}" if number_end is None else f"frames {number}–{number_end}"
    return f"{shot.film.title} · shot {shot.number} v{version.number} · {frames} · {shown_timecode}"


def _page(comment: Comment) -> Image.Image:
    page = Image.new("RGB", PAGE_SIZE, "#ffffff")
    pen = ImageDraw.Draw(page)
    still = _still(comment)
    box_w, box_h = STILL_BOX
    if still is None:
        pen.rectangle([MARGIN, MARGIN, MARGIN + box_w, MARGIN + box_h], fill="#777777")
        pen.text((MARGIN + 20, MARGIN + 20), "No picture available for this frame", fill="#ffffff", font=_font(20))
        bottom = MARGIN + box_h
    else:
        scale = min(box_w / still.width, box_h / still.height)
        size = (max(1, round(still.width * scale)), max(1, round(still.height * scale)))
        # Resize first, then draw, so strokes keep their intended thickness on the page.
        still = drawing_render(still.resize(size, Image.Resampling.LANCZOS), comment.drawing)
        left = MARGIN + (box_w - size[0]) // 2
        page.paste(still, (left, MARGIN))
        bottom = MARGIN + size[1]

    y = bottom + 24
    pen.text((MARGIN, y), heading(comment), fill="#111111", font=_font(22, bold=True))
    y += 34
    byline = f"{person_label(comment.author)} · {comment.created_at:%Y-%m-%d %H:%M} UTC"
    if comment.reply_to_id:
        byline += f" · reply to comment {comment.reply_to_id}"
    if comment.resolved:
        byline += " · resolved"
    pen.text((MARGIN, y), byline, fill="#555555", font=_font(16))
    y += 30
    body_font = _font(18)
    for paragraph in comment.text.splitlines() or [""]:
        for line in textwrap.wrap(paragraph, width=110) or [""]:
            if y > PAGE_SIZE[1] - MARGIN - 20:
                pen.text((MARGIN, y), "…", fill="#111111", font=body_font)
                return page
            pen.text((MARGIN, y), line, fill="#111111", font=body_font)
            y += 25
    return page


def comments_pdf(comments: Iterable[Comment]) -> bytes:
    """A PDF with one page per comment (at least one page: an empty export says so)."""
    pages = [_page(comment) for comment in comments]
    if not pages:
        empty = Image.new("RGB", PAGE_SIZE, "#ffffff")
        ImageDraw.Draw(empty).text((MARGIN, MARGIN), "No comments to export.", fill="#111111", font=_font(22))
        pages = [empty]
    out = io.BytesIO()
    pages[0].save(out, format="PDF", save_all=True, append_images=pages[1:], resolution=100.0)
    return out.getvalue()
