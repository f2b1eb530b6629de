"""`python -m segwork segment ...`: your own segments and segments through time.

  segment list | show NAME [--version N] | apply FILE [--note TEXT] | delete NAME
  segment members NAME [--as-of T] [--format table|csv|json] [--limit N]
  segment diff NAME --since DATE|last [--until DATE] [--output FILE] [--record] [--post [URL]]
  segment sizes [--start-date D] [--end-date D] [--every day|week|month] [--location L]
  segment transitions DATE_A [DATE_B] [--by segment|value|loyalty]

While a workbench holds the embedded database the commands go through its API (the pipes of
the same names), as `query` and `ingest` do.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from segwork import custom_cli, params, through_time, webhook
from segwork.cli import _print_frame, command, through_workbench
from segwork.config import Settings
from segwork.db import connect
from segwork.errors import ParameterError
from segwork.segments import DEFAULT_RULES, SEGMENTS, SEPARATOR, SegmentRules

RULES = ("high_value", "medium_value", "loyal_days", "regular_days")


@command("segment", "Your own segments (list, show, apply, delete, members) and segments through time (diff, sizes, transitions).")
def run_segment(args, settings: Settings) -> int:
    rules = SegmentRules(**{k: getattr(args, k, getattr(DEFAULT_RULES, k)) for k in RULES})
    remote = through_workbench(settings)
    client = None if remote else connect(settings=settings)
    if args.action in custom_cli.ACTIONS:
        return custom_cli.run(args, rules, client, remote)
    if args.action == "diff":
        return _diff(args, settings, rules, client, remote)
    if args.action == "sizes":
        if remote:
            frame = remote.query("segment_sizes_over_time", {"start_date": args.start_date, "end_date": args.end_date,
                                                             "every": args.every, "location": args.location, **rules.as_dict()})
        else:
            frame = through_time.segment_sizes(client, args.start_date, args.end_date, every=args.every,
                                               location=args.location, rules=rules)
        frame = _sizes_table(frame)
    else:
        if remote:
            frame = remote.query("segment_transitions", {"date_a": args.date_a, "date_b": args.date_b, "by": args.by,
                                                         **rules.as_dict()})
            frame = _flows(frame, args.by, rules)
        else:
            frame = through_time.transitions(client, args.date_a, args.date_b, by=args.by, rules=rules)
    _print_frame(frame, args.format)
    return 0


def _sizes_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Days down, the nine segments across (the pipe lists only segments that had members)."""
    frame = frame.assign(day=pd.to_datetime(frame["day"]).dt.date,
                         segment=frame["value_segment"] + SEPARATOR + frame["loyalty_segment"])
    table = frame.pivot_table(index="day", columns="segment", values="customers", aggfunc="sum")
    return table.reindex(columns=list(SEGMENTS)).fillna(0).astype("int64").rename_axis(columns=None).reset_index()


def _flows(frame: pd.DataFrame, by: str, rules: SegmentRules) -> pd.DataFrame:
    frame = frame.assign(why=[through_time.why(r, by, rules) for r in frame.itertuples()])
    return frame.groupby(["from_state", "to_state", "why"], as_index=False, sort=False)["customers"].sum()


def _diff(args, settings: Settings, rules: SegmentRules, client, remote) -> int:
    name, by = through_time.segment_name(args.name)
    until = params.timestamp("until", args.until, end_of_day=True) or params.now()
    since = args.since
    if since.strip().lower() == "last":
        made = remote.segment_exports(name) if remote else through_time.exports_made(client, name, limit=1)
        if made.empty:
            raise ParameterError("since", f"no export of '{name}' is recorded yet; give the first date to compare from (YYYY-MM-DD)")
        since = made["until"].iloc[0].to_pydatetime()
    since = params.timestamp("since", since, end_of_day=True)
    if remote:
        found = remote.query("segment_changes", {"segment": name, "since": since, "until": until, **rules.as_dict()})
        changes = through_time.explain(found, by, rules)
    else:
        changes = through_time.segment_changes(client, name, since, until, rules=rules)
    entered, exited = int((changes["change_kind"] == "entered").sum()), int((changes["change_kind"] == "exited").sum())
    print(f"{name}: {entered:,} entered, {exited:,} exited between {since:%Y-%m-%d %H:%M:%S} and {until:%Y-%m-%d %H:%M:%S} UTC",
          file=sys.stderr)
    destinations = []
    if args.post is not None:
        url = args.post or settings.segment_webhook_url
        if not url:
            raise ParameterError("post", "no URL: give --post URL or set SEGWORK_SEGMENT_WEBHOOK_URL")
        status = webhook.post(url, webhook.ndjson(changes, segment=name, since=since, until=until),
                              attempts=settings.webhook_attempts)
        print(f"sent {len(changes):,} changes to {webhook.safe_url(url)}: {status}", file=sys.stderr)
        destinations.append(webhook.safe_url(url))
    if args.output:
        path = Path(args.output)
        body = webhook.ndjson(changes, segment=name, since=since, until=until) if args.format == "ndjson" else None
        if body is not None:
            path.write_bytes(body)
        else:
            changes.to_csv(path, index=False)
        destinations.append(str(path.resolve()))
    elif args.post is None:
        if args.format == "ndjson":
            sys.stdout.write(webhook.ndjson(changes, segment=name, since=since, until=until).decode())
        else:
            _print_frame(changes, args.format)
    if args.record or args.post is not None:
        where = ", ".join(destinations) or "stdout"
        values = {"segment": name, "since": since, "until": until, "entered": entered, "exited": exited, "destination": where}
        if remote:
            remote.record_segment_export(values)
        else:
            through_time.record_export(client, **values)
        print(f"recorded: the next `--since last` starts at {until:%Y-%m-%d %H:%M:%S} UTC", file=sys.stderr)
    return 0


def _arguments(p) -> None:
    d = SegmentRules()
    sub = p.add_subparsers(dest="action", required=True)
    diff = sub.add_parser("diff", help="who entered and who left a segment between two dates",
                          description="Who entered and who left a segment (e.g. 'High Value/Loyal', 'High Value', "
                                      "'Loyal') between --since and --until: feed a marketing tool the changes only.")
    diff.add_argument("name", help="the segment: 'High Value/Loyal' (or 'High Value · Loyal'), a value or a loyalty segment")
    diff.add_argument("--since", required=True, help="YYYY-MM-DD (the end of that day, UTC) or a time; 'last': where the last "
                                                    "recorded export ended")
    diff.add_argument("--until", help="default now")
    diff.add_argument("--format", choices=["table", "csv", "ndjson", "json"], default="table")
    diff.add_argument("--output", metavar="FILE", help="write the changes to FILE (CSV, or NDJSON with --format ndjson)")
    diff.add_argument("--record", action="store_true", help="record this export, so that --since last starts at its end")
    diff.add_argument("--post", nargs="?", const="", metavar="URL",
                      help="POST the changes as NDJSON to URL (default SEGWORK_SEGMENT_WEBHOOK_URL), retried; recorded when "
                           "the receiver answers 2xx")
    sizes = sub.add_parser("sizes", help="customers per segment at the end of each day, week or month")
    sizes.add_argument("--start-date", help="default: a year before the end date")
    sizes.add_argument("--end-date", help="default: today")
    sizes.add_argument("--every", choices=through_time.EVERY, default="month")
    sizes.add_argument("--location")
    sizes.add_argument("--format", choices=["table", "csv", "json"], default="table")
    moves = sub.add_parser("transitions", help="customers per move between two dates, with why")
    moves.add_argument("date_a")
    moves.add_argument("date_b", nargs="?")
    moves.add_argument("--by", choices=through_time.BY, default="segment")
    moves.add_argument("--format", choices=["table", "csv", "json"], default="table")
    extra = custom_cli.arguments(sub)
    for parser in (diff, sizes, moves, *extra):
        parser.add_argument("--high-value", type=float, default=d.high_value)
        parser.add_argument("--medium-value", type=float, default=d.medium_value)
        parser.add_argument("--loyal-days", type=int, default=d.loyal_days)
        parser.add_argument("--regular-days", type=int, default=d.regular_days)


run_segment.arguments = _arguments
