"""SQL lives in segwork/sql/*.sql, one statement per file, loaded by name.

The segment rules are written once, in sql/rules/<rule>.sql as `(parameters) -> expression`;
a statement calls one as segwork_<rule>(arguments), and load() writes the expression in its
place. No SQL function is created: those are global to a ClickHouse server, so segwork
databases side by side would share (overwrite, drop) one definition.

A statement may read a shared table expression as segwork_<table>: load() writes
sql/tables/<table>.sql in its place (a SELECT in parentheses). The profiles are read so:
`segwork_profiles` (each customer's profile, deleted ones left out) reads
`segwork_latest_versions`, which is `customers FINAL`, and in load("<name>@as_of")
sql/tables/latest_versions_at.sql: each customer's version at the {as_of} parameter, from the
history. Without the subquery around it the lookup reads customers FINAL 1.2 ms quicker.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
_PLACEHOLDER = re.compile(r"\{(\w+):([^{}]+(?:\([^{}]*\))?)\}")
_RULE_CALL = re.compile(r"(segwork_\w+)\s*\(")
_RULE = re.compile(r"\(([^()]*)\)\s*->\s*(.+)", re.DOTALL)
_BODY_TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|\b\w+\b")  # a string literal, or a word
_OPEN, _CLOSE = "([{", ")]}"
_TABLE = re.compile(r"segwork_(\w+)\b(?!\s*\()")
# load("<name>@<variant>[+<variant>]"): tables replaced. "located": the events of one location's
# customers (engagement and the daily totals with a location chosen; without one they read
# customer_events itself, no guarded subquery: engagement ~5 % quicker at 30M events).
VARIANTS = {"": {}, "as_of": {"latest_versions": "latest_versions_at"}, "located": {"events": "located_events"}}


@cache
def load(name: str) -> str:
    """The text of sql/<name>.sql (comments kept: they document the query), rule calls and
    `segwork_profiles` written out; "<name>@as_of" reads the profiles at {as_of} (see above),
    "<name>@located" the events of the {location}'s customers as `segwork_events`."""
    base, _, variant = name.partition("@")
    tables = {}
    for one in variant.split("+"):
        if one not in VARIANTS:
            raise ValueError(f"{name}: unknown variant {one!r} (known: {', '.join(v for v in VARIANTS if v)})")
        tables.update(VARIANTS[one])
    path = SQL_DIR / f"{base}.sql"
    return expand(path.read_text(encoding="utf-8"), tables=tables)


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
    return expand((SQL_DIR / "ddl" / f"{name}.sql").read_text(encoding="utf-8"))


def migration_steps(version: int) -> list[str]:
    """The statements that bring a database from version-1 to `version`, as load() names,
    in file order: sql/migrations/<version as 3 digits>_*.sql."""
    return [f"migrations/{p.stem}" for p in sorted((SQL_DIR / "migrations").glob(f"{version:03d}_*.sql"))]


def purpose(name: str) -> str:
    """The first line of a SQL file's header comment (what the statement is for)."""
    first = load(name).splitlines()[0]
    return first.removeprefix("--").strip()


@cache
def rules() -> dict[str, tuple[tuple[str, ...], str]]:
    """The rules of sql/rules: 'segwork_<rule>' -> (parameter names, expression)."""
    found = {}
    for path in sorted((SQL_DIR / "rules").glob("*.sql")):
        code = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.lstrip().startswith("--"))
        match = _RULE.fullmatch(code.strip())
        if match is None:
            raise ValueError(f"sql/rules/{path.name} is not '(parameters) -> expression'")
        found[f"segwork_{path.stem}"] = (tuple(p.strip() for p in match.group(1).split(",")), match.group(2).strip())
    return found


def expand(sql: str, *, tables: dict[str, str] | None = None) -> str:
    """`sql` with every rule call segwork_<rule>(a, b, ...) replaced by the rule's expression
    over those arguments (each parenthesised), and every table segwork_<table> by the subquery
    sql/tables/<table>.sql (`tables` names another file for some); comments and string literals
    are left alone."""
    tables = tables or {}
    out, i, defined = [], 0, rules()
    while i < len(sql):
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            end = len(sql) if end < 0 else end
        elif sql[i] in "'\"`":
            end = _literal_end(sql, i)
        elif (call := _RULE_CALL.match(sql, i)) and call.group(1) in defined and not (i and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            arguments, end = _arguments(sql, call.end(), call.group(1))
            out.append(_written_out(call.group(1), [expand(a, tables=tables) for a in arguments]))
            i = end
            continue
        elif ((table := _TABLE.match(sql, i)) and not (i and (sql[i - 1].isalnum() or sql[i - 1] == "_"))
              and (SQL_DIR / "tables" / f"{table.group(1)}.sql").exists()):
            source = SQL_DIR / "tables" / f"{tables.get(table.group(1), table.group(1))}.sql"
            text = expand(source.read_text(encoding="utf-8"), tables=tables).strip()
            code = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
            query = code and code[0].lstrip().upper().startswith(("SELECT", "WITH"))
            out.append(f"(\n{text}\n)" if query else "\n".join(code))
            i = table.end()
            continue
        else:
            end = i + 1
        out.append(sql[i:end])
        i = end
    return "".join(out)


def _written_out(name: str, arguments: list[str]) -> str:
    parameters, body = rules()[name]
    if len(arguments) != len(parameters):
        raise ValueError(f"{name} takes {len(parameters)} arguments ({', '.join(parameters)}), not {len(arguments)}")
    given = dict(zip(parameters, arguments))
    return "(" + _BODY_TOKEN.sub(lambda m: f"({given[m.group()]})" if m.group() in given else m.group(), body) + ")"


def _arguments(sql: str, start: int, name: str) -> tuple[list[str], int]:
    """The comma-separated arguments from `start` (just after the opening parenthesis) up to the
    matching closing one, and the index after it."""
    arguments, depth, i, begin = [], 0, start, start
    while i < len(sql):
        ch = sql[i]
        if ch in "'\"`":
            i = _literal_end(sql, i)
            continue
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if depth == 0:
                return [*arguments, sql[begin:i].strip()], i + 1
            depth -= 1
        elif ch == "," and depth == 0:
            arguments.append(sql[begin:i].strip())
            begin = i + 1
        i += 1
    raise ValueError(f"{name}( is not closed")


def _literal_end(sql: str, start: int) -> int:
    """The index just after the quoted literal or identifier that starts at `start`."""
    quote, i = sql[start], start + 1
    while i < len(sql):
        if sql[i] == "\\":
            i += 2
        elif sql[i] == quote:
            if sql.startswith(quote * 2, i):
                i += 2
            else:
                return i + 1
        else:
            i += 1
    return len(sql)
