"""The moderation log: what moderators did, newest first (moderators only)."""
from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from core.permissions import moderator_required

from .models import ModerationLog

LOG_PAGE = 50


@moderator_required
def moderation_log(request):
    entries = ModerationLog.objects.select_related("moderator", "member")
    page = Paginator(entries, LOG_PAGE).get_page(request.GET.get("page"))
    return render(request, "community/moderation_log.html", {"page": page})
