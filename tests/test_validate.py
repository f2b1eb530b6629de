"""Validation: the columns proven clean before pandera leave the failures exactly as pandera
alone finds them (the oracle: the whole model run by pandera, as validate did before)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as pa_arrow
import pytest

from segwork.ingestion.parse import Parsed, parse_chunk
from segwork.ingestion.validate import passes, schema_of, validate
from segwork.schemas import TABLES, describe_failure


def pandera_alone(table: str, parsed: Parsed) -> dict:
    """The failures as the whole model run by pandera gives them (validate before the proofs)."""
    failures = {pos: list(errs) for pos, errs in parsed.errors.items()}
    failed = {(pos, col) for pos, errs in failures.items() for col, _, _ in errs}
    try:
        TABLES[table]["model"].validate(parsed.typed, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        for col, check, value, pos in zip(cases["column"], cases["check"], cases["failure_case"], cases["index"]):
            pos = int(pos)
            if (pos, col) not in failed:
                failed.add((pos, col))
                reason, detail = describe_failure(str(col), str(check), value)
                failures.setdefault(pos, []).append((str(col), reason, detail))
    return failures


def text(values) -> pd.Series:
    return pa_arrow.array(values, pa_arrow.large_string()).to_pandas()


def clean_events(n: int) -> dict[str, list]:
    return {"event_id": [f"e{i:07d}" for i in range(n)], "customer_id": [f"c{i % 97:05d}" for i in range(n)],
            "event_type": [("purchase", "page_view", "login")[i % 3] for i in range(n)],
            "event_value": [f"{i * 0.25:.2f}" if i % 4 else None for i in range(n)],
            "product_id": [f"p{i % 13}" if i % 5 else None for i in range(n)],
            "category": [("books", "toys", None)[i % 3] for i in range(n)],
            "timestamp": [f"2024-05-{1 + i % 28:02d} 12:00:00" for i in range(n)]}


def clean_customers(n: int) -> dict[str, list]:
    return {"customer_id": [f"c{i:05d}" for i in range(n)], "name": [f"Name {i}" if i % 3 else None for i in range(n)],
            "email": [f"n{i}@shop.example" if i % 4 else None for i in range(n)],
            "age": [str(20 + i % 60) if i % 5 else None for i in range(n)],
            "gender": [("f", "m", None)[i % 3] for i in range(n)], "location": [("Berlin", None)[i % 2] for i in range(n)],
            "signup_date": [f"2023-0{1 + i % 9}-10 08:00:00" for i in range(n)],
            "lifetime_value": [f"{i * 1.5:.1f}" if i % 6 else None for i in range(n)],
            "timestamp": [f"2024-0{1 + i % 9}-11 09:00:00" for i in range(n)]}


# Values that break one rule each (or are fine in unusual ways): pandera must see the columns they are in.
FAULTS = {
    "customer_events": {
        "event_id": ["x" * 257, "ü" * 256, "", None, "e0000003", "  "], "customer_id": ["y" * 300, None, "ü" * 200],
        "event_type": ["Purchase!", "x" * 40, None, "9lives", "page view"], "event_value": ["inf", "abc", "1e400", "-0"],
        "product_id": ["p" * 257, "ü" * 256, "ü" * 257], "category": ["c" * 129, "ü" * 128],
        "timestamp": ["1989-12-31 23:59:59", "2999-01-01 00:00:00", None, "1990-01-01 00:00:00"],
    },
    "customers": {
        "customer_id": ["", "z" * 257, None], "name": ["n" * 257], "email": ["no at sign", "a@b", "a b@c.d", "ok@x.yz"],
        "age": ["0", "121", "120", "1", "-5", "30.5"], "gender": ["g" * 33], "location": ["l" * 129],
        "signup_date": ["1970-01-01 00:00:00", None], "lifetime_value": ["nan", "-inf"],
        "timestamp": ["2999-01-01 00:00:00"],
    },
}
CLEAN = {"customer_events": clean_events, "customers": clean_customers}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_clean_chunks_need_no_pandera_and_pass_it(table):
    parsed = parse_chunk(table, pd.DataFrame({c: text(v) for c, v in CLEAN[table](500).items()}))
    schema = schema_of(table)
    assert all(passes(schema.columns[c], parsed.typed[c]) for c in schema.columns if c != "email")
    assert validate(table, parsed) == pandera_alone(table, parsed) == {}


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_fault_is_found_as_pandera_finds_it(table):
    """One fault at a time, then seeded mixes of faults in random rows and columns."""
    rng = np.random.default_rng(20261202)
    cases = [{(column, 7): value} for column, values in FAULTS[table].items() for value in values]
    for _ in range(40):
        picks = [(c, v) for c, values in FAULTS[table].items() for v in values]
        chosen = rng.choice(len(picks), int(rng.integers(1, 6)), replace=False)
        cases.append({(picks[i][0], int(rng.integers(0, 300))): picks[i][1] for i in chosen})
    for case in cases:
        data = CLEAN[table](300)
        for (column, row), value in case.items():
            data[column][row] = value
        parsed = parse_chunk(table, pd.DataFrame({c: text(v) for c, v in data.items()}))
        assert validate(table, parsed) == pandera_alone(table, parsed), case


def test_a_rule_broken_is_never_proven():
    """Each rule of the events model, broken once, keeps its column from the proof (pins that
    the models' own check functions are called as pandera calls them)."""
    schema = schema_of("customer_events")
    broken = {"event_id": ["e1", "e1"], "customer_id": ["", "c1"], "event_type": ["Bad Type", "login"],
              "product_id": ["p" * 257, None], "category": ["c" * 129, None],
              "timestamp": [pd.Timestamp("1980-01-01", tz="UTC")] * 2}
    for column, values in broken.items():
        series = pd.Series(values).astype("datetime64[us, UTC]") if column == "timestamp" else text(values)
        assert not passes(schema.columns[column], series), column
    assert not passes(schema.columns["event_value"], pd.Series([1.0, np.inf]))
    assert not passes(schema.columns["event_id"], pd.Series(["e1", "e2"], dtype=object))  # not the model's dtype
    assert passes(schema.columns["event_value"], pd.Series([1.0, np.nan]))
