"""Small charts drawn on the server as inline SVG: no chart library, nothing for the browser to run."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe


def daily_counts(rows: QuerySet, field: str, days: int = 30) -> list[int]:
    """How many rows fall on each of the last `days` days (oldest first), in one query.

    The window is a range on the column itself (from midnight of the first day in the current
    time zone), not a condition on its date, so an index on (…, `field`) serves it."""
    today = timezone.now().date()
    since = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(since, time.min))
    per_day = dict(
        rows.filter(**{f"{field}__gte": start}).annotate(day=TruncDate(field))
        .values_list("day").annotate(n=Count("pk")).values_list("day", "n")
    )
    return [per_day.get(since + timedelta(days=i), 0) for i in range(days)]


def sparkline(values: list[int], *, label: str, width: int = 240, height: int = 40) -> str:
    """An SVG line of the values with an accessible label; values are numbers only."""
    top = max(values) or 1
    step = width / max(1, len(values) - 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values))
    return format_html(
        '<svg class="sparkline" viewBox="0 0 {} {}" role="img" aria-label="{}" preserveAspectRatio="none">'
        '<title>{}</title><path d="M{}"/></svg>',
        width, height, label, label, points.replace(" ", " L"),
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _label_width(labels: list[str]) -> int:
    """Room for the longest label at the charts' 12 px font (about 7 px a character)."""
    return min(420, 7 * max(len(label) for label in labels) + 12)


def intervals(labels: list[str], points: list[float], lows: list[float], highs: list[float], *,
              label: str, width: int = 720, row: int = 26) -> str:
    """A dot-and-whisker chart, one row per label (best first, as given): a dot at the point,
    a line from low to high. Labels are escaped; numbers are numbers only."""
    if not labels:
        return ""
    gutter = _label_width(labels)
    lo, hi = min(lows), max(highs)
    span = (hi - lo) or 1.0
    plot = width - gutter - 50

    def x(value: float) -> float:
        return gutter + (value - lo) / span * plot

    height = row * len(labels) + 24
    parts = [format_html('<svg class="chart intervals" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
                         'aria-label="{}"><title>{}</title>', width, height, width, height, label, label)]
    for i, (name, point, low, high) in enumerate(zip(labels, points, lows, highs)):
        y = _fmt(row * i + row / 2)
        parts.append(format_html(
            '<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>'
            '<line class="whisker" x1="{}" x2="{}" y1="{}" y2="{}"/>'
            '<circle class="dot" cx="{}" cy="{}" r="4"><title>{}: {} ({}–{})</title></circle>'
            '<text class="value" x="{}" y="{}" dominant-baseline="middle">{}</text>',
            gutter - 8, y, name, _fmt(x(low)), _fmt(x(high)), y, y, _fmt(x(point)), y, name, _fmt(point),
            _fmt(low), _fmt(high), _fmt(x(high) + 6), y, round(point)))
    axis = row * len(labels) + 16
    parts.append(format_html('<text class="axis" x="{}" y="{}">{}</text><text class="axis" x="{}" y="{}" '
                             'text-anchor="end">{}</text></svg>', gutter, axis, round(lo), gutter + plot, axis,
                             round(hi)))
    return mark_safe("".join(parts))  # every piece above went through format_html


def heatmap(labels: list[str], values: list[list[float | None]], *, label: str,
            counts: list[list[int]] | None = None, cell: int = 40) -> str:
    """A square matrix as coloured cells (0 red … 1 green, None blank) with the value in each.
    Rows are numbered and named on the left; columns carry the same numbers above."""
    if not labels:
        return ""
    n = len(labels)
    rows = [f"{i + 1}. {name}" for i, name in enumerate(labels)]
    gutter, top = _label_width(rows), 20
    width, height = gutter + cell * n, top + cell * n
    parts = [format_html('<svg class="chart heatmap" width="{}" height="{}" viewBox="0 0 {} {}" role="img" '
                         'aria-label="{}"><title>{}</title>', width, height, width, height, label, label)]
    for j in range(n):
        parts.append(format_html('<text class="col" x="{}" y="{}" text-anchor="middle">{}</text>',
                                 _fmt(gutter + cell * j + cell / 2), top - 6, j + 1))
    for i, name in enumerate(rows):
        y = top + cell * i
        parts.append(format_html('<text x="{}" y="{}" text-anchor="end" dominant-baseline="middle">{}</text>',
                                 gutter - 6, _fmt(y + cell / 2), name))
        for j, value in enumerate(values[i]):
            if value is None:
                continue
            note = f" ({counts[i][j]})" if counts else ""
            parts.append(format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" style="fill: hsl({}, 65%, 55%)">'
                '<title>{} – {}: {}{}</title></rect>'
                '<text class="cell" x="{}" y="{}" text-anchor="middle" dominant-baseline="middle">{}</text>',
                gutter + cell * j, y, cell - 1, cell - 1, round(value * 120), labels[i], labels[j], f"{value:.2f}",
                note, _fmt(gutter + cell * j + cell / 2), _fmt(y + cell / 2), f"{value:.2f}"))
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every piece above went through format_html
def line_chart(points: list[tuple[float, float]], *, label: str, width: int = 560, height: int = 200,
               standalone: bool = False) -> str:
    """An SVG line chart of (x, y) points with its axes' ranges written at the corners (a
    training curve: step against loss). Numbers only go into the drawing; `label` is escaped.
    `standalone` adds the XML namespace, for an .svg file rather than inline HTML."""
    pad_left, pad_bottom, pad = 56, 22, 8
    xs = [float(x) for x, _y in points] or [0.0]
    ys = [float(y) for _x, y in points] or [0.0]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    x_span, y_span = (x1 - x0) or 1.0, (y1 - y0) or 1.0
    inner_w, inner_h = width - pad_left - pad, height - pad_bottom - pad

    def at(x: float, y: float) -> str:
        return f"{pad_left + (x - x0) / x_span * inner_w:.1f},{pad + inner_h - (y - y0) / y_span * inner_h:.1f}"

    path = " L".join(at(x, y) for x, y in zip(xs, ys)) if points else ""
    return format_html(
        '<svg class="chart"{} viewBox="0 0 {} {}" role="img" aria-label="{}"><title>{}</title>'
        '<path class="axis" d="M{},{} V{} H{}" fill="none" stroke="#999"/>'
        '<path class="line" d="{}" fill="none" stroke="#2f6fdf" stroke-width="2"/>'
        '<text x="{}" y="{}" text-anchor="end">{}</text><text x="{}" y="{}" text-anchor="end">{}</text>'
        '<text x="{}" y="{}">{}</text><text x="{}" y="{}" text-anchor="end">{}</text></svg>',
        format_html(' xmlns="http://www.w3.org/2000/svg"') if standalone else "",
        width, height, label, label,
        pad_left, pad, pad + inner_h, width - pad,
        f"M{path}" if path else "",
        pad_left - 4, pad + 10, _number(y1), pad_left - 4, pad + inner_h, _number(y0),
        pad_left, height - 6, _number(x0), width - pad, height - 6, _number(x1),
    )


def _number(value: float) -> str:
    """Short axis labels: 3 significant digits, scientific below 0.001 (learning rates)."""
    if value and abs(value) < 1e-3:
        return f"{value:.1e}"
    return f"{value:.3g}"
