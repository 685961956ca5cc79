"""A ``sspr.StateStore`` in Django's cache, for sites without Redis: flows, counters and blocks shared by every
worker that shares the cache.

Compare-and-set and counting need one writer at a time per key; Django's cache API has no compare-and-set, so
each write holds a short lock made with ``cache.add`` (atomic in Django's Redis, Memcached, database and
local-memory caches). **Use one of those**: the file-based cache's ``add`` is not atomic, and the dummy and
per-process local-memory caches are not shared between workers (fine for one process or tests only). Expiry is
judged by the engine's ``now``, never by the cache's clock; the cache's own timeout only frees the memory later.

**The cache must not evict live entries.** A failure counter or block the cache drops is a PIN-guessing limit
undone, and an attacker's own begins (decoy flows and counters) write enough entries to make it drop them. Django's
database, local-memory and file caches cull once ``MAX_ENTRIES`` (default 300) is reached: refused unless
``allow_evicting_cache`` (tests and one-process demos only). In production: Redis with ``maxmemory-policy noeviction`` (every entry here has a timeout, so a
``volatile-*`` policy evicts them too), or Memcached started with ``-M`` (errors instead of evictions).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import time
from typing import Any, Optional, Tuple

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured


# How long a writer may hold a key's lock before another may take it (a crashed worker), and how long a writer
# waits for it before answering "unavailable" (the engine's error for a store that cannot answer).
LOCK_SECONDS = 5
WAIT_SECONDS = 3
# Kept this much longer than their expiry, so a value expires by the engine's clock, not the cache's.
GRACE_SECONDS = 60


# Django's own caches that drop live entries (cull at ``MAX_ENTRIES``) or keep none: a failure counter or block they
# drop is a PIN-guessing limit undone. Refused unless the site says it is a test or a one-process demo.
_EVICTING_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache": "culls once MAX_ENTRIES (default 300) is reached",
    "django.core.cache.backends.db.DatabaseCache": "culls once MAX_ENTRIES (default 300) is reached",
    "django.core.cache.backends.filebased.FileBasedCache": "culls once MAX_ENTRIES is reached and its add is not atomic",
}
_DUMMY_CACHE = "django.core.cache.backends.dummy.DummyCache"


def check_cache(alias: str, *, allow_evicting_cache: bool) -> None:
    """``ImproperlyConfigured`` for a cache sspr's state must not live in (see ``DjangoCacheStateStore``); run when
    the site starts (the app's ``ready``) and when the store is made."""
    backend = type(caches[alias])
    name = f"{backend.__module__}.{backend.__qualname__}"
    if name == _DUMMY_CACHE:
        raise ImproperlyConfigured(f"the cache {alias!r} (DummyCache) keeps nothing: sspr's counters and blocks would "
                                   "never hold; use Redis or Memcached")
    if name in _EVICTING_CACHES and not allow_evicting_cache:
        raise ImproperlyConfigured(
            f"the cache {alias!r} ({backend.__qualname__}) {_EVICTING_CACHES[name]}: an evicted failure counter or "
            "block undoes sspr's PIN-guessing limits; use Redis (maxmemory-policy noeviction) or Memcached (-M), "
            "or, for tests and one-process demos only, allow it (SSPR['allow_evicting_cache'] = True)"
        )


class DjangoCacheStateStore:
    """The engine's state store in the Django cache ``alias`` (``settings.CACHES``).

    A cache Django ships that evicts live entries (local memory, database, file) is refused with
    ``ImproperlyConfigured`` unless ``allow_evicting_cache=True`` (tests, one-process demos: an attacker's own begins
    can push counters and blocks out of it); the dummy cache, which keeps nothing, always is.
    """

    def __init__(self, alias: str = "default", *, allow_evicting_cache: bool = False) -> None:
        self.alias = alias
        check_cache(alias, allow_evicting_cache=allow_evicting_cache)

    def __repr__(self) -> str:
        return f"DjangoCacheStateStore({self.alias!r})"

    @property
    def _cache(self) -> Any:
        return caches[self.alias]

    def get(self, key: str, now: datetime.datetime) -> Optional[Tuple[bytes, int]]:
        entry = self._cache.get(_name("value", key))
        if not _live(entry, now):
            return None
        return entry["value"], entry["version"]

    def put(
        self, key: str, value: bytes, expected_version: Optional[int], expires_at: datetime.datetime, now: datetime.datetime
    ) -> Optional[int]:
        with _Lock(self._cache, key):
            entry = self._cache.get(_name("value", key))
            live = entry if _live(entry, now) else None
            if (live["version"] if live else None) != expected_version:
                return None
            version = live["version"] + 1 if live else 1
            self._set(_name("value", key), {"value": bytes(value), "version": version, "expires_at": expires_at}, now)
            return version

    def increment(
        self, key: str, expires_at: datetime.datetime, now: datetime.datetime
    ) -> Tuple[int, datetime.datetime]:
        with _Lock(self._cache, key):
            entry = self._cache.get(_name("counter", key))
            if _live(entry, now):
                count, ends = entry["count"] + 1, entry["expires_at"]
            else:
                count, ends = 1, expires_at
            self._set(_name("counter", key), {"count": count, "expires_at": ends}, now)
            return count, ends

    def delete(self, key: str) -> None:
        with _Lock(self._cache, key):
            self._cache.delete_many([_name("value", key), _name("counter", key)])

    def _set(self, name: str, entry: Any, now: datetime.datetime) -> None:
        timeout = max(1, int((entry["expires_at"] - now).total_seconds()) + GRACE_SECONDS)
        self._cache.set(name, entry, timeout=timeout)


def _name(kind: str, key: str) -> str:
    # Values and counters are apart (one key may be both). The engine's keys hold ':' and may be long; every
    # cache backend takes a short hex name.
    return f"sspr:{kind}:" + hashlib.sha256(key.encode()).hexdigest()


def _live(entry: Any, now: datetime.datetime) -> bool:
    return isinstance(entry, dict) and entry["expires_at"] > now


class _Lock:
    """One writer at a time for a key, by ``cache.add`` of a lock entry; released only by its holder."""

    def __init__(self, cache: Any, key: str) -> None:
        self.cache, self.name, self.token = cache, _name("lock", key), secrets.token_hex(8)

    def __enter__(self) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        pause = 0.001
        while not self.cache.add(self.name, self.token, timeout=LOCK_SECONDS):
            if time.monotonic() > deadline:
                raise TimeoutError("the state store's lock is held too long")  # BackendError "unavailable"
            time.sleep(pause)
            pause = min(pause * 2, 0.02)

    def __exit__(self, *exc: object) -> None:
        if self.cache.get(self.name) == self.token:
            self.cache.delete(self.name)
