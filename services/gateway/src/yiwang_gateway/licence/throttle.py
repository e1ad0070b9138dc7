"""核验限流 Verification rate limit: a sliding minute per client address, in this process.

The QR code carries 192 random bits, so enumeration cannot find a licence; the limit bounds what
one address can make the platform do. It is per replica (the ingress limits across replicas);
addresses come from ``account.throttle.client_address``, which trusts only configured proxies.
"""

from __future__ import annotations

import math
import time
from collections import deque


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds per key; tracks at most ``max_keys`` keys."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}

    def hit(self, key: str, now: float | None = None) -> int:
        """Count one event; return 0 when allowed, else the seconds until the next one would be."""
        now = time.monotonic() if now is None else now
        events = self._events.get(key)
        if events is None:
            if len(self._events) >= self.max_keys:
                # Forget the quietest half rather than grow without bound under a spray of addresses.
                for stale in sorted(self._events, key=lambda k: self._events[k][-1])[: self.max_keys // 2]:
                    del self._events[stale]
            events = self._events[key] = deque()
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return max(1, math.ceil(events[0] + self.window - now))
        events.append(now)
        return 0
