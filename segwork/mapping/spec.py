"""A mapping: how each field of a table is made from a file's own columns, kept as plain JSON.

Each field comes from exactly one of: a source `column` (optionally through a value map), a
`constant`, an `expression` over source columns (segwork.mapping.expressions), a `template`
joining columns as text ("{InvoiceNo}-{_line}"), or `cases` (the first `when` expression that
holds gives its value, else `otherwise`). A time field may say the text's `format` (strftime
codes, e.g. "%d/%m/%Y %H:%M") and its `timezone` (default UTC). `profiles` (customer_events
only) derives customers from the events: first event as signup date, summed value as lifetime
value, and the most frequent value of each given attribute (e.g. location from Country).
"""
from __future__ import annotations

import ast
import json
import re
import string
import zoneinfo
from dataclasses import dataclass, field

from segwork.errors import SegworkError
from segwork.mapping.expressions import FUNCTIONS, LINE, Expression, ExpressionError, compile_expression
from segwork.schemas import TABLES, columns

SOURCE_KINDS = ("column", "constant", "expression", "template", "cases")
PROFILE_ATTRIBUTES = ("location", "name", "email", "age", "gender")
NAME_CHARS = frozenset(string.ascii_lowercase + string.digits + "-_")


class MappingError(SegworkError):
    """A mapping is malformed or does not fit the file or the table."""


@dataclass(frozen=True)
class FieldSource:
    """Where one field's values come from (exactly one kind), plus optional value map and time parsing."""

    column: str | None = None
    constant: str | float | int | None = None
    expression: str | None = None
    template: str | None = None
    cases: tuple[tuple[str, str], ...] = ()  # (when, value): the first that holds wins
    otherwise: str | None = None  # value of `cases` when none holds (None: missing)
    values: tuple[tuple[str, str], ...] = ()  # value map for `column`: (source value, field value)
    format: str | None = None  # strftime codes of a time field's text
    timezone: str | None = None  # the zone a time field's text is in (default UTC)

    @property
    def kind(self) -> str:
        kinds = [k for k in SOURCE_KINDS if getattr(self, k) not in (None, ())]
        return kinds[0] if len(kinds) == 1 else ("constant" if not kinds else "/".join(kinds))

    def as_dict(self) -> dict:
        out = {self.kind: getattr(self, self.kind)} if self.kind in SOURCE_KINDS else {}
        if self.cases:
            out = {"cases": [{"when": w, "value": v} for w, v in self.cases], "otherwise": self.otherwise}
        if self.values:
            out["values"] = dict(self.values)
        for key in ("format", "timezone"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        return out

    @classmethod
    def from_dict(cls, data: dict, where: str) -> "FieldSource":
        if not isinstance(data, dict):
            raise MappingError(f"{where}: expected an object such as {{\"column\": \"CustomerID\"}}, got {data!r}")
        unknown = set(data) - set(SOURCE_KINDS) - {"otherwise", "values", "format", "timezone"}
        if unknown:
            raise MappingError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a field has one of "
                               f"{', '.join(SOURCE_KINDS)}, plus optional values, format, timezone")
        cases = data.get("cases") or ()
        try:
            cases = tuple((str(c["when"]), str(c["value"])) for c in cases)
        except (TypeError, KeyError) as exc:
            raise MappingError(f"{where}: cases are a list of {{\"when\": expression, \"value\": text}}") from exc
        values = data.get("values") or {}
        if not isinstance(values, dict):
            raise MappingError(f"{where}: values is an object from source value to field value")
        return cls(column=data.get("column"), constant=data.get("constant"), expression=data.get("expression"),
                   template=data.get("template"), cases=cases, otherwise=data.get("otherwise"),
                   values=tuple((str(k), str(v)) for k, v in values.items()),
                   format=data.get("format") or None, timezone=data.get("timezone") or None)


@dataclass(frozen=True)
class Mapping:
    """How a file's columns become one table's rows (and, for events, optionally profiles)."""

    table: str
    fields: dict[str, FieldSource]
    name: str | None = None
    description: str = ""
    read: dict = field(default_factory=dict)  # how to read the file: delimiter, decimal, encoding, sheet
    profiles: dict[str, FieldSource] | None = None  # derive customers: attribute -> source

    def as_dict(self) -> dict:
        out = {"name": self.name, "table": self.table, "description": self.description, "read": dict(self.read),
               "fields": {f: s.as_dict() for f, s in self.fields.items()}}
        if self.profiles is not None:
            out["profiles"] = {a: s.as_dict() for a, s in self.profiles.items()}
        return out

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> "Mapping":
        if not isinstance(data, dict):
            raise MappingError("a mapping is a JSON object with table and fields")
        table = data.get("table")
        if table not in TABLES:
            raise MappingError(f"mapping: unknown table {table!r}; use one of: {', '.join(TABLES)}")
        fields = data.get("fields") or {}
        unknown = [f for f in fields if f not in columns(table)]
        if unknown:
            raise MappingError(f"mapping: {table} has no field(s) {', '.join(unknown)}; its fields: {', '.join(columns(table))}")
        profiles = data.get("profiles")
        if profiles is not None and table != "customer_events":
            raise MappingError("mapping: profiles can only be derived from customer_events")
        if profiles is not None and (bad := [a for a in profiles if a not in PROFILE_ATTRIBUTES]):
            raise MappingError(f"mapping: profiles take {', '.join(PROFILE_ATTRIBUTES)}; not {', '.join(bad)}")
        read = data.get("read") or {}
        if not isinstance(read, dict):
            raise MappingError("mapping: read is an object (delimiter, decimal, encoding, sheet)")
        return cls(table=table, name=data.get("name"), description=str(data.get("description") or ""),
                   read={k: v for k, v in read.items() if v is not None},
                   fields={f: FieldSource.from_dict(s, f"mapping field {f}") for f, s in fields.items()},
                   profiles=None if profiles is None else {
                       a: FieldSource.from_dict(s, f"mapping profile attribute {a}") for a, s in profiles.items()})

    @classmethod
    def from_json(cls, text: str) -> "Mapping":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise MappingError(f"mapping: not valid JSON ({exc})") from exc

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads, in first-use order."""
        used: dict[str, None] = {}
        for source in [*self.fields.values(), *(self.profiles or {}).values()]:
            for column in _columns_of(source):
                used.setdefault(column, None)
        used.pop(LINE, None)
        return list(used)

    def check(self, header: list[str], where: str) -> "Compiled":
        """Compile against a file's header (MappingError naming the field and what to change)."""
        missing = [c for c in self.source_columns() if c not in header]
        if missing:
            raise MappingError(f"{where}: the mapping{' ' + repr(self.name) if self.name else ''} reads column(s) "
                               f"{', '.join(missing)}, which the file does not have; its columns: {', '.join(header) or 'none'}")
        kinds = TABLES[self.table]["kinds"]
        compiled = {f: _compile(f, s, header, kinds[f]) for f, s in self.fields.items()}
        unmapped = [c for c in TABLES[self.table]["required"] if c not in self.fields]
        if unmapped:
            raise MappingError(f"{where}: the mapping gives no source for required field(s) {', '.join(unmapped)} of "
                               f"{self.table}; give each one (a column of the file, a constant, an expression...)")
        profiles = None if self.profiles is None else {a: _compile(a, s, header, "text") for a, s in self.profiles.items()}
        return Compiled(self, compiled, profiles)


@dataclass(frozen=True)
class CompiledSource:
    source: FieldSource
    expressions: tuple[Expression, ...]  # the expression, or the cases' conditions
    template: tuple[tuple[str, str | None], ...] = ()  # (literal, column or None)


@dataclass(frozen=True)
class Compiled:
    mapping: Mapping
    fields: dict[str, CompiledSource]
    profiles: dict[str, CompiledSource] | None


def _columns_of(source: FieldSource) -> list[str]:
    if source.column is not None:
        return [source.column]
    if source.template is not None:
        return [name for _, name, _, _ in string.Formatter().parse(source.template) if name]
    texts = [source.expression] if source.expression else [w for w, _ in source.cases]
    out = []
    for text in texts:
        out.extend(compile_expression(text, _names_in(text)).columns)
    return out


def _names_in(text: str) -> list[str]:
    """Every name an expression could mean (to find its columns before the header is known)."""
    names = re.findall(r"`([^`]+)`", text)
    try:
        tree = ast.parse(re.sub(r"`[^`]+`", "0", text), mode="eval")
        names += [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
    except SyntaxError:
        pass
    return [n for n in names if n not in FUNCTIONS]


def _compile(target: str, source: FieldSource, header: list[str], kind: str) -> CompiledSource:
    where = f"mapping field {target}"
    if source.kind not in SOURCE_KINDS:
        raise MappingError(f"{where}: give exactly one of {', '.join(SOURCE_KINDS)} (got {source.kind or 'none'})")
    if source.timezone:
        try:
            zoneinfo.ZoneInfo(source.timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise MappingError(f"{where}: unknown time zone {source.timezone!r}; use e.g. Europe/London or UTC") from exc
    if (source.format or source.timezone) and kind != "time":
        raise MappingError(f"{where}: format and timezone apply only to time fields")
    if source.format and "%" not in source.format:
        raise MappingError(f"{where}: format {source.format!r} has no strftime codes; write e.g. %d/%m/%Y %H:%M")
    try:
        if source.kind == "expression":
            return CompiledSource(source, (compile_expression(source.expression, header),))
        if source.kind == "cases":
            return CompiledSource(source, tuple(compile_expression(w, header) for w, _ in source.cases))
    except ExpressionError as exc:
        raise MappingError(f"{where}: {exc}") from exc
    if source.kind == "template":
        try:
            parts = [(lit, name) for lit, name, spec, conv in string.Formatter().parse(source.template)
                     if _plain(name, spec, conv, where)]
        except ValueError as exc:
            raise MappingError(f"{where}: template {source.template!r} is not valid ({exc}); write e.g. {{InvoiceNo}}-{{_line}}") from exc
        unknown = [n for _, n in parts if n and n not in header and n != LINE]
        if unknown:
            raise MappingError(f"{where}: template {source.template!r} names column(s) {', '.join(unknown)} not in the file")
        return CompiledSource(source, (), tuple(parts))
    return CompiledSource(source, ())


def _plain(name, spec, conv, where) -> bool:
    if spec or conv:
        raise MappingError(f"{where}: a template takes {{column}} only, without :format or !conversion")
    return True


def check_name(name: str) -> str:
    """A mapping's name: lower-case letters, digits, - and _ (it is used in commands)."""
    name = (name or "").strip()
    if not name or len(name) > 64 or set(name) - NAME_CHARS:
        raise MappingError(f"mapping name {name!r}: use 1-64 lower-case letters, digits, - and _ (e.g. my-shop-export)")
    return name
