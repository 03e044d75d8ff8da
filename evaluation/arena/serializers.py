"""The arena's JSON. A battle names its models only once revealed (a_model, b_model are null
before); its two sides carry their jobs' ids, status, text and metrics, never a model."""
from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from community.models import User
from models_hub.models import Resource
from playground.models import GenerationJob

from ..models.arena import Battle, Winner
from .services import VOID_REASON_MAX_LENGTH


class SideSerializer(serializers.Serializer):
    job = serializers.IntegerField(help_text="The playground job answering on this side.")
    status = serializers.CharField()
    output = serializers.CharField()
    error = serializers.CharField()
    finish_reason = serializers.CharField()
    metrics = serializers.DictField()
    stream_url = serializers.CharField(help_text="Server-sent events of this side, without the model's name.")


def side_payload(battle: Battle, side: str) -> dict:
    """One side of a battle. Its metrics wait for the reveal: the same prompt's token count names
    the model's tokenizer and chat template, and speeds name its size, so a voter could tell
    which hidden model is which."""
    job: GenerationJob = getattr(battle, f"job_{side}")
    return {
        "job": job.pk, "status": job.status, "output": job.output, "error": battle.shown_error(job),
        "finish_reason": job.finish_reason,
        "metrics": {"prompt_tokens": job.prompt_tokens, "completion_tokens": job.completion_tokens,
                    "ttft_ms": job.ttft_ms, "tokens_per_s": job.tokens_per_s} if battle.is_revealed else None,
        "stream_url": reverse("arena-api:battle-stream", args=[battle.pk, side]),
    }


class BattleSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    a = serializers.SerializerMethodField()
    b = serializers.SerializerMethodField()
    revealed = serializers.BooleanField(source="is_revealed", read_only=True)
    a_model = serializers.SerializerMethodField()
    b_model = serializers.SerializerMethodField()
    winner = serializers.SerializerMethodField()
    counted = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Battle
        fields = ["id", "mode", "status", "prompt", "a", "b", "revealed", "a_model", "b_model", "winner",
                  "counted", "created_at", "revealed_at", "url"]

    @extend_schema_field(SideSerializer)
    def get_a(self, battle: Battle) -> dict:
        return side_payload(battle, "a")

    @extend_schema_field(SideSerializer)
    def get_b(self, battle: Battle) -> dict:
        return side_payload(battle, "b")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_a_model(self, battle: Battle) -> str | None:
        return battle.model_a.repo_id if battle.is_revealed else None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_b_model(self, battle: Battle) -> str | None:
        return battle.model_b.repo_id if battle.is_revealed else None

    @extend_schema_field(serializers.ChoiceField(choices=Winner.choices, allow_null=True))
    def get_winner(self, battle: Battle) -> str | None:
        return battle.vote.winner if battle.has_vote else None

    @extend_schema_field(serializers.BooleanField())
    def get_counted(self, battle: Battle) -> bool:
        """Whether its vote counts for the leaderboard (blind, not voided)."""
        return bool(battle.has_vote and battle.mode == Battle.Mode.BLIND and not battle.vote.is_voided)


class BattleCreateSerializer(serializers.Serializer):
    prompt = serializers.CharField(max_length=settings.PLAYGROUND_MAX_PROMPT_CHARS, trim_whitespace=True)
    models = serializers.ListField(child=serializers.CharField(max_length=201), min_length=2, max_length=2,
                                   required=False,
                                   help_text="Two runnable models' repo_ids for a compare battle (named, not "
                                             "counted); leave out for a blind battle.")

    def validate_models(self, value: list[str]) -> list[Resource]:
        if value[0] == value[1]:
            raise serializers.ValidationError(_("Pick two different models."))
        runnable = Resource.objects.runnable(self.context["request"].user)  # a member's own drafts too
        found = {r.repo_id: r for r in runnable.filter(repo_id__in=value).select_related("runtime")}
        missing = [name for name in value if name not in found]
        if missing:
            raise serializers.ValidationError(_("Not a runnable model: %(names)s.") % {"names": ", ".join(missing)})
        return [found[name] for name in value]


class ArenaVoteSerializer(serializers.Serializer):
    winner = serializers.ChoiceField(choices=Winner.choices)


class VoidVotesSerializer(serializers.Serializer):
    user = serializers.CharField(max_length=User._meta.get_field("username").max_length,
                                 help_text="The member's username, however it is capitalised.")
    reason = serializers.CharField(max_length=VOID_REASON_MAX_LENGTH, required=False, allow_blank=True, default="")

    def validate_user(self, value: str) -> User:
        member = User.objects.filter(username__lower_exact=value).first()
        if member is None:
            raise serializers.ValidationError("No member has that username.")
        return member


class VoidResultSerializer(serializers.Serializer):
    user = serializers.CharField()
    voided = serializers.IntegerField()


class LeaderboardRowSerializer(serializers.Serializer):
    model = serializers.CharField()
    rating = serializers.FloatField()
    ci_low = serializers.FloatField()
    ci_high = serializers.FloatField()
    battles = serializers.IntegerField()
    wins = serializers.IntegerField()
    url = serializers.CharField()


class MatrixSerializer(serializers.Serializer):
    models = serializers.ListField(child=serializers.CharField())
    win_rate = serializers.ListField(child=serializers.ListField(child=serializers.FloatField(allow_null=True)),
                                     help_text="win_rate[i][j]: the share of their battles model i won against j "
                                               "(ties count as battles, not wins); null if they never met.")
    battles = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class LeaderboardSerializer(serializers.Serializer):
    results = LeaderboardRowSerializer(many=True)
    votes = serializers.IntegerField()
    bootstrap_rounds = serializers.IntegerField()
    matrix = MatrixSerializer()


