"""The segment builder's draft and its forms: conditions kept in the session in segwork.custom's
dict form (the YAML shape), added one at a time from whitelisted choices, turned into a Segment.

Session keys: bd_name, bd_description, bd_match (all | any) and bd_conditions (the top level),
bd_group_match and bd_group (the optional nested group, one more top-level condition while it
has conditions); bd_new_* are the widgets of the condition being added.
"""
from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from segwork import custom
from segwork.analysis import RFM_SEGMENTS
from segwork.custom.model import (COMPARISONS, FIELDS, MEASURES, RFM_SCORES, SET_OPS, UNKNOWN_OPS, DefinitionError,
                                  check_name)
from segwork.segments import LOYALTY_SEGMENTS, VALUE_SEGMENTS

KINDS = {"field": "a profile field", "events": "events in a window", "last_event": "days since the last event",
         "first_event": "first event in a window", "rfm": "an RFM score or segment", "in_segment": "in another saved segment"}
MEASURE_WORDS = {"count": "number", "total_value": "total value", "avg_value": "average value"}
ANY_TYPE = "*"
DRAFT_NAME = "untitled"
WINDOWS = ("the last N days", "between two dates", "all history")


def init() -> None:
    defaults = {"bd_name": "", "bd_description": "", "bd_match": "all", "bd_conditions": [], "bd_group_match": "any",
                "bd_group": []}
    for key, value in defaults.items():
        st.session_state.setdefault(key, value)


def definition(name: str | None = None) -> dict:
    """The draft in segwork.custom's dict form."""
    conditions = list(st.session_state["bd_conditions"])
    if st.session_state["bd_group"]:
        conditions.append({st.session_state["bd_group_match"]: list(st.session_state["bd_group"])})
    out = {"name": name or _usable_name(st.session_state["bd_name"].strip())}
    if st.session_state["bd_description"].strip():
        out["description"] = st.session_state["bd_description"].strip()
    out[st.session_state["bd_match"]] = conditions
    return out


def _usable_name(name: str) -> str:
    """The Name field if it is a valid name, else DRAFT_NAME: a half-typed name does not stop the counts (saving says why)."""
    try:
        return check_name(name)
    except DefinitionError:
        return DRAFT_NAME


def segment(name: str | None = None) -> custom.Segment | None:
    """The draft as a Segment; None while it has no conditions; DefinitionError when invalid."""
    if not (st.session_state["bd_conditions"] or st.session_state["bd_group"]):
        return None
    return custom.from_dict(definition(name))


def load(seg: custom.Segment) -> None:
    """Make `seg` the draft (from a saved segment or the YAML editor)."""
    d = custom.to_dict(seg)
    match = "all" if "all" in d else "any"
    st.session_state.update(bd_name=seg.name if seg.name != DRAFT_NAME else "", bd_description=seg.description,
                            bd_match=match, bd_conditions=list(d[match]), bd_group=[], bd_group_match="any")


def labelled(counts, current: custom.Segment):
    """condition_counts with a `label` per row: each top-level condition in words, numbered as listed."""
    d = custom.to_dict(current)
    words = [f"{i + 1}. {describe(c)}" for i, c in enumerate(d["all" if "all" in d else "any"])]
    words = [w if len(w) <= 60 else w[:57] + "..." for w in words]
    return counts.assign(label=words + list(counts["condition"].iloc[len(words):]))


def remove(where: str, index: int) -> None:
    del st.session_state[where][index]


def clear() -> None:
    st.session_state.update(bd_conditions=[], bd_group=[], bd_name="", bd_description="")


def describe(c: dict) -> str:
    """A condition in words, e.g. 'number of login events in the last 30 days >= 3'."""
    kind = next(iter(c))
    if kind in ("all", "any"):
        return f"{kind} of: " + "; ".join(describe(x) for x in c[kind])
    if kind == "field":
        return f"{c['field']} {c['op']}" + ("" if c["op"] in UNKNOWN_OPS else f" {_value(c.get('value'))}")
    if kind == "events":
        what = "any" if c["events"] == ANY_TYPE else c["events"]
        cat = f" in category {c['category']}" if c.get("category") else ""
        return f"{MEASURE_WORDS[c.get('measure', 'count')]} of {what} events{cat} {_window(c)} {c['op']} {_value(c['value'])}"
    if kind == "last_event":
        return f"days since the last {'event' if c['last_event'] == ANY_TYPE else c['last_event']} {c['op']} {c['days']}"
    if kind == "first_event":
        return f"first {'event' if c['first_event'] == ANY_TYPE else c['first_event'] + ' event'} {_window(c)}"
    if kind == "rfm":
        return f"{c['rfm']} {c['op']} {_value(c['value'])}"
    return f"{'not ' if kind == 'not_in_segment' else ''}in segment '{c[kind]}'"


def _value(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(map(_value, v)) + "]"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _window(c: dict) -> str:
    if c.get("days") is not None:
        return f"in the last {c['days']} days"
    if c.get("start") or c.get("end"):
        return f"between {c.get('start') or 'the beginning'} and {c.get('end') or 'as of'}"
    return "ever"


def add_form(event_types: tuple[str, ...], locations: tuple[str, ...], saved: tuple[str, ...]) -> None:
    """The widgets of a new condition and the button that adds it to the draft (or the nested group)."""
    s = st.session_state
    kind = st.selectbox("Kind of condition", tuple(KINDS), format_func=KINDS.get, key="bd_new_kind")
    c = st.columns(3)
    if kind == "field":
        field = c[0].selectbox("Field", tuple(FIELDS), key="bd_new_field", help="\n".join(f"- {k}: {v[1]}" for k, v in FIELDS.items()))
        ftype = FIELDS[field][0]
        ops = (*COMPARISONS, *SET_OPS, *UNKNOWN_OPS) if field == "age" else (*COMPARISONS, *SET_OPS) if ftype == "number" \
            else ("=", "!=", *SET_OPS)
        op = c[1].selectbox("Comparison", ops, key=f"bd_new_op_{ftype}_{field == 'age'}")
        if op not in UNKNOWN_OPS:
            many = op in SET_OPS
            choices = {"value_segment": VALUE_SEGMENTS, "loyalty_segment": LOYALTY_SEGMENTS, "location": locations}.get(field)
            key = f"bd_new_value_{field}_{many}"
            if ftype == "number" and not many:
                c[2].number_input("Value", value=0.0, key=key)
            elif choices:
                (c[2].multiselect if many else c[2].selectbox)("Value" + "s" * many, choices, key=key)
            else:
                c[2].text_input("Values (comma-separated)" if many else "Value", key=key)
    elif kind in ("events", "last_event", "first_event"):
        c[0].selectbox("Event type", (ANY_TYPE, *event_types), key="bd_new_type",
                       format_func=lambda t: "(any type)" if t == ANY_TYPE else t)
        if kind == "events":
            c[1].selectbox("Measure", MEASURES, key="bd_new_measure", format_func=MEASURE_WORDS.get)
            c[2].text_input("In category (optional)", key="bd_new_category")
        if kind != "first_event":
            c = st.columns(3)
            c[0].selectbox("Comparison", COMPARISONS, key="bd_new_event_op", index=COMPARISONS.index(">="))
            if kind == "events":
                c[1].number_input("Value", value=1.0, step=1.0, key="bd_new_event_value",
                                  help="A count is a whole number; 'never did X' is: number of X events = 0")
            else:
                c[1].number_input("Days", min_value=0, max_value=36_500, value=90, key="bd_new_last_days")
        if kind != "last_event":
            windows = WINDOWS if kind == "events" else WINDOWS[:2]
            c = st.columns(3)
            window = c[0].radio("Window", windows, key=f"bd_new_window_{kind}", horizontal=False)
            if window == WINDOWS[0]:
                c[1].number_input("Days before as of (now)", min_value=1, max_value=36_500, value=30, key="bd_new_days")
            elif window == WINDOWS[1]:
                c[1].date_input("From", value=date.today() - timedelta(days=90), key="bd_new_start")
                c[2].date_input("To", value=date.today(), key="bd_new_end")
    elif kind == "rfm":
        score = c[0].selectbox("Score", RFM_SCORES, key="bd_new_score")
        ops = ("=", "!=", *SET_OPS) if score == "rfm_segment" else (*COMPARISONS, *SET_OPS)
        op = c[1].selectbox("Comparison", ops, key=f"bd_new_rfm_op_{score == 'rfm_segment'}")
        choices = RFM_SEGMENTS if score == "rfm_segment" else (1, 2, 3, 4, 5)
        key = f"bd_new_rfm_value_{score == 'rfm_segment'}_{op in SET_OPS}"
        (c[2].multiselect if op in SET_OPS else c[2].selectbox)("Value", choices, key=key)
    else:
        if not saved:
            st.info("No saved segments yet: save one first to use it here.")
        c[0].selectbox("Saved segment", saved, key="bd_new_segment")
        c[1].checkbox("not in it", key="bd_new_negate")
    c = st.columns([2, 1, 1], vertical_alignment="bottom")  # the button level with the choices, not with their labels
    target = c[0].radio("Add to", ("the segment", "the nested group"), key="bd_new_target", horizontal=True,
                        help="The nested group combines its conditions with its own all / any; it counts as one condition of the segment.")
    if target == "the nested group" or s["bd_group"]:  # asked once there is (or will be) a nested group
        c[1].selectbox("The nested group matches", ("any", "all"), key="bd_group_match",
                       format_func=lambda m: f"{m} of its conditions")
    c[2].button("Add condition", type="primary", on_click=_add, key="bd_add", icon=":material/add:")
    if s.get("bd_add_error"):
        st.error(s.pop("bd_add_error"), icon=":material/error:")


def _add() -> None:
    """Button callback: the new condition's dict from the bd_new_* widgets, appended where chosen."""
    s = st.session_state
    try:
        condition = _new_condition(s)
        custom.from_dict({"name": DRAFT_NAME, "all": [condition]})  # check it alone: the message names it
    except DefinitionError as exc:
        s["bd_add_error"] = str(exc).replace(f"segment '{DRAFT_NAME}' > all[1]", "the new condition")
        return
    s["bd_group" if s.get("bd_new_target") == "the nested group" else "bd_conditions"].append(condition)


def _new_condition(s) -> dict:
    kind = s["bd_new_kind"]
    if kind == "field":
        field = s["bd_new_field"]
        ftype = FIELDS[field][0]
        op = s[f"bd_new_op_{ftype}_{field == 'age'}"]
        if op in UNKNOWN_OPS:
            return {"field": field, "op": op}
        many = op in SET_OPS
        value = s.get(f"bd_new_value_{field}_{many}")
        if isinstance(value, str) and many:
            value = [v.strip() for v in value.split(",") if v.strip()]
        if ftype == "number" and many:
            try:
                value = [float(v) for v in value]
            except ValueError:
                raise DefinitionError(f"the new condition: {field} {op} takes numbers separated by commas, e.g. 30, 40") from None
        return {"field": field, "op": op, "value": value}
    if kind == "in_segment":
        if not s.get("bd_new_segment"):
            raise DefinitionError("the new condition: choose a saved segment")
        return {"not_in_segment" if s.get("bd_new_negate") else "in_segment": s["bd_new_segment"]}
    if kind == "rfm":
        score = s["bd_new_score"]
        op = s[f"bd_new_rfm_op_{score == 'rfm_segment'}"]
        value = s.get(f"bd_new_rfm_value_{score == 'rfm_segment'}_{op in SET_OPS}")
        return {"rfm": score, "op": op, "value": list(value) if op in SET_OPS else value}
    out = {kind: s["bd_new_type"]}
    if kind == "last_event":
        return out | {"op": s["bd_new_event_op"], "days": int(s["bd_new_last_days"])}
    if kind == "events":
        measure = s["bd_new_measure"]
        value = float(s["bd_new_event_value"])
        out |= {"op": s["bd_new_event_op"], "value": int(value) if measure == "count" and value == int(value) else value}
        if measure != "count":
            out["measure"] = measure
    window = s.get(f"bd_new_window_{kind}", WINDOWS[0])
    if window == WINDOWS[0]:
        out["days"] = int(s["bd_new_days"])
    elif window == WINDOWS[1]:
        out |= {"start": s["bd_new_start"].isoformat(), "end": s["bd_new_end"].isoformat()}
    if kind == "events" and (s.get("bd_new_category") or "").strip():
        out["category"] = s["bd_new_category"].strip()
    return out


def yaml_sync(current: custom.Segment | None) -> None:
    """Put the draft's YAML in the editor when the draft changed since it was last put there."""
    text = custom.to_yaml(current) if current is not None else ""
    if st.session_state.get("bd_yaml_source") != text:
        st.session_state["bd_yaml_source"] = text
        st.session_state["bd_yaml"] = text


def apply_yaml() -> None:
    """Button callback: the editor's YAML becomes the draft; a DefinitionError is kept to be shown."""
    try:
        found = custom.from_yaml(st.session_state.get("bd_yaml", ""))
        if len(found) != 1:
            raise DefinitionError(f"the YAML holds {len(found)} segment definitions; the builder edits one")
        load(found[0])
    except DefinitionError as exc:
        st.session_state["bd_yaml_error"] = str(exc)


def save_draft() -> None:
    """Save button callback (before the page runs, so its lists show the new version): the draft
    under the Name given; the outcome is kept in bd_saved or bd_save_error to be shown."""
    from segwork.workbench import custom_data, ui

    s = st.session_state
    try:
        if not s["bd_name"].strip():
            raise DefinitionError("give the segment a name")
        to_save = segment(s["bd_name"].strip())
        if to_save is None:
            raise DefinitionError("add a condition before saving")
        version = custom_data.save(to_save, s.get("bd_note", ""))
    except DefinitionError as exc:
        s["bd_save_error"] = f"Not saved: {exc}"
        return
    s["bd_saved"] = f"Saved **{ui.plain(to_save.name)}** as version {version}."
