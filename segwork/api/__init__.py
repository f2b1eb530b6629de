"""The real-time HTTP API, compatible with the seed's (Tinybird's) calls: the Events API, the
Data Sources API, the three pipe endpoints and tokens, on Starlette."""
from segwork.api.app import create_app, mounted

__all__ = ["create_app", "mounted"]
