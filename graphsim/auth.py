"""The Entra side: OpenID discovery, the client-credentials token endpoint, bearer-token checks.

Why this shape: MSAL (instance_discovery=False) only needs tenant discovery and the token endpoint,
so the simulator serves exactly those with Entra's error bodies (AADSTS codes) and never more.
Access tokens are random opaque strings mapped to the permissions the app had when they were
issued, so changing permissions only affects new tokens, as with real consent changes. Secrets are
compared in constant time and never echoed. Imports graphsim.errors only.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from graphsim.errors import GraphError

GRAPH_RESOURCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
READ_PERMISSIONS = frozenset(
    {"Organization.Read.All", "User.Read.All", "Group.Read.All", "AuditLog.Read.All"}
)


def make_secret() -> str:
    """A client secret shaped like Entra's (three characters, "8Q~", then 37 more)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"
    body = "".join(secrets.choice(alphabet) for _ in range(37))
    return "".join(secrets.choice(alphabet[:62]) for _ in range(3)) + "8Q~" + body


@dataclass
class _Token:
    expires: float
    permissions: frozenset[str]


@dataclass
class IdentityProvider:
    """One tenant with one registered confidential client application."""

    tenant_id: str
    domain: str
    client_id: str
    client_secret: str = field(repr=False)
    permissions: frozenset[str] = READ_PERMISSIONS
    token_lifetime: int = 3600
    secret_expired: bool = False
    origin: str = ""  # https://127.0.0.1:PORT, set when the server starts
    certificates: list[x509.Certificate] = field(default_factory=list)
    _tokens: dict[str, _Token] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def knows_tenant(self, segment: str) -> bool:
        return segment.lower() in (self.tenant_id, self.domain)

    def token_endpoint(self, tenant: str) -> str:
        return f"{self.origin}/{tenant}/oauth2/v2.0/token"

    def openid_configuration(self, tenant: str) -> tuple[int, dict[str, Any]]:
        """GET /{tenant}/v2.0/.well-known/openid-configuration."""
        if not self.knows_tenant(tenant):
            return self._aad_error(400, "invalid_tenant", 90002, self._no_tenant(tenant))
        base = f"{self.origin}/{self.tenant_id}"
        return 200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{self.origin}/{self.tenant_id}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{self.origin}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "tid"],
            "kerberos_endpoint": f"{base}/kerberos",
            "tenant_region_scope": None,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def _no_tenant(self, tenant: str) -> str:
        return (
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
            "signing into the correct cloud. Check with your subscription administrator, this may happen "
            "if there are no active subscriptions for the tenant."
        )

    def _aad_error(self, status: int, error: str, code: int, message: str) -> tuple[int, dict[str, Any]]:
        trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return status, {
            "error": error,
            "error_description": (
                f"AADSTS{code}: {message} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {stamp}"
            ),
            "error_codes": [code],
            "timestamp": stamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": f"{self.origin}/error?code={code}",
        }

    def token(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """POST /{tenant}/oauth2/v2.0/token (client credentials only)."""
        if not self.knows_tenant(tenant):
            return self._aad_error(400, "invalid_request", 90002, self._no_tenant(tenant))
        if form.get("grant_type") != "client_credentials":
            return self._aad_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        client_id = form.get("client_id", "").lower()
        if client_id != self.client_id:
            return self._aad_error(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{form.get('client_id', '')}' was not found in the directory "
                f"'{self.domain}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may have sent "
                "your authentication request to the wrong tenant.",
            )  # fmt: skip
        failure = self._check_credential(tenant, form)
        if failure is not None:
            return failure
        scope = form.get("scope", "")
        scopes = scope.split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._aad_error(
                400, "invalid_scope", 1002012,
                f"The provided value for scope {scope} is not valid. Client credential flows must have a "
                "scope value with /.default suffixed to the resource identifier (application ID URI).",
            )  # fmt: skip
        resource = scopes[0][: -len("/.default")]
        if resource.rstrip("/") not in (*GRAPH_RESOURCES, self.origin):
            return self._aad_error(
                400, "invalid_resource", 500011,
                f"The resource principal named {resource} was not found in the tenant named {self.domain}. "
                "This can happen if the application has not been installed by the administrator of the "
                "tenant or consented to by any user in the tenant.",
            )  # fmt: skip
        access = secrets.token_urlsafe(48)
        with self._lock:
            now = time.time()
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires > now}
            self._tokens[access] = _Token(now + self.token_lifetime, self.permissions)
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": access,
        }

    def _check_credential(self, tenant: str, form: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        assertion = form.get("client_assertion")
        if assertion is not None:
            if form.get("client_assertion_type") != ASSERTION_TYPE or not self._assertion_ok(
                tenant, assertion
            ):
                return self._aad_error(
                    401, "invalid_client", 700027,
                    "Client assertion failed signature validation, or the certificate used to sign it is "
                    "not registered on the application.",
                )  # fmt: skip
            return None
        secret = form.get("client_secret")
        if secret is None:
            return self._aad_error(
                401, "invalid_client", 7000218,
                "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            )  # fmt: skip
        if not hmac.compare_digest(secret.encode(), self.client_secret.encode()):
            return self._aad_error(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{self.client_id}'.",
            )  # fmt: skip
        if self.secret_expired:
            return self._aad_error(
                401, "invalid_client", 7000222,
                f"The provided client secret keys for app '{self.client_id}' are expired. Visit the Azure "
                "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
                "certificate credentials for added security: https://aka.ms/certCreds.",
            )  # fmt: skip
        return None

    def _assertion_ok(self, tenant: str, assertion: str) -> bool:
        """RS256/PS256 JWT signed by a registered certificate, for this app and this token endpoint."""
        audiences = [self.token_endpoint(tenant), self.token_endpoint(self.tenant_id)]
        for cert in self.certificates:
            try:
                claims = jwt.decode(
                    assertion, cert.public_key(), algorithms=["RS256", "PS256"],  # type: ignore[arg-type]
                    audience=audiences, options={"require": ["exp", "aud", "iss", "sub"]},
                )  # fmt: skip
            except jwt.PyJWTError:
                continue
            if str(claims.get("iss", "")).lower() == self.client_id and str(
                claims.get("sub", "")
            ).lower() == (self.client_id):
                return True
        return False

    def register_certificate(self, pem: str | bytes) -> str:
        """Allow client assertions signed by this certificate's key; returns its SHA-1 thumbprint."""
        cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
        self.certificates.append(cert)
        return cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Entra's x5t is SHA-1

    def permissions_of(self, authorization: str | None) -> frozenset[str]:
        """The permissions behind an `Authorization: Bearer ...` header, or 401 as Graph sends it."""
        challenge = {
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
        }
        if (
            not authorization
            or not authorization.lower().startswith("bearer ")
            or not authorization[7:].strip()
        ):
            raise GraphError(401, "InvalidAuthenticationToken", "Access token is empty.", challenge)
        with self._lock:
            token = self._tokens.get(authorization[7:].strip())
        if token is None:
            raise GraphError(
                401, "InvalidAuthenticationToken",
                "IDX14100: JWT is not well formed, there are no dots (.).\nThe token needs to be in JWS or "
                "JWE Compact Serialization Format.", challenge,
            )  # fmt: skip
        if token.expires <= time.time():
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Lifetime validation failed, the token is expired.",
                challenge,
            )
        return token.permissions
