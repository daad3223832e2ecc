"""Configuration: environment over TOML, and one clear sentence for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from licensedesk.config import DEFAULT_GRAPH_URL, load_settings
from licensedesk.errors import ConfigError


def test_defaults_point_at_global_cloud_with_writes_off() -> None:
    settings = load_settings({})
    assert settings.graph_url == DEFAULT_GRAPH_URL
    assert settings.authority_url == "https://login.microsoftonline.com"
    assert settings.allow_writes is False
    assert settings.tenant_configured is False


def test_environment_wins_over_file(tmp_path: Path) -> None:
    toml = tmp_path / "ld.toml"
    toml.write_text('tenant_id = "from-file"\nclient_id = "app"\nstore = "x.sqlite"\n')
    settings = load_settings({"LICENSE_DESK_TENANT_ID": "from-env"}, config_file=toml)
    assert settings.tenant_id == "from-env"
    assert settings.client_id == "app"
    assert settings.store == "x.sqlite"


def test_secret_never_in_repr() -> None:
    settings = load_settings({"LICENSE_DESK_CLIENT_SECRET": "S3cr3t-value"})
    assert "S3cr3t-value" not in repr(settings)


def test_national_cloud_urls_are_accepted() -> None:
    settings = load_settings(
        {
            "LICENSE_DESK_GRAPH_URL": "https://graph.microsoft.us/v1.0/",
            "LICENSE_DESK_AUTHORITY_URL": "https://login.microsoftonline.us",
        }
    )
    assert settings.graph_url == "https://graph.microsoft.us/v1.0"
    assert settings.authority_url == "https://login.microsoftonline.us"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"LICENSE_DESK_GRAPH_URL": "http://graph.example"}, "LICENSE_DESK_GRAPH_URL must be an https URL"),
        ({"LICENSE_DESK_AUTHORITY_URL": "not a url"}, "LICENSE_DESK_AUTHORITY_URL must be an https URL"),
        ({"LICENSE_DESK_ALLOW_WRITES": "maybe"}, "LICENSE_DESK_ALLOW_WRITES must be true or false"),
        ({"LICENSE_DESK_INACTIVE_DAYS": "ninety"}, "LICENSE_DESK_INACTIVE_DAYS must be a whole number"),
        ({"LICENSE_DESK_TENANT_ID": "a/b"}, "LICENSE_DESK_TENANT_ID must be a tenant id"),
    ],
)
def test_bad_settings_are_one_sentence(environ: dict[str, str], fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(environ)
    message = str(err.value)
    assert fragment in message
    assert "\n" not in message and message.endswith(".")


def test_bad_toml_and_unknown_keys(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("tenant_id = \n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_settings({}, config_file=broken)
    typo = tmp_path / "typo.toml"
    typo.write_text('tenant = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({}, config_file=typo)
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings({}, config_file=tmp_path / "missing.toml")


def test_missing_tenant_names_every_missing_variable() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"LICENSE_DESK_TENANT_ID": "contoso.onmicrosoft.com"}).require_tenant()
    message = str(err.value)
    assert "LICENSE_DESK_CLIENT_ID" in message
    assert "LICENSE_DESK_CLIENT_SECRET or LICENSE_DESK_CLIENT_CERTIFICATE" in message
    assert "LICENSE_DESK_TENANT_ID" not in message.split("set ")[1].split(" (")[0]


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        (
            {"LICENSE_DESK_CA_BUNDLE": "/nonexistent/ca.pem"},
            "LICENSE_DESK_CA_BUNDLE points to /nonexistent/ca.pem",
        ),
        (
            {"LICENSE_DESK_CLIENT_CERTIFICATE": "/nope.pem"},
            "LICENSE_DESK_CLIENT_CERTIFICATE points to /nope.pem",
        ),
    ],
)
def test_missing_files_are_reported_when_connecting(environ: dict[str, str], fragment: str) -> None:
    base = {"LICENSE_DESK_TENANT_ID": "t", "LICENSE_DESK_CLIENT_ID": "c", "LICENSE_DESK_CLIENT_SECRET": "s"}
    settings = load_settings({**base, **environ})  # loading a store-only configuration still works
    with pytest.raises(ConfigError, match=fragment):
        settings.require_tenant()


WRITE_APP = {
    "LICENSE_DESK_TENANT_ID": "t",
    "LICENSE_DESK_CLIENT_ID": "reader",
    "LICENSE_DESK_CLIENT_SECRET": "Read~Secret-1",
    "LICENSE_DESK_WRITE_CLIENT_ID": "writer",
    "LICENSE_DESK_WRITE_CLIENT_SECRET": "Write~Secret-2",
    "LICENSE_DESK_WRITE_CLIENT_CERTIFICATE_PASSWORD": "Cert~Pass-3",
}


def test_the_write_app_is_its_own_identity_with_its_secrets_redacted(tmp_path: Path) -> None:
    settings = load_settings(WRITE_APP)
    write = settings.identity("write")
    assert (write.client_id, write.client_secret, write.prefix) == (
        "writer",
        "Write~Secret-2",
        "LICENSE_DESK_WRITE_",
    )
    read = settings.identity("read")
    assert (read.client_id, read.client_secret, read.prefix) == ("reader", "Read~Secret-1", "LICENSE_DESK_")
    for secret in ("Read~Secret-1", "Write~Secret-2", "Cert~Pass-3"):
        assert secret in settings.secrets
        assert secret not in repr(settings) and secret not in repr(write) and secret not in repr(read)
    assert settings.environ()["LICENSE_DESK_WRITE_CLIENT_SECRET"] == "Write~Secret-2"  # for a child process
    toml = tmp_path / "ld.toml"
    toml.write_text(
        'write_client_id = "from-file"\nwrite_client_certificate = "w.pem"\ngraph_scope = "https://graph.microsoft.us/.default"\n'
    )
    from_file = load_settings({}, config_file=toml)
    assert (
        from_file.write_client_id == "from-file"
        and from_file.graph_scope == "https://graph.microsoft.us/.default"
    )


def test_without_a_write_app_writes_have_no_identity() -> None:
    settings = load_settings({k: v for k, v in WRITE_APP.items() if "WRITE" not in k})
    assert settings.write_identity() is None
    with pytest.raises(ConfigError) as err:
        settings.identity("write")
    assert str(err.value) == (
        "Writes are sent with a separate app registration, and none is configured: set "
        "LICENSE_DESK_WRITE_CLIENT_ID and LICENSE_DESK_WRITE_CLIENT_SECRET (or LICENSE_DESK_WRITE_CLIENT_CERTIFICATE); "
        "nothing was sent."
    )
