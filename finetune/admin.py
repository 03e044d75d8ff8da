from django.contrib import admin

from .models import FineTuneJob


@admin.register(FineTuneJob)
class FineTuneJobAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "base_model", "dataset", "output_name", "status", "step", "total_steps", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("user", "base_model", "dataset", "output_model")
    readonly_fields = ("history", "versions", "train_spec")
