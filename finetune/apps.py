from django.apps import AppConfig


class FinetuneConfig(AppConfig):
    """LoRA fine-tuning jobs (TRL + PEFT) on hub datasets, published as adapter repositories."""

    name = "finetune"
    verbose_name = "Fine-tuning"

    def ready(self) -> None:
        from celery.signals import worker_ready

        from . import reaper

        worker_ready.connect(reaper.start, weak=False, dispatch_uid="finetune-reaper")
