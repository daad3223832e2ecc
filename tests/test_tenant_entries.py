"""Registry entries: checking what goes in, and finding a per-tenant app's credential from its
reference (never from the store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from licensedesk.config import Settings
from licensedesk.errors import ConfigError
from licensedesk.tenants import TenantEntry, check_entry, tenant_settings
from store.tenants import schema_name, tenant_store

APP = "11111111-2222-4333-8444-555555555555"
BASE = Settings(tenant_id="msp.onmicrosoft.com", client_id="aaaaaaaa-0000-4000-8000-000000000001",
                client_secret="msp-app-secret")  # fmt: skip


def test_entries_are_normalised() -> None:
    entry = check_entry(TenantEntry(" Fabrikam.OnMicrosoft.com ", " Fabrikam ", tags=("b", "a", "a", " ")))
    assert (entry.tenant_id, entry.display_name, entry.tags) == (
        "fabrikam.onmicrosoft.com",
        "Fabrikam",
        ("a", "b"),
    )


@pytest.mark.parametrize(
    ("entry", "says"),
    [
        (TenantEntry("not a tenant", "X"), "is not a tenant id"),
        (TenantEntry("fabrikam.onmicrosoft.com", " "), "needs a display name"),
        (TenantEntry("fabrikam.onmicrosoft.com", "F", credential="env:X"), "no client id"),
        (TenantEntry("fabrikam.onmicrosoft.com", "F", client_id=APP), "not where its credential is"),
        (TenantEntry("fabrikam.onmicrosoft.com", "F", client_id=APP, credential="env:1BAD"), "env:NAME"),
        (TenantEntry("fabrikam.onmicrosoft.com", "F", tags=("a,b",)), "comma or semicolon"),
    ],
)
def test_bad_entries_are_one_sentence(entry: TenantEntry, says: str) -> None:
    with pytest.raises(ConfigError, match=says) as caught:
        check_entry(entry)
    assert "\n" not in str(caught.value)


def test_the_multi_tenant_app_signs_in_at_each_tenant() -> None:
    settings = tenant_settings(BASE, TenantEntry("fabrikam.onmicrosoft.com", "F"), environ={})
    assert (settings.tenant_id, settings.client_id, settings.client_secret) == (
        "fabrikam.onmicrosoft.com", BASE.client_id, "msp-app-secret",
    )  # fmt: skip


def test_a_per_tenant_app_reads_its_secret_where_the_reference_says(tmp_path: Path) -> None:
    by_env = TenantEntry("fabrikam.onmicrosoft.com", "F", client_id=APP, credential="env:FABRIKAM_SECRET")
    settings = tenant_settings(BASE, by_env, environ={"FABRIKAM_SECRET": "from-env"})
    assert (settings.client_id, settings.client_secret) == (APP, "from-env")
    with pytest.raises(ConfigError, match="FABRIKAM_SECRET .* is not set"):
        tenant_settings(BASE, by_env, environ={})
    (tmp_path / "fabrikam-app").write_text("from-file\n", encoding="utf-8")
    by_secret = TenantEntry("fabrikam.onmicrosoft.com", "F", client_id=APP, credential="secret:fabrikam-app")
    settings = tenant_settings(BASE, by_secret, environ={"LICENSE_DESK_SECRETS_DIR": str(tmp_path)})
    assert settings.client_secret == "from-file"
    pem = tmp_path / "app.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="utf-8")
    by_file = TenantEntry("fabrikam.onmicrosoft.com", "F", client_id=APP, credential=f"file:{pem}")
    settings = tenant_settings(BASE, by_file, environ={})
    assert (settings.client_certificate, settings.client_secret) == (str(pem), None)


def test_each_tenant_store_is_beside_the_registry() -> None:
    assert (
        tenant_store("data/ld.sqlite", "Fabrikam.onmicrosoft.com")
        == "data/ld.sqlite.tenants/fabrikam.onmicrosoft.com.sqlite"
    )
    url = "postgresql://ld@db/ld?options=-csearch_path%3Dlicensedesk"
    assert schema_name(url, "3F0C-AB") == "licensedesk_tenant_3f0c_ab"
    assert tenant_store(url, "3f0c-ab").endswith(
        "options=-csearch_path%3Dlicensedesk%20-csearch_path%3Dlicensedesk_tenant_3f0c_ab"
    )
