"""Tokens: scopes, pinned parameters (row-level security), revocation, rate limits, the CLI."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from segwork.api import pipes, tokens
from segwork.api.ratelimit import RateLimiter
from segwork.config import PROJECT_DIR

from tests.apikit import customers, events, free_port, ndjson, running_api, serve, written

LOOKUP = "/v0/pipes/customer_segment_lookup.json"


@pytest.fixture
def api(client, database):
    with running_api(client, database) as a:
        a.http.post("/v0/events?name=customers", headers=a.bearer(), content=ndjson(customers(10)))
        yield a


def test_missing_and_unknown_tokens(api):
    r = api.http.get(LOOKUP + "?customer_id=c0001")
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer" and "Bearer" in r.json()["error"]
    r = api.http.get(LOOKUP + "?customer_id=c0001&token=sw_not_a_real_token")
    assert r.status_code == 403 and "invalid token" in r.json()["error"]
    r = api.http.get(LOOKUP + "?customer_id=c0001", headers={"Authorization": "Bearer " + api.admin[:-1] + "x"})
    assert r.status_code == 403
    r = api.http.get(LOOKUP + "?customer_id=c0001", headers={"Authorization": "Basic " + api.admin})
    assert r.status_code == 401  # only Bearer is a token scheme
    assert api.http.get(LOOKUP + "?customer_id=c0001", headers=api.bearer()).status_code == 200
    assert api.http.get(LOOKUP + f"?customer_id=c0001&token={api.admin}").status_code == 200


def test_scopes_allow_exactly_what_they_name(api):
    appender = api.token("app", "DATASOURCES:APPEND:customer_events")
    reader = api.token("reader", "PIPES:READ:customer_segments_summary")
    body = ndjson(events(3))
    assert api.http.post("/v0/events?name=customer_events", headers=api.bearer(appender), content=body).status_code == 202
    r = api.http.post("/v0/events?name=customers", headers=api.bearer(appender), content=ndjson(customers(1)))
    assert r.status_code == 403 and "DATASOURCES:APPEND:customers" in r.json()["error"]
    r = api.http.post("/v0/datasources?name=customers&mode=append", headers=api.bearer(appender), files={"csv": ("c.csv", b"x\n")})
    assert r.status_code == 403
    r = api.http.get(LOOKUP + "?customer_id=c0001", headers=api.bearer(appender))
    assert r.status_code == 403 and "PIPES:READ:customer_segment_lookup" in r.json()["error"]
    assert api.http.get("/v0/pipes/customer_segments_summary.json", headers=api.bearer(reader)).status_code == 200
    assert api.http.get(LOOKUP + "?customer_id=c0001", headers=api.bearer(reader)).status_code == 403
    r = api.http.post("/v0/events?name=customer_events", headers=api.bearer(reader), content=body)
    assert r.status_code == 403
    assert [p["name"] for p in api.http.get("/v0/pipes", headers=api.bearer(reader)).json()["pipes"]] == ["customer_segments_summary"]
    assert api.http.get("/v0/datasources", headers=api.bearer(appender)).json()["datasources"][0]["name"] == "customer_events"
    for path in ("/v0/tokens",):  # managing tokens needs ADMIN
        assert api.http.get(path, headers=api.bearer(reader)).status_code == 403


def test_pinned_customer_id_is_the_only_row_a_token_reads(api):
    pinned = api.token("shop-c0003", "PIPES:READ:customer_segment_lookup", customer_id="c0003")
    for asked in ("c0003", "c0007", "", None):
        url = LOOKUP + (f"?customer_id={asked}" if asked is not None else "")
        r = api.http.get(url, headers=api.bearer(pinned))
        assert r.status_code == 200, r.text
        assert [row["customer_id"] for row in r.json()["data"]] == ["c0003"]
    # a token pinned on customer_id cannot read a pipe without that parameter (it would see everyone)
    wider = api.token("wider", "PIPES:READ:customer_segments_summary", "PIPES:READ:customer_segment_lookup", customer_id="c0003")
    r = api.http.get("/v0/pipes/customer_segments_summary.json", headers=api.bearer(wider))
    assert r.status_code == 403 and "pins customer_id" in r.json()["error"]
    assert api.http.get(LOOKUP + "?customer_id=c0001", headers=api.bearer(wider)).json()["data"][0]["customer_id"] == "c0003"


def test_tokens_over_http_and_revocation_is_immediate(api):
    r = api.http.post("/v0/tokens?name=ingest&scope=DATASOURCES:APPEND:customer_events", headers=api.bearer())
    assert r.status_code == 200 and r.json()["token"].startswith("sw_")
    new = r.json()["token"]
    assert api.http.post("/v0/events?name=customer_events", headers=api.bearer(new), content=ndjson(events(2))).status_code == 202
    listed = api.http.get("/v0/tokens", headers=api.bearer()).json()["tokens"]
    assert {t["name"] for t in listed} == {"admin", "ingest"} and all(t["token"] is None for t in listed)
    assert new not in api.http.get("/v0/tokens", headers=api.bearer()).text
    assert api.http.delete("/v0/tokens/ingest", headers=api.bearer()).json()["revoked"] is True
    r = api.http.post("/v0/events?name=customer_events", headers=api.bearer(new), content=ndjson(events(2)))
    assert r.status_code == 403
    assert api.http.delete("/v0/tokens/ingest", headers=api.bearer()).status_code == 404
    r = api.http.post("/v0/tokens?name=bad&scope=PIPES:READ:nope", headers=api.bearer())
    assert r.status_code == 400 and "unknown scope" in r.json()["error"]


def test_scope_and_pin_checks():
    names = pipes.PIPES
    assert tokens.check_scopes(["admin", "pipes:read:customer_segment_lookup"], {}, names) == ("ADMIN", "PIPES:READ:customer_segment_lookup")
    with pytest.raises(tokens.TokenError, match="unknown scope"):
        tokens.check_scopes(["DATASOURCES:APPEND:orders"], {}, names)
    with pytest.raises(tokens.TokenError, match="at least one scope"):
        tokens.check_scopes([], {}, names)
    with pytest.raises(tokens.TokenError, match="ADMIN token"):
        tokens.check_scopes(["ADMIN"], {"customer_id": "c1"}, names)
    with pytest.raises(tokens.TokenError, match="cannot pin 'tenant'"):
        tokens.check_scopes(["PIPES:READ:customer_segment_lookup"], {"tenant": "x"}, names)


def test_token_names_are_unique_and_secrets_never_stored(client):
    secret, _ = tokens.create(client, "one", ["ADMIN"], {}, pipes.PIPES)
    with pytest.raises(tokens.TokenError, match="exists already"):
        tokens.create(client, "one", ["ADMIN"], {}, pipes.PIPES)
    stored = client.query("SELECT * FROM api_tokens").result_rows
    assert secret not in repr(stored) and tokens.digest(secret).hex() in repr(stored)
    tokens.revoke(client, "one")
    again, _ = tokens.create(client, "one", ["ADMIN"], {}, pipes.PIPES)  # a revoked name may be reused
    cache = tokens.TokenCache()
    assert cache.lookup(client, secret) is None and cache.lookup(client, again).name == "one"


def test_rate_limit_per_token_with_headers(client, database):
    with running_api(client, database, api_rate_limit_per_minute=3) as api:
        limited = api.token("limited", "PIPES:READ:customer_segments_summary")
        other = api.token("other", "PIPES:READ:customer_segments_summary")
        url = "/v0/pipes/customer_segments_summary.json"
        seen = [api.http.get(url, headers=api.bearer(limited)) for _ in range(4)]
        assert [r.status_code for r in seen] == [200, 200, 200, 429]
        assert [r.headers["X-RateLimit-Remaining"] for r in seen[:3]] == ["2", "1", "0"]
        limited = seen[3]
        assert limited.headers["X-RateLimit-Limit"] == "3" and int(limited.headers["Retry-After"]) >= 1
        assert int(limited.headers["X-RateLimit-Reset"]) >= 1 and "retry after" in limited.json()["error"]
        assert api.http.get(url, headers=api.bearer(other)).status_code == 200  # per token


def test_rate_limiter_refills_over_time():
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one request per second
    assert all(limiter.hit("t").allowed for _ in range(60))
    refused = limiter.hit("t")
    assert not refused.allowed and refused.retry_after_s == 1 and refused.headers()["Retry-After"] == "1"
    now[0] += 1.0
    assert limiter.hit("t").allowed and not limiter.hit("t").allowed
    now[0] += 120
    assert limiter.hit("t").remaining == 59


# --- the command line, as a user runs it ------------------------------------------------

def _cli(*args, data_dir, ok=True):
    env = {**os.environ, "SEGWORK_DATA_DIR": str(data_dir)}
    env.pop("SEGWORK_DSN", None)  # the on-disk embedded database, as a user has it
    proc = subprocess.run([sys.executable, "-m", "segwork", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert (proc.returncode == 0) == ok, proc.stderr
    return proc


def _serve(data_dir, port):
    env = {**os.environ, "SEGWORK_DATA_DIR": str(data_dir)}
    env.pop("SEGWORK_DSN", None)
    return serve(env, port, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err


def test_cli_tokens_and_serve(tmp_path):
    port = free_port()
    first = _serve(tmp_path, port)
    err = _stop(first)
    assert "No API tokens exist yet" in err and "token create admin --scope ADMIN" in err

    out = _cli("token", "create", "admin", "--scope", "ADMIN", data_dir=tmp_path).stdout
    admin = out.strip().splitlines()[-1]
    assert admin.startswith("sw_") and len(admin) > 40 and admin not in out.strip().splitlines()[0]
    out = _cli("token", "create", "shop", "--scope", "PIPES:READ:customer_segment_lookup", "--fixed-param", "customer_id=c0000001",
               data_dir=tmp_path).stdout
    shop = out.strip().splitlines()[-1]
    listing = _cli("token", "list", data_dir=tmp_path).stdout
    assert "admin" in listing and "shop" in listing and "customer_id=c0000001" in listing
    assert admin not in listing and shop not in listing
    bad = _cli("token", "create", "x", "--scope", "PIPES:READ:nope", data_dir=tmp_path, ok=False)
    assert bad.returncode == 1 and "unknown scope" in bad.stderr

    server = _serve(tmp_path, port)
    try:
        base = f"http://127.0.0.1:{port}"
        r = httpx.post(f"{base}/v0/events?name=customers&token={admin}", content=ndjson(customers(3, prefix="c000")))
        assert r.status_code == 202 and r.json()["successful_rows"] == 3
        assert r.json()["status"] == "queued"  # the spool: the default of the embedded database a data folder holds
        written(base, r.json()["import_id"], {"Authorization": f"Bearer {admin}"})
        r = httpx.get(f"{base}/v0/pipes/customer_segment_lookup.json?customer_id=c0000002", headers={"Authorization": f"Bearer {shop}"})
        assert r.status_code == 200 and [d["customer_id"] for d in r.json()["data"]] == ["c0000001"]
    finally:
        log = _stop(server)
    assert "GET /v0/pipes/customer_segment_lookup.json 200" in log  # an access log, by path ...
    assert admin not in log and shop not in log  # ... that never shows a token

    _cli("token", "revoke", "shop", data_dir=tmp_path)
    assert "revoked" in _cli("token", "list", data_dir=tmp_path).stdout
    for path in tmp_path.rglob("*"):  # no file of the database holds a token in plain text
        if path.is_file():
            data = path.read_bytes()
            assert admin.encode() not in data and shop.encode() not in data, path


def test_token_statements_get_exactly_their_placeholders(client, monkeypatch):
    from segwork import db, sqlfiles

    seen = {}
    real_command, real_query = db.command, db.query_df

    def command(c, name, parameters=None):
        seen[name] = parameters
        return real_command(c, name, parameters)

    def query_df(c, name, parameters):
        seen[name] = parameters
        return real_query(c, name, parameters)

    monkeypatch.setattr(db, "command", command)
    monkeypatch.setattr(db, "query_df", query_df)
    tokens.create(client, "t", ["ADMIN"], {}, pipes.PIPES)
    assert set(seen) == {"api_tokens", "api_token_save"}
    for name, parameters in seen.items():
        assert set(parameters) == set(sqlfiles.placeholders(name)), name


# --- pins can only narrow: refused when empty or pointless, always the pinned rows -------------

SUMMARY = "/v0/pipes/customer_segments_summary.json"
ENGAGEMENT = "/v0/pipes/customer_engagement_analysis.json"


@pytest.mark.parametrize("scopes,pin,words", [
    (["PIPES:READ:customer_segments_summary"], "location=", "empty"),
    (["PIPES:READ:customer_segments_summary"], "location=%20%20", "empty"),
    (["PIPES:READ:customer_segments_summary"], "location=%09", "empty"),
    (["PIPES:READ:customer_engagement_analysis"], "event_type=,", "empty"),
    (["PIPES:READ:customer_engagement_analysis"], "event_type=%20,%20", "empty"),
    (["PIPES:READ:customer_segments_summary"], "min_age=", "empty"),
    (["PIPES:READ:customer_segments_summary"], "min_age=abc", "to type Int32"),
    (["PIPES:READ:customer_segments_summary"], "customer_id=c0003", "no pipe in this token's scopes takes it"),
    (["DATASOURCES:APPEND:customers"], "location=Paris", "no pipe in this token's scopes takes it"),
    (["PIPES:READ:customer_segments_summary"], "LOCATION=Paris", "cannot pin 'LOCATION'"),
])
def test_pins_that_would_not_narrow_are_refused_over_http(api, scopes, pin, words):
    query = "&".join(["name=pinned"] + [f"scope={s}" for s in scopes] + [f"fixed_param={pin}"])
    r = api.http.post(f"/v0/tokens?{query}", headers=api.bearer())
    assert r.status_code == 400 and words in r.json()["error"], r.text
    assert "pinned" not in {t["name"] for t in api.http.get("/v0/tokens", headers=api.bearer()).json()["tokens"]}


def test_empty_pin_error_says_what_where_and_what_to_do():
    with pytest.raises(tokens.TokenError) as caught:
        tokens.check_scopes(["PIPES:READ:customer_segments_summary"], {"location": ""}, pipes.PIPES)
    message = str(caught.value)
    assert "'location'" in message and "empty" in message and "every" in message and "location=<value>" in message


def test_a_parameter_pinned_twice_is_refused():
    from segwork.api.admin import parse_fixed_params

    with pytest.raises(tokens.TokenError, match="'location' is pinned twice"):
        parse_fixed_params(["location=Paris", "location=London"])


def test_cli_refuses_an_empty_pin(client, database, monkeypatch, capsys):
    from segwork import cli

    monkeypatch.setenv("SEGWORK_DATABASE", database)
    code = cli.main(["token", "create", "shop", "--scope", "PIPES:READ:customer_segments_summary", "--fixed-param", "location="])
    err = capsys.readouterr().err
    assert code == 1 and "empty" in err and "location" in err
    assert cli.main(["token", "create", "shop", "--scope", "PIPES:READ:customer_segments_summary", "--fixed-param", "location= "]) == 1
    assert cli.main(["token", "list"]) == 0
    assert "shop" not in capsys.readouterr().out


def test_a_pinned_location_answers_only_its_own_rows(api):
    london = api.token("london", "PIPES:READ:customer_segments_summary", "PIPES:READ:customer_engagement_analysis", location="London")
    api.http.post("/v0/events?name=customer_events", headers=api.bearer(), content=ndjson(events(200, customers=10)))
    window = "start_date=2025-03-01&end_date=2025-03-31&limit=1000"
    for path, base in ((SUMMARY, ""), (ENGAGEMENT, window)):
        own = api.http.get(f"{path}?{base}&location=London", headers=api.bearer()).json()["data"]
        everyone = api.http.get(f"{path}?{base}", headers=api.bearer()).json()["data"]
        assert own and own != everyone
        for asked in ("", "location=", "location=%20", "location=Paris", "location=Paris&location=", "location=&location=Paris",
                      "location=London&location=Paris", "LOCATION=Paris", "Location=", "location[]=Paris", "location=Paris,London"):
            r = api.http.get(f"{path}?{base}&{asked}", headers=api.bearer(london))
            assert r.status_code == 200, (path, asked, r.text)
            assert r.json()["data"] == own, (path, asked)


def test_a_stored_empty_pin_is_refused_not_widened(api):
    """A token saved with an empty pin (before they were refused) reads nothing rather than everything."""
    from datetime import datetime, timezone

    from segwork import db

    secret = tokens.PREFIX + "legacy-empty-pin-token-0000000000000000000000"
    now = datetime.now(timezone.utc)
    db.command(api.client, "api_token_save", {
        "name": "legacy", "token_hash": tokens.digest(secret).hex(), "scopes": ["PIPES:READ:customer_segments_summary"],
        "fixed_keys": ["location"], "fixed_values": [""], "created_at": now.replace(microsecond=0), "updated_at": now, "revoked": False})
    time.sleep(tokens.MISS_SECONDS * 2)  # saved behind the API's back, as another process would: seen after this
    r = api.http.get(SUMMARY, headers=api.bearer(secret))
    assert r.status_code == 403 and "location" in r.json()["error"] and "revoke" in r.json()["error"], r.text
    assert "data" not in r.json()
