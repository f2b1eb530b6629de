"""The workbench's API page under AppTest: the admin token masked until revealed, curl lines, the tokens."""
from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from segwork.api import local, pipes, tokens
from segwork.config import PROJECT_DIR, Settings
from tests.test_app import fresh_caches  # noqa: F401 (autouse fixture: Streamlit's caches cleared per test)

APP = str(PROJECT_DIR / "tests" / "apptest_entry.py")




@pytest.fixture
def app_env(client, database, tmp_path, monkeypatch):
    monkeypatch.setenv("SEGWORK_DATABASE", database)
    monkeypatch.setenv("SEGWORK_DATA_DIR", str(tmp_path))
    return Settings.from_env()


def api_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("../pages/api.py")
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    return "\n".join(e.value for kind in ("markdown", "code", "warning", "caption") for e in getattr(at, kind))


def test_the_admin_token_is_masked_until_revealed(client, app_env):
    admin = local.ensure_admin_token(client, app_env)
    tokens.create(client, "reader", ["PIPES:READ:customer_segment_lookup"], {"customer_id": "c1"}, pipes.PIPES)
    at = api_page()
    assert admin.secret not in texts(at)
    assert any(m.value == f"`{local.mask(admin.secret)}`" for m in at.markdown)
    curl = next(c.value for c in at.code if c.language == "bash")
    assert curl.splitlines()[0] == f'export TB_ADMIN_TOKEN="$(cat {app_env.data_dir / "api-admin-token"})"'
    shown = next(d.value for d in at.dataframe if "scopes" in d.value.columns)
    assert shown.set_index("name")[["state", "scopes", "pinned"]].to_dict("index") == {
        "reader": {"state": "active", "scopes": "PIPES:READ:customer_segment_lookup", "pinned": "customer_id=c1"},
        "workbench-admin": {"state": "active", "scopes": "ADMIN", "pinned": ""}}
    at.toggle(key="api_reveal").set_value(True).run()
    assert [c.value for c in at.code if c.language != "bash"] == [admin.secret]


def test_without_a_usable_token_it_says_what_to_do(client, app_env):
    at = api_page()
    assert "There is no admin token file" in at.warning[0].value and "python -m segwork run" in at.warning[0].value
    admin = local.ensure_admin_token(client, app_env)
    tokens.revoke(client, admin.name)
    at = api_page()
    assert "is revoked or unknown to this database" in at.warning[0].value
    assert admin.secret not in texts(at)
