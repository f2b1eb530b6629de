"""Benchmark data: generated once per size and generator version, cached as Parquet/CSV.

Customers get a second, later profile version for 10 % of them (another lifetime value,
some move), so every engine has to pick the latest profile, as segwork's semantics demand.
"""
from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segwork import synth

CACHE = Path(__file__).resolve().parent / "cache"
END = "2026-11-01"  # last day of generated activity; also the queries' as_of
SIZES = {  # customers, events, events per ingestion-benchmark file
    "S": (100_000, 5_000_000, 1_000_000),
    "M": (1_000_000, 30_000_000, 3_000_000),
    "L": (3_000_000, 100_000_000, 10_000_000),
}
BLOCK = 10 << 20  # events generated (as strings) and written at a time, whole row groups: 100M at once peaks at ~17 GB
VERSION_SHARE = 0.10


@dataclass(frozen=True)
class Dataset:
    """Paths of one size's cached files."""

    size: str
    customers: int
    events: int
    ingest_rows: int
    folder: Path

    @property
    def customers_parquet(self) -> Path:
        return self.folder / "customers.parquet"

    @property
    def events_parquet(self) -> Path:
        return self.folder / "events.parquet"

    def ingest_file(self, fmt: str, rows: int) -> Path:
        """An events file of `rows` rows (the first rows of events.parquet) in csv or parquet."""
        return self.folder / f"events_{rows}.{fmt}"

    @property
    def fingerprint(self) -> str:
        return self.folder.name


def dataset(size: str, log=print) -> Dataset:
    """The cached data of one size, generated first if missing or made by another generator."""
    customers, events, ingest_rows = SIZES[size]
    tag = hashlib.sha256(Path(synth.__file__).read_bytes() + Path(__file__).read_bytes()).hexdigest()[:10]
    folder = CACHE / f"{size}-{tag}"
    ds = Dataset(size, customers, events, ingest_rows, folder)
    if (folder / "done").exists():
        return ds
    for stale in CACHE.glob(f"{size}-*"):
        if stale.is_dir() and stale != folder:
            shutil.rmtree(stale)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    t = time.perf_counter()
    profiles = customer_versions(customers)
    pq.write_table(pa.Table.from_pandas(profiles, preserve_index=False), ds.customers_parquet)
    log(f"  generated {len(profiles):,} customer rows in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    writer, head = None, None
    for frame in synth.event_blocks(events, customers, block=max(BLOCK, ingest_rows), end=END):
        table = pa.Table.from_pandas(frame, preserve_index=False)
        del frame
        writer = writer or pq.ParquetWriter(ds.events_parquet, table.schema)
        writer.write_table(table, row_group_size=1 << 20)
        head = head if head is not None else table.slice(0, ingest_rows)  # the ingestion files: the first rows
    writer.close()
    log(f"  generated {events:,} events in {time.perf_counter() - t:.1f} s")
    for rows in (ingest_rows, ingest_rows // 10):
        part = head.slice(0, rows)
        pq.write_table(part, ds.ingest_file("parquet", rows), row_group_size=1 << 20)
        write_csv(part, ds.ingest_file("csv", rows))
    (folder / "done").write_text(f"generated in {time.perf_counter() - started:.1f} s\n")
    return ds


def customer_versions(n: int, seed: int = 7) -> pd.DataFrame:
    """n profiles plus a later version for 10 % of them, appended as a later file would be."""
    base = synth.customers(n, seed=seed, end=END)
    rng = np.random.default_rng(seed + 1)
    old_enough = np.flatnonzero(base["timestamp"] < pd.Timestamp(END, tz="UTC") - pd.Timedelta(days=90))
    pick = np.sort(rng.choice(old_enough, int(n * VERSION_SHARE), replace=False))
    newer = base.iloc[pick].copy()
    newer["lifetime_value"] = (newer["lifetime_value"] * rng.uniform(1.0, 3.0, len(newer)) + 10).round(2)
    moves = rng.random(len(newer)) < 0.2
    newer.loc[moves, "location"] = np.array(synth.LOCATIONS)[rng.integers(0, len(synth.LOCATIONS), int(moves.sum()))]
    newer["timestamp"] = newer["timestamp"] + pd.to_timedelta(rng.integers(86_400, 60 * 86_400, len(newer)), unit="s")
    return pd.concat([base, newer], ignore_index=True)


def write_csv(table: pa.Table, path: Path) -> None:
    """CSV as a shop system would export it: times as 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    columns = {}
    for name in table.column_names:
        col = table[name]
        columns[name] = pc.strftime(col, "%Y-%m-%d %H:%M:%S") if pa.types.is_timestamp(col.type) else col
    pacsv.write_csv(pa.table(columns), path)


def load_frames(ds: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both tables as pandas frames (Arrow-backed strings), as a notebook would read them."""
    return pd.read_parquet(ds.customers_parquet), pd.read_parquet(ds.events_parquet)
