"""Sign-in and roles: the pure decision, and what each role sees in the dashboard (AppTest)."""

from __future__ import annotations

from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import ALL_ROLES, AccessConfig, Role, access_config, may_open, roles_for
from tests.dashboard.conftest import APP

SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "not-a-real-cookie-secret",
        "microsoft": {
            "client_id": "app",
            "client_secret": "x",
            "server_metadata_url": "https://login.example/x",
        },
    },
    "license_desk": {
        "roles": {
            "admin": ["Ada@Contoso.com"],
            "finance": ["fin@contoso.com", "6f1c2a9e-0000-4000-8000-00000000f1a4"],
            "viewer": ["viewer@contoso.com", "b2d1e1f0-0000-4000-8000-0000000000aa"],
        }
    },
}
CONFIG = access_config(SECRETS)
VIEW = frozenset({Role.VIEWER})
FIN = frozenset({Role.FINANCE, Role.VIEWER})


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        ({"is_logged_in": True, "email": "ada@contoso.com"}, ALL_ROLES),  # case-insensitive
        ({"is_logged_in": True, "preferred_username": "FIN@contoso.com"}, FIN),
        (
            {
                "is_logged_in": True,
                "email": "x@contoso.com",
                "groups": ["6f1c2a9e-0000-4000-8000-00000000f1a4"],
            },
            FIN,
        ),
        ({"is_logged_in": True, "email": "viewer@contoso.com"}, VIEW),
        (
            {
                "is_logged_in": True,
                "email": "y@contoso.com",
                "groups": ["B2D1E1F0-0000-4000-8000-0000000000AA"],
            },
            VIEW,
        ),
        ({"is_logged_in": True, "email": "stranger@contoso.com"}, frozenset()),
        ({"is_logged_in": False, "email": "ada@contoso.com"}, frozenset()),  # a stale claim is not a sign-in
        ({}, frozenset()),
    ],
)
def test_roles_for(claims: dict[str, Any], expected: frozenset[Role]) -> None:
    assert roles_for(claims, CONFIG) == expected


def test_local_mode_and_open_viewers() -> None:
    assert access_config({}) == AccessConfig(sign_in=False)
    assert roles_for({}, access_config({})) == ALL_ROLES
    open_config = access_config({"auth": {"redirect_uri": "x"}})  # no viewer list: every signed-in user views
    assert open_config.provider is None
    assert roles_for({"is_logged_in": True, "email": "anyone@contoso.com"}, open_config) == VIEW
    assert CONFIG.provider == "microsoft"


@pytest.mark.parametrize(
    ("page", "viewer", "finance", "admin"),
    [
        ("overview", True, True, True),
        ("costs", False, True, True),
        ("reclaim", False, True, True),
        ("renewals", False, True, True),
        ("audit", False, False, True),
        ("fix", False, False, True),
    ],
)
def test_may_open(page: str, viewer: bool, finance: bool, admin: bool) -> None:
    assert (may_open(page, VIEW), may_open(page, FIN), may_open(page, ALL_ROLES)) == (viewer, finance, admin)


def _app(user: dict[str, Any], store: str, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("LICENSE_DESK_STORE", store)
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in SECRETS.items():
        at.secrets[key] = value
    at.user = user
    return at.run()


def _caption(at: AppTest) -> str:
    return " ".join(c.value for c in at.sidebar.caption)


def test_signed_out_sees_only_the_sign_in_button(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app({"is_logged_in": False}, tenant_store, monkeypatch)
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in with Microsoft"]
    assert not at.metric and not at.dataframe


def test_signed_in_without_a_role_is_told_so(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app({"is_logged_in": True, "email": "stranger@contoso.com"}, tenant_store, monkeypatch)
    assert "You have no License Desk role" in at.error[0].value
    assert not at.metric


def test_viewer_sees_inventory_but_not_costs_or_audit(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app({"is_logged_in": True, "email": "viewer@contoso.com"}, tenant_store, monkeypatch)
    assert not at.exception
    assert "Signed in as viewer@contoso.com (viewer)." in _caption(at)
    assert at.metric  # the overview renders
    for page in ("costs", "audit"):
        locked = AppTest.from_file(APP.replace("app.py", f"app_pages/{page}.py"), default_timeout=60)
        for key, value in SECRETS.items():
            locked.secrets[key] = value
        locked.user = {"is_logged_in": True, "email": "viewer@contoso.com"}
        locked.run()
        assert locked.error[0].value.startswith("This page needs the")
        assert not locked.metric


def test_finance_sees_costs_but_not_audit(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app({"is_logged_in": True, "email": "fin@contoso.com"}, tenant_store, monkeypatch)
    assert "Signed in as fin@contoso.com (viewer, finance)." in _caption(at)
    at.switch_page("app_pages/costs.py").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Costs"  # this tenant has no price book: the page says what to do
    assert at.info and "price" in at.info[0].value.lower()
    audit = AppTest.from_file(APP.replace("app.py", "app_pages/audit.py"), default_timeout=60)
    for key, value in SECRETS.items():
        audit.secrets[key] = value
    audit.user = {"is_logged_in": True, "email": "fin@contoso.com"}
    audit.run()
    assert audit.error[0].value == "This page needs the admin role; ask a License Desk administrator."


def test_admin_sees_audit_and_local_mode_says_so(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app({"is_logged_in": True, "email": "ada@contoso.com"}, tenant_store, monkeypatch)
    assert "(viewer, finance, admin)" in _caption(at)
    at.switch_page("app_pages/audit.py").run()
    assert not at.exception and not at.error
    monkeypatch.setenv("LICENSE_DESK_STORE", tenant_store)
    local = AppTest.from_file(APP, default_timeout=60).run()
    assert "Local single-user mode" in _caption(local)
