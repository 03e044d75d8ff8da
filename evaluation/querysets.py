"""Reads for suites and evaluation runs."""
from __future__ import annotations

from django.db import models

from models_hub.models import Resource


class RunQuerySet(models.QuerySet):
    def succeeded(self) -> "RunQuerySet":
        return self.filter(status=self.model.Status.SUCCEEDED)

    def visible_to(self, user) -> "RunQuerySet":
        """Runs of models and datasets `user` may see: a member's drafts, and their runs, are theirs
        (and the moderators') until published."""
        visible = Resource.objects.visible_to(user)
        return self.filter(model__in=visible, suite__dataset__in=visible)

    def requested_by(self, user) -> "RunQuerySet":
        """The runs `user` asked for, the newest first (none for a visitor)."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(user=user).order_by("-created_at", "-id")

    def with_names(self) -> "RunQuerySet":
        return self.select_related("model", "suite__dataset", "user")

    def for_leaderboard(self, suite) -> "RunQuerySet":
        """The succeeded runs of a suite, each model's newest first (the caller keeps one per
        model: its latest result; the row shows the dataset revision it was measured at). Published
        models only: a draft is not ranked in public."""
        return (self.succeeded().filter(suite=suite, model__is_published=True)
                .select_related("model").order_by("model_id", "-finished_at", "-id"))

    def for_model(self, model) -> "RunQuerySet":
        """The model's results on published suites (its page is public: a draft dataset's name and
        scores are its owner's until it is published)."""
        return (self.succeeded().filter(model=model, suite__dataset__is_published=True)
                .select_related("suite__dataset").order_by("-finished_at", "-id"))


class SuiteQuerySet(models.QuerySet):
    def visible_to(self, user) -> "SuiteQuerySet":
        """Suites of datasets `user` may see: a draft's suite is its owner's (and moderators')."""
        return self.filter(dataset__in=Resource.objects.visible_to(user))

    def listed(self) -> "SuiteQuerySet":
        """Suites with a valid declaration, with their succeeded runs of published models counted."""
        succeeded = models.Q(runs__status="succeeded", runs__model__is_published=True)
        return (self.exclude(spec={}).filter(error={}).select_related("dataset")
                .annotate(run_count=models.Count("runs", filter=succeeded)).order_by("-run_count", "dataset__owner",
                                                                                       "dataset__name"))
