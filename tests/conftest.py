import pytest
import redis
from rest_framework.test import APIClient

from core.services import create_token

from .factories import CategoryFactory, StaffFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop in the main thread for as
    long as its browser lives, and Django's test client cannot call async views beside it."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


def pytest_configure(config):
    from django.conf import settings

    # Fast hashing for passwords made in this process; live servers keep the real hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    # Jobs this process runs beat as often as a live stack's worker does: that worker's reaper
    # shares the test database and takes a job silent for 6 s for dead (see tests/live.py), so a
    # slow load under a parallel run must not look like a dead worker's.
    settings.PLAYGROUND_HEARTBEAT_S = settings.EVALUATION_HEARTBEAT_S = settings.FINETUNE_HEARTBEAT_S = 1
    _retry_flush_on_deadlock()


def _retry_flush_on_deadlock() -> None:
    """A transactional test ends with one TRUNCATE of every table. The live stack's worker reads
    the same database meanwhile (its reapers every two seconds), and PostgreSQL may settle the
    lock-order clash by aborting the TRUNCATE as a deadlock: try it again, as the reaper would."""
    import time

    from django.core.management.commands import flush
    from django.db import OperationalError

    handle = flush.Command.handle

    def handle_with_retries(self, *args, **options):
        for attempt in range(5):
            try:
                return handle(self, *args, **options)
            except Exception as exc:  # flush wraps the error in a CommandError
                cause = exc.__cause__
                if attempt == 4 or not (isinstance(cause, OperationalError) and "deadlock" in str(cause)):
                    raise
                time.sleep(0.2)

    flush.Command.handle = handle_with_retries


@pytest.fixture(autouse=True)
def _fast_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "10000/min"}}
    from django.core.cache import cache

    cache.clear()  # local-memory stores outlive a settings change; start each test empty


@pytest.fixture(autouse=True)
def hub_files(settings, tmp_path):
    """Each test's repository files in a directory of its own (the filesystem storage)."""
    root = tmp_path / "hub-files"
    settings.STORAGES = {**settings.STORAGES, "hub": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(root)}}}
    uploads = tmp_path / "hub-uploads"
    uploads.mkdir()
    settings.HUB_UPLOAD_TMP_DIR = str(uploads)
    settings.FILE_UPLOAD_TEMP_DIR = str(uploads)
    return root


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def staff(db):
    return StaffFactory()


@pytest.fixture
def category(db):
    return CategoryFactory(slug="general", name="General")


@pytest.fixture
def api():
    return APIClient()


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        _token, key = create_token(user=user, name="test")
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def as_user(user):
    return client_for(user)


@pytest.fixture
def as_other(other_user):
    return client_for(other_user)


@pytest.fixture
def as_staff(staff):
    return client_for(staff)


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """uvicorn + a Celery worker on the test database, for the whole session."""
    # Convert the demo model once up front, so the worker's first load is quick.
    from pathlib import Path

    from django.conf import settings

    from playground.engine.loading import model_directory

    from .live import LiveStack
    from .playground.conftest import SMOLLM_SPEC

    model_directory(SMOLLM_SPEC, cache_dir=Path(settings.MODEL_CACHE_DIR))
    with django_db_blocker.unblock():
        stack = LiveStack(tmp_path_factory.mktemp("live")).start()
        yield stack
        stack.stop()


@pytest.fixture
def lose_the_broker_on_commit(monkeypatch):
    """The broker check passes, then the broker is gone when the submit's rows are queued on
    commit: `lose_the_broker_on_commit(services_module)` makes that module's `enqueue` fail. Use
    it with django_db(transaction=True), so that the rows are queued when the request commits."""
    def lose(services) -> None:
        def lost_broker(row):
            raise redis.ConnectionError("gone")

        monkeypatch.setattr(services, "enqueue", lost_broker)
    return lose
