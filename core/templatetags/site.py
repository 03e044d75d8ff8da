"""Template helpers every app's pages use."""
import hashlib
import html
import math
import re
from datetime import datetime, timedelta

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString

from core.permissions import is_moderator

register = template.Library()

register.filter("is_moderator", is_moderator)


AVATAR_COLOURS = 8  # .avatar-0 … .avatar-7 in site.css: white text on each passes WCAG AA


@register.simple_tag
def avatar(person, size: str = "small") -> SafeString:
    """A letter avatar, as Discourse draws one for a member without a picture: the first letter of
    their name on a colour their username picks, the same on every page. Decorative: the name is
    always written beside it."""
    name = getattr(person, "shown_name", "") or person.username
    colour = int(hashlib.sha256(person.username.lower().encode()).hexdigest(), 16) % AVATAR_COLOURS
    return format_html('<span class="avatar avatar-{} avatar-{}" aria-hidden="true">{}</span>', size, colour,
                       name[:1].upper())


@register.filter
def plain(rendered_html: str) -> str:
    """Text of HTML rendered at save time, for an excerpt: no markup, no Markdown syntax (the
    template escapes it again)."""
    return re.sub(r"\s+", " ", html.unescape(strip_tags(rendered_html))).strip()


@register.filter
def short_count(n: int | None) -> str:
    """135000000 → "135M", 1710000000 → "1.7B", as the Hugging Face Hub shows sizes: the same in
    every language (a grouping separator differs by locale; Chinese uses none)."""
    if n is None:
        return ""
    for size, unit in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "K")):
        if abs(n) >= size:
            value = n / size
            return f"{value:.1f}".rstrip("0").rstrip(".") + unit if value < 100 else f"{round(value)}{unit}"
    return str(n)


@register.filter
def minutes(duration: timedelta) -> int:
    """A duration in whole minutes, rounded up (for "try again in N minutes")."""
    return max(1, math.ceil(duration.total_seconds() / 60))


@register.filter
def clock(seconds: float | None) -> str:
    """A duration as a clock shows it, 1:02:03 or 2:03, the same in every language ("—" if unknown)."""
    if seconds is None:
        return "—"
    minutes_, secs = divmod(max(0, round(seconds)), 60)
    hours, minutes_ = divmod(minutes_, 60)
    return f"{hours}:{minutes_:02d}:{secs:02d}" if hours else f"{minutes_}:{secs:02d}"


@register.simple_tag
def timestamp(value: datetime) -> SafeString:
    """`<time>` with the machine-readable instant, the exact minute (UTC) as a tooltip and
    "3 hours ago" as text: the markup of includes/time.html, built in one call because lists
    show one per row (the `date` filters' format parsing cost more than the rest of a post)."""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    minute = f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    return format_html('<time datetime="{}" title="{} UTC">{}</time>', local.isoformat(), minute,
                       naturaltime(value))
