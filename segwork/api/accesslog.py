"""One log line per API request, without the query string (it may hold a token or a customer id)."""
from __future__ import annotations

import logging
import time

log = logging.getLogger("segwork.api")


class AccessLog:
    """ASGI middleware: method, path, status and time of each HTTP request, at INFO."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started, status = time.perf_counter(), [0]

        async def sending(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            log.info("%s %s %s %.1f ms", scope["method"], scope["path"], status[0] or 500, (time.perf_counter() - started) * 1000)
