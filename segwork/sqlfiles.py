"""SQL lives in segwork/sql/*.sql, one statement per file, loaded by name."""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
_PLACEHOLDER = re.compile(r"\{(\w+):([^{}]+(?:\([^{}]*\))?)\}")


@cache
def load(name: str) -> str:
    """The text of sql/<name>.sql (comments kept: they document the query)."""
    path = SQL_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8")


def placeholders(name: str) -> dict[str, str]:
    """Server-side parameters `{name:Type}` used by a query file, name -> type."""
    return {m.group(1): m.group(2) for m in _PLACEHOLDER.finditer(load(name))}


def ddl_statements() -> list[str]:
    """The schema, one CREATE per file in sql/ddl, in file-name order."""
    return [p.read_text(encoding="utf-8") for p in sorted((SQL_DIR / "ddl").glob("*.sql"))]
