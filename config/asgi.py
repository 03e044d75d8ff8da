"""ASGI entry point: server-sent event streams are async views, so one process holds many."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application, whose handler this replaces

from core.asgi import ASGIHandler, BodyLimit, Refusal, credentials_required  # noqa: E402  (settings first)
from models_hub.hf_api.upload import lfs_upload_guard  # noqa: E402

django_application = ASGIHandler()
# Send streamed parts (repository downloads yield 4 MiB) as they come, not cut into 64 KiB messages.
django_application.chunk_size = 4 * 2**20


async def upload_guard(scope: dict) -> Refusal | int | None:
    """Before an upload's body is read: an LFS upload answers to its signed URL, the other upload
    paths to valid credentials."""
    verdict = lfs_upload_guard(scope)
    return await credentials_required(scope) if verdict is None else verdict


# Each path's limit: MAX_REQUEST_BODY_BYTES, or MAX_UPLOAD_BYTES on UPLOAD_PATH_PATTERNS.
application = BodyLimit(django_application, guard=upload_guard)
