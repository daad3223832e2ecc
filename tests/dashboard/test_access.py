"""Sign-in and roles: the pure decision, broken sign-in settings, and what each role sees (AppTest)."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.access import ALL_ROLES, AccessConfig, Role, access_config, may_open, roles_for, toml_problem
from tests.helpers.apptest import APP

TENANT = "8a1f0c3e-5b7d-4c2a-9e61-0d4b2f7a9c10"
OTHER_TENANT = "f00dcafe-0000-4000-8000-000000000bad"
ADA_OID = "0a0d0a0d-0000-4000-8000-00000000ada0"
FIN_GROUP = "6f1c2a9e-0000-4000-8000-00000000f1a4"
VIEW_GROUP = "b2d1e1f0-0000-4000-8000-0000000000aa"
SECRETS: dict[str, Any] = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "not-a-real-cookie-secret",
        "microsoft": {
            "client_id": "app",
            "client_secret": "x",
            "server_metadata_url": f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration",
        },
    },
    "license_desk": {
        "roles": {
            "admin": ["Ada@Contoso.com", ADA_OID],
            "finance": ["fin@contoso.com", FIN_GROUP],
            "viewer": ["viewer@contoso.com", VIEW_GROUP],
        }
    },
}
CONFIG = access_config(SECRETS)
VIEW = frozenset({Role.VIEWER})
FIN = frozenset({Role.FINANCE, Role.VIEWER})
NONE: frozenset[Role] = frozenset()


def signed_in(**claims: Any) -> dict[str, Any]:
    """Claims of a signed-in account of the configured tenant (override ``tid`` to leave it)."""
    return {"is_logged_in": True, "tid": TENANT, **claims}


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (signed_in(email="ada@contoso.com"), ALL_ROLES),  # case-insensitive
        (signed_in(preferred_username="FIN@contoso.com"), FIN),
        (signed_in(email="x@contoso.com", groups=[FIN_GROUP]), FIN),  # a group of the finance list
        (signed_in(email="viewer@contoso.com"), VIEW),
        (signed_in(email="y@contoso.com", groups=[VIEW_GROUP.upper()]), VIEW),
        # The object id, whatever the e-mail says.
        (signed_in(oid=ADA_OID, email="renamed@contoso.com"), ALL_ROLES),
        (signed_in(email="stranger@contoso.com"), NONE),
        # A stale claim is no sign-in.
        ({"is_logged_in": False, "tid": TENANT, "email": "ada@contoso.com"}, NONE),
        ({}, NONE),
        # Another organisation's account: no role, whatever its e-mail, object id or groups say.
        (signed_in(tid=OTHER_TENANT, email="ada@contoso.com"), NONE),
        (signed_in(tid=OTHER_TENANT, oid=ADA_OID), NONE),
        (signed_in(tid=OTHER_TENANT, email="x@fabrikam.com", groups=[FIN_GROUP]), NONE),
        (signed_in(tid=None, email="ada@contoso.com"), NONE),  # no tid claim at all
        (signed_in(tid=TENANT.upper(), email="ada@contoso.com"), ALL_ROLES),
    ],
)
def test_roles_for(claims: dict[str, Any], expected: frozenset[Role]) -> None:
    assert roles_for(claims, CONFIG) == expected


def test_the_tenant_comes_from_the_metadata_url_or_an_explicit_tenant_id() -> None:
    assert CONFIG.tenant_id == TENANT and CONFIG.provider == "microsoft" and CONFIG.problem is None
    common = copy.deepcopy(SECRETS)
    common["auth"]["microsoft"]["server_metadata_url"] = (
        "https://login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration"
    )
    common["license_desk"]["tenant_id"] = TENANT.upper()
    assert access_config(common).tenant_id == TENANT
    assert roles_for(signed_in(email="ada@contoso.com"), access_config(common)) == ALL_ROLES
    assert roles_for(signed_in(tid=OTHER_TENANT, email="ada@contoso.com"), access_config(common)) == NONE


def test_local_mode_and_open_viewers() -> None:
    assert access_config({}) == AccessConfig(sign_in=False)
    assert roles_for({}, access_config({})) == ALL_ROLES
    # Secrets of something else entirely are no intent to sign in.
    assert access_config({"smtp": {"host": "mail.example"}}) == AccessConfig(sign_in=False)
    open_config = copy.deepcopy(SECRETS)
    del open_config["license_desk"]  # no viewer list: every signed-in user of the tenant views
    assert roles_for(signed_in(email="anyone@contoso.com"), access_config(open_config)) == VIEW
    assert (
        roles_for(signed_in(tid=OTHER_TENANT, email="anyone@fabrikam.com"), access_config(open_config))
        == NONE
    )


def _without(path: tuple[str, ...]) -> dict[str, Any]:
    secrets = copy.deepcopy(SECRETS)
    section = secrets
    for key in path[:-1]:
        section = section[key]
    del section[path[-1]]
    return secrets


def _with(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    secrets = copy.deepcopy(SECRETS)
    section = secrets
    for key in path[:-1]:
        section = section[key]
    section[path[-1]] = value
    return secrets


DEFAULT_PROVIDER = {  # [auth] alone, the provider keys in it (st.login() without a name)
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "s",
        "client_id": "app",
        "client_secret": "x",
        "server_metadata_url": f"https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration",
    }
}
BROKEN = [  # (secrets, what the one sentence must name)
    ({"Auth": SECRETS["auth"], "license_desk": SECRETS["license_desk"]}, "it has a [Auth] section"),
    (
        {"license_desk": SECRETS["license_desk"]},
        "it has [license_desk.roles], but there is no [auth] section",
    ),
    ({"client_id": "app", "client_secret": "x"}, "it has client_id outside any section"),
    ({"microsoft": SECRETS["auth"]["microsoft"]}, "[microsoft] has client_id"),
    ({"auth": "on"}, "auth must be a section"),
    (_without(("auth", "cookie_secret")), "[auth] has no cookie_secret"),
    (_without(("auth", "redirect_uri")), "[auth] has no redirect_uri"),
    (_without(("auth", "microsoft", "client_id")), "[auth.microsoft] has no client_id"),
    (_without(("auth", "microsoft", "client_secret")), "[auth.microsoft] has no client_secret"),
    (_without(("auth", "microsoft", "server_metadata_url")), "[auth.microsoft] has no server_metadata_url"),
    (
        _with(("auth", "microsoft", "client_secret"), "<its client secret value>"),
        "client_secret in [auth.microsoft] is empty or still the example's placeholder",
    ),
    (_with(("auth", "microsoft", "client_id"), ""), "client_id in [auth.microsoft] is empty"),
    (
        {"auth": {k: v for k, v in DEFAULT_PROVIDER["auth"].items() if k != "client_id"}},
        "[auth] has no client_id",
    ),
    (
        _with(
            ("auth", "microsoft", "server_metadata_url"), "https://login.microsoftonline.com/common/v2.0/x"
        ),
        "server_metadata_url in [auth.microsoft] names 'common' rather than a tenant id",
    ),
    (
        _with(("license_desk", "tenant_id"), OTHER_TENANT),
        "tenant_id under [license_desk] is not the tenant in server_metadata_url",
    ),
    (_with(("license_desk", "tenant_id"), "contoso.onmicrosoft.com"), "must be your tenant's id (a GUID)"),
    (_with(("auth", "google"), {"client_id": "g"}), "[auth.microsoft] and [auth.google] are two"),
]


@pytest.mark.parametrize(("secrets", "named"), BROKEN, ids=[named for _, named in BROKEN])
def test_broken_sign_in_settings_give_nobody_a_role(secrets: dict[str, Any], named: str) -> None:
    config = access_config(secrets)
    assert config.problem is not None and named in config.problem
    assert config.problem.startswith("Sign-in is not set up correctly in .streamlit/secrets.toml: ")
    # One sentence, and no secret value repeated in it.
    assert config.problem.count(". ") == 0 and config.problem.endswith("local single-user mode.")
    assert "not-a-real-cookie-secret" not in config.problem
    assert roles_for(signed_in(email="ada@contoso.com", oid=ADA_OID), config) == NONE
    assert roles_for({}, config) == NONE


def test_a_toml_error_names_the_file_and_the_line() -> None:
    with pytest.raises(tomllib.TOMLDecodeError) as error:
        tomllib.loads('[auth]\nredirect_uri = "x"\ncookie_secret = \n')
    assert toml_problem(".streamlit/secrets.toml", error.value) == (
        "The secrets file .streamlit/secrets.toml cannot be read at line 3 (invalid value), so sign-in cannot be "
        "checked; fix it, or remove the file to run in local single-user mode."
    )


def test_the_example_secrets_file_parses_and_documents_every_key() -> None:
    text = (Path(APP).parents[1] / ".streamlit" / "secrets.example.toml").read_text(encoding="utf-8")
    example = tomllib.loads(text)
    # Copied unchanged, it is refused: its placeholders are not settings.
    assert "placeholder" in (access_config(example).problem or "")
    for key in ("tenant_id", "oid", "groups", "tid"):
        assert key in text


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


def _app(
    user: dict[str, Any], store: str, monkeypatch: pytest.MonkeyPatch, secrets: dict[str, Any] = SECRETS,
    script: str = APP,
) -> AppTest:  # fmt: skip
    monkeypatch.setenv("LICENSE_DESK_STORE", store)
    at = AppTest.from_file(script, default_timeout=60)
    for key, value in secrets.items():
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
    at = _app(signed_in(email="stranger@contoso.com"), tenant_store, monkeypatch)
    assert "You have no License Desk role" in at.error[0].value
    assert not at.metric


def test_an_account_of_another_tenant_sees_nothing(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(signed_in(tid=OTHER_TENANT, email="ada@contoso.com", oid=ADA_OID), tenant_store, monkeypatch)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "Signed in as ada@contoso.com (no role). This account is not from your organisation's tenant; sign out "
        "and sign in with your work account."
    ]
    assert not at.metric and not at.dataframe
    assert [b.label for b in at.button] == ["Sign out"]


@pytest.mark.parametrize(("secrets", "named"), BROKEN[:8], ids=[named for _, named in BROKEN[:8]])
def test_broken_sign_in_settings_serve_only_the_sentence(
    secrets: dict[str, Any], named: str, tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for script in (APP, APP.replace("app.py", "app_pages/fix.py")):
        at = _app(signed_in(email="ada@contoso.com", oid=ADA_OID), tenant_store, monkeypatch, secrets, script)
        assert not at.exception
        assert len(at.error) == 1 and named in at.error[0].value
        assert at.error[0].value.startswith("Sign-in is not set up correctly in .streamlit/secrets.toml")
        # No page, no data, no navigation or sign-in button, nothing in the sidebar.
        assert not at.metric and not at.dataframe and not at.button and not at.sidebar.children
        assert [t.value for t in at.title] == (["License Desk"] if script == APP else [])


def test_viewer_sees_inventory_but_not_costs_or_audit(
    tenant_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(signed_in(email="viewer@contoso.com"), tenant_store, monkeypatch)
    assert not at.exception
    assert "Signed in as viewer@contoso.com (viewer)." in _caption(at)
    assert at.metric  # the overview renders
    for page in ("costs", "audit"):
        locked = _app(
            signed_in(email="viewer@contoso.com"), tenant_store, monkeypatch,
            script=APP.replace("app.py", f"app_pages/{page}.py"),
        )  # fmt: skip
        assert locked.error[0].value.startswith("This page needs the")
        assert not locked.metric


def test_finance_sees_costs_but_not_audit(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(signed_in(email="fin@contoso.com"), tenant_store, monkeypatch)
    assert "Signed in as fin@contoso.com (viewer, finance)." in _caption(at)
    at.switch_page("app_pages/costs.py").run()
    assert not at.exception and not at.error
    assert at.title[0].value == "Costs"  # this tenant has no price book: the page says what to do
    assert at.info and "price" in at.info[0].value.lower()
    audit = _app(
        signed_in(email="fin@contoso.com"),
        tenant_store,
        monkeypatch,
        script=APP.replace("app.py", "app_pages/audit.py"),
    )
    assert audit.error[0].value == "This page needs the admin role; ask a License Desk administrator."


def test_admin_sees_audit_and_local_mode_says_so(tenant_store: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(signed_in(email="ada@contoso.com"), tenant_store, monkeypatch)
    assert "(viewer, finance, admin)" in _caption(at)
    at.switch_page("app_pages/audit.py").run()
    assert not at.exception and not at.error
    monkeypatch.setenv("LICENSE_DESK_STORE", tenant_store)
    local = AppTest.from_file(APP, default_timeout=60).run()
    assert "Local single-user mode" in _caption(local)
