"""The RESULTS.md section of the history part (bench/history.py)."""
from __future__ import annotations

WAYS = {"segwork": "segwork", "engine": "engine alone", "duckdb": "DuckDB", "pandas": "pandas"}


def cell(s: dict, unit: str = "ms") -> str:
    """median [min - max], in ms or s."""
    if unit == "s":
        return f"{s['median_ms'] / 1000:.2f} [{s['min_ms'] / 1000:.2f} - {s['max_ms'] / 1000:.2f}]"
    return f"{s['median_ms']:.2f} [{s['min_ms']:.1f} - {s['max_ms']:.1f}]"


def section(h: dict) -> list[str]:
    rows = []
    for every, by in h["sizes"].items():
        first, last = h["ranges"][every]
        rows.append((f"segment sizes, every {every}: {by['points']} points, {first} .. {last}", by))
    for label, by in h["transitions"].items():
        a, b = h["pairs"][label]
        rows.append((f"transitions, a {label} apart: {a} -> {b} ({by['flows']} flows)", by))
    runs = sorted({by[w]["runs"] for _, by in rows for w in WAYS})
    out = ["", f"### Segments through time (issue 13): seconds, median [min - max] of {'/'.join(map(str, runs))} "
               "interleaved runs after warm-up", "",
           "| question | " + " | ".join(WAYS.values()) + " | segwork / engine | DuckDB / segwork | pandas / segwork |",
           "|---|" + "---:|" * 7]
    for title, by in rows:
        s = by["segwork"]["median_ms"]
        out.append(f"| {title} | " + " | ".join(cell(by[w], "s") for w in WAYS)
                   + f" | {s / by['engine']['median_ms']:.2f}x | {by['duckdb']['median_ms'] / s:.1f}x"
                   f" | {by['pandas']['median_ms'] / s:.1f}x |")
    out += ["", "engine alone: " + "; ".join(f"{title.split(':')[0]} {by['engine']['internal_ms'] / 1000:.2f} s"
                                          for title, by in rows) + " inside the engine (chDB's own elapsed time, median)."]
    snap = h["sizes"].get("month", {}).get("pandas, a snapshot per point")
    if snap:
        points = h["sizes"]["month"]["points"]
        out += ["", f"pandas, a snapshot per point (the profiles at each point, one after another, as a notebook would): "
                    f"{cell(snap, 's')} s for the {points} monthly points, about {snap['median_ms'] / points / 1000:.2f} s a point "
                    f"(so about {snap['median_ms'] / points * 365 / 1000:.0f} s for 365 daily points; not timed). The pandas "
                    "column above is a vectorised sweep (numpy), the way segwork's SQL computes it."]
    a = h["as_of"]
    out += ["", f"### Queries at a past as_of ({h['past']}, from the history) and now (END + 1 h, the latest profiles): "
                "milliseconds, median [min - max]", "",
            "| query | " + " | ".join(next(iter(a.values()))) + " | past / current |", "|---|" + "---:|" * 4]
    for query, by in a.items():
        names = list(by)
        past, current = by[names[0]]["median_ms"], by[names[1]]["median_ms"]
        cells = [cell(by[n]) for n in names] + [""] * (3 - len(names))
        out.append(f"| {query} ({by[names[0]]['runs']} runs) | " + " | ".join(cells) + f" | {past / current:.1f}x |")
    p = h["previous"]
    first = p["figures"]["lookup"]
    out += ["", "### The current state against the commit before history (de188e5), interleaved on the same data", "",
            "The previous commit's lookup and summary SQL (`customers FINAL`, no `NOT is_deleted`, no check for a newer "
            "version) through the previous query path, against this segwork's call with as_of = now (END + 1 h, as the "
            "queries above: a check for a version newer than as_of, then the latest profiles), without as_of (no check), "
            "and with as_of = END, at which 11 of the 1,100,000 versions are newer (so the profiles come from the history).",
            "", "| query | " + " | ".join(first) + " | " + " | ".join(f"{n.removeprefix('segwork, ')} / previous" for n in list(first)[1:]) + " |",
            "|---|" + "---:|" * (2 * len(first) - 1)]
    for query, by in p["figures"].items():
        if query == "check":
            continue
        names = list(by)
        base = by[names[0]]["median_ms"]
        out.append(f"| {query} ({by[names[0]]['runs']} runs) | " + " | ".join(cell(by[n]) for n in names)
                   + " | " + " | ".join(f"{by[n]['median_ms'] / base:.2f}x" for n in names[1:]) + " |")
    check = p["figures"].get("check")
    if check:
        out += ["", f"The check for a version newer than as_of alone (segwork.queries.needs_history: newest_profile_version through "
                    f"segwork's query path), in the lookup's rounds: {cell(check)} ms."]
    problems = h["problems"] + p["problems"]
    out += ["", "Answers: " + ("all agree" if not problems else "**DISAGREE**: " + "; ".join(problems))
            + " (checked: " + "; ".join(h["checked"] + [p["checked"]]) + ").", ""]
    return out
