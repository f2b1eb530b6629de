"""Seeded, vectorised synthetic shop data with realistic skew, for the demo, tests and benchmarks.

A few heavy customers and many light ones (Pareto activity), a realistic mix of event
types, positive purchase values, signups over several years, 20 locations.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

LOCATIONS = (
    "New York", "London", "Paris", "Berlin", "Madrid", "Rome", "Amsterdam", "Toronto", "Sydney", "Tokyo",
    "Singapore", "Dubai", "Mumbai", "Sao Paulo", "Mexico City", "Chicago", "San Francisco", "Stockholm",
    "Warsaw", "Cape Town",
)
EVENT_TYPES = ("page_view", "product_view", "add_to_cart", "login", "purchase", "search", "wishlist", "return")
EVENT_WEIGHTS = (0.38, 0.22, 0.09, 0.12, 0.07, 0.08, 0.03, 0.01)
CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "books", "toys", "grocery")
FIRST = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo", "Kai", "Lena", "Milo", "Nia", "Omar", "Pia")
LAST = ("Smith", "Garcia", "Kim", "Novak", "Rossi", "Silva", "Müller", "Dubois", "Tanaka", "Okafor", "Jensen", "Khan")


def customers(n: int, *, seed: int = 7, end: str = "2026-11-01", years: int = 4) -> pd.DataFrame:
    """n customer profiles: ids c0000001.., signups spread over `years` before `end`."""
    rng = np.random.default_rng(seed)
    end_ts = pd.Timestamp(end, tz="UTC")
    idx = np.arange(1, n + 1)
    ids = _ids("c", idx, 7).to_pandas()
    signup = end_ts - pd.to_timedelta(rng.uniform(0, years * 365.25 * 86400, n).astype("int64"), unit="s")
    first = rng.integers(0, len(FIRST), n)
    last = rng.integers(0, len(LAST), n)
    names = pc.binary_join_element_wise(_pick(FIRST, first), _pick(LAST, last), " ").to_pandas()
    lower = pc.binary_join_element_wise(_pick([f.lower() for f in FIRST], first), _pick([s.lower() for s in LAST], last),
                                        pc.cast(pa.array(idx), pa.string()), ".")
    emails = pc.binary_join_element_wise(lower, "example.com", "@").to_pandas()
    loc_weights = np.linspace(3, 1, len(LOCATIONS))
    loc_weights /= loc_weights.sum()
    ltv = np.round(rng.lognormal(5.6, 1.1, n), 2)
    age = rng.integers(18, 80, n).astype("int32")
    frame = pd.DataFrame({
        "customer_id": ids,
        "name": names,
        "email": emails,
        "age": pd.array(age, dtype="Int32"),
        "gender": _pick(("female", "male", "non-binary"), rng.choice(3, n, p=[0.49, 0.49, 0.02])).to_pandas(),
        "location": _pick(LOCATIONS, rng.choice(len(LOCATIONS), n, p=loc_weights)).to_pandas(),
        "signup_date": signup.floor("s"),
        "lifetime_value": ltv,
        "timestamp": (signup + pd.to_timedelta(rng.uniform(0, 3600, n).astype("int64"), unit="s")).floor("s"),
    })
    missing = rng.random(n) < 0.03  # real shops rarely know everyone's age
    frame.loc[missing, "age"] = pd.NA
    return frame


def events(n: int, customer_count: int, *, seed: int = 11, end: str = "2026-11-01", days: int = 730) -> pd.DataFrame:
    """n events of customers c0000001..c{customer_count}: Pareto-skewed activity over `days`."""
    rng = np.random.default_rng(seed)
    end_s = int(pd.Timestamp(end, tz="UTC").timestamp())
    weights = rng.pareto(1.2, customer_count) + 0.05
    # Events per customer drawn at once, then shuffled: the same distribution as drawing a
    # customer per event, without a binary search per event in a 1M-entry table.
    counts = rng.multinomial(n, weights / weights.sum())
    who = np.repeat(np.arange(1, customer_count + 1, dtype=np.int64), counts)
    rng.shuffle(who)
    # Event types through a 65,536-entry table of the weights' quantiles: a gather per event
    # instead of a binary search (weights are kept to 1/65,536).
    quantiles = np.searchsorted(np.cumsum(EVENT_WEIGHTS), (np.arange(65_536) + 0.5) / 65_536 * sum(EVENT_WEIGHTS), side="right")
    etype_idx = quantiles.clip(0, len(EVENT_TYPES) - 1)[rng.integers(0, 65_536, n)]
    value = np.zeros(n)
    for name, sign, mu in (("purchase", 1, 3.6), ("add_to_cart", 1, 3.6), ("return", -1, 3.4)):
        mask = etype_idx == EVENT_TYPES.index(name)
        value[mask] = sign * np.round(rng.lognormal(mu, 0.9, int(mask.sum())), 2)
    seconds = end_s - rng.integers(0, days * 86400, n)
    has_product = np.array([t in ("product_view", "add_to_cart", "purchase", "wishlist", "return") for t in EVENT_TYPES])[etype_idx]
    product = pc.if_else(pa.array(has_product), _ids("p", rng.integers(1, 5000, n), 5), "")
    category = pc.if_else(pa.array(has_product), _pick(CATEGORIES, rng.integers(0, len(CATEGORIES), n)), "")
    return pd.DataFrame({
        "event_id": _ids("e", np.arange(1, n + 1), 10).to_pandas(),
        "customer_id": _ids("c", who, 7).to_pandas(),
        "event_type": _pick(EVENT_TYPES, etype_idx).to_pandas(),
        "event_value": value,
        "product_id": product.to_pandas(),
        "category": category.to_pandas(),
        "timestamp": pd.Series(seconds.astype("datetime64[s]")).dt.tz_localize("UTC"),
    })


def _pick(words, positions: np.ndarray) -> pa.Array:
    """words[positions] as an Arrow string array (no Python string per row)."""
    return pa.array(list(words), pa.string()).take(pa.array(positions))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + zero-padded numbers, e.g. ("c", 42, 7) -> "c0000042", vectorised."""
    numbers = np.asarray(numbers, dtype=np.int64)
    if width < 4 or not len(numbers) or numbers.min() < 0 or numbers.max() >= 10**width:
        digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
        return pc.binary_join_element_wise(prefix, digits, "")
    # Every id has the same length, so the bytes are a (rows x length) grid: write 4 digits
    # at a time from a table of "0000".."9999" (Arrow's int-to-string cast is 10x slower).
    head = prefix.encode()
    n, length = len(numbers), len(head) + width
    raw = np.empty(n * length + 4, np.uint8)  # 4 spare bytes in front: the leftmost group may spill
    rest, groups, end = numbers.astype(np.uint64), [], 4 + length
    while end > 4 + len(head):
        groups.append((end, rest % 10000))
        rest, end = rest // 10000, end - 4
    for end, group in reversed(groups):  # leftmost first; the groups right of it repair its spill
        np.ndarray((n,), np.uint32, raw.data, end - 4, (length,))[:] = _DIGITS4[group]
    for i, byte in enumerate(head):
        raw[4 + i::length] = byte
    offsets = np.arange(0, (n + 1) * length, length, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(raw[4:])).cast(pa.string())


_DIGITS4 = np.frombuffer(b"".join(b"%04d" % i for i in range(10_000)), np.uint32)
