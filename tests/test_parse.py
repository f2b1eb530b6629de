"""Typing raw values: the Arrow fast paths give exactly what the general pandas route gives."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from segwork.ingestion.parse import parse_chunk
from segwork.schemas import later_repeats

TEXTS = ["e1", " e2 ", "", "   ", None, "Purchase", " LOGIN", "ünï cødé", "x" * 300, "17850.0"]
NUMBERS = ["1.5", " 2 ", "", None, "nan", "inf", "-Infinity", "1,5", "abc", "+3", ".5", "1e400", "0x10"]
TIMES = ["2024-05-01 12:00:00", " 2024-05-01 12:00:00 ", "", None, "2024-05-01T12:00:00", "2024-05-01",
         "2024-05-01 12:00", "2023-02-29 00:00:00", "2024-05-01 24:00:00", "2024-05-01T12:00:00Z",
         "2024-05-01 14:00:00+02:00", "2024-05-01 12:00:00.5", "1714564800", "not a time"]


def arrow_text(values) -> pd.Series:
    return pa.array(values, pa.large_string()).to_pandas()


def frames(columns: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = max(len(v) for v in columns.values())
    cols = {c: (v * n)[:n] for c, v in columns.items()}
    fast = pd.DataFrame({c: arrow_text(v) for c, v in cols.items()})
    return fast, fast.astype(object)  # object columns take the pandas route


@pytest.mark.parametrize("table, columns", [
    ("customer_events", {"event_id": TEXTS, "customer_id": TEXTS, "event_type": TEXTS, "event_value": NUMBERS,
                         "product_id": TEXTS, "category": TEXTS, "timestamp": TIMES}),
    ("customers", {"customer_id": TEXTS, "name": TEXTS, "age": NUMBERS + ["42", "41.5", "3000000000"],
                   "lifetime_value": NUMBERS, "signup_date": TIMES, "timestamp": TIMES[::-1]}),
    ("customer_events", {"event_id": TEXTS[:2], "customer_id": TEXTS[:2], "event_type": ["purchase"],
                         "event_value": ["1.25", "2"], "timestamp": ["2024-05-01 12:00:00", "2024-05-02"]}),
])
def test_arrow_fast_paths_match_the_pandas_route(table, columns):
    fast_in, slow_in = frames(columns)
    fast, slow = parse_chunk(table, fast_in), parse_chunk(table, slow_in)
    assert fast.errors == slow.errors
    for column in fast.typed.columns:
        got, want = fast.typed[column], slow.typed[column]
        assert got.dtype == want.dtype, column
        assert got.isna().tolist() == want.isna().tolist(), column
        assert got[got.notna()].tolist() == want[want.notna()].tolist(), column


# Texts no value of which starts or ends with whitespace (the untrimmed fast path), blanks
# ("" and missing) and inner spaces and non-ASCII text included.
UNSPACED = ["e1", "", None, "a b", "ünï cødé", "x" * 300, "17850.0", "Purchase", "page_view", "1.5", "2024-05-01 12:00:00"]


@pytest.mark.parametrize("table, columns", [
    ("customer_events", {"event_id": UNSPACED, "customer_id": UNSPACED[::-1], "event_type": UNSPACED, "event_value": UNSPACED,
                         "product_id": UNSPACED, "category": UNSPACED[1:], "timestamp": UNSPACED[::-1]}),
    ("customers", {"customer_id": UNSPACED, "name": UNSPACED, "age": UNSPACED, "signup_date": UNSPACED,
                   "timestamp": UNSPACED, "lifetime_value": UNSPACED[::-1]}),
])
def test_untrimmed_fast_path_matches_the_pandas_route(table, columns):
    test_arrow_fast_paths_match_the_pandas_route(table, columns)


def test_no_space_at_ends_only_when_trimming_changes_nothing():
    from segwork.ingestion.parse import _no_space_at_ends
    import pyarrow.compute as pc

    edges = ["\u00a0x", "x\u3000", "\tx", "x\n", " x", "x ", "\x0bx", "x\x1f", "\u2003x", "x\u0085", "é", "xé"]
    for ends in edges:
        for values in ([ends], ["ok", ends, None], ["", ends]):
            for type_ in (pa.string(), pa.large_string()):
                array = pa.array(values, type_)
                for a in (array, array.slice(1), pa.chunked_array([array.slice(0, 1), array.slice(1)], type_)):
                    if _no_space_at_ends(a):
                        assert pc.utf8_trim_whitespace(a).equals(a), (values, type_)
    clean = pa.array(["a b", "", None, "a ünï x", "1"], pa.large_string())
    assert _no_space_at_ends(clean) and _no_space_at_ends(clean.slice(2)) and _no_space_at_ends(pa.array([], pa.string()))
    assert not _no_space_at_ends(pa.array(["ok", " x"]).slice(1)) and _no_space_at_ends(pa.array([" x", "ok"]).slice(1))


def test_lower_already_only_when_lower_casing_changes_nothing():
    from segwork.ingestion.parse import _lower_already
    import pyarrow.compute as pc

    for values in (["page_view", "login"], ["Login"], ["loginZ"], ["é"], ["ok", None, ""], ["AZ", "az"], ["@[`{"], ["ß", "x"]):
        for type_ in (pa.string(), pa.large_string()):
            array = pa.array(values, type_)
            for a in (array, array.slice(1), pa.chunked_array([array.slice(0, 1), array.slice(1)], type_)):
                if _lower_already(a):
                    assert pc.utf8_lower(a).equals(a), values
    assert _lower_already(pa.array(["page_view", "login_2", None, "@[`{"])) and not _lower_already(pa.array(["Login"]))
    assert _lower_already(pa.array(["Login", "x"]).slice(1)) and not _lower_already(pa.array(["x", "LOGIN"]).slice(1))


def test_later_repeats_is_duplicated_keep_first():
    rng = np.random.default_rng(0)
    cases = [[f"e{rng.integers(0, 40):05d}" for _ in range(500)], [f"e{i:010d}" for i in range(1000)],
             ["a", "bb", "a", "ccc", "bb"], ["x" * 30] * 3, [], ["a", None, "a", None]]
    for values in cases:
        s = arrow_text(values) if values else pd.Series([], dtype="str")
        for series in (s, s.iloc[1:]):
            assert (later_repeats(series) == series.duplicated(keep="first").to_numpy()).all()


def test_event_type_form_checked_per_distinct_value_as_per_row():
    from segwork.schemas import EVENT_TYPE_PATTERN, matches_per_value

    values = ["purchase", "buy now!", None, "9lives", "login", "purchase", "a" * 40, "Login"] * 50
    s = arrow_text(values)
    want = s.str.match(EVENT_TYPE_PATTERN).to_numpy(dtype=bool) | s.isna().to_numpy()  # pandera lets missing pass
    assert (matches_per_value(s, EVENT_TYPE_PATTERN) == want).all()
    assert matches_per_value(arrow_text(["login", "purchase"] * 10), EVENT_TYPE_PATTERN).all()


def test_bad_event_type_is_quarantined_with_its_reason(client):
    import segwork

    rows = pd.DataFrame({"event_id": ["1", "2", "3"], "customer_id": ["c", "c", "c"],
                         "event_type": ["Purchase ", "buy now!", "login"], "timestamp": ["2024-05-01 12:00:00"] * 3})
    report = segwork.ingest(client, "customer_events", rows.to_csv(index=False).encode(), source_name="e.csv")
    assert (report.inserted, report.quarantined) == (2, 1)
    assert dict(report.reasons) == {"event_type: must be lower-case letters, digits or _ (at most 32), starting with a letter": 1}


def test_text_that_reads_as_nan_or_infinity_is_not_a_finite_number():
    not_a_number = {"event_value": "is not a number (Float64)", "age": "is not a whole number (Int32)"}
    cases = [("customer_events", "event_value"), ("customers", "age")]
    for table, column in cases:
        values = ["nan", "-NaN", "Infinity", "-inf", "1e400", "NA", "null", "", None, "2"]
        for frame in frames({column: values}):
            errors = parse_chunk(table, frame).errors
            reasons = {pos: [reason for _, reason, _ in errs] for pos, errs in errors.items()}
            finite = [f"{column}: is not a finite number"]
            assert reasons == {0: finite, 1: finite, 2: finite, 3: finite, 4: finite,
                               5: [f"{column}: {not_a_number[column]}"], 6: [f"{column}: {not_a_number[column]}"]}


def reasons(parsed) -> dict[int, list[str]]:
    return {pos: [detail for _, _, detail in errs] for pos, errs in sorted(parsed.errors.items())}


def test_objects_arrays_and_booleans_are_no_columns_value():
    """They were typed as Python text ("{'a': 1}", "True") where text is expected."""
    nested = [{"a": 1}, [1, [2]], np.array([np.array([1]), np.array([2, 3])], dtype=object), True, np.bool_(False)]
    raw = pd.DataFrame({
        "event_id": pd.Series(["e1", "e2", "e3", "e4", "e5"], dtype=object),
        "customer_id": pd.Series([12, 12.0, "c1", "c1", "c1"], dtype=object),  # a number in an id: its text
        "event_type": pd.Series(["purchase"] * 5, dtype=object),
        "product_id": pd.Series(nested, dtype=object),
        "event_value": pd.Series(nested[::-1], dtype=object),
        "timestamp": pd.Series([nested[1], nested[0]] + ["2024-05-01 12:00:00"] * 3, dtype=object),
    })
    parsed = parse_chunk("customer_events", raw)
    assert list(parsed.typed.customer_id) == ["12", "12.0", "c1", "c1", "c1"]
    assert parsed.typed.product_id.isna().all() and parsed.typed.event_value.isna().all()
    got = reasons(parsed)
    assert got[0] == ["event_value: is not a number (Float64) (got 'false')",
                      "product_id: is not text (got an object: '{\"a\": 1}')",
                      "timestamp: is not a date/time (use ISO 8601, e.g. 2024-05-01 13:45:00) (got '[1, [2]]')"]
    assert got[2] == ["event_value: is not a number (Float64) (got '[[1], [2, 3]]')",
                      "product_id: is not text (got an array: '[[1], [2, 3]]')"]
    assert got[3] == ["event_value: is not a number (Float64) (got '[1, [2]]')", "product_id: is not text (got a boolean: 'true')"]
    assert {reason for errs in parsed.errors.values() for _, reason, _ in errs} >= {
        "product_id: is not text (got an object)", "product_id: is not text (got an array)", "product_id: is not text (got a boolean)"}
    text = parsed.raw_text([0, 2, 3])  # the quarantine keeps the JSON text, not Python's
    assert list(text.product_id) == ['{"a": 1}', "[[1], [2, 3]]", "true"]


def test_a_boolean_column_is_not_text():
    raw = pd.DataFrame({"event_id": ["e1", "e2"], "customer_id": ["c1", "c1"], "event_type": ["purchase"] * 2,
                        "product_id": [True, False], "timestamp": ["2024-05-01 12:00:00"] * 2})
    parsed = parse_chunk("customer_events", raw)
    assert reasons(parsed) == {0: ["product_id: is not text (got a boolean: 'true')"],
                               1: ["product_id: is not text (got a boolean: 'false')"]}
