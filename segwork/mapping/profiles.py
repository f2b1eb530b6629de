"""Customers derived from a transaction file: one profile per customer its good events name.

Dates and lifetime value come from every stored event of the customer (sql/derived_profiles.sql),
after the file's events are in; attributes (location, name, ...) are the most frequent value
the file gives for the customer (ties: the alphabetically first, like pandas' Series.mode).
The profile's time is the customer's last event, so ingesting the same file again makes the
same profile versions, recognised as duplicates.
"""
from __future__ import annotations

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db
from segwork.config import Settings
from segwork.mapping.spec import Compiled


class ProfileSink:
    """Collects, chunk by chunk, the customers of a file and the counts of their attribute values."""

    def __init__(self, compiled: Compiled):
        self.attributes = compiled.profiles or {}
        self.ids: set[str] = set()
        self.counts: list[pd.DataFrame] = []  # customer_id, attribute, value, n

    def add(self, customer_ids: pd.Series, attributes: dict[str, pd.Series]) -> None:
        """The good rows of one chunk: their customer ids and their attribute values (aligned)."""
        ids = customer_ids.astype(object).reset_index(drop=True)
        self.ids.update(ids.dropna())
        for attribute, values in attributes.items():
            pairs = pd.DataFrame({"customer_id": ids, "value": values.reset_index(drop=True).astype(object)}).dropna()
            pairs = pairs[pairs["value"].astype(str).str.strip() != ""]
            if len(pairs):
                counted = pairs.groupby(["customer_id", "value"], sort=False).size().rename("n").reset_index()
                self.counts.append(counted.assign(attribute=attribute))

    def frame(self, client: Client, settings: Settings | None = None) -> pd.DataFrame:
        """The derived customers rows, ready for segwork.ingest into customers."""
        rows = db.query_rows_in_parts(client, "derived_profiles", "ids", sorted(self.ids))
        out = pd.DataFrame(rows, columns=["customer_id", "signup_date", "lifetime_value", "timestamp"])
        for column in ("signup_date", "timestamp"):
            out[column] = pd.to_datetime(out[column], utc=True)
        if self.counts:
            counts = pd.concat(self.counts, ignore_index=True)
            counts = counts.groupby(["attribute", "customer_id", "value"], sort=False)["n"].sum().reset_index()
            counts["text"] = counts["value"].astype(str)
            top = counts.sort_values(["attribute", "customer_id", "n", "text"], ascending=[True, True, False, True])
            top = top.drop_duplicates(["attribute", "customer_id"])
            for attribute, part in top.groupby("attribute"):
                out[attribute] = out["customer_id"].map(dict(zip(part["customer_id"], part["value"])))
        return out.sort_values("customer_id", kind="stable").reset_index(drop=True)
