"""API tokens: scopes, creation, listing, revocation; only a SHA-256 of each token is stored.

Scopes as in the seed's system: `ADMIN`, `DATASOURCES:APPEND:<table>`, `DATASOURCES:READ:<table>`
(SQL over the table, segwork.api.query), `PIPES:READ:<pipe>`.
A read token may pin pipe parameters (`fixed_params`, row-level security): the pinned value
replaces whatever the request sends, and the token cannot read a pipe that lacks one of its
pinned parameters. A pin must narrow: an empty or blank value (which would mean 'any') and a
parameter that no pipe in the token's scopes takes are refused. A token is `sw_` plus 43
URL-safe characters (256 random bits), so a plain SHA-256 is a safe way to store it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from clickhouse_connect.driver.client import Client

from segwork import db
from segwork.errors import ParameterError, SegworkError
from segwork.schemas import TABLES

PREFIX = "sw_"
ADMIN = "ADMIN"
APPEND = "DATASOURCES:APPEND"
DS_READ = "DATASOURCES:READ"
READ = "PIPES:READ"
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
CACHE_SECONDS = 5.0  # a token revoked by another process stops working within this
MISS_SECONDS = 0.25  # an unknown token re-reads the table at most this often (new tokens work at once)


class TokenError(SegworkError):
    """A token cannot be created or revoked as asked."""


@dataclass(frozen=True)
class Token:
    """A stored token, without its secret."""

    name: str
    scopes: tuple[str, ...]
    fixed_params: dict = field(default_factory=dict)
    created_at: datetime | None = None
    revoked: bool = False

    def can_append(self, table: str) -> bool:
        """May this token append rows to `table`?"""
        return ADMIN in self.scopes or f"{APPEND}:{table}" in self.scopes

    def can_describe(self, table: str) -> bool:
        """May see the data source in listings and descriptions: append or read it."""
        return self.can_append(table) or self.can_query(table)

    def can_query(self, table: str) -> bool:
        """May this token read the data source `table` with SQL (the Query API)? Never with pinned
        parameters: SQL over the table would read past the pins."""
        return not self.fixed_params and (ADMIN in self.scopes or f"{DS_READ}:{table}" in self.scopes)

    def can_read(self, pipe: str) -> bool:
        """May this token read the pipe `pipe`?"""
        return ADMIN in self.scopes or f"{READ}:{pipe}" in self.scopes

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.scopes

    def as_dict(self) -> dict:
        """JSON-ready form, scopes as the seed system writes them (`{"type": "PIPES:READ",
        "resource": "customer_segment_lookup", "filter": ""}`; the Forward CLI's `endpoint ls`
        reads them so). `token` is null: only a hash is stored, the secret is shown once, at creation."""
        return {"name": self.name, "token": None, "scopes": [scope_object(s) for s in self.scopes],
                "fixed_params": dict(self.fixed_params),
                "created_at": self.created_at.strftime("%Y-%m-%d %H:%M:%S") if self.created_at else None,
                "revoked": self.revoked}


def scope_object(scope: str) -> dict:
    """'PIPES:READ:x' -> {"type": "PIPES:READ", "resource": "x", "filter": ""}; 'ADMIN' -> {"type": "ADMIN"}."""
    kind, _, resource = scope.rpartition(":") if scope.count(":") >= 2 else (scope, "", "")
    return {"type": kind, "resource": resource, "filter": ""} if resource else {"type": kind}


def scope_text(scope) -> str:
    """The inverse of scope_object (a string is returned as it is: older servers listed strings)."""
    if isinstance(scope, str):
        return scope
    return f"{scope['type']}:{scope['resource']}" if scope.get("resource") else scope["type"]


def digest(token: str) -> bytes:
    """SHA-256 of a token, the only form in which tokens are stored."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def check_scopes(scopes: list[str], fixed_params: dict[str, str], pipes: dict) -> tuple[str, ...]:
    """Normalised scopes; a TokenError says which scope or pinned parameter is wrong and why."""
    if not scopes:
        raise TokenError(f"a token needs at least one scope: {ADMIN}, {APPEND}:<table>, {DS_READ}:<table> or {READ}:<pipe>")
    out = []
    for raw in scopes:
        scope = raw.strip()
        kind, _, target = scope.rpartition(":")
        if scope.upper() == ADMIN:
            scope = ADMIN
        elif kind.upper() == APPEND and target in TABLES:
            scope = f"{APPEND}:{target}"
        elif kind.upper() == DS_READ and target in TABLES:
            scope = f"{DS_READ}:{target}"
        elif kind.upper() == READ and target in pipes:
            scope = f"{READ}:{target}"
        else:
            raise TokenError(
                f"unknown scope {raw!r}; use {ADMIN}, {APPEND}:<table> or {DS_READ}:<table> with a table of {', '.join(TABLES)}, "
                f"or {READ}:<pipe> with a pipe of {', '.join(pipes)}")
        if scope not in out:
            out.append(scope)
    if fixed_params:
        if ADMIN in out:
            raise TokenError("an ADMIN token can do anything, so pinned parameters would not restrict it; "
                             f"give {READ}:<pipe> scopes instead")
        if any(s.startswith(f"{DS_READ}:") for s in out):
            raise TokenError(f"a token with pinned parameters cannot have {DS_READ} scopes: SQL over the table "
                             "would read every row past the pin; give it only the pipes it may read")
        readable = [pipes[s.split(":", 2)[2]] for s in out if s.startswith(f"{READ}:")]
        for key, value in fixed_params.items():
            takers = [pipe for pipe in readable if key in pipe.parameter_names]
            if not takers:
                offered = "; ".join(f"{p.name}: {', '.join(p.parameter_names)}" for p in readable) or f"none: add a {READ}:<pipe> scope"
                raise TokenError(f"cannot pin {key!r}: no pipe in this token's scopes takes it, so the pin would "
                                 f"restrict nothing (their parameters: {offered})")
            for pipe in takers:
                try:
                    pipe.pinned(key, value)
                except ParameterError as exc:
                    raise TokenError(f"cannot pin {exc}") from None
    return tuple(out)


def create(client: Client, name: str, scopes: list[str], fixed_params: dict[str, str], pipes: dict) -> tuple[str, Token]:
    """A new token (the secret, shown once) and its stored record; the name must be free."""
    if not name or len(name) > 64 or not set(name) <= NAME_CHARS:
        raise TokenError(f"token name {name!r}: use 1-64 letters, digits, '_', '-' or '.'")
    checked = check_scopes(scopes, fixed_params, pipes)
    if any(t.name == name and not t.revoked for t in list_all(client)):
        raise TokenError(f"a token named {name!r} exists already; revoke it first or choose another name")
    secret = PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    token = Token(name, checked, dict(fixed_params), now.replace(microsecond=0))
    _save(client, token, digest(secret).hex(), now)
    return secret, token


def revoke(client: Client, name: str) -> Token:
    """Mark the token `name` revoked; it stops working at once here, within seconds elsewhere."""
    rows = {r["name"]: r for r in _rows(client)}
    row = rows.get(name)
    if row is None or row["revoked"]:
        known = ", ".join(n for n, r in rows.items() if not r["revoked"]) or "none"
        raise TokenError(f"no active token named {name!r} (active tokens: {known})")
    token = _token(row)
    token = Token(token.name, token.scopes, token.fixed_params, token.created_at, revoked=True)
    _save(client, token, row["token_hash"], datetime.now(timezone.utc))
    return token


def list_all(client: Client) -> list[Token]:
    """Every token by name, revoked ones included."""
    return [_token(r) for r in _rows(client)]


def find(client: Client, secret: str) -> Token | None:
    """The active token whose secret is `secret`, or None (compared in constant time)."""
    return _match([(bytes.fromhex(r["token_hash"]), _token(r)) for r in _rows(client) if not r["revoked"]], digest(secret))


class TokenCache:
    """Active tokens of one database in memory, refreshed every CACHE_SECONDS; an unknown
    token forces a refresh at most every MISS_SECONDS. Lookups compare against every stored hash
    in constant time, so timing says nothing about which token almost matched."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[bytes, Token]] = []
        self._loaded_at = float("-inf")

    def lookup(self, client: Client, presented: str) -> Token | None:
        """The active token whose secret is `presented`, or None."""
        wanted = digest(presented)
        age = time.monotonic() - self._loaded_at
        if age > CACHE_SECONDS:
            self.reload(client)
        found = _match(self._entries, wanted)
        if found is None and time.monotonic() - self._loaded_at > MISS_SECONDS:
            self.reload(client)
            found = _match(self._entries, wanted)
        return found

    def cached(self, presented: str) -> Token | None:
        """The token from memory when the cache is fresh (no engine call), else None."""
        if time.monotonic() - self._loaded_at > CACHE_SECONDS:
            return None
        return _match(self._entries, digest(presented))

    def reload(self, client: Client) -> None:
        """Read the active tokens again."""
        entries = [(bytes.fromhex(r["token_hash"]), _token(r)) for r in _rows(client) if not r["revoked"]]
        with self._lock:
            self._entries = entries
            self._loaded_at = time.monotonic()

    def invalidate(self) -> None:
        """Forget what was read: the next lookup reads the table again."""
        with self._lock:
            self._loaded_at = float("-inf")

    def count(self, client: Client) -> int:
        """Number of active tokens (reads the table when the cache is stale)."""
        if time.monotonic() - self._loaded_at > CACHE_SECONDS:
            self.reload(client)
        return len(self._entries)


def _match(entries: list[tuple[bytes, Token]], wanted: bytes) -> Token | None:
    found = None
    for stored, token in entries:
        if hmac.compare_digest(stored, wanted):
            found = token
    return found


def _rows(client: Client) -> list[dict]:
    df = db.query_df(client, "api_tokens", {})
    return df.to_dict("records") if len(df) else []


def _token(row: dict) -> Token:
    created = row["created_at"]
    created = created.to_pydatetime() if hasattr(created, "to_pydatetime") else created
    return Token(row["name"], tuple(row["scopes"]), dict(row["fixed_params"] or {}), created, bool(row["revoked"]))


def _save(client: Client, token: Token, token_hash: str, now: datetime) -> None:
    db.command(client, "api_token_save", {
        "name": token.name, "token_hash": token_hash, "scopes": list(token.scopes),
        "fixed_keys": list(token.fixed_params), "fixed_values": [str(v) for v in token.fixed_params.values()],
        "created_at": token.created_at or now.replace(microsecond=0),
        "updated_at": now, "revoked": token.revoked,
    })
