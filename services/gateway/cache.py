"""Small per-process caches with a short time-to-live, for the two things every API read needs: the
caller's session and a school's licence list. They trade a bounded staleness (TTL, default 1 s) for
not paying a database query and a RabbitMQ round trip on every request (docs/performance.md)."""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable

from shared import config


class TtlCache:
    def __init__(self, ttl_setting: str, default_ttl: float, max_entries: int = 10_000):
        self.ttl_setting = ttl_setting
        self.default_ttl = default_ttl
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, object]] = {}

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
        value = self.get(key)
        if value is None:
            value = load()
            self.put(key, value)
        return value

    def discard(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def evict(self, match: Callable[[Hashable], bool]) -> None:
        for key in [k for k in self._entries if match(k)]:
            self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


SESSIONS = TtlCache("SESSION_CACHE_SECONDS", 1.0)
LICENCE_LISTS = TtlCache("LICENCE_LIST_CACHE_SECONDS", 1.0)
