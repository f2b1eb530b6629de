"""Failed authentications: counted per client, logged in bursts (never the token), shown to an admin."""
from __future__ import annotations

import logging

import pytest

from tests.apikit import running_api

LOOKUP = "/v0/pipes/customer_segment_lookup.json?customer_id=c0001"


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "segwork.api" and r.levelno >= logging.WARNING]


def test_a_guessing_burst_makes_a_few_lines_with_its_count(client, database, caplog):
    caplog.set_level(logging.INFO, logger="segwork.api")
    guesses = [f"sw_guess{i:04d}" for i in range(45)]
    with running_api(client, database) as api:
        for guess in guesses:
            assert api.http.get(LOOKUP, headers=api.bearer(guess)).status_code == 403
        for _ in range(5):
            assert api.http.get(LOOKUP).status_code == 401  # no token at all counts too
        good = api.http.get(LOOKUP, headers=api.bearer())
        assert good.status_code == 200  # a good request from the same client is unaffected
        [seen] = api.http.get("/v0/tokens", headers=api.bearer()).json()["auth_failures"]
        assert (seen["client"], seen["failures"], seen["last_status"]) == ("testclient", 50, 401)
        assert seen["first_at"] <= seen["last_at"]
        reader = api.token("reader", "PIPES:READ:customer_segment_lookup")
        assert api.http.get("/v0/tokens", headers=api.bearer(reader)).status_code == 403  # only an ADMIN token sees them
    lines = _warnings(caplog)
    assert 1 <= len(lines) <= 3, lines
    assert all("testclient" in line for line in lines)
    assert sum(int(line.split()[0]) for line in lines) == 50  # each line: failures since the previous one
    assert "50 in all" in lines[-1]
    text = caplog.text
    assert not any(guess in text for guess in guesses) and api.admin not in text and reader not in text


def test_lines_come_at_most_once_per_interval(caplog):
    from segwork.api.authlog import AuthFailures

    caplog.set_level(logging.WARNING, logger="segwork.api")
    now = [1000.0]
    failures = AuthFailures(every_s=60, max_clients=100, clock=lambda: now[0])
    for second in range(300):  # one failure a second for five minutes from one client
        now[0] = 1000.0 + second
        failures.failed("10.0.0.1", 403)
    failures.failed("10.0.0.2", 401)
    assert [int(line.split()[0]) for line in _warnings(caplog)] == [1, 60, 60, 60, 60]  # at 0, 60, 120, 180, 240 s
    caplog.clear()
    now[0] += 61
    failures.check()  # any later request: a burst's tail is logged once the interval is over
    lines = _warnings(caplog)
    assert len(lines) == 2 and lines[0].startswith("59 ") and "10.0.0.1" in lines[0] and "300 in all" in lines[0]
    assert lines[1].startswith("1 ") and "10.0.0.2" in lines[1]
    failures.check()
    failures.flush()
    assert len(_warnings(caplog)) == 2  # nothing left to say


def test_state_and_lines_stay_bounded(caplog):
    from segwork.api.authlog import OTHER, AuthFailures

    caplog.set_level(logging.WARNING, logger="segwork.api")
    failures = AuthFailures(every_s=60, max_clients=10, max_lines=5, clock=lambda: 0.0)
    for i in range(10_000):  # a guesser rotating addresses
        failures.failed(f"2001:db8::{i:x}", 403)
    seen = failures.snapshot()
    assert len(seen) == 11 and sum(s["failures"] for s in seen) == 10_000
    assert seen[0]["client"] == OTHER and seen[0]["failures"] == 9_990
    failures.flush()
    lines = _warnings(caplog)
    assert len(lines) <= 1 + 5 + 1  # the first failure, then the 5 biggest counts and one line for the rest
    assert sum(int(line.split()[0]) for line in lines) == 10_000


@pytest.mark.parametrize("status", [401, 403])
def test_counts_come_from_the_peer_address_not_headers(client, database, status):
    with running_api(client, database) as api:
        headers = {"X-Forwarded-For": "203.0.113.9"} | ({} if status == 401 else api.bearer("sw_wrong"))
        assert api.http.get(LOOKUP, headers=headers).status_code == status
        seen = api.http.get("/v0/tokens", headers=api.bearer()).json()["auth_failures"]
        assert [(s["client"], s["failures"], s["last_status"]) for s in seen] == [("testclient", 1, status)]
