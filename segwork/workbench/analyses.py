"""The workbench's RFM, cohort and rule-change views: segwork.analysis and rule_change_impact
results shaped for a page (groups, a group's customers page by page, matrices in segment order)."""
from __future__ import annotations

import pandas as pd

from segwork import analysis
from segwork.segments import SEGMENTS, SegmentRules
from segwork.workbench import data, filters, state

RFM_COLUMNS = ["customer_id", "rfm_segment", "rfm_cell", "r_score", "f_score", "m_score", "recency_days",
               "frequency", "monetary", "last_purchase"]


def rfm() -> tuple[pd.DataFrame, pd.DataFrame]:
    """(scores, groups): analysis.rfm_scores up to now, and rfm_segment_summary's groups, best first."""
    scores = data.query("rfm_scores")
    groups = analysis.rfm_segment_summary(scores).reset_index() if len(scores) else pd.DataFrame()
    return scores, groups


def rfm_group_page(scores: pd.DataFrame, group: str, *, page: int, page_size: int) -> tuple[pd.DataFrame, int, int]:
    """One page of an RFM group's customers, best first: (rows, group size, page actually shown)."""
    members = rfm_group(scores, group)
    total = len(members)
    page = min(max(int(page), 1), filters.page_count(total, page_size))
    return members.iloc[(page - 1) * page_size: page * page_size], total, page


def rfm_group(scores: pd.DataFrame, group: str) -> pd.DataFrame:
    """Every customer of one RFM group, in rfm_scores' order (best first)."""
    return scores.loc[scores["rfm_segment"] == group, RFM_COLUMNS].reset_index(drop=True)


COHORT_SPANS = {"the last 12 months": 12, "the last 24 months": 24, "the last 36 months": 36, "all": None}


def cohorts(event_types: list[str], months: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(rows, matrix): analysis.cohort_retention up to now for these event types (none = any),
    for the signups of the last `months` calendar months (this one included; None = all), and
    its cohort x months-since-signup retention matrix."""
    start = None
    if months:
        start = (pd.Timestamp.now(tz="UTC").normalize().replace(day=1) - pd.DateOffset(months=months - 1)).date()
    rows = data.query("cohort_retention", event_types=list(event_types), start_date=start)
    return rows, (analysis.retention_matrix(rows) if len(rows) else pd.DataFrame())


def cohort_customers(rows: pd.DataFrame) -> int:
    """Customers in all cohorts of cohort_retention's rows."""
    return int(rows.groupby("cohort_month")["cohort_size"].first().sum()) if len(rows) else 0


def proposed_rules(high_value, medium_value, loyal_days, regular_days) -> SegmentRules:
    """Rules from the form, checked (ConfigError says what is wrong) but not put in force."""
    return SegmentRules(high_value=float(high_value), medium_value=float(medium_value),
                        loyal_days=int(loyal_days), regular_days=int(regular_days))


def rule_change(new_rules: SegmentRules) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(counts, matrix) of moving from the session's rules to `new_rules` (queries.rule_change_impact).

    counts: per segment, customers now, under the new rules and the change (columns now, new rules, change). matrix: customers
    from each segment now (rows) to each under the new rules (columns), all 9 x 9 in segment order.
    """
    impact = data.query("rule_change_impact", new_rules=new_rules, rules=state.rules())
    return change_counts(impact), migration_matrix(impact)


def migration_matrix(impact: pd.DataFrame) -> pd.DataFrame:
    """rule_change_impact's rows as a from x to table of customers (zeros where nobody moves)."""
    known = list(SEGMENTS) + sorted((set(impact["from_segment"]) | set(impact["to_segment"])) - set(SEGMENTS))
    table = (impact.pivot_table(index="from_segment", columns="to_segment", values="customers", aggfunc="sum")
             .reindex(index=known, columns=known).fillna(0).astype("int64"))
    table.index.name, table.columns.name = "now", "under the new rules"
    return table


def change_counts(impact: pd.DataFrame) -> pd.DataFrame:
    """Customers per segment now and under the new rules, and the change, in segment order."""
    matrix = migration_matrix(impact)
    counts = pd.DataFrame({"segment": matrix.index, "now": matrix.sum(axis=1).to_numpy(),
                           "new rules": matrix.sum(axis=0).to_numpy()})
    counts["change"] = counts["new rules"] - counts["now"]
    return counts


def moved(matrix: pd.DataFrame) -> tuple[int, int]:
    """(customers off the diagonal of a migration matrix: those who would change segment, all customers)."""
    total = int(matrix.to_numpy().sum())
    return total - int(sum(matrix.at[s, s] for s in matrix.index if s in matrix.columns)), total
