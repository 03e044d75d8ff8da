"""A Redis cache that fails open: when Redis cannot be reached, reads miss and writes are
dropped instead of raising, so nothing that merely caches (facet counts, API throttles) turns
an outage of Redis into 500s. After a failure Redis is left alone for a few seconds, so each
request does not wait out a connection timeout; then it is tried again and recovers by itself."""
from __future__ import annotations

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
RETRY_AFTER_S = 5.0
_UNAVAILABLE = object()


class _PooledClient(RedisCacheClient):
    """One connection pool and one redis.Redis per server for the whole process. Django builds a
    cache object, hence a client and its pools, per thread and per async request context, so
    every request opened a connection of its own (a TCP handshake, redis-py's CLIENT SETINFO round
    trips and its package-version lookup, an importlib.metadata scan of sys.path) and every cache
    call made a new redis.Redis. redis.Redis is thread-safe and its pool is fork-safe."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Once per client, not per cache call; repr: an option's value need not be hashable.
        self._options_key = (self._pool_class, repr(sorted(self._pool_options.items(), key=lambda option: option[0])))

    def _get_connection_pool(self, write):
        return self._shared(write)[0]

    def get_client(self, key=None, *, write=False):
        return self._shared(write)[1]

    def _shared(self, write):
        server = self._servers[self._get_connection_pool_index(write)]
        key = (server, *self._options_key)
        shared = _shared.get(key)
        if shared is None:
            with _shared_lock:
                if key not in _shared:
                    pool = self._pool_class.from_url(server, **self._pool_options)
                    _shared[key] = pool, self._client(connection_pool=pool)
                shared = _shared[key]
        return shared


_shared: dict[tuple, tuple] = {}  # (server, pool class, pool options) -> (pool, client)
_shared_lock = threading.Lock()


class _Outage:
    """Until when Redis at one location is left alone after a failure: one per location for the
    whole process, as Django's cache objects are per request and would each wait out a timeout."""

    def __init__(self):
        self.until = 0.0
        self.lock = threading.Lock()


_outages: dict[tuple, _Outage] = {}


class FailOpenRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = _PooledClient
        with _shared_lock:
            self._outage = _outages.setdefault(tuple(self._servers), _Outage())

    def _guarded(self, fallback, call, *args, **kwargs):
        outage = self._outage
        if time.monotonic() < outage.until:
            return fallback
        try:
            return call(*args, **kwargs)
        except RedisError as exc:
            with outage.lock:
                if time.monotonic() >= outage.until:
                    log.warning("cache unavailable (%s); failing open for %.0f s", exc, RETRY_AFTER_S)
                outage.until = time.monotonic() + RETRY_AFTER_S
            return fallback

    @property
    def is_available(self) -> bool:
        return time.monotonic() >= self._outage.until

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, super().add, key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._guarded(default, super().get, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(None, super().set, key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(False, super().touch, key, timeout, version)

    def delete(self, key, version=None):
        return self._guarded(False, super().delete, key, version)

    def get_many(self, keys, version=None):
        return self._guarded({}, super().get_many, keys, version)

    def has_key(self, key, version=None):
        return self._guarded(False, super().has_key, key, version)

    def incr(self, key, delta=1, version=None):
        value = self._guarded(_UNAVAILABLE, super().incr, key, delta, version)
        if value is _UNAVAILABLE:  # nothing to count from: as after an eviction
            raise ValueError(f"Key '{key}' not found")
        return value

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guarded(list(data), super().set_many, data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._guarded(None, super().delete_many, keys, version)

    def clear(self):
        return self._guarded(False, super().clear)
