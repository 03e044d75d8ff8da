import pytest
from rest_framework.test import APIClient

from community.authentication import create_token

from .factories import CategoryFactory, StaffFactory, UserFactory


def pytest_configure(config):
    from django.conf import settings

    # Fast hashing for passwords made in this process; live servers keep the real hashers.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"anon": "10000/min", "user": "10000/min"}}


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
