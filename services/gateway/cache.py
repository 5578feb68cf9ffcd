"""Small per-process caches with a short time-to-live, for the two things every API read needs: the
caller's session and a school's licence list. They trade a bounded staleness (TTL, default 1 s) for
not paying a database query and a RabbitMQ round trip on every request (docs/performance.md)."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from concurrent.futures import Future

from shared import config


class TtlCache:
    def __init__(self, ttl_setting: str, default_ttl: float, max_entries: int = 10_000):
        self.ttl_setting = ttl_setting
        self.default_ttl = default_ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._loading: dict[Hashable, Future] = {}
        self._generation = 0  # bumped by every removal: a load that began before one must not store

    @property
    def ttl(self) -> float:
        return config.float_setting(self.ttl_setting, self.default_ttl)

    def get(self, key: Hashable):
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(key, None)
            return None
        return entry[1]

    def put(self, key: Hashable, value) -> None:
        ttl = self.ttl
        if ttl <= 0:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # crude, but bounded; the TTL is short anyway
        self._entries[key] = (time.monotonic() + ttl, value)

    def get_or_load(self, key: Hashable, load: Callable[[], object]):
        """The cached value, or load() once: callers that miss while a load of the same key is in
        flight wait for that load instead of starting their own. Without this, every request that
        arrived in the moment an entry expired made its own RPC, and those waits were the p99."""
        value = self.get(key)
        if value is not None:
            return value
        pending = self._loading.get(key)
        if pending is not None:
            return pending.result()  # green under eventlet: the other greenthreads go on
        pending = self._loading[key] = Future()
        generation = self._generation
        try:
            value = load()
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        finally:
            if self._loading.get(key) is pending:
                del self._loading[key]
        pending.set_result(value)
        if generation == self._generation:
            self.put(key, value)
        return value

    def discard(self, key: Hashable) -> None:
        self._generation += 1
        self._entries.pop(key, None)
        self._loading.pop(key, None)

    def evict(self, match: Callable[[Hashable], bool]) -> None:
        """Remove matching entries; loads in flight for them will not be stored (they may predate the change)."""
        self._generation += 1
        for key in [k for k in self._entries if match(k)]:
            self._entries.pop(key, None)
        for key in [k for k in self._loading if match(k)]:
            self._loading.pop(key, None)  # new callers start a fresh load

    def clear(self) -> None:
        self.evict(lambda k: True)


SESSIONS = TtlCache("SESSION_CACHE_SECONDS", 1.0)
LICENCE_LISTS = TtlCache("LICENCE_LIST_CACHE_SECONDS", 1.0)
