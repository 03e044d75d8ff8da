"""Evaluation runs are written by the runner: staff look at them (what is queued, what runs) and
stop them through the service, never by editing the row."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ServiceOnlyAdmin

from .models import EvaluationRun
from .services import cancel_run


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ServiceOnlyAdmin):
    list_display = ("id", "user", "model", "suite", "status", "progress_done", "progress_total", "created_at")
    list_filter = ("status",)
    search_fields = ("user__username", "model__owner", "model__name")
    raw_id_fields = ("user", "model", "suite", "thread")
    list_select_related = ("user", "model", "suite__dataset")
    actions = ["cancel"]

    @admin.action(description=_("Cancel the selected runs"))
    def cancel(self, request, queryset) -> None:
        for run in queryset.exclude(status__in=EvaluationRun.FINISHED):
            cancel_run(user=request.user, run=run)
