"""Small charts drawn on the server as inline SVG: no chart library, nothing for the browser to run."""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.html import format_html


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
