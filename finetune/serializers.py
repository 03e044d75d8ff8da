from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers

from models_hub.validators import NAME

from .formats import DECLARATION_KEYS, FORMATS, request_declaration
from .models import FineTuneJob
from .params import TrainingParamsSerializer


class FineTuneCreateSerializer(serializers.Serializer):
    base_model = serializers.CharField(max_length=201, help_text="repo_id of a runnable model")
    dataset = serializers.CharField(max_length=201, help_text="repo_id of a dataset")
    method = serializers.ChoiceField(choices=FineTuneJob.Method.choices, default=FineTuneJob.Method.LORA)
    params = TrainingParamsSerializer(required=False)
    output_name = serializers.CharField(max_length=100, validators=[NAME],
                                        help_text="The new model repository's name, under your username")
    # How to train on the dataset, for one whose card does not say (or to read it otherwise): the
    # card's own keys. Left out, the card's declaration is used.
    train_format = serializers.ChoiceField(choices=FORMATS, required=False)
    train_file = serializers.CharField(max_length=500, required=False)
    train_prompt = serializers.CharField(max_length=2000, required=False, trim_whitespace=False)
    train_completion = serializers.CharField(max_length=2000, required=False, trim_whitespace=False)
    train_text = serializers.CharField(max_length=2000, required=False, trim_whitespace=False)
    train_messages = serializers.CharField(max_length=64, required=False)

    def validate(self, data: dict) -> dict:
        declaration, missing = request_declaration(data)
        if missing:
            raise serializers.ValidationError({key: [_("Needed with the other train_ fields.")] for key in missing})
        for key in DECLARATION_KEYS:
            data.pop(key, None)
        data["declaration"] = declaration
        return data


class ProgressSerializer(serializers.Serializer):
    step = serializers.IntegerField()
    total_steps = serializers.IntegerField()
    epoch = serializers.FloatField(allow_null=True)
    loss = serializers.FloatField(allow_null=True)
    lr = serializers.FloatField(allow_null=True, source="learning_rate")
    examples_per_s = serializers.FloatField(allow_null=True)
    tokens_per_s = serializers.FloatField(allow_null=True)
    eta_s = serializers.FloatField(allow_null=True)
    trained_tokens = serializers.IntegerField(allow_null=True)
    train_seconds = serializers.FloatField(allow_null=True)
    checkpoint_step = serializers.IntegerField()


class FineTuneSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username")
    base_model = serializers.CharField(source="base_model.repo_id")
    dataset = serializers.CharField(source="dataset.repo_id")
    progress = ProgressSerializer(source="*")
    output_model = serializers.CharField(source="output_model.repo_id", default=None)
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = FineTuneJob
        fields = ["id", "user", "base_model", "dataset", "dataset_revision", "method", "params", "output_name",
                  "status", "progress", "output_model", "error", "attempts", "versions", "created_at",
                  "started_at", "finished_at", "url"]
        read_only_fields = fields


def job_payload(job: FineTuneJob) -> dict:
    return dict(FineTuneSerializer(job).data)
