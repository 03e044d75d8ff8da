"""Thin API views for fine-tuning jobs; the stream is an async view so it holds no worker thread."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from playground import stream_slots

from . import services
from .events import job_events
from .models import FineTuneJob
from .serializers import FineTuneCreateSerializer, FineTuneSerializer


@extend_schema(parameters=[OpenApiParameter("mine", str, description="1: only my jobs (moderators see all without it)")])
class FineTuneViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = FineTuneSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        jobs = FineTuneJob.objects.for_list()
        if self.action == "list" and self.request.query_params.get("mine") == "1":
            return jobs.owned_by(self.request.user)
        return jobs.visible_to(self.request.user)

    @extend_schema(request=FineTuneCreateSerializer, responses={202: FineTuneSerializer})
    def create(self, request):
        data = FineTuneCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        job = services.submit_finetune(user=request.user, base_model=v["base_model"], dataset=v["dataset"],
                                       params=dict(v.get("params") or {}), output_name=v["output_name"],
                                       method=v["method"], declaration=v["declaration"])
        return Response(FineTuneSerializer(FineTuneJob.objects.for_list().get(pk=job.pk)).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=FineTuneSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = services.cancel_finetune(user=request.user, job=self.get_object())
        return Response(FineTuneSerializer(job).data)


STREAM_DESCRIPTION = (
    "Numbered events (`id: <seq>`): `started` {step, total_steps, attempt}, `progress` {step, total_steps, "
    "epoch, loss, lr, examples_per_s, tokens_per_s, eta_s} per logged step, `checkpoint` {step}, `resumed` "
    "{step, attempt} when a new worker carries on after one died, then `done` (or `failed`) with the job. "
    "Reconnecting with `Last-Event-ID: <seq>` resumes after that event.")


@extend_schema(responses={(200, "text/event-stream"): OpenApiResponse(description=STREAM_DESCRIPTION)})
async def stream(request, pk: int):
    return await stream_slots.stream_of(
        request, visible=lambda user: FineTuneJob.objects.visible_to(user).filter(pk=pk),
        events=lambda job, after: job_events(job, after=after))
