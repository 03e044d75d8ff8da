"""Fine-tune jobs are written by the trainer: staff look at them and stop them through the
service (the job hears of it as an event), never by editing the row."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ServiceOnlyAdmin

from .models import FineTuneJob
from .services import cancel_finetune


@admin.register(FineTuneJob)
class FineTuneJobAdmin(ServiceOnlyAdmin):
    list_display = ("id", "user", "base_model", "dataset", "output_name", "status", "step", "total_steps", "created_at")
    list_filter = ("status",)
    search_fields = ("user__username", "output_name")
    raw_id_fields = ("user", "base_model", "dataset", "output_model")
    actions = ["cancel"]

    @admin.action(description=_("Cancel the selected jobs"))
    def cancel(self, request, queryset) -> None:
        for job in queryset.exclude(status__in=FineTuneJob.FINISHED):
            cancel_finetune(user=request.user, job=job)
