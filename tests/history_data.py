"""Customers with several profile versions each (some deleted, some re-created) and their events,
for the tests of the Through time page and the lookup's profile history."""
from __future__ import annotations

import numpy as np
import pandas as pd

LOCATIONS = ("Paris", "London", "Oslo")
DELETED = {"h0003": "2026-03-01", "h0007": "2026-05-15 12:00:00", "h0011": "2025-10-01"}  # h0011 comes back
BACK = {"h0011": "2026-02-01"}


def versions(n: int = 120, *, seed: int = 4) -> pd.DataFrame:
    """n customers signed up 2023-06 .. 2026-06, each with 1-6 versions up to 2026-11-20: lifetime
    value rising or falling (crossing 500 and 1,000 both ways), a move now and then, a signup date
    corrected once; the deletions (is_deleted = 1) and the re-creation of DELETED and BACK."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        cid = f"h{i:04d}"
        signup = pd.Timestamp("2023-06-01", tz="UTC") + pd.Timedelta(days=int(rng.integers(0, 1100)))
        at = signup + pd.Timedelta(hours=int(rng.integers(1, 48)))
        value, location, age = float(rng.integers(0, 900)), LOCATIONS[i % 3], int(rng.integers(18, 80))
        for v in range(int(rng.integers(1, 7))):
            if at > pd.Timestamp("2026-11-20", tz="UTC"):
                break
            if v and rng.random() < 0.1:
                location = LOCATIONS[(LOCATIONS.index(location) + 1) % 3]
            if v and i % 17 == 0 and v == 1:
                signup = signup - pd.Timedelta(days=200)  # a signup date corrected
            rows.append(_row(cid, i, age, location, signup, round(value, 2), at))
            at = at + pd.Timedelta(days=int(rng.integers(15, 240)), seconds=int(rng.integers(0, 86400)))
            value = max(value + float(rng.integers(-500, 700)), 0.0)
    frame = pd.DataFrame(rows)
    for cid, when in BACK.items():
        last = frame[frame["customer_id"] == cid].iloc[-1]
        frame = pd.concat([frame, pd.DataFrame([{**last.to_dict(), "timestamp": pd.Timestamp(when, tz="UTC"),
                                                 "lifetime_value": 1500.0}])], ignore_index=True)
    return frame.sort_values(["customer_id", "timestamp"], ignore_index=True)


def deletions() -> pd.DataFrame:
    """The versions history.delete_customers stores for DELETED (to add to versions() in an oracle)."""
    return pd.DataFrame([{**_row(cid, 0, 0, "", pd.Timestamp("1970-01-01", tz="UTC"), 0.0, pd.Timestamp(at, tz="UTC")),
                          "name": "", "email": "", "is_deleted": 1} for cid, at in DELETED.items()])


def events(customers: pd.DataFrame, n: int = 1500, *, seed: int = 9) -> pd.DataFrame:
    """Purchases and page views of these customers after their signup, up to 2026-11-20."""
    rng = np.random.default_rng(seed)
    first = customers.groupby("customer_id")["signup_date"].min()
    who = rng.integers(0, len(first), n)
    end = pd.Timestamp("2026-11-20", tz="UTC")
    start = first.iloc[who].to_numpy()
    span = (end - pd.to_datetime(start, utc=True)).total_seconds().to_numpy()
    times = pd.to_datetime(start, utc=True) + pd.to_timedelta((rng.random(n) * span).astype("int64"), unit="s")
    kinds = np.where(rng.random(n) < 0.4, "purchase", "page_view")
    return pd.DataFrame({"event_id": [f"he{i:05d}" for i in range(n)], "customer_id": first.index[who],
                         "event_type": kinds, "event_value": np.where(kinds == "purchase", rng.integers(5, 300, n), 0.0),
                         "timestamp": times.floor("s")})


def _row(cid, i, age, location, signup, value, at) -> dict:
    return {"customer_id": cid, "name": f"Hanna History {i}", "email": f"hanna{i}@example.com", "age": age,
            "gender": "female" if i % 2 else "male", "location": location, "signup_date": signup.floor("D"),
            "lifetime_value": value, "timestamp": at.floor("s")}
