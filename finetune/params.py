"""Training parameters: their ranges and defaults, one definition for the API, the page form
and the services. The ranges keep a member's job within what a shared worker should take."""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

DEFAULTS = {"learning_rate": 2e-4, "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0.05, "batch_size": 4,
            "max_seq_len": 512, "seed": 42}
DEFAULT_EPOCHS = 1.0


class TrainingParamsSerializer(serializers.Serializer):
    max_steps = serializers.IntegerField(min_value=1, max_value=settings.FINETUNE_MAX_STEPS, required=False,
                                         help_text="Optimizer steps; or give epochs.")
    epochs = serializers.FloatField(min_value=0.01, max_value=settings.FINETUNE_MAX_EPOCHS, required=False,
                                    help_text="Passes over the dataset (1 when neither this nor max_steps is given).")
    learning_rate = serializers.FloatField(min_value=1e-7, max_value=1e-2, required=False)
    lora_r = serializers.IntegerField(min_value=1, max_value=256, required=False)
    lora_alpha = serializers.IntegerField(min_value=1, max_value=1024, required=False)
    lora_dropout = serializers.FloatField(min_value=0, max_value=0.5, required=False)
    batch_size = serializers.IntegerField(min_value=1, max_value=64, required=False)
    max_seq_len = serializers.IntegerField(min_value=16, max_value=settings.FINETUNE_MAX_SEQ_LEN, required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    def validate(self, data: dict) -> dict:
        if "max_steps" in data and "epochs" in data:
            raise serializers.ValidationError({"max_steps": [_("Give max_steps or epochs, not both.")]})
        return data


def effective(params: dict) -> dict:
    """What a job trains with: the defaults, then what was asked."""
    merged = {**DEFAULTS, **params}
    if "max_steps" not in merged and "epochs" not in merged:
        merged["epochs"] = DEFAULT_EPOCHS
    return merged


def bounds() -> dict:
    """min and max of each parameter, for the page form's inputs."""
    fields = TrainingParamsSerializer().fields
    return {name: {"min": field.min_value, "max": field.max_value} for name, field in fields.items()}
