"""The catalogue: models, datasets, papers, tools and tutorials, their likes and runtimes."""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Tag

from .querysets import ResourceQuerySet
from .validators import LIBRARY, NAME, OWNER, TASK


def search_title(repo_id: str, title: str) -> str:
    """A resource's title in search results: its repo id, then its own title if it has one."""
    return " — ".join(part for part in (repo_id, title) if part)


class ResourceKind(models.TextChoices):
    MODEL = "model", _("Model")
    DATASET = "dataset", _("Dataset")
    PAPER = "paper", _("Paper")
    TOOL = "tool", _("Tool")
    TUTORIAL = "tutorial", _("Tutorial")


class Resource(models.Model):
    Kind = ResourceKind

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    owner = models.CharField(_("owner"), max_length=100, validators=[OWNER])
    name = models.CharField(_("name"), max_length=100, validators=[NAME])
    repo_id = models.CharField(max_length=201, editable=False)
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="resources",
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    card = models.TextField(_("card"), blank=True)
    card_html = models.TextField(editable=False, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="resources")
    task = models.CharField(_("task"), max_length=60, blank=True, db_index=True,
                            validators=[TASK])  # shown inside copyable code
    license = models.CharField(_("license"), max_length=60, blank=True, db_index=True)
    library = models.CharField(_("library"), max_length=60, blank=True, db_index=True,
                               validators=[LIBRARY])
    parameters = models.BigIntegerField(_("parameters"), null=True, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    arxiv_id = models.CharField(_("arXiv id"), max_length=20, blank=True)
    homepage = models.URLField(_("homepage"), blank=True)
    code_url = models.URLField(_("code"), blank=True)
    paper_url = models.URLField(_("paper"), blank=True)
    likes = models.PositiveIntegerField(default=0)
    # Clients that fetched a file of it (per client and HUB_DOWNLOAD_WINDOW_S: see hf_api/files.py).
    downloads = models.PositiveBigIntegerField(default=0)
    # A draft (a fine-tuned model its owner has not published yet) is seen, listed and run only
    # by its submitter and moderators; everything else is published.
    is_published = models.BooleanField(_("published"), default=True)
    # Taken back to a draft by a moderator: only a moderator publishes it again.
    is_taken_down = models.BooleanField(_("taken down"), default=False)
    # Its takedown hid its discussion (which was shown): publishing it again shows it again.
    takedown_hid_discussion = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    thread = models.OneToOneField(
        "community.Thread", null=True, blank=True, on_delete=models.SET_NULL, related_name="resource"
    )
    related = models.ManyToManyField("self", through="Relation", symmetrical=False, blank=True,
                                     related_name="+")

    objects = ResourceQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "repo_id"], name="resource_repo_id_unique"),
            models.CheckConstraint(
                condition=Q(kind__in=ResourceKind.values),
                name="resource_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(parameters__isnull=True) | Q(parameters__gte=0),
                name="resource_parameters_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "-likes"]),
            models.Index(fields=["owner"]),
            # The list orderings, so a page is an index walk rather than a sort of every row.
            models.Index(fields=["-likes", "-id"], name="resource_likes_order"),
            models.Index(fields=["-created_at", "-id"], name="resource_created_order"),
            models.Index(fields=["-updated_at", "-id"], name="resource_updated_order"),
        ]

    def __str__(self) -> str:
        return self.repo_id

    def save(self, *args, **kwargs) -> None:
        self.repo_id = f"{self.owner}/{self.name}"
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("models_hub:detail", args=[self.kind, self.owner, self.name])

    @classmethod
    def max_length(cls, field: str) -> int:
        """A text field's limit, for the forms, the API and the card parser that fill it."""
        return cls._meta.get_field(field).max_length


class Relation(models.Model):
    """A directed link (a model trained on a dataset, a tool implementing a paper)."""

    class Kind(models.TextChoices):
        TRAINED_ON = "trained_on", _("trained on")
        BASE_MODEL = "base_model", _("fine-tuned from")
        IMPLEMENTS = "implements", _("implements")
        TEACHES = "teaches", _("teaches")
        RELATED = "related", _("related to")

    source = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="outgoing")
    target = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="incoming")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.RELATED)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="relation_once"),
            models.CheckConstraint(condition=~Q(source=models.F("target")), name="relation_not_self"),
        ]


class Like(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="like_set")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "resource"], name="one_like_per_user_resource"),
        ]


class RuntimeBackend(models.TextChoices):
    EMBEDDED = "embedded", _("Built-in engine")
    OPENAI = "openai", _("OpenAI-compatible server")


class Runtime(models.Model):
    """How a model runs. Staff only: no member-supplied path, URL or code reaches a worker.

    `embedded` runtimes load the model into the platform's own engine from `source`/`location`;
    `openai` runtimes send jobs to an OpenAI-compatible server (vLLM, SGLang, TGI, llama.cpp,
    Ollama, `transformers serve`) at `base_url`, serving `served_model`.
    """

    Backend = RuntimeBackend

    class Source(models.TextChoices):
        HUB = "hub", _("Hugging Face hub id")
        LOCAL = "local", _("Local directory")
        PACKAGE = "package", _("GGUF file in an installed package")
        REPO = "repo", _("This site's repository at a revision")

    resource = models.OneToOneField(Resource, on_delete=models.CASCADE, related_name="runtime")
    backend = models.CharField(max_length=10, choices=RuntimeBackend.choices, default=RuntimeBackend.EMBEDDED)
    source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    location = models.CharField(
        max_length=300, blank=True, help_text=_("Hub id, directory, or Python package name.")
    )
    gguf_file = models.CharField(max_length=200, blank=True)
    base_url = models.URLField(_("base URL"), blank=True,
                               help_text=_("The server's OpenAI API root, e.g. http://gpu-1:8000/v1"))
    served_model = models.CharField(_("served model name"), max_length=200, blank=True)
    api_key_env = models.CharField(
        _("API key variable"), max_length=100, blank=True,
        validators=[RegexValidator(r"^[A-Z_][A-Z0-9_]*$", _("An environment variable name, e.g. VLLM_API_KEY."))],
        help_text=_("The name of the environment variable holding the server's key (never the key)."),
    )
    upstream_params = models.JSONField(
        default=list, blank=True,
        help_text=_("Sampling parameters the server takes beyond OpenAI's own, e.g. "
                    "[\"top_k\", \"repetition_penalty\", \"min_tokens\"] for vLLM."),
    )
    revision = models.CharField(max_length=40, blank=True,
                                help_text=_("For a repository runtime: the commit whose files are loaded."))
    base = models.ForeignKey(Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="adapters",
                             help_text=_("For an adapter (LoRA): the runnable model it is applied to."))
    context_length = models.PositiveIntegerField(default=2048)
    max_new_tokens = models.PositiveIntegerField(default=1024)
    default_params = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(backend=RuntimeBackend.EMBEDDED) & ~Q(source="")
                           & (~Q(location="") | Q(source="repo", revision__regex=r"^[0-9a-f]{40}$")))
                | (Q(backend=RuntimeBackend.OPENAI) & ~Q(base_url="") & ~Q(served_model="")),
                name="runtime_backend_configured",
            ),
        ]

    def __str__(self) -> str:
        return f"runtime of {self.resource.repo_id}"

    def clean(self) -> None:
        required = {RuntimeBackend.EMBEDDED: ("source", "revision" if self.source == self.Source.REPO else "location"),
                    RuntimeBackend.OPENAI: ("base_url", "served_model")}.get(self.backend, ())
        missing = {name: [_("Required for this backend.")] for name in required if not getattr(self, name)}
        if missing:
            raise ValidationError(missing)

    def spec(self) -> dict:
        """What the engine needs to load the model, as plain data."""
        if self.source == self.Source.REPO:  # the resource's own files at a commit
            spec = {"source": self.source, "location": f"{self.resource.kind}/{self.resource.repo_id}",
                    "revision": self.revision, "gguf_file": self.gguf_file}
        else:
            spec = {"source": self.source, "location": self.location, "gguf_file": self.gguf_file}
        if self.base_id is not None:
            spec["base"] = self.base.runtime.spec()
        return spec

    @property
    def queue_owner(self) -> Resource:
        """The model whose worker queue runs this runtime's jobs: an adapter's base (the worker
        that serves the base model serves its adapters too), else the model itself."""
        return self.base if self.base_id is not None else self.resource


from .repos.models import Blob, Commit, Entry  # noqa: E402,F401  (registers the repository models)
