"""Thin API views for evaluation runs and leaderboards; the stream is an async view."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action, api_view, permission_classes
from rest_framework.response import Response

from community.models import Category
from core.pagination import StandardPagination
from playground import stream_slots

from . import services
from .events import run_events
from .leaderboards import leaderboard
from .models import EvaluationRun, Suite
from .serializers import (DiscussSerializer, RunCreateSerializer, RunSerializer, SampleSerializer,
                          SuiteSerializer, leaderboard_payload)

DEFAULT_CATEGORY = "general"
SAMPLE_PAGE = inline_serializer("EvaluationSamplePage", {
    "count": serializers.IntegerField(), "next": serializers.CharField(allow_null=True),
    "previous": serializers.CharField(allow_null=True), "results": SampleSerializer(many=True)})
SUITE_LIST = inline_serializer("LeaderboardList", {"results": SuiteSerializer(many=True)})
THREAD_LINK = inline_serializer("EvaluationThread", {"thread": serializers.CharField()})


@extend_schema(parameters=[OpenApiParameter("mine", str, description="1: only my runs"),
                           OpenApiParameter("model", str), OpenApiParameter("suite", str)])
class RunViewSet(viewsets.ReadOnlyModelViewSet):
    """Evaluation runs. Results are public; a run is requested, cancelled by its requester."""

    serializer_class = RunSerializer
    pagination_class = StandardPagination
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]

    def get_queryset(self):
        runs = EvaluationRun.objects.visible_to(self.request.user).with_names().select_related("thread")
        params = self.request.query_params
        if params.get("mine") == "1":
            runs = runs.requested_by(self.request.user)
        if params.get("model"):
            runs = runs.filter(model__repo_id=params["model"])
        if params.get("suite"):
            runs = runs.filter(suite__dataset__repo_id=params["suite"])
        return runs

    @extend_schema(request=RunCreateSerializer, responses={202: RunSerializer, 200: RunSerializer})
    def create(self, request):
        """202 with a new queued run; 200 with the identical run already queued, running or done."""
        data = RunCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        run, created = services.request_run(user=request.user, model=data.validated_data["model"],
                                            dataset=data.validated_data["suite"])
        run = EvaluationRun.objects.with_names().get(pk=run.pk)
        return Response(RunSerializer(run).data, status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def cancel(self, request, pk=None):
        run = services.cancel_run(user=request.user, run=self.get_object())
        return Response(RunSerializer(run).data)

    @extend_schema(responses=SAMPLE_PAGE, parameters=[OpenApiParameter("task", str)])
    @action(detail=True, methods=["get"])
    def samples(self, request, pk=None):
        rows = self.get_object().samples.all()
        if request.query_params.get("task"):
            rows = rows.filter(task=request.query_params["task"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SampleSerializer(page, many=True).data)

    @extend_schema(request=DiscussSerializer, responses={201: THREAD_LINK})
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def discuss(self, request, pk=None):
        """A forum thread quoting the run's scores, linked back (one per run)."""
        data = DiscussSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        slug = data.validated_data.get("category") or DEFAULT_CATEGORY
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            return Response({"category": ["No such category."]}, status=status.HTTP_400_BAD_REQUEST)
        thread = services.discuss_run(user=request.user, run=self.get_object(), category=category,
                                      title=data.validated_data.get("title", ""))
        return Response({"thread": thread.get_absolute_url()}, status=status.HTTP_201_CREATED)


@extend_schema(operation_id="leaderboards_list", responses=SUITE_LIST)
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def leaderboards(request):
    """Suites with a valid declaration, the most measured first."""
    return Response({"results": SuiteSerializer(Suite.objects.visible_to(request.user).listed(), many=True).data})


@extend_schema(operation_id="leaderboard_retrieve",
               parameters=[OpenApiParameter("ordering", str, description="task.metric, or -task.metric")],
               responses=OpenApiResponse(OpenApiTypes.OBJECT, description=(
                   "{suite, title, revision, columns: [{key, task, metric, higher_is_better}], ordering, "
                   "results: [{rank, model, run, samples, url, dataset_revision, metrics}]}")))
@api_view(["GET"])
@permission_classes([permissions.AllowAny])
def suite_leaderboard(request, owner: str, name: str):
    """Ranked models: each model's latest succeeded run, per-task metrics with standard errors."""
    suite = get_object_or_404(Suite.objects.visible_to(request.user).select_related("dataset"),
                              dataset__owner=owner, dataset__name=name)
    cols, by, rows = leaderboard(suite, request.query_params.get("ordering"))
    return Response(leaderboard_payload(suite, cols, by, rows))


STREAM_DESCRIPTION = (
    "Numbered events (`id: <seq>`): `event: progress` with {done, total} as requests finish, then "
    "`event: done` (or `failed`) with the run. Reconnecting with `Last-Event-ID` resumes after that event.")


@extend_schema(responses={(200, "text/event-stream"): OpenApiResponse(description=STREAM_DESCRIPTION)})
async def stream(request, pk: int):
    return await stream_slots.stream_of(
        request, visible=lambda user: EvaluationRun.objects.visible_to(user).filter(pk=pk),
        events=lambda run, after: run_events(run, after=after))
