"""The one user-facing error family: every message says what, where and what to do."""
from __future__ import annotations


class SegworkError(Exception):
    """Base of every error a person may see; the message is fit to show as is."""


class ConfigError(SegworkError):
    """A setting (SEGWORK_* variable, DSN, segment rule) is invalid."""


class EngineError(SegworkError):
    """The database engine could not be opened or refused a statement.

    `code` and `name` are ClickHouse's (159, "TIMEOUT_EXCEEDED") when the engine gave them,
    so a caller can tell a time limit or a memory limit from a bug; else None.
    """

    def __init__(self, message: str, *, code: int | None = None, name: str | None = None):
        super().__init__(message)
        self.code, self.name = code, name


class EngineBusyError(EngineError):
    """The embedded database directory is held by another process."""


class InputFileError(SegworkError):
    """A file or body cannot be read at all; nothing from it was inserted."""


class InputTooLargeError(InputFileError):
    """A file or body is larger than a limit allows (once decompressed); the API answers 413."""

    def __init__(self, message: str, *, limit: int | None = None):
        super().__init__(message)
        self.limit = limit


class ParameterError(SegworkError, ValueError):
    """A query parameter is missing, of the wrong type or out of range."""

    def __init__(self, parameter: str, message: str):
        super().__init__(f"parameter '{parameter}': {message}")
        self.parameter = parameter


class SchemaVersionError(SegworkError):
    """The database was made by an older segwork (migrate it) or a newer one (refused)."""

    def __init__(self, message: str, *, found: int, expected: int):
        super().__init__(message)
        self.found, self.expected = found, expected


class DeliveryError(SegworkError):
    """Sending a list to another system (a webhook) failed; nothing was recorded as sent."""
