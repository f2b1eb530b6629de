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


def events(n: int, customer_count: int, *, seed: int = 11, end: str = "2026-11-01", days: int = 730,
           active_from: np.ndarray | None = None) -> pd.DataFrame:
    """n events of customers c0000001..c{customer_count}: Pareto-skewed activity over `days`.

    active_from (epoch seconds per customer, e.g. their signups): each customer's events fall
    between it and `end`, and a customer active for part of the window gets that part of their share.
    """
    return next(event_blocks(n, customer_count, block=max(n, 1), seed=seed, end=end, days=days, active_from=active_from))


def event_blocks(n: int, customer_count: int, *, block: int, seed: int = 11, end: str = "2026-11-01", days: int = 730,
                 active_from: np.ndarray | None = None):
    """events(...) as frames of `block` rows, in order; together exactly events(...)'s rows. Every
    number is drawn for all n first (~50 bytes an event), the strings a block at a time: 100M events
    peak at ~7 GB in blocks of 10M, against ~17 GB at once (bench/data.py, size L)."""
    rng = np.random.default_rng(seed)
    end_s = int(pd.Timestamp(end, tz="UTC").timestamp())
    weights = rng.pareto(1.2, customer_count) + 0.05
    if active_from is not None:
        start = np.maximum(np.asarray(active_from, dtype=np.int64), end_s - days * 86400)
        weights = weights * np.clip(end_s - start, 0, None) / (days * 86400)
    # Events per customer drawn at once, then shuffled: the same distribution as drawing a
    # customer per event, without a binary search per event in a 1M-entry table.
    counts = rng.multinomial(n, weights / weights.sum())
    who = np.repeat(np.arange(1, customer_count + 1, dtype=np.int64), counts)
    rng.shuffle(who)
    # Event types through a 65,536-entry table of the weights' quantiles: a gather per event
    # instead of a binary search (weights are kept to 1/65,536).
    quantiles = np.searchsorted(np.cumsum(EVENT_WEIGHTS), (np.arange(65_536) + 0.5) / 65_536 * sum(EVENT_WEIGHTS), side="right")
    etype_idx = quantiles.clip(0, len(EVENT_TYPES) - 1).astype(np.int8)[rng.integers(0, 65_536, n)]
    value = _values(rng, etype_idx)
    if active_from is None:
        seconds = end_s - rng.integers(0, days * 86400, n)
    else:
        seconds = end_s - (rng.random(n) * (end_s - start[who - 1])).astype(np.int64)
    product, category = _extras(rng, n)
    for first in range(0, max(n, 1), block):
        cut = slice(first, first + block)
        yield _events_frame(_ids("e", np.arange(first + 1, min(n, first + block) + 1), 10), who[cut], etype_idx[cut],
                            value[cut], seconds[cut], product[cut], category[cut])


def shop(customer_count: int, event_count: int, *, seed: int = 7, end: str = "2026-11-01", years: int = 4,
         days: int = 730) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Customers and their events, consistent with each other: each customer's events fall between
    their signup and `end` (a recent customer gets fewer), and each lifetime value is what they
    spent in the events (purchases less returns) plus, for a customer who signed up before the
    events' `days`, their spend before, at their pace in the window. Profiles as of `end`."""
    people = customers(customer_count, seed=seed, end=end, years=years)
    end_ts = pd.Timestamp(end, tz="UTC")
    end_s = int(end_ts.timestamp())
    signup = ((people["signup_date"] - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1s")).to_numpy(np.int64)
    acts = events(event_count, customer_count, seed=seed + EVENT_SEED_OFFSET, end=end, days=days, active_from=signup)
    who = acts["customer_id"].str.slice(1).astype(np.int64).to_numpy() - 1
    spent = np.bincount(who, weights=np.where(acts["event_type"].isin(SPEND), acts["event_value"], 0.0),
                        minlength=customer_count)
    window = end_s - days * 86400
    before_days = np.clip(window - signup, 0, None) / 86400
    active_days = np.maximum((end_s - np.maximum(signup, window)) / 86400, MIN_PACE_DAYS)
    pace = np.bincount(who, minlength=customer_count) / active_days  # events a day
    noise = np.random.default_rng(seed + 8).lognormal(-0.125, 0.5, customer_count)  # mean 1
    history = pace * before_days * NET_PER_EVENT * noise
    people["lifetime_value"] = np.round(np.maximum(spent + history, 0.0), 2)
    people["timestamp"] = end_ts.floor("s")
    return people, acts


def profile_history(people: pd.DataFrame, acts: pd.DataFrame, *, end: str = "2026-11-01", days: int = 730) -> pd.DataFrame:
    """The earlier profile versions of shop()'s customers, so that their segments have a past: one
    at signup (lifetime value 0); for a customer older than the events' `days`, one at each year's
    end and at the window's start while their spend before it accrues (evenly from signup); and one
    at the last purchase or return of each day with some, worth that accrual plus their net spend
    so far (never below 0). Their latest version stays shop()'s, at `end`, which these lead up to."""
    end_s = int(pd.Timestamp(end, tz="UTC").timestamp())
    window = end_s - days * 86400
    ids = pd.Index(people["customer_id"])
    signup = _seconds(people["signup_date"])
    spend = acts[acts["event_type"].isin(SPEND)]
    at = _seconds(spend["timestamp"])
    daily = (pd.DataFrame({"who": ids.get_indexer(spend["customer_id"]), "day": at // 86400, "at": at,
                           "value": spend["event_value"].to_numpy()})
             .groupby(["who", "day"], as_index=False).agg(at=("at", "max"), value=("value", "sum")).sort_values(["who", "at"]))
    daily["spent"] = daily.groupby("who")["value"].cumsum()
    total = np.bincount(daily["who"], weights=daily["value"], minlength=len(ids))
    early = signup < window
    before = np.where(early, np.clip(people["lifetime_value"].to_numpy() - total, 0.0, None), 0.0)  # spent before the window
    points = [(np.arange(len(ids)), signup, np.zeros(len(ids))),
              (np.flatnonzero(early), np.full(early.sum(), window), np.zeros(early.sum()))]
    first_year = pd.Timestamp(int(signup[early].min()) if early.any() else window, unit="s").year
    for year in range(first_year, pd.Timestamp(window, unit="s").year):
        year_end = int(pd.Timestamp(f"{year + 1}-01-01", tz="UTC").timestamp()) - 1
        who = np.flatnonzero(early & (signup < year_end))
        points.append((who, np.full(len(who), year_end), np.zeros(len(who))))
    points.append((daily["who"].to_numpy(), daily["at"].to_numpy(), daily["spent"].to_numpy()))
    who, when, spent = (np.concatenate(part) for part in zip(*points))
    keep = when < end_s
    who, when, spent = who[keep], when[keep], spent[keep]
    accrued = np.clip((when - signup[who]) / np.maximum(window - signup[who], 1), 0.0, 1.0)
    out = people.iloc[who].reset_index(drop=True)
    out["lifetime_value"] = np.round(np.maximum(before[who] * accrued + spent, 0.0), 2)
    out["timestamp"] = pd.to_datetime(when, unit="s", utc=True)
    return out.drop_duplicates(["customer_id", "timestamp"], keep="last").sort_values(["customer_id", "timestamp"],
                                                                                      ignore_index=True)


def _seconds(times: pd.Series) -> np.ndarray:
    return ((times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta("1s")).to_numpy(np.int64)


def live_events(first: int, last: int, customer_count: int, *, seed: int = 11, per_second: float = 2.0) -> pd.DataFrame:
    """New events in the seconds first..last-1 (epoch seconds) for customers c0000001..c{customer_count},
    as the demo's live trickle: a second's events are drawn from (seed, second) alone, with ids
    "live-<second>-<k>", so asking for a second twice gives the same rows (duplicates, never new
    ones). Customers are weighted as events(seed=seed) weights them: heavy ones stay heavy."""
    weights = np.random.default_rng(seed).pareto(1.2, customer_count) + 0.05
    cumulative = np.cumsum(weights) / weights.sum()
    type_p = np.array(EVENT_WEIGHTS) / sum(EVENT_WEIGHTS)
    parts = []
    for second in range(int(first), int(last)):
        rng = np.random.default_rng([seed, second])
        k = int(rng.poisson(per_second))
        if not k:
            continue
        who = np.minimum(np.searchsorted(cumulative, rng.random(k), side="right"), customer_count - 1) + 1
        etype_idx = rng.choice(len(EVENT_TYPES), k, p=type_p)
        ids = pa.array([f"live-{second}-{i}" for i in range(k)], pa.string())
        value = _values(rng, etype_idx)
        parts.append(_events_frame(ids, who, etype_idx, value, np.full(k, second, np.int64), *_extras(rng, k)))
    if not parts:
        none = np.zeros(0, np.int64)
        return _events_frame(pa.array([], pa.string()), none, none, np.zeros(0), none, none, none)
    return pd.concat(parts, ignore_index=True)


EVENT_SEED_OFFSET = 4  # shop draws events(seed=seed + this); live_events with it weights customers alike
VALUED = (("purchase", 1, 3.6), ("add_to_cart", 1, 3.6), ("return", -1, 3.4))  # type, sign, lognormal mu (sigma 0.9)
SPEND = ("purchase", "return")  # the event types whose values add up to a lifetime value
_P = dict(zip(EVENT_TYPES, np.array(EVENT_WEIGHTS) / sum(EVENT_WEIGHTS)))
# The expected spend an event brings (a lognormal's mean is exp(mu + sigma^2 / 2)).
NET_PER_EVENT = sum(_P[t] * sign * np.exp(mu + 0.9**2 / 2) for t, sign, mu in VALUED if t in SPEND)
MIN_PACE_DAYS = 30  # a customer's pace is measured over at least this many days (one event in a day is no pace)


def _values(rng: np.random.Generator, etype_idx: np.ndarray) -> np.ndarray:
    """event_value by type: positive for purchases and carts, negative for returns, 0 otherwise."""
    value = np.zeros(len(etype_idx))
    for name, sign, mu in VALUED:
        mask = etype_idx == EVENT_TYPES.index(name)
        value[mask] = sign * np.round(rng.lognormal(mu, 0.9, int(mask.sum())), 2)
    return value


def _extras(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Product numbers and category positions of n events (kept only for the event types that have one)."""
    return rng.integers(1, 5000, n).astype(np.int32), rng.integers(0, len(CATEGORIES), n).astype(np.int8)


def _events_frame(ids: pa.Array, who: np.ndarray, etype_idx: np.ndarray, value: np.ndarray, seconds: np.ndarray,
                  product: np.ndarray, category: np.ndarray) -> pd.DataFrame:
    """customer_events rows; products and categories (from _extras) for the event types that have one."""
    has_product = np.array([t in ("product_view", "add_to_cart", "purchase", "wishlist", "return") for t in EVENT_TYPES])[etype_idx]
    product = pc.if_else(pa.array(has_product, pa.bool_()), _ids("p", product, 5), "")
    category = pc.if_else(pa.array(has_product, pa.bool_()), _pick(CATEGORIES, category), "")
    return pd.DataFrame({
        "event_id": ids.to_pandas(),
        "customer_id": _ids("c", who, 7).to_pandas(),
        "event_type": _pick(EVENT_TYPES, etype_idx).to_pandas(),
        "event_value": value,
        "product_id": product.to_pandas(),
        "category": category.to_pandas(),
        "timestamp": pd.Series(np.asarray(seconds, np.int64).astype("datetime64[s]")).dt.tz_localize("UTC"),
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
