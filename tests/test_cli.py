"""The command line, run as a user would: a subprocess on its own embedded database."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from segwork.config import PROJECT_DIR


def run(*args, data_dir, ok=True):
    env = {**os.environ, "SEGWORK_DATA_DIR": str(data_dir)}
    env.pop("SEGWORK_DSN", None)  # the CLI's default: an on-disk embedded database
    proc = subprocess.run([sys.executable, "-m", "segwork", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)
    assert (proc.returncode == 0) == ok, proc.stderr
    return proc


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    run("demo", "--customers", "300", "--events", "4000", data_dir=d)
    return d


def test_demo_and_info(data_dir):
    out = run("info", data_dir=data_dir).stdout
    assert "embedded ClickHouse (chDB) at" in out and str(data_dir) in out
    rows = {line.rsplit(None, 1)[0]: line.rsplit(None, 1)[1] for line in out.splitlines()[1:5]}
    assert rows == {"customers": "300", "customer_events": "4,000", "customers_quarantine": "0", "customer_events_quarantine": "0"}


def test_ingest_reports_and_exit_code(data_dir, tmp_path):
    good = tmp_path / "more.csv"
    good.write_text("customer_id,signup_date,timestamp,lifetime_value\nz1,2024-01-01,2024-01-02,5\nz2,2024-01-01,,5\n")
    proc = run("ingest", "customers", str(good), "--json", data_dir=data_dir)
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (report["rows_read"], report["inserted"], report["quarantined"]) == (2, 1, 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    proc = run("ingest", "customers", str(bad), data_dir=data_dir, ok=False)
    assert proc.returncode == 1 and "missing required column" in proc.stderr


def test_query_formats(data_dir):
    out = run("query", "customer_segments_summary", "--format", "csv", data_dir=data_dir).stdout
    df = pd.read_csv(pd.io.common.StringIO(out))
    assert df["customer_count"].sum() == 301  # 300 demo customers + z1
    js = json.loads(run("query", "customer_segment_lookup", "--customer-id", "c0000001", "--format", "json", data_dir=data_dir).stdout)
    assert js[0]["customer_id"] == "c0000001"
    proc = run("query", "customer_engagement_analysis", "--limit", "-5", data_dir=data_dir, ok=False)
    assert proc.stderr.strip().startswith("segwork: error: parameter 'limit'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_second_process_gets_a_clear_error(data_dir):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import segwork,sys,time; c = segwork.connect(); print('ready', flush=True); time.sleep(60)"],
        cwd=PROJECT_DIR, env={**{k: v for k, v in os.environ.items() if k != "SEGWORK_DSN"}, "SEGWORK_DATA_DIR": str(data_dir)},
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        proc = run("info", data_dir=data_dir, ok=False)
        assert "in use by another process" in proc.stderr and "SEGWORK_DSN" in proc.stderr
    finally:
        holder.kill()
        holder.wait()



def test_demo_gives_the_customers_a_past(data_dir):
    """`demo` loads the customers' earlier profile versions too (it loaded only the current ones,
    all dated at the end, so a year back every segment was empty), so `segment sizes` has a past."""
    out = run("segment", "sizes", "--every", "month", "--format", "csv", data_dir=data_dir).stdout
    sizes = pd.read_csv(pd.io.common.StringIO(out), index_col="day")
    assert len(sizes) >= 12 and list(sizes.columns)[:3] == ["High Value · Loyal", "High Value · Regular", "High Value · New"]
    a_year_back, now = sizes.iloc[0].sum(), sizes.iloc[-1].sum()
    assert 0 < a_year_back < now <= 301, (a_year_back, now)
