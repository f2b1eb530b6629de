"""Session state of the workbench: the segment rules in force, and filters mirrored in the URL.

Every filter widget is declared once as a `Field` (widget key, URL parameter, default, kind).
Before the widgets are drawn, `init` gives each its first value: the link's parameter, else
what this session chose last on that page, else the default. After them, `mirror` writes
the values in force back to `st.query_params`, so a copied link reproduces the view.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable

import streamlit as st

from segwork.errors import ConfigError
from segwork.segments import DEFAULT_RULES, SegmentRules

RULES_KEY = "segwork_rules"
RULES_PARAM = "rules"
_KEPT = "segwork_kept_"


@dataclass(frozen=True)
class Field:
    """One filter: widget key, URL parameter, default and kind.

    kind: text | int | float | bool | date | list | range (a (low, high) pair, "25-45" in the URL).
    options: allowed values (for selectboxes); a URL value outside them is ignored with a note.
    minimum, maximum: bounds of an int, or of both ends of a range (give the widget the same).
    """

    key: str
    param: str
    default: Any
    kind: str = "text"
    options: tuple | None = None
    minimum: int | None = None
    maximum: int | None = None


class Unusable(ValueError):
    """Why a link's value cannot be used: its message ends the note shown to the person."""


def init(*fields: Field) -> list[str]:
    """Give each widget its first value; returns a note for every link value that was ignored."""
    problems = []
    for f in fields:
        if f.key in st.session_state and _allowed(f, st.session_state[f.key]):
            continue
        value = st.session_state.get(_KEPT + f.key, f.default)
        value = value if _allowed(f, value) else f.default
        raw = st.query_params.get_all(f.param) if f.kind == "list" else st.query_params.get(f.param)
        if raw not in (None, "", []):
            try:
                value = _parse(f, raw)
            except Unusable as exc:
                problems.append(f"ignored the link's {f.param}={raw!r}: {exc}")
        st.session_state[f.key] = value
    return problems


def values(*fields: Field) -> dict[str, Any]:
    """The values in force, by parameter name."""
    return {f.param: st.session_state.get(f.key, f.default) for f in fields}


def mirror(*fields: Field) -> dict[str, Any]:
    """Write the values in force to the URL (and remember them); returns them by parameter name.

    Call it once per run with every field the page shows: parameters of other fields are
    dropped from the URL.
    """
    params = {}
    for f in fields:
        value = st.session_state.get(f.key, f.default)
        st.session_state[_KEPT + f.key] = value
        encoded = _encode(f, value)
        if encoded not in (None, "", []):
            params[f.param] = encoded
    current = rules()
    if current != DEFAULT_RULES:
        params[RULES_PARAM] = format_rules(current)
    wanted = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    if wanted != {k: st.query_params.get_all(k) for k in st.query_params}:
        st.query_params.from_dict(params)
    return values(*fields)


def rules() -> SegmentRules:
    """The segment rules in force for this session (from the link's `rules=` on first use)."""
    if RULES_KEY not in st.session_state:
        raw = st.query_params.get(RULES_PARAM)
        chosen = DEFAULT_RULES
        if raw:
            try:
                chosen = parse_rules(raw)
            except ConfigError as exc:
                st.session_state[RULES_KEY + "_problem"] = f"ignored the link's rules={raw!r}: {exc}"
        st.session_state[RULES_KEY] = chosen
    return st.session_state[RULES_KEY]


def rules_problem() -> str | None:
    """Why the link's rules were ignored, if they were."""
    return st.session_state.get(RULES_KEY + "_problem")


def set_rules(high_value: float, medium_value: float, loyal_days: int, regular_days: int) -> SegmentRules:
    """Put new rules in force for this session; invalid ones raise ConfigError and change nothing."""
    new = SegmentRules(high_value=float(high_value), medium_value=float(medium_value),
                       loyal_days=int(loyal_days), regular_days=int(regular_days))
    st.session_state[RULES_KEY] = new
    st.session_state.pop(RULES_KEY + "_problem", None)
    return new


def reset_rules() -> SegmentRules:
    """Back to the default rules."""
    st.session_state[RULES_KEY] = DEFAULT_RULES
    return DEFAULT_RULES


def format_rules(r: SegmentRules) -> str:
    """Rules as the URL's `rules=high,medium,loyal_days,regular_days`."""
    return f"{r.high_value:g},{r.medium_value:g},{r.loyal_days},{r.regular_days}"


def parse_rules(text: str) -> SegmentRules:
    """The inverse of format_rules; ConfigError when malformed or invalid."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        hv, mv, ld, rd = parts
        return SegmentRules(high_value=float(hv), medium_value=float(mv), loyal_days=int(ld), regular_days=int(rd))
    except ValueError:
        raise ConfigError("rules must be four numbers: high_value,medium_value,loyal_days,regular_days "
                          "(e.g. 1000,500,365,180)") from None


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "text": str,
    "int": int,
    "float": float,
    "bool": lambda raw: {"1": True, "true": True, "0": False, "false": False}[str(raw).lower()],
    "date": lambda raw: date.fromisoformat(str(raw)),
    "list": lambda raw: [str(x) for x in raw],
    "range": lambda raw: tuple(int(x) for x in str(raw).split("-", 1)),
}


_FORMS = {"int": "not a whole number", "float": "not a number", "bool": "not 1 or 0 (true or false)",
          "date": "not a date (YYYY-MM-DD)", "range": "not a valid range (low-high, low <= high, e.g. 25-45)"}
_KNOWN_SHOWN = 12  # options named in a note, at most


def _parse(f: Field, raw) -> Any:
    """The link's value for field f; Unusable says why not."""
    try:
        value = _PARSERS[f.kind](raw)
        if f.kind == "range" and (len(value) != 2 or value[0] > value[1]):
            raise ValueError(raw)
    except (KeyError, ValueError, TypeError):
        raise Unusable(_FORMS.get(f.kind, f"not a valid {f.kind}")) from None
    for number in (value if f.kind == "range" else [value] if f.kind == "int" else []):
        if f.minimum is not None and number < f.minimum:
            raise Unusable(f"{number} is below the minimum {f.minimum}")
        if f.maximum is not None and number > f.maximum:
            raise Unusable(f"{number} is above the maximum {f.maximum}")
    if not _allowed(f, value):
        unknown = " " + ", ".join(repr(v) for v in value if v not in f.options) if f.kind == "list" else ""
        raise Unusable(f"unknown {f.param}{unknown} (known: {_known(f.options)})")
    return value


def _known(options: tuple) -> str:
    shown = [str(o) for o in options if o not in (None, "")]
    if not shown:
        return "none yet"
    more = len(shown) - _KNOWN_SHOWN
    return ", ".join(shown[:_KNOWN_SHOWN]) + (f" and {more:,} more" if more > 0 else "")


def _allowed(f: Field, value) -> bool:
    if f.options is None:
        return True
    if f.kind == "list":
        return set(value) <= set(f.options)
    return value in f.options


def _encode(f: Field, value) -> Any:
    if value is None or (value == f.default and f.kind != "date"):  # dates always: their default moves with the data
        return None
    if f.kind == "bool":
        return "1" if value else "0"
    if f.kind == "date":
        return value.isoformat()
    if f.kind == "list":
        return [str(v) for v in value]
    if f.kind == "range":
        return f"{value[0]}-{value[1]}"
    if f.kind == "float":
        return f"{value:g}"
    return str(value)
