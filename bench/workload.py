"""The three questions every contender answers, with the same parameters."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segwork.segments import DEFAULT_RULES, SegmentRules

from bench.data import END

# The queries' as_of: the current state of the data. The generator stamps each profile up to an
# hour after its signup, and signups run up to END, so at END itself a few profiles (11 at size
# M) do not exist yet and segwork answers an as_of query from the history (as it must); an hour
# later every version is in. Same calendar day as END: the loyalty segments are END's.
AS_OF = pd.Timestamp(END, tz="UTC") + pd.Timedelta(hours=1)


@dataclass(frozen=True)
class Workload:
    """Parameters: random customers for the lookup; a 6-month window and two event types
    for engagement (top 10); one location and an age range for the summary."""

    lookup_ids: tuple[str, ...]
    as_of: pd.Timestamp = AS_OF
    start: pd.Timestamp = pd.Timestamp("2026-05-01 00:00:00", tz="UTC")
    end: pd.Timestamp = pd.Timestamp("2026-10-31 23:59:59", tz="UTC")
    event_types: tuple[str, ...] = ("add_to_cart", "purchase")
    limit: int = 10
    location: str = "New York"
    min_age: int = 25
    max_age: int = 45
    rules: SegmentRules = DEFAULT_RULES

    def lookup_id(self, i: int) -> str:
        """The customer of round i (warm-up rounds are negative)."""
        return self.lookup_ids[i % len(self.lookup_ids)]


def workload(customer_count: int, rounds: int, seed: int = 42) -> Workload:
    """Random existing customer ids, one per round."""
    rng = np.random.default_rng(seed)
    numbers = rng.integers(1, customer_count + 1, max(rounds, 1) + 8)
    return Workload(tuple(f"c{n:07d}" for n in numbers))
