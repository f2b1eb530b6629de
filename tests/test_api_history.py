"""Segments through time over HTTP: the four pipes answer what segwork.through_time answers."""
from __future__ import annotations

import io

import pandas as pd
import pytest

import segwork
from segwork import history, through_time
from tests.apikit import running_api
from tests.test_history import DELETED_AT, FIRST


@pytest.fixture
def api(client, database):
    segwork.ingest(client, "customers", pd.DataFrame(FIRST))
    history.delete_customers(client, "gone", at=DELETED_AT)
    with running_api(client, database) as a:
        yield a


@pytest.mark.engine_paths("embedded")
def test_sizes_over_time_pipe_matches_the_library(api):
    r = api.http.get("/v0/pipes/segment_sizes_over_time.json?start_date=2023-01-01&end_date=2024-03-31&every=month",
                     headers=api.bearer())
    assert r.status_code == 200, r.text
    got = pd.DataFrame(r.json()["data"])
    want = through_time.segment_sizes(api.client, "2023-01-01", "2024-03-31", every="month")
    want = want[want.set_index(["value_segment", "loyalty_segment"]).index.isin(
        got.set_index(["value_segment", "loyalty_segment"]).index)]  # the pipe lists segments that had members
    assert sorted(zip(got.day, got.value_segment, got.loyalty_segment, got.customers)) == sorted(
        zip(want.day.astype(str), want.value_segment, want.loyalty_segment, want.customers))
    assert got.groupby("day")["customers"].sum().loc["2023-07-31"] == 3  # up, down, late: 'gone' deleted on 2023-07-01


@pytest.mark.engine_paths("embedded")
def test_transitions_members_and_changes_pipes(api):
    h = api.bearer()
    flows = api.http.get("/v0/pipes/segment_transitions.json?date_a=2023-05-01&date_b=2024-01-31", headers=h).json()["data"]
    got = {(f["from_state"], f["to_state"]): f["customers"] for f in flows}
    want = through_time.transitions(api.client, "2023-05-01", "2024-01-31").groupby(["from_state", "to_state"])["customers"].sum()
    assert got == want.to_dict()
    assert {f["change"] for f in flows} == {"", "deleted"} and any(f["value_move"] == "up:High Value" for f in flows)
    members = api.http.get("/v0/pipes/transition_members.json", headers=h, params={
        "date_a": "2023-05-01", "date_b": "2024-01-31", "from_state": "Low Value · New", "to_state": "High Value · Loyal"}).json()
    assert [m["customer_id"] for m in members["data"]] == ["up"] and members["data"][0]["total_rows"] == 1
    csv = api.http.get("/v0/pipes/segment_changes.csv", headers=h,
                       params={"segment": "High Value", "since": "2023-05-01", "until": "2024-01-31"})
    assert csv.status_code == 200
    changes = pd.read_csv(io.StringIO(csv.text))
    assert dict(zip(changes.customer_id, changes.change_kind)) == {"up": "entered", "late": "entered", "down": "exited"}


def test_history_pipes_check_their_parameters_and_scopes(api):
    h = api.bearer()
    r = api.http.get("/v0/pipes/segment_changes.json?segment=Gold&since=2023-01-01", headers=h)
    assert r.status_code == 400 and "'Gold' is not a segment" in r.json()["error"]
    r = api.http.get("/v0/pipes/segment_transitions.json?date_a=2024-02-01&date_b=2024-01-01", headers=h)
    assert r.status_code == 400 and "not before date_b" in r.json()["error"]
    r = api.http.get("/v0/pipes/segment_changes.json?segment=Loyal&since=last", headers=h)
    assert r.status_code == 400 and "no export of 'Loyal' is recorded yet" in r.json()["error"]
    reader = api.token("changes", "PIPES:READ:segment_changes")
    ok = api.http.get("/v0/pipes/segment_changes.json?segment=Loyal&since=2023-01-01", headers=api.bearer(reader))
    assert ok.status_code == 200
    assert api.http.get("/v0/pipes/segment_transitions.json?date_a=2023-01-01", headers=api.bearer(reader)).status_code == 403
