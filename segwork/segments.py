"""Segment rules: thresholds, labels and their one order, one definition for SQL, UI and notebooks."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import pandas as pd

from segwork.errors import ConfigError

VALUE_SEGMENTS = ("High Value", "Medium Value", "Low Value")  # the order everywhere: high to low
LOYALTY_SEGMENTS = ("Loyal", "Regular", "New")  # loyal to new
SEPARATOR = " · "
SEGMENTS = tuple(f"{v}{SEPARATOR}{loyal}" for v in VALUE_SEGMENTS for loyal in LOYALTY_SEGMENTS)  # 'High Value · Loyal', ...


def segment_labels(frame: pd.DataFrame) -> pd.Series:
    """'High Value · Loyal' for each row of a frame with value_segment and loyalty_segment."""
    return frame["value_segment"].astype(str) + SEPARATOR + frame["loyalty_segment"].astype(str)


def in_segment_order(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows in the fixed segment order (High to Low value, then Loyal to New), not by any measure.

    Rows of segments outside the known labels come last, in their own order.
    """
    rank = {label: i for i, label in enumerate(SEGMENTS)}
    keys = segment_labels(frame).map(rank).fillna(len(SEGMENTS))
    return frame.iloc[keys.reset_index(drop=True).sort_values(kind="stable").index].reset_index(drop=True)


@dataclass(frozen=True)
class SegmentRules:
    """Value segment by lifetime_value, loyalty segment by days since signup at `as_of`.

    value:   lifetime_value >= high_value -> "High Value", >= medium_value -> "Medium Value",
             else "Low Value".
    loyalty: days since signup > loyal_days -> "Loyal", > regular_days -> "Regular", else "New".
    """

    high_value: float = 1000.0
    medium_value: float = 500.0
    loyal_days: int = 365
    regular_days: int = 180

    def __post_init__(self):
        for name in ("high_value", "medium_value"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError(f"segment rule {name}={v!r} must be a finite number")
        for name in ("loyal_days", "regular_days"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ConfigError(f"segment rule {name}={v!r} must be a whole number of days >= 0")
        if not self.high_value > self.medium_value:
            raise ConfigError(
                f"segment rules overlap: high_value ({self.high_value:g}) must be greater than "
                f"medium_value ({self.medium_value:g})"
            )
        if not self.loyal_days > self.regular_days:
            raise ConfigError(
                f"segment rules overlap: loyal_days ({self.loyal_days}) must be greater than "
                f"regular_days ({self.regular_days})"
            )

    def with_changes(self, **changes) -> "SegmentRules":
        """A copy with some thresholds changed (validated)."""
        return replace(self, **changes)

    def as_dict(self) -> dict:
        """Thresholds by name, e.g. for st.session_state or JSON."""
        return asdict(self)

    def sql_parameters(self) -> dict:
        """The server-side parameters every segmenting query takes."""
        return {
            "high_value": float(self.high_value),
            "medium_value": float(self.medium_value),
            "loyal_days": int(self.loyal_days),
            "regular_days": int(self.regular_days),
        }

    def value_segment(self, lifetime_value: float) -> str:
        """The value segment of one lifetime value (Python side, for checks and the UI)."""
        if lifetime_value >= self.high_value:
            return VALUE_SEGMENTS[0]
        if lifetime_value >= self.medium_value:
            return VALUE_SEGMENTS[1]
        return VALUE_SEGMENTS[2]

    def loyalty_segment(self, days_since_signup: int) -> str:
        """The loyalty segment of a number of days since signup."""
        if days_since_signup > self.loyal_days:
            return LOYALTY_SEGMENTS[0]
        if days_since_signup > self.regular_days:
            return LOYALTY_SEGMENTS[1]
        return LOYALTY_SEGMENTS[2]

    def describe(self) -> list[str]:
        """The rules in words, for captions."""
        return [
            f"High Value: lifetime value >= {self.high_value:,.2f}",
            f"Medium Value: {self.medium_value:,.2f} <= lifetime value < {self.high_value:,.2f}",
            f"Low Value: lifetime value < {self.medium_value:,.2f}",
            f"Loyal: signed up more than {self.loyal_days} days ago",
            f"Regular: {self.regular_days} < days since signup <= {self.loyal_days}",
            f"New: signed up {self.regular_days} days ago or less",
        ]


DEFAULT_RULES = SegmentRules()
