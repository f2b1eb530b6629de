"""What neutralising formula-like cells costs a CSV (issue 11): the engagement pipe's `.csv`
(the engine's CSVWithNames, then segwork.exports.engine_csv) against the engine's CSV alone, and
the workbench's csv_bytes against pandas' to_csv, interleaved, on generated data in memory.

`python -m bench.csv_exports [--customers 200000] [--rounds 7]` prints medians and ratios.
"""
from __future__ import annotations

import argparse

import segwork
from segwork import db, exports, queries, synth
from segwork.api import pipes

from bench.timing import interleaved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    client = segwork.connect("chdb://memory", database="bench_csv_exports")
    client.command("TRUNCATE TABLE customers")
    client.command("TRUNCATE TABLE customer_events")
    segwork.ingest(client, "customers", synth.customers(args.customers))
    segwork.ingest(client, "customer_events", synth.events(args.customers * 3, args.customers))
    pipe = pipes.PIPES["customer_engagement_analysis"]
    values = {**{p.name: p.default for p in pipe.params}, "limit": args.customers, "start_date": "2020-01-01"}
    settings = {**pipes.ENGINE_SETTINGS, **exports.ENGINE_CSV_SETTINGS}

    def engine_alone(_):
        with db.query_output("CSVWithNames", settings) as out:
            pipe.call(client, values)
        return out.body

    body = engine_alone(0)
    frame = queries.customer_engagement_analysis(client, "2020-01-01", None, limit=args.customers)
    print(f"{len(frame):,} rows, {len(body) / 1e6:.1f} MB of CSV")
    stats = interleaved({
        "engine CSV": engine_alone,
        "pipe .csv (neutralised)": lambda _: pipes.run(pipe, client, values, "csv"),
        "engine_csv alone": lambda _: exports.engine_csv(body),
        "pandas to_csv": lambda _: frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%SZ"),
        "frame_csv (neutralised)": lambda _: exports.frame_csv(frame, date_format="%Y-%m-%dT%H:%M:%SZ"),
    }, args.rounds)
    for name, s in stats.items():
        print(f"{name:<28}{s.median_ms:9.1f} ms  (min {s.min_ms:.1f}, max {s.max_ms:.1f})")
    print(f"pipe .csv / engine CSV: {stats['pipe .csv (neutralised)'].median_ms / stats['engine CSV'].median_ms:.2f}x")
    print(f"frame_csv / to_csv:     {stats['frame_csv (neutralised)'].median_ms / stats['pandas to_csv'].median_ms:.2f}x")


if __name__ == "__main__":
    main()
