from __future__ import annotations

from rest_framework import serializers

from models_hub.models import Resource

from .models import EvaluationRun, EvaluationSample, Suite


class RunCreateSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=201, help_text="repo_id of a runnable catalogue model")
    suite = serializers.CharField(max_length=201, help_text="repo_id of a dataset that declares a suite")

    def _visible(self):
        """What the caller may see: another member's draft is no model of theirs to run."""
        return Resource.objects.visible_to(self.context["request"].user)

    def validate_model(self, value: str) -> Resource:
        model = self._visible().filter(kind=Resource.Kind.MODEL, repo_id=value).select_related("runtime").first()
        if model is None:
            raise serializers.ValidationError("No such model.")
        return model

    def validate_suite(self, value: str) -> Resource:
        dataset = self._visible().filter(kind=Resource.Kind.DATASET, repo_id=value).first()
        if dataset is None:
            raise serializers.ValidationError("No such dataset.")
        return dataset


class RunSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.repo_id")
    suite = serializers.CharField(source="suite.repo_id")
    user = serializers.CharField(source="user.username")
    progress = serializers.JSONField()
    url = serializers.CharField(source="get_absolute_url")
    thread = serializers.SerializerMethodField()

    class Meta:
        model = EvaluationRun
        fields = ["id", "model", "suite", "user", "status", "progress", "metrics", "config", "versions",
                  "dataset_revision", "model_revision", "error", "tokens", "duration_s", "created_at",
                  "started_at", "finished_at", "url", "thread"]

    def get_thread(self, run: EvaluationRun) -> str | None:
        return run.thread.get_absolute_url() if run.thread_id else None


class SampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvaluationSample
        fields = ["task", "index", "input", "prediction", "reference", "score"]


class SuiteSerializer(serializers.ModelSerializer):
    suite = serializers.CharField(source="dataset.repo_id")
    tasks = serializers.ListField(source="task_names", child=serializers.CharField())
    runs = serializers.IntegerField(source="run_count")
    url = serializers.CharField(source="get_absolute_url")

    class Meta:
        model = Suite
        fields = ["suite", "title", "tasks", "runs", "revision", "url"]


class DiscussSerializer(serializers.Serializer):
    category = serializers.SlugField(required=False, allow_unicode=True)
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)


def leaderboard_payload(suite: Suite, cols, by, rows) -> dict:
    return {
        "suite": suite.repo_id, "title": suite.title, "revision": suite.revision,
        "columns": [{"key": c.key, "task": c.task, "metric": c.metric, "higher_is_better": c.higher_is_better}
                    for c in cols],
        "ordering": by.key if by else None,
        "results": [{"rank": row.rank, "model": row.run.model.repo_id, "run": row.run.pk,
                     "samples": f"/api/v1/evaluations/{row.run.pk}/samples/", "url": row.run.get_absolute_url(),
                     "dataset_revision": row.run.dataset_revision, "older_data": row.older_data,
                     "metrics": row.run.metrics} for row in rows],
    }
