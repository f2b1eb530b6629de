"""Which functions a client's SQL may call (segwork.sqlguard), from the engine's own catalog.

The catalog (system.functions) gives each function its category and origin. Refused: every
function not built in (user-defined, executable), and the categories that reach beyond the
query's rows (files, dictionaries, models, the network, the server's internals); 'Other' mixes
both kinds, so only OTHER_ALLOWED of it pass. Aggregate functions compute over rows only: all pass.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from clickhouse_connect.driver.client import Client

from segwork import db

CATALOG_SECONDS = 60.0  # functions are read again this often (a new user-defined function is then known)
# Function categories (system.functions) that reach beyond the query's rows: files, dictionaries,
# models, the network (AI), the server's internals. 'Other' mixes both kinds: OTHER_ALLOWED
# lists the ones that only compute on their arguments.
DENIED_CATEGORIES = frozenset({"Dictionary", "Embedded Dictionary", "Introspection", "Machine Learning", "AI",
                               "Internal", "Other"})
OTHER_ALLOWED = frozenset({
    "bar", "blockNumber", "blockSerializedSize", "blockSize", "byteSize", "colorOKLABToSRGB", "colorOKLCHToSRGB",
    "colorSRGBToOKLAB", "colorSRGBToOKLCH", "countDigits", "defaultValueOfArgumentType", "defaultValueOfTypeName",
    "digits", "dumpColumnStructure", "errorCodeToName", "finalizeAggregation", "flipCoordinates",
    "formatReadableDecimalSize", "formatReadableQuantity", "formatReadableSize", "formatReadableTimeDelta",
    "getSizeOfEnumType", "getSubcolumn", "identity", "ignore", "indexHint", "initializeAggregation", "isConstant",
    "isDecimalOverflow", "lowCardinalityIndices", "lowCardinalityKeys", "MACNumToString", "MACStringToNum",
    "MACStringToOUI", "materialize", "minSampleSizeContinuous", "minSampleSizeConversion", "neighbor",
    "parseISO8601Duration", "parseReadableSize", "parseReadableSizeOrNull", "parseReadableSizeOrZero", "parseTimeDelta",
    "rowNumberInAllBlocks", "rowNumberInBlock", "runningAccumulate", "runningDifference",
    "runningDifferenceStartingWithFirstValue", "throwIf", "toColumnTypeName", "toTypeName", "transform",
    "variantElement", "variantType", "visibleWidth", "_CAST",
})


class FunctionPolicy:
    """Which functions a client's SQL may call, from the engine's own catalog (system.functions)."""

    def __init__(self, rows: list[tuple]) -> None:
        self._by_name: dict[str, tuple] = {}
        self._folded: dict[str, tuple] = {}
        for name, categories, origin, alias_to, case_insensitive, is_aggregate in rows:
            entry = (name, str(categories or ""), str(origin or ""), str(alias_to or ""), bool(is_aggregate))
            self._by_name[name] = entry
            if case_insensitive:
                self._folded[name.lower()] = entry

    def refusal(self, name: str, *, strict: bool) -> str | None:
        """Why `name` may not be called, or None. Unknown names pass unless `strict`: in the
        parse they are operators, lambdas and aggregate combinators (sumIf); in the analyzed
        tree, where names are the engine's own, an unknown ordinary function is refused."""
        entry = self._by_name.get(name) or self._folded.get(name.lower())
        if entry and entry[3]:  # an alias: judge what it stands for
            entry = self._by_name.get(entry[3]) or self._folded.get(entry[3].lower()) or entry
        if entry is None:
            return f"the function {name}() is not available here" if strict else None
        canonical, categories, origin, _, is_aggregate = entry
        if origin != "System":
            return f"the function {name}() is user-defined ({origin}) and cannot be used here"
        if is_aggregate or canonical in OTHER_ALLOWED:
            return None
        denied = [c.strip() for c in categories.split(",") if c.strip() in DENIED_CATEGORIES]
        if denied:
            return (f"the function {name}() ({denied[0]}) reaches beyond the query's rows (files, dictionaries, "
                    "the server, the network) and cannot be used here")
        return None


_catalog: dict[str, Any] = {"policy": None, "at": float("-inf")}
_catalog_lock = threading.Lock()


def functions(client: Client) -> FunctionPolicy:
    """The function policy from the engine's catalog (read by segwork's own client, not under a
    client's query limits), read again every CATALOG_SECONDS."""
    with _catalog_lock:
        if _catalog["policy"] is None or time.monotonic() - _catalog["at"] > CATALOG_SECONDS:
            rows = db.query_rows(client, "sql_functions", {})
            _catalog["policy"], _catalog["at"] = FunctionPolicy(rows), time.monotonic()
        return _catalog["policy"]
