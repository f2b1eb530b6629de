"""Map the real Online Retail transactions (UCI, CC BY 4.0) onto segwork's two tables.

`load` ingests the file through the built-in mapping "online-retail" (the one the workbench
offers); the pandas functions here compute the same independently, for notebooks and tests.
Each line with a CustomerID becomes an event: "purchase", or "return" for a cancelled
invoice (InvoiceNo starting with "C"); event_value = Quantity x UnitPrice; product_id =
StockCode; timestamp = InvoiceDate (UTC). Each customer's profile derives from their events,
as a history: a version per day with invoices, at that day's last invoice, with lifetime_value
= net spend up to it, signup_date = first invoice and location = most frequent Country
(segwork.mapping.profiles). to_customers gives the latest version of each (the profile today).
Name, email, age and gender are not in the data.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork.config import PROJECT_DIR
from segwork.ingestion import IngestReport, ingest

RETAIL_CSV = PROJECT_DIR / "datasets" / "online-retail" / "online_retail_2010-12-01_2011-12-09.csv.gz"


def read_lines(path: Path | str = RETAIL_CSV) -> pd.DataFrame:
    """All invoice lines as text columns plus typed Quantity, UnitPrice and InvoiceDate."""
    df = pd.read_csv(path, dtype={"InvoiceNo": "str", "StockCode": "str", "Description": "str", "CustomerID": "str", "Country": "str"},
                     parse_dates=["InvoiceDate"])
    df["line"] = range(2, len(df) + 2)  # the CSV's physical line (header = line 1), as ingestion numbers it
    return df


def to_events(lines: pd.DataFrame, *, keep_unknown: bool = False) -> pd.DataFrame:
    """customer_events rows for the lines that have a CustomerID ("17850.0" -> "17850").

    keep_unknown=True maps every line; those without a CustomerID then fail validation and
    land in the quarantine with their reason, so the counts add up to the file's lines.
    """
    known = lines if keep_unknown else lines[lines["CustomerID"].notna()]
    cancelled = known["InvoiceNo"].str.startswith("C")
    return pd.DataFrame({
        "event_id": known["InvoiceNo"] + "-" + known["line"].astype("str"),
        "customer_id": known["CustomerID"].str.removesuffix(".0"),
        "event_type": cancelled.map({True: "return", False: "purchase"}).astype("str"),
        "event_value": (known["Quantity"] * known["UnitPrice"]).round(4),
        "product_id": known["StockCode"],
        "category": "",
        "timestamp": known["InvoiceDate"].dt.tz_localize("UTC"),
    }).reset_index(drop=True)


def to_customers(events: pd.DataFrame, countries: pd.Series) -> pd.DataFrame:
    """Each customer's latest derived profile (net spend of all their events, last invoice as its
    time); countries aligns with events."""
    by = events.assign(country=countries.to_numpy()).groupby("customer_id")
    return pd.DataFrame({
        "customer_id": by.size().index,
        "location": by["country"].agg(lambda s: s.mode().iloc[0]).to_numpy(),
        "signup_date": by["timestamp"].min().to_numpy(),
        "lifetime_value": by["event_value"].sum().round(2).to_numpy(),
        "timestamp": by["timestamp"].max().to_numpy(),
    })


def load_frames(path: Path | str = RETAIL_CSV) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(lines, events, customers) ready for segwork.ingest."""
    lines = read_lines(path)
    events = to_events(lines)
    countries = lines.loc[lines["CustomerID"].notna(), "Country"]
    return lines, events, to_customers(events, countries)


def load(client: Client, path: Path | str = RETAIL_CSV, progress=None) -> list[IngestReport]:
    """Ingest the file through the built-in "online-retail" mapping (segwork/mapping/builtin):
    lines with a CustomerID as events (those without one are quarantined, so the counts add up
    to the file's lines), then the profile versions derived from them (one per customer and day
    with invoices). [events report, profiles report]"""
    report = ingest(client, "customer_events", path, mapping="online-retail", progress=progress)
    return [report, report.profiles]
