"""Thin DRF views for the catalogue."""
from __future__ import annotations

import re

from django.db.models import Q
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from core import search
from core.pagination import StandardPagination

from . import services
from .models import Resource
from .querysets import SORTS
from .serializers import (
    LikeResultSerializer,
    ResourceDetailSerializer,
    ResourceSerializer,
    ResourceUpdateSerializer,
    ResourceWriteSerializer,
)

PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,17}")


class ResourcePagination(StandardPagination):
    """A `page` that is not a positive number is bad input (400 naming it), not a missing page."""

    def paginate_queryset(self, queryset, request, view=None):
        page = request.query_params.get(self.page_query_param)
        if page is not None and page not in self.last_page_strings and not PAGE_NUMBER.fullmatch(page):
            raise ValidationError({"page": ["Must be a positive whole number."]})
        return super().paginate_queryset(queryset, request, view)


@extend_schema(parameters=[
    OpenApiParameter("kind", str, enum=Resource.Kind.values), OpenApiParameter("task", str),
    OpenApiParameter("tag", str), OpenApiParameter("license", str),
    OpenApiParameter("library", str), OpenApiParameter("author", str), OpenApiParameter("q", str),
    OpenApiParameter("runnable", str, enum=["true", "1"], description="Only what runs in the playground."),
    OpenApiParameter("ordering", str, enum=SORTS),
])
class ResourceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    pagination_class = ResourcePagination

    def get_serializer_class(self):
        return ResourceDetailSerializer if self.action == "retrieve" else ResourceSerializer

    def get_queryset(self):
        resources = Resource.objects.for_list(self.request.user).visible_to(self.request.user)
        if self.action == "retrieve":
            return resources.select_related("thread").liked_by(self.request.user)
        if self.action != "list":
            return resources
        params = self.request.query_params
        if params.get("kind") and params["kind"] not in Resource.Kind.values:
            raise ValidationError({"kind": [f"Must be one of {', '.join(Resource.Kind.values)}."]})
        if params.get("ordering") and params["ordering"] not in SORTS:
            raise ValidationError({"ordering": [f"Must be one of {', '.join(SORTS)}."]})
        resources = resources.filtered(params, viewer=self.request.user)
        if params.get("q"):
            if refusal := search.query_too_long(params["q"]):
                raise ValidationError({"q": [refusal]})
            ids = search.matching(params["q"], kinds=[search.Kind.RESOURCE]).values("object_id")
            resources = resources.filter(Q(pk__in=ids))
        return resources.ordered(params.get("ordering"))

    @extend_schema(request=ResourceWriteSerializer, responses={201: ResourceDetailSerializer})
    def create(self, request):
        if not request.user.is_authenticated:
            self.permission_denied(request)
        data = ResourceWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        resource = services.save_resource(user=request.user, data=data.to_model_fields())
        return Response(self._detail(resource), status=status.HTTP_201_CREATED)

    @extend_schema(request=ResourceUpdateSerializer, responses=ResourceDetailSerializer)
    def partial_update(self, request, pk=None):
        resource = self.get_object()
        data = ResourceUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        resource = services.save_resource(user=request.user, data=data.to_model_fields(), resource=resource)
        return Response(self._detail(resource))

    def destroy(self, request, pk=None):
        try:
            services.delete_resource(user=request.user, resource=self.get_object())
        except services.ResourceInUse as exc:
            return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ResourceDetailSerializer)
    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def publish(self, request, pk=None):
        """A draft (a fine-tuned model not yet published) becomes public; owner or moderator."""
        resource = services.publish_resource(user=request.user, resource=self.get_object())
        return Response(self._detail(resource))

    @extend_schema(request=None, responses=LikeResultSerializer)
    @action(detail=True, methods=["post", "delete"], permission_classes=[permissions.IsAuthenticated])
    def like(self, request, pk=None):
        resource = services.set_like(user=request.user, resource=self.get_object(),
                                     liked=request.method == "POST")
        return Response({"likes": resource.likes, "liked": resource.liked})

    def _detail(self, resource: Resource) -> dict:
        fresh = self.get_queryset().select_related("thread").liked_by(self.request.user).get(pk=resource.pk)
        return ResourceDetailSerializer(fresh, context={"request": self.request}).data
