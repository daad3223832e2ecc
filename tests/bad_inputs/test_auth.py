"""Bad sign-in settings (Graph scope, the write app): one sentence naming the setting, exit code 2."""

from __future__ import annotations

import pytest

from licensedesk.config import load_settings
from licensedesk.errors import ConfigError

BASE = {"LICENSE_DESK_TENANT_ID": "t", "LICENSE_DESK_CLIENT_ID": "c", "LICENSE_DESK_CLIENT_SECRET": "s"}
W = "LICENSE_DESK_WRITE_"

LOAD: list[tuple[str, dict[str, str], str]] = [
    ("scope without /.default", {"LICENSE_DESK_GRAPH_SCOPE": "https://graph.microsoft.us"},
     "LICENSE_DESK_GRAPH_SCOPE must be Microsoft Graph's app ID URI followed by /.default"),
    ("two scopes", {"LICENSE_DESK_GRAPH_SCOPE": "https://graph.microsoft.com/.default User.Read"},
     "LICENSE_DESK_GRAPH_SCOPE must be"),
    ("scope of nothing", {"LICENSE_DESK_GRAPH_SCOPE": "/.default"}, "LICENSE_DESK_GRAPH_SCOPE must be"),
    ("write app without a credential", {f"{W}CLIENT_ID": "w"},
     f"{W}CLIENT_ID is set but the write app has no credential: set {W}CLIENT_SECRET or {W}CLIENT_CERTIFICATE."),
    ("write secret without the app", {f"{W}CLIENT_SECRET": "Wr1te~x"},
     f"{W}CLIENT_SECRET is set but {W}CLIENT_ID is not: set the write app's client id too."),
    ("write certificate and password without the app",
     {f"{W}CLIENT_CERTIFICATE": "w.pem", f"{W}CLIENT_CERTIFICATE_PASSWORD": "p"},
     f"{W}CLIENT_CERTIFICATE and {W}CLIENT_CERTIFICATE_PASSWORD are set but {W}CLIENT_ID is not"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "environ", "fragment"), LOAD, ids=[c[0] for c in LOAD])
def test_bad_sign_in_settings_are_one_sentence(case: str, environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({**BASE, **environ})
    message = str(err.value)
    assert fragment in message and "\n" not in message and err.value.exit_code == 2
    assert "Wr1te~x" not in message


def test_a_missing_write_certificate_is_named_when_writing() -> None:
    settings = load_settings({**BASE, f"{W}CLIENT_ID": "w", f"{W}CLIENT_CERTIFICATE": "/no/write.pem"})
    settings.require_tenant()  # collections do not need the write app's file
    with pytest.raises(ConfigError, match=f"^{W}CLIENT_CERTIFICATE points to /no/write.pem, which is not"):
        settings.identity("write")
