"""Bad `.streamlit/secrets.toml` files: each gets one sentence naming the file and line, or the
key, and gives nobody a role (the dashboard then serves only that sentence). Only a file with no
sign-in settings at all means local single-user mode."""

from __future__ import annotations

import tomllib

import pytest

from dashboard.access import AccessConfig, access_config, roles_for, toml_problem

TENANT = "8a1f0c3e-5b7d-4c2a-9e61-0d4b2f7a9c10"
SECRET = "Zq8-not-a-real-secret-Zq8"
AUTH = f'redirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "{SECRET}"\n'
PROVIDER = (
    f'client_id = "app"\nclient_secret = "{SECRET}"\n'
    f'server_metadata_url = "https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"\n'
)
GOOD = f"[auth]\n{AUTH}\n[auth.microsoft]\n{PROVIDER}"


def config_of(text: str) -> AccessConfig:
    """What the dashboard makes of a secrets file with this text."""
    try:
        secrets = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return AccessConfig(sign_in=True, problem=toml_problem(".streamlit/secrets.toml", exc))
    return access_config(secrets)


FILES: list[tuple[str, str, str]] = [  # (case, file text, what the sentence says)
    ("value missing", f'[auth]\ncookie_secret = \n{AUTH}', ".streamlit/secrets.toml cannot be read at line 2"),
    ("unterminated string", f'[auth]\nredirect_uri = "http://x\n{PROVIDER}', "cannot be read at line 2"),
    ("header not closed", f"[auth\n{AUTH}", "cannot be read at line 1"),
    ("key twice", f"[auth]\n{AUTH}{AUTH}", "cannot be read at line 4"),
    ("no = after a key", f"[auth]\nredirect_uri\n{PROVIDER}", "cannot be read at line 2"),
    ("[Auth]", GOOD.replace("[auth", "[Auth"), "it has a [Auth] section, but there is no [auth] section"),
    ("[AUTH]", GOOD.replace("[auth", "[AUTH"), "it has a [AUTH] section"),
    ("[authentication]", GOOD.replace("[auth", "[authentication"), "it has a [authentication] section"),
    ("roles but no [auth]", '[license_desk.roles]\nadmin = ["a@contoso.com"]\n', "it has [license_desk.roles]"),
    ("provider keys at the top", PROVIDER, "it has client_id outside any section"),
    ("provider without auth.", f"[microsoft]\n{PROVIDER}", "[microsoft] has client_id"),
    ("auth a value", 'auth = "on"\n', "auth must be a section ([auth]), not a single value"),
    ("no redirect_uri", GOOD.replace("redirect_uri", "# redirect_uri"), "[auth] has no redirect_uri"),
    ("no cookie_secret", GOOD.replace("cookie_secret", "# cookie_secret"), "[auth] has no cookie_secret"),
    ("cookie_secret empty", GOOD.replace(f'cookie_secret = "{SECRET}"', 'cookie_secret = "  "'),
     "cookie_secret in [auth] is empty or still the example's placeholder"),
    ("cookie_secret a number", GOOD.replace(f'cookie_secret = "{SECRET}"', "cookie_secret = 42"),
     "cookie_secret in [auth] is empty or still the example's placeholder"),
    ("no client_id", GOOD.replace('client_id = "app"', ""), "[auth.microsoft] has no client_id"),
    ("no client_secret", GOOD.replace(f'client_secret = "{SECRET}"', ""), "[auth.microsoft] has no client_secret"),
    ("no server_metadata_url", GOOD.replace("server_metadata_url", "# server_metadata_url"),
     "[auth.microsoft] has no server_metadata_url"),
    ("example placeholder", GOOD.replace('client_id = "app"', 'client_id = "<Application (client) ID>"'),
     "client_id in [auth.microsoft] is empty or still the example's placeholder"),
    ("no provider keys anywhere", f"[auth]\n{AUTH}", "[auth] has no client_id"),
    ("provider name with _", GOOD.replace("[auth.microsoft]", "[auth.microsoft_entra]"),
     "the provider name in [auth.microsoft_entra] may not contain an underscore"),
    ("two providers", GOOD + f"\n[auth.google]\n{PROVIDER}", "[auth.microsoft] and [auth.google] are two"),
    ("common tenant", GOOD.replace(TENANT, "common"), "server_metadata_url in [auth.microsoft] names 'common'"),
    ("domain as tenant", GOOD.replace(TENANT, "contoso.onmicrosoft.com"), "names 'contoso.onmicrosoft.com'"),
    ("tenant_id not a GUID", GOOD + '\n[license_desk]\ntenant_id = "contoso"\n', "must be your tenant's id (a GUID)"),
    ("tenant_id another tenant", GOOD + '\n[license_desk]\ntenant_id = "f00dcafe-0000-4000-8000-000000000bad"\n',
     "tenant_id under [license_desk] is not the tenant in server_metadata_url of [auth.microsoft]"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "text", "fragment"), FILES, ids=[c for c, _, _ in FILES])
def test_a_bad_secrets_file_is_one_sentence_and_no_role(case: str, text: str, fragment: str) -> None:
    config = config_of(text)
    assert config.problem is not None and fragment in config.problem
    assert "\n" not in config.problem and config.problem.count(". ") == 0
    assert config.problem.endswith("to run in local single-user mode.")
    assert SECRET not in config.problem
    claims = {"is_logged_in": True, "tid": TENANT, "email": "ada@contoso.com"}
    assert roles_for(claims, config) == frozenset()


@pytest.mark.parametrize(
    "text",
    ["", "# nothing yet\n", '[smtp]\nhost = "mail.example"\n', '[license_desk]\nnote = "no sign-in here"\n'],
    ids=["empty", "comments only", "other secrets", "license_desk without sign-in keys"],
)
def test_a_file_without_sign_in_settings_is_local_mode(text: str) -> None:
    assert config_of(text) == AccessConfig(sign_in=False)


def test_the_good_file_signs_in() -> None:
    config = config_of(GOOD)
    assert (config.problem, config.sign_in, config.provider, config.tenant_id) == (
        None,
        True,
        "microsoft",
        TENANT,
    )
