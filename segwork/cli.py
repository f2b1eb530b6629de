"""`python -m segwork`: demo data, ingestion with a progress bar, the queries, info, migrate.

Exit codes: 0 ok; 1 a SegworkError (one line on stderr says what and what to do);
2 bad usage (argparse).
"""
from __future__ import annotations

import argparse
import json
import sys

import pandas as pd
from tqdm import tqdm

from segwork import demo, exports, mapping, migrations, overview, queries
from segwork.config import Settings
from segwork.db import connect, describe_engine
from segwork.errors import EngineBusyError, SegworkError
from segwork.ingestion import Dialect, ingest
from segwork.schemas import TABLES
from segwork.segments import SegmentRules

QUERIES = ("customer_segment_lookup", "customer_engagement_analysis", "customer_segments_summary")
RULES = ("high_value", "medium_value", "loyal_days", "regular_days")
COMMANDS: dict = {}  # name -> (add_arguments, run); other modules (app, api) register here


def command(name: str, help: str):
    """Register a subcommand: decorate `run(args, settings) -> int`; `run.arguments(parser)` optional."""
    def wrap(run):
        COMMANDS[name] = (help, run)
        return run
    return wrap


def main(argv: list[str] | None = None) -> int:
    _load_plugins()
    parser = argparse.ArgumentParser(prog="python -m segwork", description="segwork: customer segmentation on ClickHouse")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (help_text, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if hasattr(run, "arguments"):
            run.arguments(p)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        return COMMANDS[args.command][1](args, settings) or 0
    except SegworkError as exc:
        print(f"segwork: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("segwork: interrupted", file=sys.stderr)
        return 130


def _load_plugins() -> None:
    import importlib

    for module in ("segwork.api.cli", "segwork.segment_cli", "segwork.workbench"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not exc.name.startswith("segwork"):
                raise


@command("demo", "Load generated demo data (seeded) into the database, with the customers' earlier profile versions "
                 "(a past for `segment sizes` / `transitions`), with a progress bar.")
def run_demo(args, settings: Settings) -> int:
    client = connect(settings=settings)
    bar = tqdm(total=args.customers + args.events, unit="rows", unit_scale=True, desc="demo data", file=sys.stderr)
    reports = demo.load(client, customers=args.customers, events=args.events, seed=args.seed, settings=settings,
                        progress=lambda n: bar.update(n), history=not args.no_history)
    bar.close()
    for report in reports:
        print(report.summary())
    print(describe_engine(client))
    return 0


run_demo.arguments = lambda p: (
    p.add_argument("--customers", type=int, default=Settings().demo_customers, help="number of customers (default %(default)s)"),
    p.add_argument("--events", type=int, default=Settings().demo_events, help="number of events (default %(default)s)"),
    p.add_argument("--seed", type=int, default=7, help="random seed (default %(default)s)"),
    p.add_argument("--no-history", action="store_true", help="the current profiles only, no earlier versions"),
)


@command("ingest", "Validate and load files (CSV, NDJSON, JSON, Parquet, Excel .xlsx; .gz too) into a table.")
def run_ingest(args, settings: Settings) -> int:
    dialect = Dialect(delimiter=args.delimiter, decimal=args.decimal, encoding=args.encoding, sheet=args.sheet)
    remote = through_workbench(settings)
    client = None if remote else connect(settings=settings)
    failed = 0
    for path in args.files:
        bar = tqdm(total=1000, unit="‰", desc=str(path)[-40:], file=sys.stderr, bar_format="{l_bar}{bar}| {postfix}")

        def progress(rows: int, fraction: float | None, bar=bar) -> None:
            if fraction is not None:
                bar.n = int(fraction * 1000)
            bar.set_postfix_str(f"{rows:,} rows")
            bar.refresh()

        def uploaded(sent: int, size: int, bar=bar) -> None:
            done = sent * 1000 // max(size, 1)
            if done != bar.n:
                bar.set_postfix_str("sent; the workbench ingests it" if sent >= size else f"{sent / 1e6:,.1f} MB sent",
                                    refresh=False)
                bar.update(done - bar.n)

        try:
            if remote:
                report = remote.ingest(args.table, path, ingest_options(args), progress=uploaded)
            else:
                report = ingest(client, args.table, path, format=args.format, settings=settings, progress=progress,
                                mapping=args.mapping, dialect=dialect)
        except SegworkError as exc:
            bar.close()
            if isinstance(exc, EngineBusyError):
                raise  # the workbench stopped answering: the next file would fare no better
            print(f"segwork: error: {exc}", file=sys.stderr)
            failed += 1
            continue
        bar.n = 1000
        bar.close()
        print(json.dumps(report.as_dict(), default=str) if args.json else report.summary())
    return 1 if failed else 0


def ingest_options(args) -> dict:
    """The options of `ingest` that say how to read a file (all but the table, files and output
    form), by their names: through a workbench they go to its API as query parameters."""
    return {k: v for k, v in vars(args).items() if k not in ("command", "table", "files", "json")}


run_ingest.arguments = lambda p: (
    p.add_argument("table", choices=list(TABLES)),
    p.add_argument("files", nargs="+"),
    p.add_argument("--format", choices=["csv", "ndjson", "json", "parquet", "xlsx"], help="default: from the name or content"),
    p.add_argument("--json", action="store_true", help="print each report as JSON"),
    p.add_argument("--mapping", metavar="NAME", help="map the file's own columns with a saved or built-in mapping "
                   "(list them with `python -m segwork mappings`)"),
    p.add_argument("--delimiter", help="CSV delimiter: ',' ';' '|' or tab ('tab'); default: detected"),
    p.add_argument("--decimal", default=".", help="decimal mark of numbers written as text: '.' (default) or ',' "
                   "(then 1.234,5 is 1234.5; needs a delimiter other than ',')"),
    p.add_argument("--encoding", help="text encoding: utf-8 (default), latin-1 or cp1252; default: UTF-8, or "
                   "Windows-1252 when the file is not UTF-8 and reads as such with confidence"),
    p.add_argument("--sheet", help="sheet of an .xlsx file to read: its name or 0-based position; default: the first"),
)


@command("mappings", "List the saved and built-in column mappings, or print one as JSON.")
def run_mappings(args, settings: Settings) -> int:
    remote = through_workbench(settings)
    found = remote.mappings() if remote else mapping.store.described(connect(settings=settings))
    if args.show:
        picked = [m for m in found if m["name"] == args.show]
        if not picked:
            raise mapping.MappingError(f"no mapping named {args.show!r}; known: {', '.join(m['name'] for m in found)}")
        print(json.dumps(picked[0]["mapping"], indent=2, ensure_ascii=False))
        return 0
    for m in found:
        print(f"{m['name']:<24} {m['table']:<16} {m['kind']:<9} {m['description'][:70]}")
    return 0


run_mappings.arguments = lambda p: (
    p.add_argument("--show", metavar="NAME", help="print this mapping's JSON"),
)


@command("query", "Run one of the three queries and print the result.")
def run_query(args, settings: Settings) -> int:
    rules = SegmentRules(**{k: getattr(args, k) for k in RULES})
    if args.name == "customer_segment_lookup" and not args.customer_id:
        raise SegworkError("customer_segment_lookup needs --customer-id ID")
    remote = through_workbench(settings)
    if remote:  # the pipe of the same name takes the same parameters, the rules included
        from segwork.api.pipes import PIPES

        df = remote.query(args.name, {p: getattr(args, p) for p in PIPES[args.name].parameter_names})
        _print_frame(df, args.format)
        return 0
    client = connect(settings=settings)
    common = {"as_of": args.as_of, "rules": rules}
    if args.name == "customer_segment_lookup":
        df = queries.customer_segment_lookup(client, args.customer_id, **common)
    elif args.name == "customer_engagement_analysis":
        df = queries.customer_engagement_analysis(
            client, args.start_date, args.end_date, args.event_type, args.limit, location=args.location,
            include_inactive=args.include_inactive, order_by=args.order_by, **common)
    else:
        df = queries.customer_segments_summary(client, args.location, args.min_age, args.max_age, **common)
    _print_frame(df, args.format)
    return 0


def _query_arguments(p):
    d = SegmentRules()
    p.add_argument("name", choices=QUERIES)
    p.add_argument("--customer-id")
    p.add_argument("--start-date", help="YYYY-MM-DD[ HH:MM:SS] (UTC)")
    p.add_argument("--end-date", help="YYYY-MM-DD[ HH:MM:SS] (UTC); a bare date includes the whole day")
    p.add_argument("--event-type", action="append", help="repeat for several; default all")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--order-by", choices=queries.ORDER_BY, default="event_count")
    p.add_argument("--include-inactive", action="store_true")
    p.add_argument("--location")
    p.add_argument("--min-age", type=int)
    p.add_argument("--max-age", type=int)
    p.add_argument("--as-of", help="reference time (default now, UTC)")
    p.add_argument("--high-value", type=float, default=d.high_value)
    p.add_argument("--medium-value", type=float, default=d.medium_value)
    p.add_argument("--loyal-days", type=int, default=d.loyal_days)
    p.add_argument("--regular-days", type=int, default=d.regular_days)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")


run_query.arguments = _query_arguments


@command("run", "Start segwork on the configured database (demo data on first start).")
def run_main(args, settings: Settings) -> int:
    # Replaced by the workbench launcher when segwork.workbench is present.
    client = connect(settings=settings)
    for report in demo.ensure_demo(client, settings):
        print(report.summary())
    return run_info(args, settings)


@command("info", "Row counts, quarantine counts, data freshness and the engine in use.")
def run_info(args, settings: Settings) -> int:
    remote = through_workbench(settings)
    found = remote.info() if remote else overview.info(connect(settings=settings))
    print(found["engine"])
    for table, n in found["tables"].items():
        print(f"{table:<28}{n:>14,}")
    print(f"{'latest event':<28}{found['latest_event'] or '-'}")
    print(f"{'latest profile update':<28}{found['latest_profile'] or '-'}")
    print(f"{'events in the last hour':<28}{found['events_last_hour']:>14,}")
    print(f"{'events in the last day':<28}{found['events_last_day']:>14,}")
    for line in found["incomplete_ingests"]:
        print(line)
    return 0


@command("migrate", "Upgrade the database made by an older segwork to this segwork's schema, in place, keeping its data.")
def run_migrate(args, settings: Settings) -> int:
    result = migrations.migrate(settings=settings, progress=lambda line: print(line, flush=True))
    print(result.summary())
    return 0


def through_workbench(settings: Settings):
    """The running workbench's API (segwork.api.remote) when a workbench holds the embedded database
    this command would open, else None and the command opens the database itself."""
    from segwork.api import remote

    found = remote.find(settings)
    if found is not None:
        print(found.note, file=sys.stderr, flush=True)
    return found


def _print_frame(df: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        sys.stdout.write(exports.frame_csv(df))
    elif fmt == "json":
        sys.stdout.write(df.to_json(orient="records", date_format="iso", lines=False) + "\n")
    elif df.empty:
        print("(no rows)")
    else:
        print(df.to_string(index=False))
