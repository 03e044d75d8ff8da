"""Thin API views for playground jobs; the stream is an async view, so it keeps no busy thread while it waits."""
from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response

from core.api_errors import ConflictError
from core.eventlog import Event
from core.permissions import is_moderator

from . import services, stream_slots
from .answers import with_answer_html
from .events import job_events
from .models import GenerationJob
from .serializers import (JobCreateSerializer, JobSerializer, JobStatusSerializer, RunReportSerializer,
                          SharedJobSerializer, ShareSerializer, job_payload)


STREAM_DESCRIPTION = (
    "Numbered events (`id: <seq>`): `event: token` with {\"text\"} per delta, then `event: done` (or "
    "`failed`) with the job. Reconnecting with `Last-Event-ID: <seq>` (or `?last_event_id=`) resumes "
    "after that event: nothing twice, nothing lost. If the job "
    "has not finished when the stream reaches its time limit, `event: timeout` with the job (still queued "
    "or running) ends it. At most PLAYGROUND_MAX_STREAMS_PER_CLIENT streams per member (or per IP "
    "address for anonymous viewers) at once: beyond that, 429 with Retry-After.")


class JsonUnlessStreamed(DefaultContentNegotiation):
    """A client that accepts only `text/event-stream` (an SSE client submitting with `"stream":
    true`) gets what is not a stream (a 202, a 400 naming the field) as JSON, not a 406."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            return renderers[0], renderers[0].media_type


_DATE_TIME = {"type": "string", "format": "date-time"}
# The owner gets the job; a moderator stopping someone else's gets JobStatusSerializer's fields. A
# job has all of those too, so the choice is anyOf (oneOf would match both for an owner).
CANCELLED_JOB = {"anyOf": [{"$ref": "#/components/schemas/Job"}, {
    "type": "object", "description": JobStatusSerializer.__doc__,
    "properties": {"id": {"type": "integer"}, "model": {"type": "string"}, "mode": {"type": "string"},
                   "status": {"type": "string"}, "finish_reason": {"type": "string"}, "created_at": _DATE_TIME,
                   "finished_at": {**_DATE_TIME, "nullable": True}},
    "required": JobStatusSerializer.Meta.fields,
}]}


@extend_schema(parameters=[OpenApiParameter("mine", str, description="1: only my jobs")])
class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobSerializer
    permission_classes = [permissions.IsAuthenticated]
    content_negotiation_class = JsonUnlessStreamed

    def get_queryset(self):
        jobs = GenerationJob.objects.select_related("resource")
        if self.action == "cancel" and is_moderator(self.request.user):
            # Moderators may stop anyone's job (permissions.can_cancel), but not one sealed in a
            # blind battle: the answer would name its model, and that moderator may be its voter.
            return jobs.filter(sealed=False)
        # By id only the owner: ids are sequential, so shared runs are read by token instead.
        return jobs.owned_by(self.request.user)

    @extend_schema(request=JobCreateSerializer, responses={
        202: JobSerializer,
        (200, "text/event-stream"): OpenApiResponse(description="With `\"stream\": true`: an `event: job` with "
                                                                "the job, then " + STREAM_DESCRIPTION)})
    def create(self, request):
        data = JobCreateSerializer(data=request.data, context={"user": request.user})
        data.is_valid(raise_exception=True)
        v = data.validated_data
        source = GenerationJob.Source.WEB if request.data.get("source") == "web" else GenerationJob.Source.API

        def submit() -> GenerationJob:
            return services.submit_job(user=request.user, resource=v["model"], mode=v["mode"],
                                       messages=v.get("messages"), prompt=v.get("prompt", ""),
                                       params=v["params"], source=source)

        if v["stream"]:  # one request instead of a POST and a GET
            return stream_slots.submit_and_stream(
                request, submit=submit, describe=job_payload, events=lambda job: _job_events(job, 0),
                location=lambda job: reverse("job-detail", args=[job.pk]))
        return Response(job_payload(submit()), status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: CANCELLED_JOB})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        job = services.cancel_job(user=request.user, job=self.get_object())
        # A moderator stopping someone else's job learns its status, not the member's prompt.
        shown = JobSerializer if job.user_id == request.user.pk else JobStatusSerializer
        return Response(shown(job).data)

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="The job is still running, or it "
                                                                       "is an answer in an arena battle.")})
    def destroy(self, request, pk=None):
        """Delete one of my runs for good, once it has ended."""
        try:
            services.delete_job(user=request.user, job=self.get_object())
        except services.CannotDelete as exc:
            raise ConflictError(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ShareSerializer, responses=JobSerializer)
    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        data = ShareSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.set_public(user=request.user, job=self.get_object(), public=data.validated_data["public"])
        return Response(JobSerializer(job).data)


class SharedJobView(generics.RetrieveAPIView):
    """A shared run, for anyone with its link (no account needed)."""

    serializer_class = SharedJobSerializer
    permission_classes = [permissions.AllowAny]
    lookup_field = "share_token"
    lookup_url_kwarg = "token"

    def get_queryset(self):
        return GenerationJob.objects.shared(self.kwargs["token"]).select_related("resource")


class SharedJobReportView(generics.GenericAPIView):
    """Report a shared run to the moderators (signed-in members, not the run's owner)."""

    serializer_class = RunReportSerializer
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=RunReportSerializer, responses={201: RunReportSerializer, 200: RunReportSerializer})
    def post(self, request, token: str):
        job = get_object_or_404(GenerationJob.objects.shared(token))
        data = RunReportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report, created = services.report_run(user=request.user, job=job, reason=data.validated_data["reason"])
        return Response(RunReportSerializer(report).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema(responses={(200, "text/event-stream"): OpenApiResponse(description=STREAM_DESCRIPTION)})
async def stream(request, pk: int):
    """The owner's stream of one of their jobs."""
    return await stream_slots.stream_of(
        request, visible=lambda user: GenerationJob.objects.owned_by(user).filter(pk=pk).select_related("resource"),
        events=_job_events)


@extend_schema(responses={(200, "text/event-stream"): OpenApiResponse(
    description="The stream of a shared run, for anyone with its link. " + STREAM_DESCRIPTION)})
async def shared_stream(request, token: str):
    return await stream_slots.stream_of(
        request, visible=lambda user: GenerationJob.objects.shared(token).select_related("resource"), events=_job_events)


async def _job_events(job: GenerationJob, after: int):
    """The job's events for a page or an API client: the final one with its answer rendered too
    (/v1/ reads job_events itself, and renders nothing)."""
    async for event in job_events(job, after=after):
        if event.kind != "token":  # the final event, which carries the job
            event = Event(event.seq, event.kind, await with_answer_html(event.data))
        yield event
