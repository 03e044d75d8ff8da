"""Load the demo catalogue (idempotent): resources, their links, the runnable demo model."""
from __future__ import annotations

from django.contrib.auth import get_user_model

from .demo_catalogue import RELATIONS, RESOURCES, TUTORIALS
from .models import Relation, Resource, Runtime
from .services import save_resource


def seed_catalogue() -> int:
    """Returns how many resources the catalogue holds; the demo entries belong to the first
    superuser (the demo `admin`), or to nobody."""
    submitter = get_user_model().objects.filter(is_superuser=True).order_by("pk").first()
    for spec in RESOURCES + TUTORIALS:
        spec = dict(spec)
        runtime = spec.pop("runtime", None)
        existing = Resource.objects.filter(kind=spec["kind"], owner=spec["owner"], name=spec["name"]).first()
        resource = existing or save_resource(user=None, data={**spec, "submitter": submitter})
        if runtime:
            Runtime.objects.update_or_create(resource=resource, defaults=runtime)
    for source, target, kind in RELATIONS:
        src = Resource.objects.filter(repo_id=source).first()
        dst = Resource.objects.filter(repo_id=target).first()
        if src and dst:
            Relation.objects.get_or_create(source=src, target=dst, kind=kind)
    return Resource.objects.count()
