"""ASGI entry point: server-sent event streams are async views, so one process holds many."""
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()
# Send streamed parts (repository downloads yield 4 MiB) as they come, not cut into 64 KiB messages.
django_application.chunk_size = 4 * 2**20

from core.asgi import BodyLimit  # noqa: E402  (after the app, which configures settings)

# Each path's limit: MAX_REQUEST_BODY_BYTES, or MAX_UPLOAD_BYTES on UPLOAD_PATH_PATTERNS.
application = BodyLimit(django_application)
