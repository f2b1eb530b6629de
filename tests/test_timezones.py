"""Times are UTC whatever the process's time zone (chDB follows TZ: stack-notes)."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from segwork.config import PROJECT_DIR

SCRIPT = r'''
import json, segwork, pandas as pd
c = segwork.connect("chdb://memory", database="tz")
rows = [{"event_id": str(i), "customer_id": "c", "event_type": "login", "timestamp": t}
        for i, t in enumerate(["2024-05-01 12:00:00", "2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00Z"])]
segwork.ingest(c, "customer_events", "\n".join(json.dumps(r) for r in rows).encode())
segwork.ingest(c, "customers", pd.DataFrame({"customer_id": ["c"], "signup_date": ["2024-05-01 23:30:00"], "timestamp": ["2024-05-01 23:30:00"]}))
stored = sorted(r[0] for r in c.query("SELECT toString(timestamp) FROM customer_events").result_rows)
eng = segwork.customer_engagement_analysis(c, "2024-05-01 12:00:00", "2024-05-01 12:00:00")
look = segwork.customer_segment_lookup(c, "c", as_of="2024-05-02 00:10:00").iloc[0]
print(json.dumps({"stored": stored, "count": int(eng.event_count.iloc[0]), "first": str(eng.first_event.iloc[0]),
                  "signup": str(look.signup_date), "days": int(look.days_since_signup)}))
'''


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])
def test_naive_input_is_utc_in_any_process_zone(tz):
    env = {**os.environ, "TZ": tz, "PYTHONPATH": str(PROJECT_DIR)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR)
    assert out.returncode == 0, out.stderr
    import json

    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got == {"stored": ["2024-05-01 12:00:00"] * 3, "count": 3, "first": "2024-05-01 12:00:00+00:00",
                   "signup": "2024-05-01 23:30:00+00:00", "days": 1}
