"""The workbench's admin token and its running file (segwork.api.local), on a real database and real files."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from segwork.api import local, pipes, tokens
from segwork.config import Settings


@pytest.fixture
def settings(tmp_path, database):
    return Settings(dsn="chdb://memory", database=database, data_dir=tmp_path / "data")


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def active(client) -> dict[str, tokens.Token]:
    return {t.name: t for t in tokens.list_all(client) if not t.revoked}


def test_made_once_then_kept(client, settings):
    first = local.ensure_admin_token(client, settings)
    assert first.story == "made now" and first.path == settings.data_dir / "api-admin-token"
    assert first.path.read_text() == first.secret + "\n" and mode(first.path) == 0o600
    assert tokens.find(client, first.secret) == active(client)["workbench-admin"]
    assert active(client)["workbench-admin"].scopes == ("ADMIN",)
    again = local.ensure_admin_token(client, settings)
    assert (again.secret, again.story) == (first.secret, "kept from an earlier start")
    first.path.chmod(0o644)  # loosened by hand: tightened again
    local.ensure_admin_token(client, settings)
    assert mode(first.path) == 0o600


def test_renewed_when_asked_or_when_the_file_no_longer_opens_the_api(client, settings):
    first = local.ensure_admin_token(client, settings)
    renewed = local.ensure_admin_token(client, settings, renew=True)
    assert renewed.secret != first.secret and renewed.story.startswith("made now, as asked")
    assert tokens.find(client, first.secret) is None and tokens.find(client, renewed.secret) is not None
    tokens.revoke(client, "workbench-admin")
    after_revoke = local.ensure_admin_token(client, settings)
    assert after_revoke.story == "made now: the database no longer accepts the one the file held"
    assert tokens.find(client, after_revoke.secret).name == "workbench-admin"
    after_revoke.path.unlink()  # lost: the token it held cannot be used by anyone, so it is replaced
    lost = local.ensure_admin_token(client, settings)
    assert lost.story == "made now" and tokens.find(client, after_revoke.secret) is None
    assert list(active(client)) == ["workbench-admin"]


def test_a_narrower_token_in_the_file_is_left_alone(client, settings):
    secret, _ = tokens.create(client, "reader", ["PIPES:READ:customer_segments_summary"], {}, pipes.PIPES)
    local.write_private(settings.data_dir / "api-admin-token", secret + "\n")
    made = local.ensure_admin_token(client, settings)
    assert made.secret != secret and set(active(client)) == {"reader", "workbench-admin"}


def test_the_running_file_names_this_process_until_it_is_withdrawn(settings):
    written = local.publish(settings, "http://127.0.0.1:8501")
    path = settings.data_dir / "workbench.json"
    assert mode(path) == 0o600 and local.read_running(settings) == written
    assert (written.pid, written.folder, written.api) == (os.getpid(), None, "http://127.0.0.1:8501/v0/")
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path.write_text(json.dumps({**json.loads(path.read_text()), "pid": int(gone.stdout)}))
    assert local.read_running(settings) is None  # its process is gone: left by a killed workbench
    local.withdraw(settings)
    assert path.exists()  # not this process's file: left alone
    local.publish(settings, "http://127.0.0.1:8501")
    local.withdraw(settings)
    assert not path.exists()


def test_on_disk_the_running_file_names_the_folder(tmp_path):
    written = local.publish(Settings(data_dir=tmp_path), "http://localhost:9")
    assert written.folder == str(tmp_path / "chdb") and written.database == "segwork"
    local.withdraw(Settings(data_dir=tmp_path))


def test_curl_lines_read_the_token_from_its_file():
    lines = local.curl_examples("http://127.0.0.1:8501/v0/", "/d/api-admin-token").splitlines()
    assert lines[0] == 'export TB_ADMIN_TOKEN="$(cat /d/api-admin-token)"'
    assert all("sw_" not in line for line in lines)
    assert local.mask("sw_" + "a" * 39 + "WXYZ") == "sw_" + "•" * 12 + "WXYZ"
