"""The command line beside a running workbench, as a person uses them: `python -m segwork run` holds
the embedded database, and `info`, `query`, `token` and `ingest` (real subprocesses) go through its
API, printing what they print on a twin database opened directly."""
from __future__ import annotations

import gzip
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import urllib.error
import urllib.request

import pandas as pd
import pytest

from segwork import retail, synth
from segwork.config import PROJECT_DIR
from tests.browser import workbench

NOTE = "going through its API at"


def cli(*args, data_dir, env: dict | None = None) -> subprocess.CompletedProcess:
    """`python -m segwork ARGS` on the embedded database in data_dir."""
    full = {**os.environ, "SEGWORK_DATA_DIR": str(data_dir), **(env or {})}
    full.pop("SEGWORK_DSN", None)
    return subprocess.run([sys.executable, "-m", "segwork", *args], cwd=PROJECT_DIR, env=full, capture_output=True,
                          text=True, timeout=300)


def ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """Two databases with the same rows: `direct` opened by the CLI itself, `held` by a running workbench."""
    files = tmp_path_factory.mktemp("files")
    synth.customers(300, seed=3, end="2025-01-01").to_csv(files / "customers.csv", index=False)
    synth.events(4000, 300, seed=5, end="2025-01-01", days=365).to_csv(files / "events.csv", index=False)
    dirs = {}
    for name in ("direct", "held"):
        dirs[name] = tmp_path_factory.mktemp(name)
        ok(cli("ingest", "customers", str(files / "customers.csv"), data_dir=dirs[name]))
        ok(cli("ingest", "customer_events", str(files / "events.csv"), data_dir=dirs[name]))
    with workbench(dirs["held"]) as url:
        yield {**dirs, "url": url, "files": files}
    log = (dirs["held"] / "workbench.log").read_text()
    assert "segwork workbench stopped" in log and "Traceback" not in log, log[-3000:]
    assert not (dirs["held"] / "workbench.json").exists()  # withdrawn when it stopped


def both(shop, *args) -> tuple[subprocess.CompletedProcess, subprocess.CompletedProcess]:
    """(direct, through the workbench) runs of one command; the second must say it went through."""
    direct, through = cli(*args, data_dir=shop["direct"]), cli(*args, data_dir=shop["held"])
    assert NOTE not in direct.stderr
    assert NOTE in through.stderr, through.stderr
    return direct, through


def same_place(text: str, shop) -> str:
    return text.replace(str(shop["held"]), "<dir>").replace(str(shop["direct"]), "<dir>")


def test_the_admin_token_is_kept_private_and_never_printed(shop):
    held = shop["held"]
    token_file, running = held / "api-admin-token", held / "workbench.json"
    for path in (token_file, running):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    secret = token_file.read_text().strip()
    assert re.fullmatch(r"sw_[A-Za-z0-9_-]{43}", secret)
    log = (held / "workbench.log").read_text()
    assert secret not in log
    assert f"admin token in {token_file} (readable only by you; made now)" in log
    assert json.loads(running.read_text())["url"] == shop["url"]
    r = urllib.request.urlopen(urllib.request.Request(f"{shop['url']}/v0/tokens", headers={"Authorization": f"Bearer {secret}"}))
    assert [t["name"] for t in json.loads(r.read())["tokens"]] == ["workbench-admin"]


def test_info_prints_what_it_prints_directly(shop):
    direct, through = both(shop, "info")
    assert same_place(through.stdout, shop) == same_place(direct.stdout, shop)
    assert "customer_events                      4,000" in through.stdout


@pytest.mark.parametrize("args", [
    ("customer_segment_lookup", "--customer-id", "c0000007"),
    ("customer_engagement_analysis", "--start-date", "2024-07-01", "--end-date", "2024-12-31", "--event-type", "purchase",
     "--event-type", "login", "--limit", "15", "--order-by", "total_value"),
    ("customer_engagement_analysis", "--start-date", "2024-12-01", "--location", "London", "--include-inactive"),
    ("customer_segments_summary", "--min-age", "25", "--max-age", "45"),
    ("customer_segments_summary", "--high-value", "800", "--medium-value", "300", "--loyal-days", "200", "--regular-days", "90"),
])
def test_queries_print_what_they_print_directly(shop, args):
    as_of = ("--as-of", "2025-01-01 00:00:00")
    for fmt in ("table", "json"):
        direct, through = both(shop, "query", *args, *as_of, "--format", fmt)
        assert through.stdout == ok(direct)
        assert through.stdout.strip() not in ("", "[]", "(no rows)")
    direct, through = both(shop, "query", *args, *as_of, "--format", "csv")
    # The engine sums floats in parallel, in no fixed order: the last bit of a sum may differ between any two runs.
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(through.stdout)), pd.read_csv(io.StringIO(ok(direct))),
                                  check_exact=False, rtol=1e-12)


def test_summary_through_the_workbench_counts_every_customer(shop):
    summary = pd.read_csv(io.StringIO(ok(cli("query", "customer_segments_summary", "--format", "csv", data_dir=shop["held"]))))
    assert summary["customer_count"].sum() == 300  # pandas: 300 distinct customers were loaded


@pytest.mark.parametrize("args", [
    ("query", "customer_engagement_analysis", "--limit", "-5"),
    ("query", "customer_engagement_analysis", "--start-date", "yesterday"),
    ("query", "customer_segments_summary", "--high-value", "100", "--medium-value", "200"),
    ("token", "create", "x", "--scope", "PIPES:READ:nope"),
    ("token", "revoke", "nobody"),
])
def test_errors_read_as_they_do_directly(shop, args):
    direct, through = cli(*args, data_dir=shop["direct"]), cli(*args, data_dir=shop["held"])
    assert direct.returncode == through.returncode == 1
    assert direct.stderr.strip().startswith("segwork: error: ")
    last = [re.sub(r"\(active tokens: .*\)$", "(active tokens: ...)", p.stderr.strip().splitlines()[-1]) for p in (direct, through)]
    assert last[1] == last[0]  # (the held database has its workbench-admin token besides)


def test_tokens_made_listed_and_revoked_through_the_workbench(shop):
    made = ok(cli("token", "create", "reader", "--scope", "PIPES:READ:customer_segment_lookup",
                  "--fixed-param", "customer_id=c0000007", data_dir=shop["held"]))
    assert made.splitlines()[0] == ("created token 'reader' with scopes PIPES:READ:customer_segment_lookup, "
                                    "pinned customer_id=c0000007")
    secret = made.splitlines()[-1]

    def lookup(customer: str) -> tuple[int, object]:
        request = urllib.request.Request(f"{shop['url']}/v0/pipes/customer_segment_lookup.json?customer_id={customer}",
                                         headers={"Authorization": f"Bearer {secret}"})
        try:
            with urllib.request.urlopen(request) as r:
                return r.status, json.loads(r.read())["data"]
        except urllib.error.HTTPError as exc:
            return exc.code, None

    status, rows = lookup("c0000001")
    assert status == 200 and [r["customer_id"] for r in rows] == ["c0000007"]  # the pin wins
    listed = ok(cli("token", "list", data_dir=shop["held"]))
    assert re.search(r"^reader +active .*PIPES:READ:customer_segment_lookup  pinned: customer_id=c0000007$", listed, re.M)
    assert re.search(r"^workbench-admin +active .*ADMIN$", listed, re.M)
    assert ok(cli("token", "revoke", "reader", data_dir=shop["held"])).startswith("revoked token 'reader'")
    assert lookup("c0000007")[0] == 403  # at once: the workbench revoked it itself
    assert re.search(r"^reader +revoked ", ok(cli("token", "list", data_dir=shop["held"])), re.M)


def test_ingest_reports_what_a_direct_ingest_reports(shop, tmp_path):
    stored = pd.read_csv(shop["files"] / "customers.csv").head(2)
    new = pd.DataFrame({"customer_id": ["n1", "n2", "n3", "n1"], "name": ["A", "B", "C", "A"],
                        "signup_date": ["2024-01-01"] * 4, "lifetime_value": ["5", "oops", "7", "5"],
                        "timestamp": ["2024-06-01 10:00:00"] * 4})
    rows = pd.concat([stored[new.columns], new])  # 2 stored, 2 new, 1 bad, 1 repeated in the file
    plain, packed = tmp_path / "profiles.csv", tmp_path / "profiles.txt.gz"
    rows.to_csv(plain, index=False)
    packed.write_bytes(gzip.compress(rows.to_csv(index=False).encode()))

    def reports(*args) -> list[dict]:
        out = []
        for proc in both(shop, "ingest", "customers", *args, "--json"):
            report = json.loads(ok(proc).strip().splitlines()[-1])
            for key in ("ingest_id", "elapsed_s", "started_at"):
                report.pop(key)
            out.append(report)
        return out

    direct, through = reports(str(plain))
    assert through == direct
    assert (direct["rows_read"], direct["inserted"], direct["duplicates"], direct["quarantined"]) == (6, 2, 3, 1)
    assert direct["source"] == "profiles.csv" and direct["reasons"][0]["rows"] == 1
    direct, through = reports(str(packed), "--format", "csv")  # an option the API is given by name
    assert through == direct
    assert (direct["rows_read"], direct["inserted"], direct["duplicates"], direct["known_bad"]) == (6, 0, 6, 1)
    direct, through = both(shop, "ingest", "customers", str(plain))
    mask = re.compile(r" in \d+\.\d\d s \(ingest id [0-9a-f]+\)")
    assert mask.sub("", ok(through)) == mask.sub("", ok(direct))
    assert "sent; the workbench ingests it" in through.stderr  # the upload's progress bar ran to its end
    direct, through = both(shop, "info")
    assert same_place(through.stdout, shop) == same_place(direct.stdout, shop)
    assert "customers                              302" in through.stdout


def test_a_missing_file_fails_alone(shop, tmp_path):
    good = tmp_path / "one.ndjson"
    good.write_text(json.dumps({"event_id": "solo1", "customer_id": "c0000001", "event_type": "login",
                                "timestamp": "2024-05-05 05:05:05"}) + "\n")
    direct, through = both(shop, "ingest", "customer_events", str(tmp_path / "absent.csv"), str(good))
    assert direct.returncode == through.returncode == 1
    assert f"segwork: error: {tmp_path / 'absent.csv'}: no such file; check the path" in through.stderr
    assert "1 inserted" in through.stdout and "1 inserted" in direct.stdout


def test_an_option_the_api_does_not_apply_is_refused_not_ignored(shop):
    secret = (shop["held"] / "api-admin-token").read_text().strip()
    request = urllib.request.Request(
        f"{shop['url']}/v0/datasources?name=customer_events&mode=append&quote=%27", method="POST",
        data=b"event_id,customer_id,event_type,timestamp\nx1,c1,login,2024-01-01 00:00:00\n",
        headers={"Authorization": f"Bearer {secret}", "X-Segwork-Options": "delimiter,quote"})
    with pytest.raises(urllib.error.HTTPError) as refused:  # (delimiter is applied; quote is no option of ours)
        urllib.request.urlopen(request)
    assert refused.value.code == 400
    assert "does not apply the ingest option(s) quote" in json.loads(refused.value.read())["error"]


def test_dialect_options_go_through_the_workbench(shop, tmp_path):
    path = tmp_path / "kunden.csv"
    path.write_bytes("customer_id;name;signup_date;lifetime_value;timestamp\nq1;Zoë;2024-01-05;1.234,56;2024-06-01 10:00:00\n"
                     .encode("cp1252"))
    reports = []
    for proc in both(shop, "ingest", "customers", str(path), "--decimal", ",", "--encoding", "cp1252", "--json"):
        report = json.loads(ok(proc).strip().splitlines()[-1])
        reports.append((report["inserted"], report["quarantined"]))
    assert reports == [(1, 0), (1, 0)]


def test_a_workbench_that_does_not_answer_or_lost_its_token_file(shop):
    pid = json.loads((shop["held"] / "workbench.json").read_text())["pid"]
    os.kill(pid, signal.SIGSTOP)  # it holds the database's lock but answers nothing
    try:
        proc = cli("info", data_dir=shop["held"])
    finally:
        os.kill(pid, signal.SIGCONT)
    assert proc.returncode == 1 and proc.stdout == ""
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith(f"segwork: error: the workbench running as process {pid} holds the embedded database at ")
    assert "but does not answer" in error and f"kill {pid}" in error
    token_file = shop["held"] / "api-admin-token"
    hidden = token_file.rename(token_file.with_name("hidden"))
    try:
        proc = cli("token", "list", data_dir=shop["held"])
    finally:
        hidden.rename(token_file)
    assert proc.returncode == 1
    assert f"its admin token file {token_file} is missing" in proc.stderr and "restart the workbench" in proc.stderr
    proc = cli("info", data_dir=shop["held"], env={"SEGWORK_DATABASE": "other"})
    assert proc.returncode == 1 and "serves database 'segwork', not 'other'" in proc.stderr


def test_the_token_lasts_across_starts_until_revoked_or_renewed(tmp_path):
    token_file = tmp_path / "api-admin-token"
    with workbench(tmp_path, customers=50, events=200):
        first = token_file.read_text().strip()
        ok(cli("token", "revoke", "workbench-admin", data_dir=tmp_path))  # allowed; it cuts the CLI's own way in
        proc = cli("info", data_dir=tmp_path)
        assert proc.returncode == 1 and f"refuses the admin token in {token_file} (revoked?)" in proc.stderr
    assert NOTE not in cli("info", data_dir=tmp_path).stderr  # stopped: the CLI opens the database itself again
    with workbench(tmp_path, customers=50, events=200):
        second = token_file.read_text().strip()
        assert "made now: the database no longer accepts the one the file held" in (tmp_path / "workbench.log").read_text()
        assert second != first and "customers" in ok(cli("info", data_dir=tmp_path))
    with workbench(tmp_path, customers=50, events=200):
        assert token_file.read_text().strip() == second
        assert "(readable only by you; kept from an earlier start)" in (tmp_path / "workbench.log").read_text()
    with workbench(tmp_path, customers=50, events=200, args=("--new-admin-token",)) as url:
        third = token_file.read_text().strip()
        assert third != second
        listed = ok(cli("token", "list", data_dir=tmp_path))
        assert len(re.findall(r"^workbench-admin +active .*ADMIN$", listed, re.M)) == 1  # the new one replaced it
        request = urllib.request.Request(f"{url}/v0/pipes", headers={"Authorization": f"Bearer {second}"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)
        assert refused.value.code == 403


def test_ingest_with_a_mapping_through_the_workbench_reports_events_and_profiles(shop, tmp_path):
    lines = retail.read_lines().head(300)
    path = tmp_path / "retail.csv"
    lines.drop(columns="line").to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    reports = []
    for proc in both(shop, "ingest", "customer_events", str(path), "--mapping", "online-retail", "--json"):
        report = json.loads(ok(proc).strip().splitlines()[-1])
        reports.append((report["mapping"], report["inserted"], report["quarantined"], report["profiles"]["inserted"]))
    expected = retail.to_events(lines)
    versions = expected.groupby(["customer_id", expected["timestamp"].dt.date]).ngroups  # a profile version per customer-day
    assert reports[0] == reports[1] == ("online-retail", len(expected), lines["CustomerID"].isna().sum(), versions)


def test_mappings_are_listed_through_the_workbench(shop):
    direct, through = both(shop, "mappings")
    assert ok(through) == ok(direct) and ok(direct).startswith("online-retail ")
    direct, through = both(shop, "mappings", "--show", "online-retail")
    assert json.loads(ok(through)) == json.loads(ok(direct)) and json.loads(ok(direct))["table"] == "customer_events"


def test_segment_commands_through_the_workbench_print_what_they_print_directly(shop):
    for args in [("segment", "diff", "High Value", "--since", "2024-06-30", "--until", "2024-12-31", "--format", "csv"),
                 ("segment", "sizes", "--start-date", "2024-07-01", "--end-date", "2024-12-31", "--format", "csv")]:
        direct, through = both(shop, *args)
        assert ok(direct) == ok(through) and len(ok(direct).splitlines()) > 1
    # an export recorded through the workbench is where `--since last` starts
    recorded = cli("segment", "diff", "Loyal", "--since", "2024-06-30", "--until", "2024-09-30", "--record", data_dir=shop["held"])
    assert "recorded: the next `--since last` starts at 2024-09-30 23:59:59 UTC" in recorded.stderr, recorded.stderr
    after = cli("segment", "diff", "Loyal", "--since", "last", "--until", "2024-12-31", data_dir=shop["held"])
    assert "between 2024-09-30 23:59:59 and 2024-12-31 23:59:59 UTC" in after.stderr, after.stderr
