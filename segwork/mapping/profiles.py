"""Customers derived from a transaction file: a profile history for each customer its good events name.

After the file's events are in, every stored event of the customer gives the versions
(sql/derived_profiles.sql): one per UTC day with events, timed at that day's last event, with
the net value of all events up to it as lifetime value and the first event as signup date, so
segment sizes and transitions through time (segwork.through_time) follow the customer's
spending. Attributes (location, name, ...) are the most frequent value the file gives for the
customer (ties: the alphabetically first, like pandas' Series.mode), the same in every version.

A version is its (customer_id, timestamp) and the first copy wins: ingesting the same file again
makes the same versions, recognised as duplicates. The limit that follows (accepted): a stored
version is never rewritten, so events that arrive in a later file but are dated before some of the
customer's stored versions do not reach those versions, the latest one (the profile) included,
until the customer has events on a later day. Only versions at new times go in (a new day, or a
later last event on a day), each counting every stored event up to it.
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
        """The derived profile versions (customers rows, oldest first per customer), ready for segwork.ingest."""
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
        return out.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)
