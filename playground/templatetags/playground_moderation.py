"""{% unresolved_run_reports as n %}: how many run reports await a moderator (0 for everyone else),
e.g. for a link to {% url 'playground:review' %} next to the forum's own queue."""
from __future__ import annotations

from django import template

from playground.models import RunReport
from playground.permissions import can_review_reports

register = template.Library()


def unresolved_count(user) -> int:
    if user is None or not can_review_reports(user):
        return 0
    return RunReport.objects.filter(resolved=False).count()


@register.simple_tag(takes_context=True)
def unresolved_run_reports(context) -> int:
    request = context.get("request")
    return unresolved_count(context.get("user") or getattr(request, "user", None))
