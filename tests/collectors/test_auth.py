"""Signing in with real MSAL against the simulator's token endpoint, over TLS."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import cli
from collectors.auth import TokenProvider, VerifyingSession, graph_scope
from collectors.runner import run_collection
from licensedesk.errors import AuthError, ConfigError
from tests.helpers.certs import self_signed

SECRET = "Wr0ng~Secret.Value-4242"


def test_real_msal_gets_a_token_over_tls_despite_requests_ca_bundle(
    sim: Any, store_path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # These machines point REQUESTS_CA_BUNDLE at the system store, which does not trust the simulator.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    monkeypatch.setenv("CURL_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    settings = simulator_settings(sim, store_path)
    provider = TokenProvider(settings, VerifyingSession(settings.ca_bundle))
    token = provider.token()
    assert token and token != settings.client_secret
    assert provider.token() == token  # served from MSAL's in-memory cache
    token_calls = [r for r in sim.requests if r.path.endswith("/oauth2/v2.0/token")]
    assert len(token_calls) == 1


def test_token_is_renewed_when_it_expires(sim: Any, store_path: str) -> None:
    sim.token_lifetime = 1
    settings = simulator_settings(sim, store_path)
    provider = TokenProvider(settings, VerifyingSession(settings.ca_bundle))
    first = provider.token()
    import time

    time.sleep(1.5)
    assert provider.token() != first


def _collect_cli(settings: Any) -> Any:
    env = settings.environ()
    return CliRunner().invoke(cli, ["collect"], env=env)


def test_wrong_secret_is_one_sentence_without_the_secret(sim: Any, store_path: str) -> None:
    settings = replace(simulator_settings(sim, store_path), client_secret=SECRET)
    result = _collect_cli(settings)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "AADSTS7000215" in lines[0] and "LICENSE_DESK_CLIENT_SECRET" in lines[0]
    assert SECRET not in result.output + result.stderr
    assert "Traceback" not in result.stderr


def test_expired_secret_says_so(sim: Any, store_path: str) -> None:
    sim.expire_secret()
    settings = simulator_settings(sim, store_path)
    with pytest.raises(AuthError, match=r"has expired \(AADSTS7000222\)"):
        run_collection(settings)


def test_unknown_app_and_tenant_are_named(sim: Any, store_path: str) -> None:
    settings = replace(simulator_settings(sim, store_path), client_id="00000000-0000-0000-0000-00000000beef")
    with pytest.raises(AuthError, match="00000000-0000-0000-0000-00000000beef was not found in tenant"):
        run_collection(settings)


def test_untrusted_certificate_is_explained(sim: Any, store_path: str) -> None:
    settings = replace(simulator_settings(sim, store_path), ca_bundle=None)
    # No CA configured: the system store does not know the simulator's throwaway CA.
    with pytest.raises(AuthError, match="TLS verification failed .* LICENSE_DESK_CA_BUNDLE"):
        run_collection(settings)


def _key_and_cert(tmp_path: Path) -> Path:
    key_pem, cert_pem, _thumbprint = self_signed()
    path = tmp_path / "app.pem"
    path.write_text(key_pem + cert_pem)
    return path


def test_certificate_credential_collects(sim: Any, store_path: str, tmp_path: Path) -> None:
    pem = _key_and_cert(tmp_path)
    cert_only = pem.read_text().split("-----END PRIVATE KEY-----")[1].strip()
    sim.register_certificate(cert_only)
    settings = replace(simulator_settings(sim, store_path), client_secret=None, client_certificate=str(pem))
    summary = run_collection(settings)
    assert summary.users == len(sim.tenant.users)


def test_unregistered_certificate_is_refused(sim: Any, store_path: str, tmp_path: Path) -> None:
    pem = _key_and_cert(tmp_path)
    settings = replace(simulator_settings(sim, store_path), client_secret=None, client_certificate=str(pem))
    with pytest.raises(AuthError, match="AADSTS700027"):
        run_collection(settings)


def test_unreadable_certificate_is_a_config_error(sim: Any, store_path: str, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a pem\n")
    os.chmod(bogus, 0o600)
    settings = replace(simulator_settings(sim, store_path), client_secret=None, client_certificate=str(bogus))
    with pytest.raises(ConfigError, match="holds no readable private key"):
        run_collection(settings)


@pytest.mark.parametrize(
    ("graph_url", "scope", "expected"),
    [
        ("https://graph.microsoft.com/v1.0", None, "https://graph.microsoft.com/.default"),
        ("https://graph.microsoft.us/v1.0", None, "https://graph.microsoft.us/.default"),
        ("https://dod-graph.microsoft.us/v1.0", None, "https://dod-graph.microsoft.us/.default"),
        ("https://microsoftgraph.chinacloudapi.cn/v1.0", None, "https://microsoftgraph.chinacloudapi.cn/.default"),
        ("https://GRAPH.microsoft.us:443/v1.0", None, "https://graph.microsoft.us/.default"),
        # A gateway or proxy in front of Graph: Entra still only knows Graph's own resource.
        ("https://graph-proxy.contoso.com/v1.0", None, "https://graph.microsoft.com/.default"),
        ("https://graph-proxy.contoso.com/v1.0", "https://graph.microsoft.us/.default", "https://graph.microsoft.us/.default"),
    ],
)  # fmt: skip
def test_scope_is_graphs_resource_in_its_cloud(graph_url: str, scope: str | None, expected: str) -> None:
    from licensedesk.config import load_settings

    environ = {"LICENSE_DESK_GRAPH_URL": graph_url}
    if scope:
        environ["LICENSE_DESK_GRAPH_SCOPE"] = scope
    assert graph_scope(load_settings(environ)) == expected


def test_graph_reached_through_another_host_still_signs_in(sim: Any, store_path: str) -> None:
    # "localhost" is the simulator under another name, as a gateway or proxy would be. The scope
    # must stay Graph's resource; the simulator, like Entra, refuses a scope naming the host.
    port = sim.graph_url.split(":")[2].split("/")[0]
    settings = replace(simulator_settings(sim, store_path), graph_url=f"https://localhost:{port}/v1.0")
    summary = run_collection(settings)
    assert summary.users == len(sim.tenant.users)
    assert [r.status for r in sim.requests if r.path == sim.token_path] == [200]


def test_a_wrong_graph_scope_is_one_sentence_naming_the_setting(sim: Any, store_path: str) -> None:
    env = {
        **simulator_settings(sim, store_path).environ(),
        "LICENSE_DESK_GRAPH_SCOPE": "https://graph-proxy.contoso.com/.default",
    }
    result = CliRunner().invoke(cli, ["collect"], env=env)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "AADSTS500011" in line and "LICENSE_DESK_GRAPH_SCOPE" in line
    assert "https://graph-proxy.contoso.com/.default" in line


def test_discovery_failing_without_retries_is_still_one_sentence(sim: Any, store_path: str) -> None:
    # A TokenProvider on a plain session (no GraphClient, so no retries) sees MSAL's own error.
    sim.faults.add("unavailable", path_prefix=sim.discovery_path)
    settings = simulator_settings(sim, store_path)
    with pytest.raises(AuthError, match=r"^The sign-in endpoint 127\.0\.0\.1:\d+ failed OpenID discovery \("):
        TokenProvider(settings, VerifyingSession(settings.ca_bundle)).token()
