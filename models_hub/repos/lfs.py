"""Who may commit which LFS object, and what upload URLs granted but not yet committed hold of a
member's quota (`LfsGrant`). A repository's LFS objects are its own, as on Git LFS servers: an
object stored for someone else is committed only by a member who sends its bytes."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from .models import Entry, LfsGrant


def _live_since():
    return timezone.now() - timedelta(seconds=settings.HUB_LFS_URL_TTL_S + settings.HUB_BLOB_GRACE_S)


def may_commit(*, user, resource, sha256: str) -> bool:
    """Whether `user` may commit this stored content to `resource` (a Resource or its id) by its
    hash alone: it is in one of their own repositories or in this one, or they sent its bytes lately."""
    held = Entry.objects.filter(blob__sha256=sha256).filter(
        Q(commit__resource__submitter=user) | Q(commit__resource=resource)).exists()
    return held or LfsGrant.objects.filter(user=user, sha256=sha256, uploaded_at__isnull=False,
                                           created_at__gte=_live_since()).exists()


def pending_bytes(user) -> int:
    """The sizes of the objects `user` may still upload or has uploaded but not yet committed."""
    live = LfsGrant.objects.filter(user=user, created_at__gte=_live_since())
    return live.aggregate(n=Sum("size"))["n"] or 0


def grant(*, user, sizes: dict[str, int]) -> None:
    """Upload URLs for these objects (sha256: size), in one statement."""
    now = timezone.now()
    LfsGrant.objects.bulk_create([LfsGrant(user=user, sha256=sha256, size=size, created_at=now)
                                  for sha256, size in sizes.items()],
                                 update_conflicts=True, unique_fields=["user", "sha256"],
                                 update_fields=["size", "created_at", "uploaded_at"])


def uploaded(*, user_id: int, sha256: str, size: int) -> None:
    """`user_id` sent the bytes of this content (checked against its hash)."""
    LfsGrant.objects.update_or_create(user_id=user_id, sha256=sha256,
                                      defaults={"size": size, "uploaded_at": timezone.now()})


def committed(*, user, sha256s: list[str]) -> None:
    """These objects are in a commit now: they count in the quota as committed files instead."""
    LfsGrant.objects.filter(user=user, sha256__in=sha256s).delete()


def forget_old() -> int:
    """Grants whose URLs and grace have passed (the blob sweep calls this)."""
    return LfsGrant.objects.filter(created_at__lt=_live_since()).delete()[0]
