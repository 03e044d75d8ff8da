from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.utils.encoders import JSONEncoder

from models_hub.models import Resource

from . import params as generation_params
from .models import REPORT_REASON_MAX_LENGTH, GenerationJob, MessageRole, RunReport


class MessageSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=MessageRole.choices)
    content = serializers.CharField(allow_blank=True, trim_whitespace=False,
                                    max_length=settings.PLAYGROUND_MAX_PROMPT_CHARS)


class ParamsSerializer(serializers.Serializer):
    max_new_tokens = serializers.IntegerField(min_value=0, max_value=1024, required=False,
                                              help_text="0 only with echo: just the prompt's log-probabilities.")
    temperature = serializers.FloatField(min_value=0, max_value=2, required=False)
    top_p = serializers.FloatField(min_value=0, max_value=1, required=False)
    top_k = serializers.IntegerField(min_value=0, max_value=200, required=False)
    repetition_penalty = serializers.FloatField(min_value=1, max_value=2, required=False)
    presence_penalty = serializers.FloatField(min_value=-2, max_value=2, required=False,
                                              help_text="OpenAI's: subtracted once from each token already in the "
                                                        "output (-2 to 2).")
    frequency_penalty = serializers.FloatField(min_value=-2, max_value=2, required=False,
                                               help_text="OpenAI's: subtracted per time a token is already in the "
                                                         "output (-2 to 2).")
    seed = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False, allow_null=True)
    stop = serializers.ListField(child=serializers.CharField(max_length=100, trim_whitespace=False),
                                 max_length=4, required=False)
    min_new_tokens = serializers.IntegerField(min_value=0, max_value=1024, required=False)
    logprobs = serializers.BooleanField(required=False, help_text="Return the output tokens' log-probabilities.")
    top_logprobs = serializers.IntegerField(min_value=0, max_value=generation_params.MAX_TOP_LOGPROBS,
                                            required=False, help_text="Best alternatives per token, with logprobs.")
    echo = serializers.BooleanField(required=False, help_text="Completion mode: the prompt back, and with "
                                                              "logprobs its tokens' log-probabilities.")

    def validate(self, data: dict) -> dict:
        if data.get("top_logprobs") and not data.get("logprobs"):
            raise serializers.ValidationError({"top_logprobs": [_("Needs logprobs.")]})
        if data.get("max_new_tokens") == 0 and not data.get("echo"):
            raise serializers.ValidationError({"max_new_tokens": [_("Ensure this value is greater than or equal to 1.")]})
        return data

    def validate_top_p(self, value: float) -> float:
        if value <= 0:
            raise serializers.ValidationError(_("Must be greater than 0 and at most 1."))
        return value


class ShareSerializer(serializers.Serializer):
    public = serializers.BooleanField(default=True)


class JobCreateSerializer(serializers.Serializer):
    model = serializers.CharField(help_text="repo_id of a runnable catalogue model")
    mode = serializers.ChoiceField(choices=GenerationJob.Mode.choices)
    # Counted before any message is validated: 35,000 empty turns fit in a 1 MiB body.
    messages = MessageSerializer(many=True, required=False, max_length=settings.PLAYGROUND_MAX_MESSAGES)
    prompt = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    prompt_ids = serializers.ListField(child=serializers.IntegerField(min_value=0, max_value=2**31 - 1),
                                       required=False, allow_empty=False,
                                       help_text="Completion mode: the prompt as token ids, instead of prompt.")
    params = ParamsSerializer(required=False)
    stream = serializers.BooleanField(default=False, help_text=(
        "Answer with the job's event stream (200, text/event-stream) instead of the job (202): a "
        "`job` event with the job, then its events as the stream endpoint sends them."))

    def validate_model(self, value: str) -> Resource:
        user = self.context.get("user")
        resource = Resource.objects.runnable(user).filter(repo_id=value).select_related("runtime").first()
        if resource is not None:
            return resource
        if Resource.objects.visible_to(user).filter(kind=Resource.Kind.MODEL, repo_id=value).exists():
            raise serializers.ValidationError(_("%(model)s cannot be run in the playground.") % {"model": value})
        raise serializers.ValidationError(_("Unknown model %(model)r.") % {"model": value})

    def validate(self, data: dict) -> dict:
        limit = settings.PLAYGROUND_MAX_PROMPT_CHARS
        if data["mode"] == GenerationJob.Mode.CHAT:
            messages = data.get("messages") or []
            if not messages:
                raise serializers.ValidationError({"messages": [_("Send at least one message.")]})
            if sum(len(m["content"]) for m in messages) > limit:
                raise serializers.ValidationError({"messages": [_("At most %(n)d characters in all.") % {"n": limit}]})
            data["prompt"] = ""
            if data.get("prompt_ids"):
                raise serializers.ValidationError({"prompt_ids": [_("Only in completion mode.")]})
        elif data.get("prompt_ids"):
            if data.get("prompt"):
                raise serializers.ValidationError({"prompt_ids": [_("Send prompt or prompt_ids, not both.")]})
            data["prompt"] = ""
            if len(data["prompt_ids"]) > data["model"].runtime.context_length:
                raise serializers.ValidationError({"prompt_ids": [_("Longer than this model's context.")]})
            data["messages"] = []
        else:
            if not (data.get("prompt") or "").strip():
                raise serializers.ValidationError({"prompt": [_("This field is required in completion mode.")]})
            if len(data["prompt"]) > limit:
                raise serializers.ValidationError({"prompt": [_("At most %(n)d characters.") % {"n": limit}]})
            data["messages"] = []
        runtime = data["model"].runtime
        params = dict(data.get("params") or {})
        if params.get("echo") and data["mode"] == GenerationJob.Mode.CHAT:
            raise serializers.ValidationError({"params": {"echo": [_("Only in completion mode.")]}})
        refused = generation_params.unsupported_params(runtime, params)
        if refused:  # never dropped silently: the member would get something other than asked for
            raise serializers.ValidationError({"params": {name: [
                _("%(model)s runs on a server that does not take %(name)s.") % {"model": data["model"].repo_id, "name": name}] for name in refused}})
        if params.get("max_new_tokens", 0) > runtime.max_new_tokens:
            raise serializers.ValidationError(
                {"params": {"max_new_tokens": [_("This model allows at most %(n)d.") % {"n": runtime.max_new_tokens}]}})
        prompt_chars = len(data.get("prompt", "")) + sum(len(m["content"]) for m in data.get("messages", []))
        if prompt_chars > runtime.context_length * 4:  # ~4 characters a token; the worker checks tokens
            field = "prompt" if data["mode"] == GenerationJob.Mode.COMPLETION else "messages"
            raise serializers.ValidationError({field: [_("Longer than this model's context.")]})
        data["params"] = params
        return data


class MetricsSerializer(serializers.Serializer):
    prompt_tokens = serializers.IntegerField(allow_null=True)
    completion_tokens = serializers.IntegerField(allow_null=True)
    ttft_ms = serializers.FloatField(allow_null=True)
    tokens_per_s = serializers.FloatField(allow_null=True)


class JobSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="resource.repo_id")
    metrics = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", help_text="The owner's page for the run.")
    share_url = serializers.CharField(source="get_share_url", allow_null=True,
                                      help_text="The public link while the run is shared, else null.")

    class Meta:
        model = GenerationJob
        fields = ["id", "model", "mode", "status", "messages", "prompt", "params", "output", "error",
                  "error_code", "finish_reason", "created_at", "started_at", "finished_at", "metrics", "logprobs", "is_public",
                  "attempts", "url", "share_url"]

    @extend_schema_field(MetricsSerializer)
    def get_metrics(self, job: GenerationJob) -> dict:
        return {"prompt_tokens": job.prompt_tokens, "completion_tokens": job.completion_tokens,
                "ttft_ms": job.ttft_ms, "tokens_per_s": job.tokens_per_s}


class JobStatusSerializer(serializers.ModelSerializer):
    """What a moderator who stops another member's job is told: where it stands, not what it said."""

    model = serializers.CharField(source="resource.repo_id")

    class Meta:
        model = GenerationJob
        fields = ["id", "model", "mode", "status", "finish_reason", "created_at", "finished_at"]


class SharedJobSerializer(JobSerializer):
    """A shared run as anyone with its link sees it: its page is the shared one."""

    url = serializers.CharField(source="get_share_url", help_text="The run's public page.")


# One instance serves every payload, as a ListSerializer's child serves every item: its fields are
# built once (building them took seven times as long as using them), and representing keeps no state.
_JOB_SERIALIZER = JobSerializer()


def job_payload(job: GenerationJob) -> dict:
    """The job as the API shows it, JSON-ready (used for the stream's final event too)."""
    return json.loads(json.dumps(_JOB_SERIALIZER.to_representation(job), cls=JSONEncoder))


class RunReportSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(max_length=REPORT_REASON_MAX_LENGTH)

    class Meta:
        model = RunReport
        fields = ["id", "reason", "created_at", "resolved"]
        read_only_fields = ["id", "created_at", "resolved"]
