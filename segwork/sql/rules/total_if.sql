-- segwork_total (sql/rules/total.sql) over the rows where `condition` holds, as sumIf.
(value, condition) -> sumIf(round(value * 1e6), condition) / 1e6
