"""Validate typed chunks against the pandera models; good rows as the table's Arrow block."""
from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pyarrow.compute as pc

from segwork.errors import SegworkError
from segwork.ingestion.parse import Parsed
from segwork.schemas import TABLES, describe_failure

_ARROW_TYPES = {"id": pa_arrow.string(), "text": pa_arrow.string(), "type": pa_arrow.string(),
                "float": pa_arrow.float64(), "int": pa_arrow.int32(), "time": pa_arrow.timestamp("s", tz="UTC")}

def validate(table: str, parsed: Parsed) -> dict[int, list[tuple[str, str, str]]]:
    """Failures by row position: parse errors and pandera's, each (column, reason, reason with value)."""
    failures = {pos: list(errs) for pos, errs in parsed.errors.items()}
    failed_cols = {(pos, col) for pos, errs in failures.items() for col, _, _ in errs}
    try:
        TABLES[table]["model"].validate(parsed.typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for col, check, value, pos in zip(cases["column"], cases["check"], cases["failure_case"], cases["index"]):
            if pos is None or pd.isna(pos):
                raise SegworkError(f"validation of {table} failed as a whole: {check} on {col}") from exc
            pos = int(pos)
            if (pos, col) in failed_cols:
                continue  # already reported as unparseable
            failed_cols.add((pos, col))
            reason, detail = describe_failure(str(col), str(check), value)
            failures.setdefault(pos, []).append((str(col), reason, detail))
    return failures


def to_arrow(table: str, frame: pd.DataFrame) -> pa_arrow.Table:
    """The good rows as the table's Arrow block, missing optional values filled (in Arrow)."""
    fill = TABLES[table]["fill"]
    arrays, names = [], []
    for column, kind in TABLES[table]["kinds"].items():
        series = frame[column]
        if kind == "time":
            arr = pa_arrow.array(series.dt.floor("s")).cast(_ARROW_TYPES[kind])
        elif kind == "int":
            arr = pa_arrow.array(series.fillna(fill.get(column, 0)).astype("int32").to_numpy(), pa_arrow.int32())
        else:
            arr = pa_arrow.array(series, _ARROW_TYPES[kind], from_pandas=True)
        if column in fill and arr.null_count:
            arr = pc.fill_null(arr, pa_arrow.scalar(fill[column], arr.type))
        arrays.append(arr)
        names.append(column)
    return pa_arrow.table(arrays, names=names)
