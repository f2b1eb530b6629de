"""The mapping stage of an ingest: a file's own columns made into the table's fields
(segwork.mapping) between reading and typing; errors it finds join the parser's."""
from __future__ import annotations

import numpy as np
import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork.errors import SegworkError
from segwork.ingestion.dialect import Dialect
from segwork.ingestion.parse import Parsed
from segwork.mapping import apply as applying, store
from segwork.mapping.profiles import ProfileSink
from segwork.mapping.spec import Mapping


def resolve(client: Client, mapping, table: str) -> Mapping | None:
    """The Mapping to use: given, or a saved/built-in one by name; it must be for `table`."""
    if mapping is None:
        return None
    if isinstance(mapping, str):
        mapping = store.load(client, mapping)
    if not isinstance(mapping, Mapping):
        raise SegworkError(f"mapping: give a segwork.mapping.Mapping or the name of a saved one, not a {type(mapping).__name__}")
    if mapping.table != table:
        raise SegworkError(f"mapping {mapping.name or ''!s}: it maps files onto {mapping.table}, not {table}; "
                           f"ingest into {mapping.table} or choose another mapping")
    return mapping


def dialect_of(mapping: Mapping) -> Dialect:
    """The Dialect a mapping's `read` gives (delimiter, decimal, encoding, sheet)."""
    unknown = set(mapping.read) - {"delimiter", "decimal", "encoding", "sheet"}
    if unknown:
        raise SegworkError(f"mapping {mapping.name or ''}: read takes delimiter, decimal, encoding and sheet; "
                           f"not {', '.join(sorted(unknown))}")
    return Dialect(**mapping.read)


class Step:
    """One ingest's mapping, compiled against the file's header."""

    def __init__(self, mapping: Mapping, where: str, header: list[str], decimal: str = "."):
        self.compiled = mapping.check(header, where)
        self.decimal = decimal
        self.profiles = ProfileSink(self.compiled) if mapping.profiles is not None else None
        self._last: applying.Mapped | None = None

    def apply(self, frame: pd.DataFrame, lines) -> tuple[pd.DataFrame, applying.Errors, callable]:
        """(the table's fields, per-row mapping errors, source records by position for the quarantine)."""
        mapped = applying.apply(self.compiled, frame, lines, self.decimal)
        self._last = mapped
        return mapped.frame, mapped.errors, mapped.originals

    def keep_good(self, positions: np.ndarray, good: pd.DataFrame) -> None:
        """The chunk's good rows (after validation): their customers feed the derived profiles."""
        if self.profiles is None or self._last is None:
            return
        attributes = {a: applying.evaluate(a, s, self._last.values, {}, "text").iloc[positions]
                      for a, s in self.profiles.attributes.items()}
        self.profiles.add(good["customer_id"], attributes)


def merge_errors(parsed: Parsed, errors: applying.Errors) -> None:
    """The mapping's errors replace the parser's on the same field (its reason is the cause)."""
    for pos, errs in errors.items():
        fields = {f for f, _, _ in errs}
        kept = [e for e in parsed.errors.get(pos, []) if e[0] not in fields]
        parsed.errors[pos] = kept + errs
