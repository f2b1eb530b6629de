"""`python -m segwork segment list|show|apply|delete|members`: saved segment definitions on the
command line (registered by segment_cli, which owns `segment`). Through a running workbench
they go to its API (/v0/segments and the segment_members pipe), as the other commands do."""
from __future__ import annotations

import sys
from pathlib import Path

from segwork import custom
from segwork.cli import _print_frame
from segwork.errors import SegworkError
from segwork.segments import SegmentRules

ACTIONS = ("list", "show", "apply", "delete", "members")


def run(args, rules: SegmentRules, client, remote) -> int:
    if args.action == "list":
        found = remote.segments() if remote else custom.listing(client)
        _print_frame(found, args.format)
    elif args.action == "show":
        text = remote.segment_yaml(args.name, args.version) if remote else custom.to_yaml(custom.get(client, args.name, args.version))
        sys.stdout.write(text)
        if not remote and args.version is None:
            versions = custom.versions(client, args.name)
            print("# versions: " + ", ".join(f"{v} ({t:%Y-%m-%d %H:%M}{', ' + n if n else ''})"
                                             for v, t, n in zip(versions["version"], versions["saved_at"], versions["note"])))
    elif args.action == "apply":
        path = Path(args.file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SegworkError(f"{path}: cannot be read ({exc.strerror}); give a YAML file of segment definitions") from None
        if remote:
            for line in remote.apply_segments(text, args.note):
                print(line)
        else:
            for segment in custom.from_yaml(text):
                version = custom.save(client, segment, args.note)
                print(f"{segment.name}: version {version}")
    elif args.action == "delete":
        version = remote.delete_segment(args.name) if remote else custom.remove(client, args.name)
        print(f"{args.name}: removed (version {version}; its earlier versions stay readable)")
    else:
        if remote:
            frame = remote.query("segment_members", {"segment": args.name, "as_of": args.as_of, "limit": args.limit,
                                                     "offset": 0, **rules.as_dict()})
        else:
            frame = custom.members(client, args.name, as_of=args.as_of, limit=args.limit, rules=rules)
        total = int(frame["total_rows"].iloc[0]) if len(frame) else 0
        print(f"{args.name}: {total:,} customers" + (f" (the first {len(frame):,} printed)" if total > len(frame) else ""),
              file=sys.stderr)
        _print_frame(frame.drop(columns=["total_rows"], errors="ignore"), args.format)
    return 0


def arguments(sub) -> list:
    """Add the subcommands to `segment`'s subparsers; returns those that take the segment rules."""
    listing = sub.add_parser("list", help="the saved segments (latest versions)")
    listing.add_argument("--format", choices=["table", "csv", "json"], default="table")
    show = sub.add_parser("show", help="a saved segment as YAML (and its versions)")
    show.add_argument("name")
    show.add_argument("--version", type=int, help="as it was at this version")
    apply = sub.add_parser("apply", help="save the segment definitions of a YAML file (each a new version)")
    apply.add_argument("file")
    apply.add_argument("--note", default="", help="a note kept with the new versions")
    delete = sub.add_parser("delete", help="remove a saved segment (its versions stay readable)")
    delete.add_argument("name")
    members = sub.add_parser("members", help="a saved segment's customers, highest lifetime value first")
    members.add_argument("name")
    members.add_argument("--as-of", help="the time that counts as now (default now, UTC)")
    members.add_argument("--limit", type=int, default=1_000_000, help="most customers printed (default all, up to 1,000,000)")
    members.add_argument("--format", choices=["table", "csv", "json"], default="table")
    return [members]
