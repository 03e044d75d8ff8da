"""The Redis cache behind throttles and stream slots: one connection pool per process."""
import threading

import pytest
from django.conf import settings as django_settings

from core.cache import FailOpenRedisCache

pytestmark = pytest.mark.skipif(not django_settings.REDIS_URL, reason="needs Redis (server mode)")


def test_cache_objects_of_different_threads_share_one_connection():
    # Django builds a cache object per thread and per async request context: each request's.
    clients = []

    def one_request() -> None:
        cache = FailOpenRedisCache(django_settings.REDIS_URL, {"OPTIONS": {"socket_timeout": 0.5}})
        cache.set("test-cache:shared", 1)
        clients.append(cache._cache.get_client(write=True))

    for _ in range(5):
        thread = threading.Thread(target=one_request)
        thread.start()
        thread.join()
    assert len({id(client) for client in clients}) == 1
    pool = clients[0].connection_pool
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1


def test_caches_with_other_options_get_pools_of_their_own():
    quick = FailOpenRedisCache(django_settings.REDIS_URL, {"OPTIONS": {"socket_timeout": 0.5}})
    patient = FailOpenRedisCache(django_settings.REDIS_URL, {"OPTIONS": {"socket_timeout": 5}})
    assert quick._cache.get_client(write=True) is not patient._cache.get_client(write=True)
