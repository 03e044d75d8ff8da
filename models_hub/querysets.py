"""Reads for the catalogue: visible lists, filters, orderings, trending, facets."""
from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Tag

FILTERS = ("kind", "task", "license", "library")
ORDERINGS = {
    "-likes": ("-likes", "-id"),
    "-downloads": ("-downloads", "-id"),
    "-created": ("-created_at", "-id"),
    "-updated": ("-updated_at", "-id"),
    "name": ("name", "id"),
}
FILTER_LOOKUPS = {**{field: field for field in FILTERS}, "tag": "tags__name", "author": "owner"}  # param -> lookup
RUNNABLE = "runnable"  # ?runnable=1: only what runs in the playground (Hugging Face's "Inference available")
FILTER_PARAMS = (*FILTER_LOOKUPS, RUNNABLE)
SORTS = ["-likes", "-downloads", "trending", "-created", "-updated", "name"]  # what the list and API accept


class ResourceQuerySet(models.QuerySet):
    def for_list(self, viewer=None) -> "ResourceQuerySet":
        """With tags, and `is_runnable` as `runnable(viewer)` has it (one subquery for the list)."""
        return self.prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name"))).annotate(
            is_runnable=Exists(self.model.objects.runnable(viewer).filter(pk=OuterRef("pk")))
        )

    def visible_to(self, user) -> "ResourceQuerySet":
        """Published resources, and the drafts `user` submitted; moderators see every draft."""
        if user is not None and user.is_authenticated and user.is_staff:
            return self.all()
        if user is not None and user.is_authenticated:
            return self.filter(Q(is_published=True) | Q(submitter=user))
        return self.filter(is_published=True)

    def runnable(self, viewer=None) -> "ResourceQuerySet":
        """Models that run, as `viewer` may see them (without one: published models only). An
        adapter runs its base's weights: it runs only while its base does for the same viewer, so
        a base taken down or switched off is not served on through its adapters."""
        models = self.model.objects.visible_to(viewer).filter(kind=self.model.Kind.MODEL, runtime__enabled=True)
        return self.visible_to(viewer).filter(kind=self.model.Kind.MODEL, runtime__enabled=True).filter(
            Q(runtime__base__isnull=True) | Q(runtime__base__in=models.filter(runtime__base__isnull=True)))

    def filtered(self, params, *, ignoring: str | None = None, viewer=None) -> "ResourceQuerySet":
        """The filters chosen in `params`, all but the one named `ignoring`; `runnable` as
        `runnable(viewer)` has it."""
        if any("\x00" in (params.get(name) or "") for name in FILTER_PARAMS):
            return self.none()  # nothing holds a NUL, and PostgreSQL refuses to compare one
        qs = self
        for name, lookup in FILTER_LOOKUPS.items():
            if params.get(name) and name != ignoring:
                qs = qs.filter(**{lookup: params[name]})
        if params.get(RUNNABLE) in ("1", "true") and ignoring != RUNNABLE:
            qs = qs.filter(pk__in=self.model.objects.runnable(viewer).values("pk"))
        return qs

    def trending(self, days: int = 7) -> "ResourceQuerySet":
        since = timezone.now() - timedelta(days=days)
        return self.annotate(
            recent_likes=Count("like_set", filter=Q(like_set__created_at__gte=since))
        ).order_by("-recent_likes", "-likes", "-id")

    def ordered(self, ordering: str | None) -> "ResourceQuerySet":
        if ordering == "trending":
            return self.trending()
        return self.order_by(*ORDERINGS.get(ordering or "", ORDERINGS["-likes"]))

    def liked_by(self, user) -> "ResourceQuerySet":
        if not user.is_authenticated:
            return self.annotate(liked=models.Value(False))
        likes = self.model._meta.get_field("like_set").related_model.objects
        return self.annotate(liked=Exists(likes.filter(resource=OuterRef("pk"), user=user)))

    def facet_counts(self, params, viewer=None) -> dict[str, list[tuple[str, int]]]:
        """Counts for each filter's values, one query per facet. A facet counts under every
        filter chosen but its own, so that with "Kind: Model" chosen the other kinds still show
        how many they hold, one click away (as the Hugging Face Hub's sidebar does); a chosen
        value outside its facet's top rows is listed too, so it can be unchosen there."""
        runs = self.filtered(params, ignoring=RUNNABLE, viewer=viewer).filtered({RUNNABLE: "1"}, viewer=viewer).count()
        facets = {RUNNABLE: [("1", runs)] if runs else []}
        matching = None  # how many match every filter: counted once, when first needed
        for name, top in (*((field, 15) for field in FILTERS), ("tag", 20)):
            lookup = FILTER_LOOKUPS[name]
            rows = list(self.filtered(params, ignoring=name, viewer=viewer).exclude(**{lookup: ""})
                        .exclude(**{lookup: None})
                        .order_by().values_list(lookup).annotate(n=Count("id")).order_by("-n", lookup)[:top])
            chosen = params.get(name)
            if chosen and chosen not in (value for value, _n in rows):
                matching = self.filtered(params, viewer=viewer).count() if matching is None else matching
                rows.append((chosen, matching))
            facets[name] = rows
        return facets


def related_of(resource, user) -> list[tuple[object, str]]:
    """Related resources in both directions that `user` may see (a fine-tune draft's card names
    its base model: the base's page must not show the draft), each with the relation named from
    this side."""
    kinds = resource.outgoing.model.Kind
    reverse_names = {
        kinds.TRAINED_ON: _("used to train"), kinds.BASE_MODEL: _("base of"),
        kinds.IMPLEMENTS: _("implemented by"), kinds.TEACHES: _("taught by"), kinds.RELATED: _("related to"),
    }
    visible = type(resource).objects.visible_to(user).values("pk")
    links = resource.outgoing.filter(target__in=visible).select_related("target")
    backlinks = resource.incoming.filter(source__in=visible).select_related("source")
    return ([(r.target, r.get_kind_display()) for r in links]
            + [(r.source, reverse_names[r.kind]) for r in backlinks])
