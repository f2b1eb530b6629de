"""Requests per token per minute: a token bucket per token, in this process's memory.

Each token may burst up to the whole minute's allowance and refills smoothly. Several API
processes each keep their own buckets (the limit is then per token per process).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    """The outcome of one request against its token's bucket, with the headers to send."""

    allowed: bool
    limit: int
    remaining: int
    reset_s: int  # seconds until the bucket is full again
    retry_after_s: int  # seconds until one request is allowed (0 if allowed now)

    def headers(self) -> dict[str, str]:
        """X-RateLimit-* (and Retry-After when refused), as the seed's API sends them."""
        h = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
             "X-RateLimit-Reset": str(self.reset_s)}
        if not self.allowed:
            h["Retry-After"] = str(self.retry_after_s)
        return h


class RateLimiter:
    """`per_minute` requests per key per minute; thread-safe."""

    def __init__(self, per_minute: int, clock=time.monotonic) -> None:
        self.per_minute = max(int(per_minute), 1)
        self._rate = self.per_minute / 60.0  # requests refilled per second
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def hit(self, key: str) -> Decision:
        """Count one request of `key`; allowed while its bucket holds at least one request."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - at) * self._rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)
        retry = 0 if allowed else math.ceil((1.0 - tokens) / self._rate)
        reset = math.ceil((self.per_minute - tokens) / self._rate)
        return Decision(allowed, self.per_minute, int(tokens), reset, max(retry, 1) if not allowed else 0)
