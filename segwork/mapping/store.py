"""Saved mappings: built-in ones shipped as JSON next to this module (segwork/mapping/builtin),
and people's own in the database's `mappings` table, so the workbench, the CLI and the
notebooks of one database see the same ones. A built-in name cannot be saved over."""
from __future__ import annotations

import json
from dataclasses import replace
from functools import cache
from pathlib import Path

from clickhouse_connect.driver.client import Client

from segwork import db
from segwork.mapping.spec import Mapping, MappingError, check_name

BUILTIN_DIR = Path(__file__).with_name("builtin")


@cache
def builtins() -> dict[str, Mapping]:
    """The mappings that ship with segwork, by name."""
    out = {}
    for path in sorted(BUILTIN_DIR.glob("*.json")):
        mapping = Mapping.from_dict(json.loads(path.read_text(encoding="utf-8")))
        out[mapping.name] = mapping
    return out


def saved(client: Client) -> dict[str, Mapping]:
    """Every mapping that can be used by name: built-in ones, then the database's."""
    out = dict(builtins())
    for name, spec, _ in db.query_rows(client, "mappings_saved", {}):
        out.setdefault(name, replace(Mapping.from_json(spec), name=name))
    return out


def load(client: Client, name: str) -> Mapping:
    """One mapping by name (MappingError listing the known names)."""
    known = saved(client)
    if name not in known:
        raise MappingError(f"no mapping named {name!r}; known: {', '.join(known) or 'none'}. "
                           "Save one from the workbench's Upload page, or give a Mapping object")
    return known[name]


def save(client: Client, mapping: Mapping, name: str) -> Mapping:
    """Save `mapping` under `name` (a new version if one of that name is saved already)."""
    name = check_name(name)
    if name in builtins():
        raise MappingError(f"{name!r} is a built-in mapping; save yours under another name")
    mapping = replace(mapping, name=name)
    db.command(client, "mapping_save", {"name": name, "spec": mapping.to_json(), "removed": False})
    return mapping


def remove(client: Client, name: str) -> None:
    """Remove a saved mapping (built-in ones stay)."""
    if name in builtins():
        raise MappingError(f"{name!r} is a built-in mapping and cannot be removed")
    if name not in saved(client):
        raise MappingError(f"no saved mapping named {name!r}")
    db.command(client, "mapping_save", {"name": name, "spec": "", "removed": True})


def described(client: Client) -> list[dict]:
    """Every usable mapping for people and the API: name, table, built-in or saved, description, its JSON."""
    builtin = builtins()
    return [{"name": n, "table": m.table, "kind": "built-in" if n in builtin else "saved", "description": m.description,
             "mapping": m.as_dict()} for n, m in saved(client).items()]
