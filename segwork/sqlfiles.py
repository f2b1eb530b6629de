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
    return [ddl_statement(name) for name in ddl_names()]


def ddl_names() -> list[str]:
    """The files of sql/ddl, without .sql, in the order they are run."""
    return [p.stem for p in sorted((SQL_DIR / "ddl").glob("*.sql"))]


def ddl_statement(name: str) -> str:
    """One file of sql/ddl by its name without .sql (e.g. '00_segwork_meta')."""
    return (SQL_DIR / "ddl" / f"{name}.sql").read_text(encoding="utf-8")


def migration_steps(version: int) -> list[str]:
    """The statements that bring a database from version-1 to `version`, as load() names,
    in file order: sql/migrations/<version as 3 digits>_*.sql."""
    return [f"migrations/{p.stem}" for p in sorted((SQL_DIR / "migrations").glob(f"{version:03d}_*.sql"))]


def purpose(name: str) -> str:
    """The first line of a SQL file's header comment (what the statement is for)."""
    first = load(name).splitlines()[0]
    return first.removeprefix("--").strip()
