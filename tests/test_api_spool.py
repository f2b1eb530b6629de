"""The Events API's spool (SEGWORK_API_SPOOL): wait=false answered 202 once the body is on
disk, written after by the drain (segwork.api.accept, spool, drain; segwork.ingestion.joined),
exactly once per event, across a replay after a crash, with each request's own counts."""
from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx
import pandas as pd
import pytest
from starlette.applications import Starlette

from segwork.api import pipes, tokens
from segwork.api.accept import Accepting
from segwork.api.app import Api
from segwork.api.responses import ApiError
from segwork.api.spool import Spool
from segwork.config import Settings
from segwork.errors import ConfigError
from segwork.ingestion import batch
from segwork.ingestion.joined import prepare_joined
from tests.apikit import ndjson, uvicorn_thread
from tests.test_api_coalesce import bodies_for_the_batch, event, same_as_alone


def settings_for(database, tmp_path, **changes) -> Settings:
    return replace(Settings(dsn="chdb://memory", database=database, data_dir=tmp_path), api_spool=True, api_threads=4, **changes)


@pytest.fixture
def spooled(client, database, tmp_path):
    """The API with the spool on, under uvicorn on loopback; (host, admin token, client, Api)."""
    api = Api(settings_for(database, tmp_path))
    admin, _ = tokens.create(client, "admin", ["ADMIN"], {}, pipes.PIPES)
    try:
        with uvicorn_thread(Starlette(routes=api.routes())) as base:
            yield base, admin, client, api
    finally:
        api.close()


def post_many(host, admin, bodies: list[bytes], wait=False) -> list[httpx.Response]:
    local = threading.local()

    def send(body):
        if not hasattr(local, "http"):
            local.http = httpx.Client(headers={"Authorization": f"Bearer {admin}"}, timeout=60)
        return local.http.post(f"{host}/v0/events?name=customer_events" + ("&wait=true" if wait else ""), content=body)

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(send, bodies))


def logged(client) -> pd.DataFrame:
    return client.query_df("SELECT ingest_id, status, rows_read, inserted, duplicates, quarantined FROM ingest_log")


def test_202_comes_before_the_write_and_every_event_lands_once_with_its_request_counts(spooled):
    host, admin, client, api = spooled
    bodies, good_ids = [], set()
    for i in range(200):
        if i % 10 == 3:  # a broken line and a bad value with a good event
            lines = [json.dumps(event(i, prefix="s")), "{oops " + str(i), json.dumps(event(i + 5000, prefix="s", event_value="many"))]
            bodies.append(("\n".join(lines) + "\n").encode())
        else:  # every id also sent by the request after it: a duplicate there
            bodies.append(ndjson([event(i, prefix="s"), event(i - 1, prefix="s")] if i else [event(i, prefix="s")]))
        good_ids.add(f"s{i}")
    answers = post_many(host, admin, bodies)
    assert {r.status_code for r in answers} == {202}
    assert [r.json()["successful_rows"] for r in answers] == [len([x for x in b.split(b"\n") if x.strip()]) for b in bodies]
    assert all(r.json()["status"] == "queued" and r.json()["quarantined_rows"] == 0 for r in answers)
    assert api.accepting.drainer.wait_idle(120)
    assert client.query("SELECT count(), uniqExact(event_id) FROM customer_events").result_rows[0] == (200, 200)
    assert set(client.query_df("SELECT event_id FROM customer_events").event_id) == good_ids
    log = logged(client)
    finished = log[log.status == "finished"].set_index("ingest_id")
    ids = [r.json()["import_id"] for r in answers]
    assert sorted(finished.index) == sorted(ids)  # each request logged once, finished
    assert (finished.rows_read == finished.inserted + finished.duplicates + finished.quarantined).all()
    assert finished.inserted.sum() == 200 and finished.quarantined.sum() == 40
    q = client.query_df("SELECT c__import_id, c__row FROM customer_events_quarantine ORDER BY c__import_id, c__row")
    for i in range(3, 200, 10):  # each request's bad lines under its import id, numbered in its own body
        assert list(q[q.c__import_id == ids[i]].c__row) == [2, 3]
    job = httpx.get(f"{host}/v0/jobs/{ids[3]}", headers={"Authorization": f"Bearer {admin}"}).json()
    assert (job["status"], job["quarantine_rows"], job["rows_read"]) == ("done", 2, 3)


def test_wait_true_with_the_spool_on_is_written_and_counted_when_answered(spooled):
    host, admin, client, _ = spooled
    r = post_many(host, admin, [ndjson([event(1, prefix="w"), event(2, prefix="w", timestamp="later")])], wait=True)[0]
    assert r.status_code == 200
    assert (r.json()["successful_rows"], r.json()["quarantined_rows"]) == (1, 1)
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 1


def test_a_request_that_cannot_be_read_is_a_failed_job_and_the_queue_goes_on(spooled):
    host, admin, client, api = spooled
    bad, good = post_many(host, admin, [b'{"foo": 1}\n', ndjson([event(1, prefix="g")])])
    assert (bad.status_code, good.status_code) == (202, 202)
    assert api.accepting.drainer.wait_idle(60)
    job = httpx.get(f"{host}/v0/jobs/{bad.json()['import_id']}", headers={"Authorization": f"Bearer {admin}"}).json()
    assert job["status"] == "error" and "missing required column" in job["error"]
    assert client.query("SELECT event_id FROM customer_events").result_rows == [("g1",)]


@pytest.mark.engine_paths
def test_bodies_read_joined_get_what_each_would_get_alone(client, database):
    """prepare_joined + write_many over several bodies = segwork.ingest of each, one after another
    (counts, reasons, stored rows, quarantine line numbers and tokens); a body lacking a required
    column is handed back to be read alone."""
    settings = Settings(dsn="chdb://memory", database=database)
    bodies = bodies_for_the_batch()
    items, block = prepare_joined("customer_events", [(b, f"input {k}", None) for k, b in enumerate(bodies)], settings)
    assert all(items)
    batch.write_many(client, "customer_events", items, block)
    same_as_alone(client, database, items, settings)
    items, _ = prepare_joined("customer_events", [(b'{"foo": 1}', "x", None), (ndjson([event(9)]), "y", "id-y")], settings)
    assert items[0] is None and items[1].report.ingest_id == "id-y"


def _accept_all(acc: Accepting, bodies: list[bytes]) -> list[dict]:
    async def go():
        return [await acc.accept(*acc.prepare("customer_events", "test", b, None)) for b in bodies]
    return asyncio.run(go())


def test_what_was_answered_and_not_written_is_written_at_the_next_start_exactly_once(client, database, tmp_path):
    settings = settings_for(database, tmp_path)
    first = Accepting(settings)
    first.drainer.stop(timeout=0)  # as if the process died before its drain wrote anything
    answers = _accept_all(first, [ndjson([event(i, prefix="r"), event(i + 1, prefix="r")]) for i in range(50)])
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 0
    first.spool.close()
    second = Accepting(settings)  # the next start: replays the spool
    assert second.drainer.wait_idle(60)
    assert client.query("SELECT count(), uniqExact(event_id) FROM customer_events").result_rows[0] == (51, 51)
    log = logged(client)
    assert sorted(log[log.status == "finished"].ingest_id) == sorted(a["import_id"] for a in answers)
    # a crash after the write and before the checkpoint: all of it is read again, nothing counted twice
    second.close()
    (tmp_path / "spool" / "checkpoint").write_text("1 0\n")
    third = Accepting(settings)
    assert third.drainer.wait_idle(60)
    third.close()
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 51
    pd.testing.assert_frame_equal(logged(client).sort_values(list(log.columns)).reset_index(drop=True),
                                  log.sort_values(list(log.columns)).reset_index(drop=True))


def test_a_frame_cut_short_by_a_crash_is_dropped_and_the_ones_before_it_kept(tmp_path):
    spool = Spool(tmp_path)

    async def add():
        for i in range(3):
            await spool.append({"id": str(i), "rows": 1}, b"x" * (i + 1))
    asyncio.run(add())
    end = spool.end()
    spool.close()
    with open(tmp_path / "00000001.log", "ab") as f:
        f.write(b"SWS1\x05\x00\x00\x00\xff\x00\x00\x00{\"id\"")  # a frame's start: its body never made it
    again = Spool(tmp_path)
    assert again.end() == end
    assert [r.body for r in again.read((1, 0), again.end(), 100)[0]] == [b"x", b"xx", b"xxx"]
    again.close()


@pytest.mark.parametrize("at_call", [1, 2])
def test_the_backlog_is_counted_while_the_drain_drops_a_written_segment(tmp_path, at_call):
    """backlog_bytes (every POST's admission check, on the event loop) against a checkpoint by
    the drain's thread that deletes a spent segment in the middle of the count. Before the fix
    this raised FileNotFoundError (the segment deleted between its exists() and its stat()) or
    counted a deleted segment's checkpoint offset against the next one's size. The likely cause of
    one 500 in 15,577 requests of the small-payload bench (100-event batches, spool on, ~130k
    events/s, 2026-12-03), whose traceback was lost: the bench sent the server's log nowhere."""
    spool = Spool(tmp_path, segment_bytes=400)

    async def add():
        for i in range(12):
            await spool.append({"id": str(i), "rows": 1}, b"x" * 120)
    asyncio.run(add())
    (seg, off) = spool.end()
    assert seg >= 3
    spool.checkpoint((1, 100))
    sizes = {s: (tmp_path / f"{s:08d}.log").stat().st_size for s in range(1, seg)}
    before = sum(sizes.values()) - 100 + off
    after = sum(sizes[s] for s in range(2, seg)) - 50 + off
    path, calls = spool._path, []

    def path_then_drain(s):  # the drain checkpoints past segment 1 at this call of the count
        calls.append(s)
        if s == 1 and calls.count(1) == at_call:
            spool.checkpoint((2, 50))
        return path(s)
    spool._path = path_then_drain
    assert spool.backlog_bytes() in (before, after)
    spool._path = path
    spool.checkpoint((2, 50))  # done already, unless the count no longer asks for segment 1 twice
    assert not (tmp_path / "00000001.log").exists() and spool.backlog_bytes() == after
    spool.close()


def test_one_process_at_a_time_and_a_full_queue_is_a_503(client, database, tmp_path):
    acc = Accepting(settings_for(database, tmp_path, api_spool_max_bytes=1000))
    with pytest.raises(ConfigError, match="in use by another segwork process"):
        Spool(tmp_path / "spool")
    acc.drainer.stop(timeout=0)
    _accept_all(acc, [ndjson([event(i, prefix="f", category="x" * 300)]) for i in range(2)])  # 2 x ~600 bytes: past 1000
    with pytest.raises(ApiError) as refused:
        _accept_all(acc, [ndjson([event(9, prefix="f")])])
    assert refused.value.status == 503 and "SEGWORK_API_SPOOL_MAX_BYTES" in str(refused.value)
    acc.spool.close()


def test_a_job_answered_from_the_spool_is_waiting_until_written(spooled):
    host, admin, client, api = spooled
    api.accepting.drainer.stop(timeout=0)  # the drain is held back: the request stays queued
    r = post_many(host, admin, [ndjson([event(1, prefix="q")])])[0]
    job = httpx.get(f"{host}/v0/jobs/{r.json()['import_id']}", headers={"Authorization": f"Bearer {admin}"}).json()
    assert (job["status"], job["datasource"]["name"], job["rows_read"]) == ("waiting", "customer_events", 0)
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 0


def test_stopping_a_stopped_drain_does_not_wait_for_the_spool(client, database, tmp_path):
    """A drain stopped (here at once) writes nothing more: stopping it again, as the API does when it
    closes, returns without waiting for the spool to be written (it waited the whole 30 s)."""
    from segwork.api.drain import Drainer

    spool = Spool(tmp_path / "spool")
    drainer = Drainer(spool, settings_for(database, tmp_path))
    drainer.stop(timeout=0)
    meta = {"id": "late", "table": "customer_events", "source": "t", "format": "ndjson", "rows": 1,
            "at": "2026-12-01T00:00:00+00:00"}
    drainer.queue(meta)
    asyncio.run(spool.append(meta, ndjson([event(1, prefix="late")])))  # on disk, never to be written by this drain
    stopping = threading.Thread(target=drainer.stop)  # the default: up to 30 s for the spool to be written
    stopping.start()
    stopping.join(10)
    try:
        assert not stopping.is_alive(), "stopping a stopped drain waited for the spool"
    finally:
        stopping.join()
        spool.close()
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 0  # it stays for the next start


def test_segments_roll_over_are_drained_in_order_and_deleted_once_written(client, database, tmp_path):
    from segwork.api.drain import Drainer

    spool = Spool(tmp_path / "spool", segment_bytes=600)  # a new segment every two or three bodies
    drainer = Drainer(spool, settings_for(database, tmp_path))
    bodies = [ndjson([event(i, prefix="seg")]) for i in range(20)]

    async def add():
        for i, body in enumerate(bodies):
            meta = {"id": f"id{i}", "table": "customer_events", "source": "t", "format": "ndjson", "rows": 1,
                    "at": "2026-12-01T00:00:00+00:00"}
            drainer.queue(meta)
            await spool.append(meta, body)
    asyncio.run(add())
    assert spool.end()[0] >= 5
    assert drainer.wait_idle(60)  # idle at a segment boundary too (its checkpoint moves past it)
    drainer.stop(timeout=0)
    spool.close()
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 20
    assert sorted(p.name for p in (tmp_path / "spool").glob("*.log")) == [f"{spool.end()[0]:08d}.log"]
    assert drainer.queued == {}


def test_a_body_that_keeps_failing_is_set_aside_and_the_others_are_written(client, database, tmp_path):
    """A batch the engine refuses is tried again, then its bodies one by one: the one that fails on
    its own goes to failed.ndjson, its job says so, and the good one is written."""
    from segwork.api.drain import Drainer

    spool = Spool(tmp_path / "spool")
    drainer = Drainer(spool, settings_for(database, tmp_path))

    async def add():
        for i, table in enumerate(("no_such_table", "customer_events")):  # a table the writer cannot handle: not a SegworkError
            await spool.append({"id": f"id{i}", "table": table, "source": "t", "format": "ndjson", "rows": 1,
                                "at": "2026-12-01T00:00:00+00:00"}, ndjson([event(i, prefix="poison")]))
    asyncio.run(add())
    assert drainer.wait_idle(60)
    drainer.stop(timeout=0)
    spool.close()
    assert client.query("SELECT event_id FROM customer_events").result_rows == [("poison1",)]
    kept = [json.loads(line) for line in (tmp_path / "spool" / "failed.ndjson").read_text().splitlines()]
    assert [(k["id"], k["table"]) for k in kept] == [("id0", "no_such_table")] and "poison0" in kept[0]["body"]
    log = client.query_df("SELECT ingest_id, status, error FROM ingest_log ORDER BY updated_at")
    failed = log[log.ingest_id == "id0"]
    assert list(failed.status) == ["started", "failed"] and "failed.ndjson" in failed.error.iloc[-1]
    assert "finished" in set(log[log.ingest_id == "id1"].status)


def test_the_spool_is_on_by_default_only_where_one_process_holds_its_database():
    assert Settings.from_env({}).spool_on  # the default layout: data_dir/chdb, data_dir/spool
    assert Settings.from_env({"SEGWORK_DATA_DIR": "/tmp/elsewhere"}).spool_on
    for dsn in ("http://ana:pw@ch.example:8123/shop", "chdb:///tmp/some/folder", "chdb://memory"):
        assert not Settings.from_env({"SEGWORK_DSN": dsn}).spool_on  # processes may share data_dir: asked for only
        assert Settings.from_env({"SEGWORK_DSN": dsn, "SEGWORK_API_SPOOL": "1"}).spool_on
    assert not Settings.from_env({"SEGWORK_API_SPOOL": "0"}).spool_on
    with pytest.raises(ConfigError, match="SEGWORK_API_SPOOL=1 or SEGWORK_API_SPOOL=0"):
        Settings.from_env({"SEGWORK_API_SPOOL": "maybe"})


def test_events_spooled_for_one_database_are_not_written_into_another(client, database, tmp_path):
    first = Accepting(settings_for(database, tmp_path))
    first.drainer.stop(timeout=0)  # as if the process died before its drain wrote anything
    _accept_all(first, [ndjson([event(i, prefix="t")]) for i in range(3)])
    first.spool.close()
    with pytest.raises(ConfigError) as refused:
        Accepting(settings_for("another_db", tmp_path))
    said = str(refused.value)
    assert f"database '{database}'" in said and "database 'another_db'" in said and "SEGWORK_API_SPOOL=0" in said
    Spool(tmp_path / "spool").close()  # the refusal let go of the spool's lock
    again = Accepting(settings_for(database, tmp_path))  # its own database: written
    assert again.drainer.wait_idle(60)
    again.close()
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 3
    Accepting(settings_for("another_db", tmp_path)).close()  # nothing left to write: another database may use it
    assert (tmp_path / "spool" / "target").read_text().strip() == "database 'another_db' of :memory:"


def test_the_workbench_stopping_writes_what_its_spool_holds_and_lets_it_go(client, database, tmp_path):
    from starlette.testclient import TestClient

    from segwork.api import mounted
    routes, lifespan = mounted(settings_for(database, tmp_path))  # as app.py hands them to st.App
    admin, _ = tokens.create(client, "admin", ["ADMIN"], {}, pipes.PIPES)
    with TestClient(Starlette(routes=routes, lifespan=lifespan)) as http:
        answers = [http.post("/v0/events?name=customer_events", content=ndjson([event(i, prefix="w")]),
                             headers={"Authorization": f"Bearer {admin}"}) for i in range(20)]
        assert [a.json()["status"] for a in answers] == ["queued"] * 20
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 20
    Spool(tmp_path / "spool").close()  # the stopped API let go of its spool


def test_a_spool_written_up_to_a_rolled_over_segment_holds_nothing_for_another_database(client, database, tmp_path):
    """Checkpointed at the end of a full segment while appends go to the next one: nothing waits
    (the backlog once read below zero there, or past 64 MB reopened), so another database may take the spool."""
    first = Accepting(settings_for(database, tmp_path))
    first.drainer.stop(timeout=0)
    first.spool.close()
    spool = Spool(tmp_path / "spool", segment_bytes=1000)

    async def add():
        for i in range(3):
            await spool.append({"id": str(i), "rows": 1}, b"x" * 400)
    asyncio.run(add())
    records, _ = spool.read(spool.checkpointed, spool.end(), 100)
    spool.checkpoint(records[-1].end)  # what the drain does once they are written
    assert spool.end()[0] == 2 and spool.backlog_bytes() == 0
    spool.close()
    Accepting(settings_for("another_db", tmp_path)).close()


def test_a_spool_from_before_its_database_was_recorded_is_written_with_a_warning(client, database, tmp_path, caplog):
    first = Accepting(settings_for(database, tmp_path))
    first.drainer.stop(timeout=0)
    _accept_all(first, [ndjson([event(i, prefix="m")]) for i in range(2)])
    first.spool.close()
    (tmp_path / "spool" / "target").unlink()  # as an earlier segwork left it
    with caplog.at_level("WARNING", logger="segwork.api.spool"):
        again = Accepting(settings_for(database, tmp_path))
    assert any("before it recorded its database" in r.getMessage() for r in caplog.records)
    assert again.drainer.wait_idle(60)
    again.close()
    assert client.query("SELECT count() FROM customer_events").result_rows[0][0] == 2
    assert (tmp_path / "spool" / "target").read_text().strip() == "database '%s' of :memory:" % database
