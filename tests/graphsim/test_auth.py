"""The Entra side: real MSAL against the token endpoint, AADSTS errors, bearer checks on Graph."""

from __future__ import annotations

import time
from typing import Any

import msal
import pytest

from graphsim.server import GraphSimulator
from tests.helpers.certs import self_signed
from tests.helpers.graph_client import Graph, fetch_token, https_session

SCOPES = ["https://graph.microsoft.com/.default"]


def _app(
    sim: GraphSimulator, credential: object, client_id: str | None = None
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id or sim.client_id,
        authority=f"{sim.authority_url}/{sim.tenant_id}",
        client_credential=credential,
        instance_discovery=False,
        http_client=https_session(sim),
    )


def test_msal_gets_a_token_with_the_secret(sim: GraphSimulator) -> None:
    result = _app(sim, sim.client_secret).acquire_token_for_client(scopes=SCOPES)
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3600
    assert result["access_token"] and sim.client_secret not in result["access_token"]
    paths = [r.path for r in sim.requests]
    assert paths == [
        f"/{sim.tenant_id}/v2.0/.well-known/openid-configuration",
        f"/{sim.tenant_id}/oauth2/v2.0/token",
    ]
    response = Graph(sim).get("subscribedSkus")
    assert response.status_code == 200


def test_wrong_secret_is_aadsts7000215_and_never_echoed(sim: GraphSimulator) -> None:
    wrong = "Xy8Q~not-the-right-secret-value-at-all.123"
    result = _app(sim, wrong).acquire_token_for_client(scopes=SCOPES)
    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert 7000215 in result["error_codes"]
    assert wrong not in str(result) and sim.client_secret not in str(result)
    assert wrong not in repr(sim.requests) and sim.client_secret not in repr(sim.requests)


def test_expired_secret_is_aadsts7000222(sim: GraphSimulator) -> None:
    sim.expire_secret()
    result = _app(sim, sim.client_secret).acquire_token_for_client(scopes=SCOPES)
    assert result["error"] == "invalid_client"
    assert "AADSTS7000222" in result["error_description"] and "are expired" in result["error_description"]


def test_unknown_client_and_unknown_tenant(sim: GraphSimulator) -> None:
    result = _app(
        sim, sim.client_secret, client_id="11111111-2222-3333-4444-555555555555"
    ).acquire_token_for_client(scopes=SCOPES)
    assert result["error"] == "unauthorized_client" and "AADSTS700016" in result["error_description"]
    session = https_session(sim)
    response = session.post(
        f"{sim.authority_url}/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token",
        data={"client_id": sim.client_id, "client_secret": sim.client_secret, "grant_type": "client_credentials",
              "scope": SCOPES[0]},
    )  # fmt: skip
    assert response.status_code == 400 and response.json()["error_codes"] == [90002]
    discovery = session.get(f"{sim.authority_url}/nope.onmicrosoft.com/v2.0/.well-known/openid-configuration")
    assert discovery.status_code == 400 and "AADSTS90002" in discovery.json()["error_description"]
    assert (
        fetch_token(sim, session, scope="https://graph.microsoft.com/User.Read").json()["error"]
        == "invalid_scope"
    )
    session.close()


def test_openid_configuration_has_what_msal_needs(sim: GraphSimulator) -> None:
    session = https_session(sim)
    config = session.get(f"{sim.authority_url}/{sim.tenant_id}/v2.0/.well-known/openid-configuration").json()
    assert config["token_endpoint"] == f"{sim.authority_url}/{sim.tenant_id}/oauth2/v2.0/token"
    for key in ("authorization_endpoint", "issuer", "jwks_uri", "device_authorization_endpoint"):
        assert config[key].startswith(sim.authority_url)
    assert config["tenant_region_scope"] is None
    session.close()


def test_certificate_assertion(sim: GraphSimulator) -> None:
    key_pem, cert_pem, thumbprint = self_signed()
    credential = {"private_key": key_pem, "thumbprint": thumbprint}
    refused = _app(sim, credential).acquire_token_for_client(scopes=SCOPES)
    assert refused["error"] == "invalid_client" and "AADSTS700027" in refused["error_description"]
    assert sim.register_certificate(cert_pem) == thumbprint
    result = _app(sim, credential).acquire_token_for_client(scopes=SCOPES)
    assert "access_token" in result, result
    # With the public certificate MSAL signs PS256 with an x5t#S256 header: accepted too.
    with_cert = _app(sim, {**credential, "public_certificate": cert_pem}).acquire_token_for_client(
        scopes=SCOPES
    )
    assert "access_token" in with_cert, with_cert


def test_graph_refuses_missing_bad_and_expired_tokens(sim: GraphSimulator) -> None:
    session = https_session(sim)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        response = session.get(f"{sim.graph_url}/users", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "InvalidAuthenticationToken"
        assert "WWW-Authenticate" in response.headers
    sim.token_lifetime = 1
    graph = Graph(sim)
    assert graph.get("users").status_code == 200
    time.sleep(1.2)
    expired = graph.get("users")
    assert expired.status_code == 401 and "expired" in expired.json()["error"]["message"]
    session.close()
    graph.close()


def test_msal_renews_a_short_lived_token(sim: GraphSimulator) -> None:
    sim.token_lifetime = 1
    app = _app(sim, sim.client_secret)
    first = app.acquire_token_for_client(scopes=SCOPES)["access_token"]
    time.sleep(1.2)
    second = app.acquire_token_for_client(scopes=SCOPES)
    assert second["access_token"] != first and second["token_source"] == "identity_provider"


def test_permissions_are_fixed_when_the_token_is_issued(sim: GraphSimulator) -> None:
    no_users = Graph(sim, {"Organization.Read.All"})
    denied = no_users.get("users")
    assert denied.status_code == 403
    assert denied.json()["error"] == {
        "code": "Authorization_RequestDenied",
        "message": "Insufficient privileges to complete the operation.",
        "innerError": denied.json()["error"]["innerError"],
    }
    assert no_users.get("subscribedSkus").status_code == 200
    sim.set_permissions({"User.Read.All"})
    assert no_users.get("users").status_code == 403  # old token, old permissions
    assert Graph(sim).get("users").status_code == 200
    no_users.close()


@pytest.mark.parametrize("client_request_id", [None, "5c7a1d3e-0000-4000-8000-0000000000aa"])
def test_request_ids_on_every_answer(sim: GraphSimulator, client_request_id: str | None) -> None:
    graph = Graph(sim)
    headers = {"client-request-id": client_request_id} if client_request_id else {}
    for path in ("subscribedSkus", "users?$top=1000"):
        response = graph.get(path, headers=headers)
        assert response.headers["request-id"]
        assert response.headers["client-request-id"] == (client_request_id or response.headers["request-id"])
        assert response.headers["Content-Type"].startswith("application/json;odata.metadata=minimal")
    error = graph.get("users?$top=1000").json()["error"]["innerError"]
    assert set(error) >= {"date", "request-id", "client-request-id"}
    graph.close()


def _token_error(response: Any) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    "scope",
    [
        "https://graph.microsoft.com/.default",
        "https://graph.microsoft.com//.default",
        "https://GRAPH.microsoft.com/.default",
        "00000003-0000-0000-c000-000000000000/.default",
    ],
)
def test_tokens_are_issued_for_graphs_resource(sim: GraphSimulator, scope: str) -> None:
    response = fetch_token(sim, https_session(sim), scope=scope)
    assert response.status_code == 200 and response.json()["access_token"]


def test_a_scope_naming_any_other_host_is_aadsts500011_as_entra_answers(sim: GraphSimulator) -> None:
    # Entra looks a scope up by the resource's app ID URI: the host the client reaches Graph
    # through (this simulator's own address, a gateway, a proxy) is not one.
    session = https_session(sim)
    for resource in (sim.authority_url, "https://graph-gateway.contoso.com"):
        body = _token_error(fetch_token(sim, session, scope=f"{resource}/.default"))
        assert body["error"] == "invalid_resource" and body["error_codes"] == [500011]
        assert body["error_description"].startswith(
            f"AADSTS500011: The resource principal named {resource} was not found in the tenant named "
        )
        assert "Trace ID: " in body["error_description"] and "Correlation ID: " in body["error_description"]
        assert set(body) == {
            "error", "error_description", "error_codes", "timestamp", "trace_id", "correlation_id", "error_uri",
        }  # fmt: skip
    assert [r.status for r in sim.requests] == [400, 400]


def test_the_read_and_write_apps_hold_their_own_permissions(sim: GraphSimulator) -> None:
    user = next(u for u in sim.tenant.users if u.usage_location and not u.is_guest)
    visio = sim.tenant.sku_id("VISIOCLIENT")
    assert visio not in user.held_skus()
    body = {"addLicenses": [{"skuId": visio, "disabledPlans": []}], "removeLicenses": []}
    reader, writer = Graph(sim), Graph(sim, app="write")
    refused = reader.post(f"users/{user.id}/assignLicense", body)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"
    assert visio not in user.held_skus()
    assert writer.post(f"users/{user.id}/assignLicense", body).status_code == 200
    assert visio in user.held_skus()
    # The write app reads what applying needs (seat counts), not the directory at large.
    assert writer.get("subscribedSkus").status_code == 200
    assert writer.get("groups").status_code == 403
    assert reader.get("users").status_code == 200
    # Each request records which app's token it carried (and each token request, which app asked).
    graph_calls = [
        (r.method, r.path.rsplit("/", 1)[-1], r.client_id)
        for r in sim.requests
        if r.path.startswith("/v1.0/")
    ]
    assert graph_calls == [
        ("POST", "assignLicense", sim.client_id),
        ("POST", "assignLicense", sim.write_client_id),
        ("GET", "subscribedSkus", sim.write_client_id),
        ("GET", "groups", sim.write_client_id),
        ("GET", "users", sim.client_id),
    ]
    asked = [r.client_id for r in sim.requests if r.path == sim.token_path]
    assert asked == [sim.client_id, sim.write_client_id]
    assert sim.write_client_id != sim.client_id and sim.write_client_secret != sim.client_secret


def test_ready_info_names_both_apps_and_only_the_read_app_is_client_id(sim: GraphSimulator) -> None:
    info = sim.ready_info()
    assert info["client_id"] == sim.client_id and info["write_client_id"] == sim.write_client_id
    assert sim.permissions("read") == {
        "Organization.Read.All", "User.Read.All", "Group.Read.All", "AuditLog.Read.All",
        "Reports.Read.All", "ReportSettings.Read.All",
    }  # fmt: skip
    assert sim.permissions("write") == {"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"}
    wrong = fetch_token(
        sim, https_session(sim), client_id=sim.write_client_id, client_secret=info["client_secret"]
    )
    assert wrong.status_code == 401 and "AADSTS7000215" in wrong.json()["error_description"]
