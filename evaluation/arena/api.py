"""Thin API views for the arena: battles, their blind streams, votes, the leaderboard, voiding."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api_errors import ConflictError
from core.eventlog import Event
from playground.answers import with_answer_html
from playground import stream_slots
from playground.events import job_events

from . import leaderboard, services
from ..models.arena import Battle
from .permissions import can_void_votes
from .serializers import (BattleCreateSerializer, BattleSerializer, LeaderboardSerializer, VoidResultSerializer,
                          VoidVotesSerializer, ArenaVoteSerializer, side_payload)
from .throttles import BattleThrottle, VoteThrottle


class BattleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A member's battles (only their own: anyone else gets 404)."""

    serializer_class = BattleSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Battle.objects.owned_by(self.request.user).with_parts()

    def get_throttles(self):
        extra = {"create": [BattleThrottle()], "vote": [VoteThrottle()]}.get(self.action, [])
        return [*super().get_throttles(), *extra]

    @extend_schema(request=BattleCreateSerializer, responses={201: BattleSerializer})
    def create(self, request):
        data = BattleCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        battle = services.start_battle(user=request.user, prompt=data.validated_data["prompt"],
                                       models=data.validated_data.get("models"))
        battle = self.get_queryset().get(pk=battle.pk)
        return Response(BattleSerializer(battle).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ArenaVoteSerializer, responses={200: BattleSerializer, 409: OpenApiResponse(
        description="Before both answers finished, on a second vote, or after an answer failed.")})
    @action(detail=True, methods=["post"])
    def vote(self, request, pk=None):
        data = ArenaVoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            battle = services.vote(user=request.user, battle=self.get_object(), winner=data.validated_data["winner"])
        except services.VoteRefused as exc:
            raise ConflictError(str(exc)) from exc
        return Response(BattleSerializer(battle).data)


    @extend_schema(request=None, responses=BattleSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, pk=None):
        """Stop both answers (the battle then cannot be voted on)."""
        return Response(BattleSerializer(services.stop_battle(user=request.user, battle=self.get_object())).data)


class LeaderboardView(APIView):
    """Bradley–Terry ratings of the blind votes with 95% bootstrap CIs, and pairwise win rates."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=LeaderboardSerializer)
    def get(self, request):
        return Response(leaderboard.current().as_json())


class VoidVotesView(generics.GenericAPIView):
    """Moderators: void all of a member's standing votes (the leaderboard refits without them)."""

    serializer_class = VoidVotesSerializer
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=VoidVotesSerializer, responses=VoidResultSerializer)
    def post(self, request):
        if not can_void_votes(request.user):
            raise exceptions.PermissionDenied("Only moderators may do this.")
        data = VoidVotesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = data.validated_data["user"]
        voided = services.void_votes(moderator=request.user, member=member, reason=data.validated_data["reason"])
        return Response({"user": member.username, "voided": voided})


STREAM_DESCRIPTION = (
    "One side of a battle as server-sent events, as the job stream (`token` with {\"text\"}, then `done`, "
    "`failed` or `timeout`; `Last-Event-ID` resumes), except that the final event carries this side "
    "(job, status, output, metrics) and never the model's name.")


@extend_schema(responses={(200, "text/event-stream"): OpenApiResponse(description=STREAM_DESCRIPTION)})
async def battle_stream(request, pk: int, side: str):
    """The owner's stream of one side of their battle."""
    async def events(battle: Battle, after: int):
        async for event in job_events(getattr(battle, f"job_{side}"), after=after):
            if event.kind != "token":  # the final events carry the job, which names its model: this
                # side instead, from the job the final event has just read again (job_events)
                event = Event(event.seq, event.kind, await with_answer_html(side_payload(battle, side)))
            yield event

    return await stream_slots.stream_of(
        request, visible=lambda user: Battle.objects.owned_by(user).select_related(f"job_{side}__resource").filter(pk=pk),
        events=events)
