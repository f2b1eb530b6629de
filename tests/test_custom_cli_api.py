"""Saved segments from the command line (in process, on the test's database) and over HTTP:
what they print and answer equals the library's."""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

import segwork
from segwork import cli, custom
from tests.apikit import running_api
from tests.test_custom_segments import AS_OF, EVENTS, PEOPLE, events_frame

YAML = """\
- name: big spenders
  description: lifetime value 1,000 or more
  all:
    - {field: lifetime_value, op: ">=", value: 1000}
- name: active big spenders
  all:
    - {in_segment: big spenders}
    - {last_event: "*", op: "<=", days: 7}
"""


@pytest.fixture
def shop(client, database, monkeypatch):
    monkeypatch.setenv("SEGWORK_DSN", "chdb://memory")
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    segwork.ingest(client, "customers", pd.DataFrame(PEOPLE))
    segwork.ingest(client, "customer_events", events_frame(EVENTS))
    return client


def run(capsys, *args):
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.engine_paths("embedded")
def test_list_apply_show_members_delete(shop, capsys, tmp_path):
    definitions = tmp_path / "mine.yaml"
    definitions.write_text(YAML)
    code, out, _ = run(capsys, "segment", "apply", str(definitions), "--note", "first")
    assert code == 0 and out.splitlines() == ["big spenders: version 1", "active big spenders: version 1"]
    code, out, _ = run(capsys, "segment", "list", "--format", "csv")
    assert {"big spenders", "active big spenders", "lapsed high value"} <= set(pd.read_csv(io.StringIO(out))["name"])
    code, out, _ = run(capsys, "segment", "show", "active big spenders")
    assert custom.from_yaml(out.split("# versions")[0]) == [custom.get(shop, "active big spenders")]
    code, out, err = run(capsys, "segment", "members", "active big spenders", "--as-of", str(AS_OF), "--format", "csv")
    assert code == 0 and "active big spenders: 1 customers" in err
    assert pd.read_csv(io.StringIO(out))["customer_id"].tolist() == ["ann"]  # bob's last event is in May
    code, _, err = run(capsys, "segment", "delete", "big spenders")
    assert code == 1 and "used by 'active big spenders'" in err
    assert run(capsys, "segment", "delete", "active big spenders")[0] == 0
    code, out, _ = run(capsys, "segment", "show", "active big spenders", "--version", "1")
    assert code == 0 and "in_segment: big spenders" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nall:\n  - {field: salary, op: '>', value: 1}\n")
    code, _, err = run(capsys, "segment", "apply", str(bad))
    assert code == 1 and "segment 'x' > all[1]: unknown field 'salary'" in err


@pytest.mark.engine_paths("embedded")
def test_saved_segments_over_http(shop, database):
    with running_api(shop, database) as api:
        h = api.bearer()
        saved = api.http.post("/v0/segments?note=via%20api", content=YAML.encode(), headers=h)
        assert saved.status_code == 200, saved.text
        assert saved.json()["saved"] == [{"name": "big spenders", "version": 1}, {"name": "active big spenders", "version": 1}]
        one = api.http.get("/v0/segments/big%20spenders", headers=h).json()
        assert one["definition"] == custom.to_dict(custom.get(shop, "big spenders")) and one["versions"][0]["note"] == "via api"
        members = api.http.get("/v0/pipes/segment_members.json", headers=h,
                               params={"segment": "big spenders", "as_of": str(AS_OF), "limit": 1})
        body = members.json()
        assert [r["customer_id"] for r in body["data"]] == ["ann"] and body["data"][0]["total_rows"] == 2
        csv = api.http.get("/v0/pipes/segment_members.csv", headers=h, params={"segment": "big spenders", "as_of": str(AS_OF)})
        assert pd.read_csv(io.StringIO(csv.text))["customer_id"].tolist() == ["ann", "bob"]
        sizes = api.http.get("/v0/pipes/segment_sizes.json", headers=h, params={"as_of": str(AS_OF)}).json()["data"]
        assert {r["segment"]: r["customers"] for r in sizes} == dict(zip(*custom.sizes(shop, as_of=AS_OF).to_dict("list").values()))
        # a token pinned to one segment reads that one only
        reader = api.token("one", "PIPES:READ:segment_members", segment="big spenders")
        other = api.http.get("/v0/pipes/segment_members.json", headers=api.bearer(reader),
                             params={"segment": "new engaged", "as_of": str(AS_OF)})
        assert other.status_code == 200 and json.loads(other.text)["data"][0]["customer_id"] == "ann"  # the pin wins
        assert api.http.get("/v0/segments", headers=api.bearer(reader)).status_code == 403
        missing = api.http.get("/v0/pipes/segment_members.json", headers=h, params={"segment": "nope"})
        assert missing.status_code == 400 and "no saved segment 'nope'" in missing.json()["error"]
        removed = api.http.delete("/v0/segments/active%20big%20spenders", headers=h)
        assert removed.status_code == 200 and removed.json()["version"] == 2
