"""Handing enter/exit lists to another system: one POST of NDJSON (one change a line) to a URL,
retried on connection errors and on 429/5xx with backoff (urllib3's Retry, through requests).

What counts as sent: a 2xx answer. Only then is the export recorded (segment_exports), so a
failed delivery is simply run again with the same `--since`; the receiver may get a list twice
after a timeout that hid a success (each line carries since/until: deduplicate on them).
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from segwork.errors import DeliveryError

log = logging.getLogger(__name__)
RETRY_STATUSES = (429, 500, 502, 503, 504)


def ndjson(changes: pd.DataFrame, *, segment: str, since, until) -> bytes:
    """The changes as NDJSON, each line with the segment and the period it compares."""
    framed = changes.assign(segment=segment, since=pd.Timestamp(since).isoformat(), until=pd.Timestamp(until).isoformat())
    front = ["segment", "since", "until", "customer_id", "change_kind"]
    framed = framed[front + [c for c in framed.columns if c not in front]]
    return framed.to_json(orient="records", lines=True, date_format="iso", force_ascii=False).encode() if len(framed) else b""


def post(url: str, body: bytes, *, attempts: int = 4, timeout: float = 10.0) -> int:
    """POST `body` to `url` as application/x-ndjson; the final status code (2xx) or DeliveryError."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DeliveryError(f"webhook URL {url!r} is not an http(s) URL; give one like https://hooks.example.com/segwork "
                            "(--post URL or SEGWORK_SEGMENT_WEBHOOK_URL)")
    retry = Retry(total=attempts - 1, backoff_factor=0.5, status_forcelist=RETRY_STATUSES, allowed_methods={"POST"},
                  raise_on_status=False, respect_retry_after_header=True)
    with requests.Session() as session:
        session.mount("http://", HTTPAdapter(max_retries=retry))
        session.mount("https://", HTTPAdapter(max_retries=retry))
        try:
            answer = session.post(url, data=body, timeout=timeout, headers={"Content-Type": "application/x-ndjson"})
        except requests.RequestException as exc:
            log.warning("webhook %s failed: %s", safe_url(url), exc)
            raise DeliveryError(f"could not deliver to {safe_url(url)} after {attempts} tries: {type(exc).__name__}. "
                                "Nothing was recorded as sent; run the same command again when it is reachable") from None
    log.info("webhook %s answered %s to %d bytes", safe_url(url), answer.status_code, len(body))
    if not 200 <= answer.status_code < 300:
        raise DeliveryError(f"{safe_url(url)} answered {answer.status_code} after {attempts} tries: {answer.text[:200]!r}. "
                            "Nothing was recorded as sent; run the same command again")
    return answer.status_code


def safe_url(url: str) -> str:
    """The URL without user:password."""
    parts = urlsplit(url)
    return parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else "")).geturl() if parts.hostname else url
