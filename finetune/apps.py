from django.apps import AppConfig


class FinetuneConfig(AppConfig):
    """LoRA fine-tuning jobs (TRL + PEFT) on hub datasets, published as adapter repositories."""

    name = "finetune"
    verbose_name = "Fine-tuning"
