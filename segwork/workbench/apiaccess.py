"""What the API page shows: where this workbench's HTTP API answers, its admin token, curl lines, the tokens.

The page is as open as the workbench itself (anyone who can open its pages can read the admin
token there), which is why the workbench listens on 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from segwork.api import local, tokens
from segwork.workbench import engine


@dataclass(frozen=True)
class Access:
    """The API's base URL, the admin token (None when there is no usable one, `problem` says why)."""

    api: str
    token_file: Path
    secret: str | None
    problem: str | None
    curl: str

    @property
    def masked(self) -> str:
        return local.mask(self.secret) if self.secret else "-"


def access(page_url: str | None = None) -> Access:
    """How to reach this workbench's API from this machine: the URL its `run` published (else the
    page's own), and the admin token from the data folder when the database still accepts it."""
    settings = engine.settings()
    running = local.read_running(settings)
    if running is not None and running.pid == os.getpid():
        base = running.url
    else:
        base = (page_url or f"http://{settings.workbench_address}:{settings.workbench_port}").rstrip("/")
    path = local.token_path(settings)
    secret = local.read_admin_token(settings)
    problem = None
    if secret is None:
        problem = (f"There is no admin token file at `{path}`: `python -m segwork run` makes one when it starts the "
                   "workbench. Or create a token with `python -m segwork token create NAME --scope ADMIN`.")
    else:
        with engine.pool().client() as client:
            if tokens.find(client, secret) is None:
                problem = (f"The token in `{path}` is revoked or unknown to this database: restart the workbench "
                           "(`python -m segwork run` makes a new one).")
                secret = None
    return Access(f"{base}/v0/", path, secret, problem, local.curl_examples(f"{base}/v0/", path))


def token_table() -> pd.DataFrame:
    """Every token (never a secret): name, state, when it was made, scopes, pinned parameters."""
    with engine.pool().client() as client:
        found = tokens.list_all(client)
    return pd.DataFrame({
        "name": [t.name for t in found],
        "state": ["revoked" if t.revoked else "active" for t in found],
        "created (UTC)": [f"{t.created_at:%Y-%m-%d %H:%M:%S}" if t.created_at else "" for t in found],
        "scopes": [", ".join(t.scopes) for t in found],
        "pinned": [", ".join(f"{k}={v}" for k, v in t.fixed_params.items()) for t in found],
    })
