"""Segment definitions to and from dicts, YAML and JSON (the same shape; see model.py).

A condition is a mapping whose first key says what it is: field, events, last_event,
first_event, rfm, in_segment / not_in_segment, all, any. An event type of "*" means any type.
"""
from __future__ import annotations

import json
from datetime import date, datetime

import yaml

from segwork.custom.model import (DefinitionError, Events, Field, FirstEvent, Group, InSegment, LastEvent, Rfm, Segment,
                                  UNKNOWN_OPS)

ANY_TYPE = "*"
_KEYS = {
    "field": {"field", "op", "value"},
    "events": {"events", "op", "value", "measure", "days", "start", "end", "category"},
    "last_event": {"last_event", "op", "days"},
    "first_event": {"first_event", "days", "start", "end"},
    "rfm": {"rfm", "op", "value"},
    "in_segment": {"in_segment"},
    "not_in_segment": {"not_in_segment"},
    "all": {"all"},
    "any": {"any"},
}


def to_dict(segment: Segment) -> dict:
    out = {"name": segment.name}
    if segment.description:
        out["description"] = segment.description
    root = segment.root
    out[root.match] = [_node_dict(c) for c in root.conditions]
    return out


def from_dict(data, *, name: str | None = None) -> Segment:
    """A Segment from its dict form; DefinitionError names the condition that is wrong."""
    if not isinstance(data, dict):
        raise DefinitionError(f"a segment definition is a mapping with name, description and all/any, not {type(data).__name__}")
    unknown = set(data) - {"name", "description", "all", "any"}
    if unknown:
        raise DefinitionError(f"segment {data.get('name', name)!r}: unknown key(s) {', '.join(sorted(map(str, unknown)))}; "
                              "a definition has name, description and all or any")
    label = data.get("name", name)
    where = f"segment {label!r}"
    lists = {k: data[k] for k in ("all", "any") if k in data}
    for k, v in lists.items():
        if not isinstance(v, list):
            raise DefinitionError(f"{where}: '{k}' is a list of conditions")
    return Segment(label, str(data.get("description") or ""),
                   **{k: [_node(c, f"{where} > {k}[{i + 1}]") for i, c in enumerate(v)] for k, v in lists.items()})


def to_yaml(segment: Segment) -> str:
    return yaml.safe_dump(to_dict(segment), sort_keys=False, allow_unicode=True, default_flow_style=None, width=100)


def from_yaml(text: str) -> list[Segment]:
    """The segments of a YAML text: one definition, or several as a list or as documents."""
    try:
        documents = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise DefinitionError(f"not valid YAML: {str(exc).splitlines()[0]}") from None
    found = []
    for doc in documents:
        found += [from_dict(d) for d in doc] if isinstance(doc, list) else [from_dict(doc)]
    if not found:
        raise DefinitionError("the file holds no segment definition")
    return found


def to_json(segment: Segment) -> str:
    return json.dumps(to_dict(segment), ensure_ascii=False, sort_keys=False)


def from_json(text: str) -> Segment:
    try:
        return from_dict(json.loads(text))
    except json.JSONDecodeError as exc:
        raise DefinitionError(f"not valid JSON: {exc}") from None


def _node_dict(node) -> dict:
    if isinstance(node, Group):
        return {node.match: [_node_dict(c) for c in node.conditions]}
    if isinstance(node, Field):
        return {"field": node.field, "op": node.op} | ({} if node.op in UNKNOWN_OPS else {"value": _plain(node.value)})
    if isinstance(node, Events):
        out = {"events": node.event_type or ANY_TYPE, "op": node.op, "value": node.value}
        if node.measure != "count":
            out["measure"] = node.measure
        return out | {k: _plain(getattr(node, k)) for k in ("days", "start", "end", "category") if getattr(node, k) is not None}
    if isinstance(node, LastEvent):
        return {"last_event": node.event_type or ANY_TYPE, "op": node.op, "days": node.days}
    if isinstance(node, FirstEvent):
        return {"first_event": node.event_type or ANY_TYPE} | {k: _plain(getattr(node, k)) for k in ("days", "start", "end")
                                                                if getattr(node, k) is not None}
    if isinstance(node, Rfm):
        return {"rfm": node.score, "op": node.op, "value": _plain(node.value)}
    if isinstance(node, InSegment):
        return {"not_in_segment" if node.negate else "in_segment": node.segment}
    raise DefinitionError(f"{type(node).__name__} is not a condition")


def _node(data, where: str):
    if not isinstance(data, dict) or not data:
        raise DefinitionError(f"{where}: a condition is a mapping like {{field: location, op: '=', value: Paris}}, not {data!r}")
    kind = next(iter(data))
    if kind not in _KEYS:
        raise DefinitionError(f"{where}: {kind!r} is not a kind of condition; the kinds are {', '.join(_KEYS)}")
    extra = set(data) - _KEYS[kind]
    if extra:
        raise DefinitionError(f"{where}: {kind} takes {', '.join(sorted(_KEYS[kind]))}, not {', '.join(sorted(map(str, extra)))}")
    try:
        if kind in ("all", "any"):
            if not isinstance(data[kind], list):
                raise DefinitionError(f"{where}: '{kind}' is a list of conditions")
            return Group(kind, tuple(_node(c, f"{where} > {kind}[{i + 1}]") for i, c in enumerate(data[kind])))
        if kind == "field":
            return Field(data["field"], data.get("op", "="), _plain(data.get("value")))
        if kind == "events":
            return Events(_type(data["events"]), data.get("op", ">="), data.get("value", 1), data.get("measure", "count"),
                          data.get("days"), _plain(data.get("start")), _plain(data.get("end")), data.get("category"))
        if kind == "last_event":
            return LastEvent(_type(data["last_event"]), data.get("op", ">="), data.get("days"))
        if kind == "first_event":
            return FirstEvent(_type(data["first_event"]), data.get("days"), _plain(data.get("start")), _plain(data.get("end")))
        if kind == "rfm":
            return Rfm(data["rfm"], data.get("op", "="), _plain(data.get("value")))
        return InSegment(data[kind], negate=kind == "not_in_segment")
    except KeyError as exc:
        raise DefinitionError(f"{where}: {kind} needs {exc.args[0]!r}") from None


def _type(value):
    return None if value in (None, ANY_TYPE) else value


def _plain(value):
    """Dates as YYYY-MM-DD text, lists as lists (YAML gives dates and tuples otherwise)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
