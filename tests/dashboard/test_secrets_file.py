"""A real broken ``.streamlit/secrets.toml``, read by a real server (``streamlit run``) in a
directory of its own: the browser gets one sentence and no page, no navigation, no data.

AppTest cannot stand in here: ``at.secrets`` takes a dict, never a file that fails to parse,
and Streamlit only logs a secrets file it cannot parse, then raises the same error as for
no file at all.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from cli.serve import serving_dashboard
from tests.dashboard.tenant import build_store
from tests.helpers.browser import BROWSER_MARKS, CHROMIUM, LAUNCH_ARGS, playwright

pytestmark = BROWSER_MARKS
sync_api = playwright()

TENANT = "8a1f0c3e-5b7d-4c2a-9e61-0d4b2f7a9c10"
PROVIDER = f"""
[auth.microsoft]
client_id = "app"
client_secret = "not-a-real-client-secret"
server_metadata_url = "https://login.microsoftonline.com/{TENANT}/v2.0/.well-known/openid-configuration"

[license_desk.roles]
admin = ["ada@contoso.com"]
"""
FILES = {
    "a TOML error": (
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = \n' + PROVIDER,
        "The secrets file .streamlit/secrets.toml cannot be read at line 3 (invalid value), so sign-in cannot be "
        "checked; fix it, or remove the file to run in local single-user mode.",
    ),
    "[Auth]": (
        '[Auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\ncookie_secret = "s3cr3t-cookie"\n'
        + PROVIDER.replace("[auth.microsoft]", "[Auth.microsoft]"),
        "Sign-in is not set up correctly in .streamlit/secrets.toml: it has a [Auth] section, but there is no "
        "[auth] section (written in lower case); fix it (see .streamlit/secrets.example.toml), or remove the "
        "sign-in settings to run in local single-user mode.",
    ),
    "no cookie_secret": (
        '[auth]\nredirect_uri = "http://localhost:8501/oauth2callback"\n' + PROVIDER,
        "Sign-in is not set up correctly in .streamlit/secrets.toml: [auth] has no cookie_secret; fix it (see "
        ".streamlit/secrets.example.toml), or remove the sign-in settings to run in local single-user mode.",
    ),
}


@pytest.mark.parametrize("case", list(FILES))
def test_a_broken_secrets_file_serves_only_the_sentence(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text, sentence = FILES[case]
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(text, encoding="utf-8")
    store = build_store(str(tmp_path / "store.sqlite"))
    # Streamlit looks for .streamlit/secrets.toml in the directory it is started from.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # and not in the developer's ~/.streamlit
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    with serving_dashboard({**env, "LICENSE_DESK_STORE": store}) as url:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
            page: Any = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("heading", name="License Desk", exact=True).first.wait_for(timeout=60_000)
            page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
                timeout=60_000
            )
            alerts = page.get_by_test_id("stAlertContentError").all_inner_texts()
            links = page.get_by_role("link").all_inner_texts()
            shown = {
                "tables": page.locator('[data-testid="stDataFrame"]').count(),
                "metrics": page.get_by_test_id("stMetricValue").count(),
                "buttons": page.get_by_role("button", name="Sign in with Microsoft").count(),
                "exceptions": page.get_by_test_id("stException").count(),
            }
            body = page.locator("body").inner_text()
            browser.close()
    assert [a.strip() for a in alerts] == [sentence]
    assert not [link for link in links if link.strip() in {"Overview", "Data", "Costs", "Audit"}]
    assert shown == {"tables": 0, "metrics": 0, "buttons": 0, "exceptions": 0}
    assert "not-a-real-client-secret" not in body and "s3cr3t-cookie" not in body
