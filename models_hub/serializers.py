from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import MAX_TAGS, TAG_MAX_LENGTH

from .models import Resource
from .querysets import related_of
from .validators import (
    ARXIV_ID_PATTERN,
    LANGUAGE_CODE_MAX_LENGTH,
    LIBRARY,
    MAX_LANGUAGES,
    MAX_PARAMETERS,
    NAME,
    TASK,
)


class LinksSerializer(serializers.Serializer):
    homepage = serializers.URLField(max_length=Resource.max_length("homepage"), required=False, allow_blank=True)
    code = serializers.URLField(max_length=Resource.max_length("code_url"), required=False, allow_blank=True)
    paper = serializers.URLField(max_length=Resource.max_length("paper_url"), required=False, allow_blank=True)


class ResourceSerializer(serializers.ModelSerializer):
    tags = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()
    runnable = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    private = serializers.SerializerMethodField(help_text="A draft: only its owner and moderators see it.")

    class Meta:
        model = Resource
        fields = ["id", "kind", "repo_id", "owner", "name", "title", "summary", "tags", "task",
                  "license", "library", "parameters", "languages", "arxiv_id", "links", "likes",
                  "downloads", "created_at", "updated_at", "runnable", "url", "private"]

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, obj: Resource) -> list[str]:
        return [t.name for t in obj.tags.all()]

    @extend_schema_field(LinksSerializer)
    def get_links(self, obj: Resource) -> dict:
        return {"homepage": obj.homepage, "code": obj.code_url, "paper": obj.paper_url}

    def get_runnable(self, obj: Resource) -> bool:
        return bool(getattr(obj, "is_runnable", False))

    def get_url(self, obj: Resource) -> str:
        return obj.get_absolute_url()

    def get_private(self, obj: Resource) -> bool:
        return not obj.is_published


class RelatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    repo_id = serializers.CharField()
    title = serializers.CharField()
    relation = serializers.CharField()
    url = serializers.CharField()


class ResourceDetailSerializer(ResourceSerializer):
    related = serializers.SerializerMethodField()
    thread = serializers.SerializerMethodField()
    liked = serializers.BooleanField(read_only=True, default=False)

    class Meta(ResourceSerializer.Meta):
        fields = ResourceSerializer.Meta.fields + ["card", "card_html", "related", "thread", "liked"]

    @extend_schema_field(RelatedSerializer(many=True))
    def get_related(self, obj: Resource) -> list[dict]:
        return [
            {"id": r.pk, "kind": r.kind, "repo_id": r.repo_id, "title": r.title,
             "relation": relation, "url": r.get_absolute_url()}
            for r, relation in related_of(obj, getattr(self.context.get("request"), "user", None))
        ]

    @extend_schema_field(serializers.DictField(allow_null=True))
    def get_thread(self, obj: Resource) -> dict | None:
        if not obj.thread_id:
            return None
        return {"id": obj.thread_id, "url": obj.thread.get_absolute_url(),
                "reply_count": obj.thread.reply_count}


class ResourceWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Resource.Kind.choices)
    owner = serializers.CharField(max_length=Resource.max_length("owner"), required=False, validators=[NAME],
                                  help_text="Staff only; members publish under their username. Fixed "
                                            "after publishing, except by staff before a runtime exists.")
    name = serializers.CharField(max_length=Resource.max_length("name"), validators=[NAME])
    title = serializers.CharField(max_length=Resource.max_length("title"))
    summary = serializers.CharField(max_length=Resource.max_length("summary"), required=False, allow_blank=True)
    card = serializers.CharField(max_length=settings.MARKDOWN_MAX_LENGTH, required=False, allow_blank=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=TAG_MAX_LENGTH), max_length=MAX_TAGS,
                                 required=False)
    task = serializers.CharField(max_length=Resource.max_length("task"), required=False, allow_blank=True, validators=[TASK])
    license = serializers.CharField(max_length=Resource.max_length("license"), required=False, allow_blank=True)
    library = serializers.CharField(max_length=Resource.max_length("library"), required=False, allow_blank=True,
                                    validators=[LIBRARY])
    parameters = serializers.IntegerField(min_value=0, max_value=MAX_PARAMETERS, required=False,
                                          allow_null=True)
    languages = serializers.ListField(child=serializers.CharField(max_length=LANGUAGE_CODE_MAX_LENGTH),
                                      required=False, max_length=MAX_LANGUAGES)
    arxiv_id = serializers.RegexField(ARXIV_ID_PATTERN, max_length=Resource.max_length("arxiv_id"), required=False,
                                      allow_blank=True)
    links = LinksSerializer(required=False)
    private = serializers.BooleanField(required=False, default=False,
                                       help_text="Creating only: a draft that only its owner and moderators see "
                                                 "until it is published (POST …/publish/).")

    def to_model_fields(self) -> dict:
        data = dict(self.validated_data)
        links = data.pop("links", None) or {}
        for key, field in (("homepage", "homepage"), ("code", "code_url"), ("paper", "paper_url")):
            if key in links:
                data[field] = links[key]
        return data


class ResourceUpdateSerializer(ResourceWriteSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["private"]  # a draft is published by …/publish/; a published one stays public
        for field in self.fields.values():
            field.required = False


class LikeResultSerializer(serializers.Serializer):
    likes = serializers.IntegerField()
    liked = serializers.BooleanField()
