"""Saved segment definitions: every save a new version (time, note), removals kept as versions;
read as they are now or as they were at a version. Example definitions ship in examples/ and
are saved into a new database."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
from clickhouse_connect.driver.client import Client

from segwork import db, params
from segwork.custom import codec
from segwork.custom.model import DefinitionError, Group, InSegment, Segment, check_name

EXAMPLES = Path(__file__).resolve().parent / "examples"


def save(client: Client, segment: Segment, note: str = "") -> int:
    """Store `segment` as its name's next version; returns the version. Saving a definition
    identical to the latest version stores nothing and returns that version."""
    _check_references(client, segment)
    latest = _versions(client, segment.name)
    text = codec.to_json(segment)
    if len(latest) and not latest["removed"].iloc[0] and latest["definition"].iloc[0] == text:
        return int(latest["version"].iloc[0])
    version = int(latest["version"].max()) + 1 if len(latest) else 1
    db.command(client, "segment_definition_save", {"name": segment.name, "version": version, "definition": text,
                                                   "note": params.text("note", note) or "", "removed": False})
    return version


def remove(client: Client, name: str) -> int:
    """Remove a saved segment (a version with removed = 1: its history stays); returns that version."""
    latest = _versions(client, check_name(name))
    if latest.empty or latest["removed"].iloc[0]:
        raise DefinitionError(f"there is no saved segment {name!r}; list them with `python -m segwork segment list`")
    users = [other for other in listing(client)["name"] if other != name and name in _named(get(client, other).root)]
    if users:
        raise DefinitionError(f"segment {name!r} is used by {', '.join(map(repr, users))}: change or remove those first")
    version = int(latest["version"].iloc[0]) + 1
    db.command(client, "segment_definition_save", {"name": name, "version": version, "definition": "", "note": "removed",
                                                   "removed": True})
    return version


def get(client: Client, name: str, version: int | None = None) -> Segment:
    """A saved segment as it is now, or as it was at `version`."""
    found = _versions(client, check_name(name))
    if version is not None:
        found = found[found["version"] == version]
        if found.empty or found["removed"].iloc[0]:
            raise DefinitionError(f"segment {name!r} has no version {version}; see its versions with "
                                  f"`python -m segwork segment show {name!r}`")
    if found.empty or found["removed"].iloc[0]:
        known = ", ".join(listing(client)["name"]) or "none yet"
        raise DefinitionError(f"there is no saved segment {name!r} (saved: {known})")
    return codec.from_json(found["definition"].iloc[0])


def listing(client: Client) -> pd.DataFrame:
    """The saved segments (latest versions): name, version, description, note, saved_at."""
    rows = _latest(client)
    rows["description"] = [codec.from_json(d).description for d in rows["definition"]]
    return rows[["name", "version", "description", "note", "saved_at"]]


def versions(client: Client, name: str) -> pd.DataFrame:
    """Every version of one segment, newest first: version, note, saved_at, removed, definition (JSON)."""
    return _versions(client, check_name(name))[["version", "note", "saved_at", "removed", "definition"]]


def resolver(client: Client):
    """name -> the saved Segment, for membership conditions (read once per name)."""
    seen: dict[str, Segment] = {}

    def resolve(name: str) -> Segment:
        if name not in seen:
            seen[name] = get(client, name)
        return seen[name]
    return resolve


def examples() -> list[Segment]:
    """The definitions shipped in segwork/custom/examples/."""
    return [s for path in sorted(EXAMPLES.glob("*.yaml")) for s in codec.from_yaml(path.read_text(encoding="utf-8"))]


def save_examples(client: Client) -> None:
    """Save the shipped examples (a new database gets them; a name already saved is left alone)."""
    saved = set(_latest(client)["name"])
    for segment in examples():
        if segment.name not in saved:
            save(client, segment, "example shipped with segwork")


def _named(node) -> set[str]:
    """The segments a condition tree names (in_segment / not_in_segment)."""
    if isinstance(node, Group):
        return set().union(*(_named(c) for c in node.conditions))
    return {node.segment} if isinstance(node, InSegment) else set()


def _check_references(client: Client, segment: Segment) -> None:
    """Every segment it names is saved, and none leads back to it (compiled once to see)."""
    from datetime import datetime, timezone

    from segwork.custom.compile import Compiler
    from segwork.segments import DEFAULT_RULES

    saved = resolver(client)
    Compiler(datetime.now(timezone.utc), DEFAULT_RULES, lambda name: segment if name == segment.name else saved(name)).segment(segment)


def _latest(client: Client) -> pd.DataFrame:
    found = db.query_df(client, "segment_definitions_latest", {}, utc=True, answer=False)
    return found if len(found.columns) else pd.DataFrame(columns=["name", "version", "definition", "note", "saved_at"])


def _versions(client: Client, name: str) -> pd.DataFrame:
    found = db.query_df(client, "segment_definition_versions", {"name": name}, utc=True, answer=False)
    if not len(found.columns):  # an empty answer through clickhouse-connect's API has no columns
        found = pd.DataFrame(columns=["name", "version", "definition", "note", "saved_at", "removed"])
    found["removed"] = found["removed"].astype(bool)
    return found
