"""ASGI entry point: server-sent event streams are async views, so one process holds many."""
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)  # as django.core.asgi.get_asgi_application, whose handler this replaces

from core.asgi import ASGIHandler, BodyLimit  # noqa: E402  (after the settings are configured)

django_application = ASGIHandler()
# Send streamed parts (repository downloads yield 4 MiB) as they come, not cut into 64 KiB messages.
django_application.chunk_size = 4 * 2**20

# Each path's limit: MAX_REQUEST_BODY_BYTES, or MAX_UPLOAD_BYTES on UPLOAD_PATH_PATTERNS.
application = BodyLimit(django_application)
