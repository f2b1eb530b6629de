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
    first = np.array(FIRST)[rng.integers(0, len(FIRST), n)]
    last = np.array(LAST)[rng.integers(0, len(LAST), n)]
    names = pc.binary_join_element_wise(pa.array(first), pa.array(last), " ").to_pandas()
    emails = pc.binary_join_element_wise(pa.array(np.char.lower(first)), pa.array(np.char.lower(last)), _ids("", idx, 1), ".")
    emails = pc.binary_join_element_wise(emails, "example.com", "@").to_pandas()
    loc_weights = np.linspace(3, 1, len(LOCATIONS))
    loc_weights /= loc_weights.sum()
    ltv = np.round(rng.lognormal(5.6, 1.1, n), 2)
    age = rng.integers(18, 80, n).astype("int32")
    frame = pd.DataFrame({
        "customer_id": ids,
        "name": names,
        "email": emails,
        "age": pd.array(age, dtype="Int32"),
        "gender": np.array(["female", "male", "non-binary"])[rng.choice(3, n, p=[0.49, 0.49, 0.02])],
        "location": np.array(LOCATIONS)[rng.choice(len(LOCATIONS), n, p=loc_weights)],
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
    who = np.searchsorted(np.cumsum(weights / weights.sum()), rng.random(n), side="right").clip(0, customer_count - 1) + 1
    etype_idx = np.searchsorted(np.cumsum(EVENT_WEIGHTS), rng.random(n) * sum(EVENT_WEIGHTS), side="right").clip(0, len(EVENT_TYPES) - 1)
    value = np.zeros(n)
    for name, sign, mu in (("purchase", 1, 3.6), ("add_to_cart", 1, 3.6), ("return", -1, 3.4)):
        mask = etype_idx == EVENT_TYPES.index(name)
        value[mask] = sign * np.round(rng.lognormal(mu, 0.9, int(mask.sum())), 2)
    seconds = end_s - rng.integers(0, days * 86400, n)
    has_product = np.isin(etype_idx, [EVENT_TYPES.index(t) for t in ("product_view", "add_to_cart", "purchase", "wishlist", "return")])
    product = _ids("p", rng.integers(1, 5000, n), 5)
    product = pc.if_else(pa.array(has_product), product, "")
    category = pc.if_else(pa.array(has_product), pa.array(np.array(CATEGORIES, dtype=object)[rng.integers(0, len(CATEGORIES), n)]), "")
    return pd.DataFrame({
        "event_id": _ids("e", np.arange(1, n + 1), 10).to_pandas(),
        "customer_id": _ids("c", who, 7).to_pandas(),
        "event_type": pd.Series(pd.Categorical.from_codes(etype_idx, EVENT_TYPES)).astype("str"),
        "event_value": value,
        "product_id": product.to_pandas(),
        "category": category.to_pandas(),
        "timestamp": pd.Series(seconds.astype("datetime64[s]")).dt.tz_localize("UTC"),
    })


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """prefix + zero-padded numbers, vectorised in Arrow."""
    digits = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")
