"""The Entra side: OpenID discovery, the client-credentials token endpoint, bearer-token checks.

Why this shape: MSAL (instance_discovery=False) only needs tenant discovery and the token endpoint,
so the simulator serves exactly those with Entra's error bodies (AADSTS codes) and never more.
The tenant registers several confidential client apps (License Desk uses a read app and a write
app), each with its own secret, certificates and application permissions. Access tokens are random
opaque strings mapped to the app and the permissions it had when they were issued, so changing
permissions only affects new tokens, as with real consent changes. Like Entra, the token endpoint
only issues tokens for Microsoft Graph's own resource identifiers. Secrets are compared in
constant time and never echoed. Imports graphsim.errors only.
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

# What a client-credentials scope may name in the global cloud: Graph's app ID URI or its app id.
GRAPH_RESOURCES = ("https://graph.microsoft.com", "00000003-0000-0000-c000-000000000000")
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
READ_PERMISSIONS = frozenset(
    {
        "Organization.Read.All",
        "User.Read.All",
        "Group.Read.All",
        "AuditLog.Read.All",
        "Reports.Read.All",
        "ReportSettings.Read.All",
    }
)
WRITE_PERMISSIONS = frozenset({"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"})


def make_secret() -> str:
    """A client secret shaped like Entra's (three characters, "8Q~", then 37 more)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~"
    body = "".join(secrets.choice(alphabet) for _ in range(37))
    return "".join(secrets.choice(alphabet[:62]) for _ in range(3)) + "8Q~" + body


@dataclass
class RegisteredApp:
    """One app registration with a client secret (and optionally certificates) in the tenant."""

    client_id: str
    client_secret: str = field(repr=False)
    permissions: frozenset[str] = READ_PERMISSIONS
    secret_expired: bool = False
    certificates: list[x509.Certificate] = field(default_factory=list)


@dataclass(frozen=True)
class IssuedToken:
    """What an access token stands for: the app it was issued to and that app's permissions then."""

    client_id: str
    permissions: frozenset[str]
    expires: float
    tenant_id: str = ""  # the directory it was issued in (its ``tid``): the data it may read


@dataclass
class IdentityProvider:
    """The first tenant (``tenant_id``, ``domain``), any further ones (``add_directory``), and the
    confidential client apps, keyed by lowercase client id: multi-tenant apps consented in every
    directory, as one app of a managed service provider is in each customer's tenant."""

    tenant_id: str
    domain: str
    apps: dict[str, RegisteredApp]
    token_lifetime: int = 3600
    origin: str = ""  # https://127.0.0.1:PORT, set when the server starts
    _tokens: dict[str, IssuedToken] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _directories: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.add_directory(self.tenant_id, self.domain)

    def add_directory(self, tenant_id: str, domain: str) -> None:
        """Serve sign-ins for another tenant (by its id or its domain)."""
        for key in (tenant_id.lower(), domain.lower()):
            self._directories[key] = (tenant_id, domain)

    def resolve(self, segment: str) -> tuple[str, str] | None:
        """(tenant id, domain) of the tenant an authority path names, or None."""
        return self._directories.get(segment.lower())

    def knows_tenant(self, segment: str) -> bool:
        return self.resolve(segment) is not None

    def token_endpoint(self, tenant: str) -> str:
        return f"{self.origin}/{tenant}/oauth2/v2.0/token"

    def openid_configuration(self, tenant: str) -> tuple[int, dict[str, Any]]:
        """GET /{tenant}/v2.0/.well-known/openid-configuration."""
        found = self.resolve(tenant)
        if found is None:
            return self._aad_error(400, "invalid_tenant", 90002, self._no_tenant(tenant))
        base = f"{self.origin}/{found[0]}"
        return 200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
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
        found = self.resolve(tenant)
        if found is None:
            return self._aad_error(400, "invalid_request", 90002, self._no_tenant(tenant))
        tenant_id, domain = found
        if form.get("grant_type") != "client_credentials":
            return self._aad_error(
                400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type."
            )
        app = self.apps.get(form.get("client_id", "").lower())
        if app is None:
            return self._aad_error(
                400, "unauthorized_client", 700016,
                f"Application with identifier '{form.get('client_id', '')}' was not found in the directory "
                f"'{domain}'. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant. You may have sent "
                "your authentication request to the wrong tenant.",
            )  # fmt: skip
        failure = self._check_credential(tenant, form, app)
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
        # Entra resolves the resource by its app ID URI, never by the host a client calls: a scope
        # naming a gateway, a proxy or this simulator's own address is an unknown resource.
        if resource.rstrip("/").lower() not in GRAPH_RESOURCES:
            return self._aad_error(
                400, "invalid_resource", 500011,
                f"The resource principal named {resource} was not found in the tenant named {domain}. "
                "This can happen if the application has not been installed by the administrator of the "
                "tenant or consented to by any user in the tenant. You might have sent your authentication "
                "request to the wrong tenant.",
            )  # fmt: skip
        access = secrets.token_urlsafe(48)
        with self._lock:
            now = time.time()
            self._tokens = {k: v for k, v in self._tokens.items() if v.expires > now}
            self._tokens[access] = IssuedToken(
                app.client_id, app.permissions, now + self.token_lifetime, tenant_id
            )
        return 200, {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": access,
        }

    def _check_credential(
        self, tenant: str, form: dict[str, str], app: RegisteredApp
    ) -> tuple[int, dict[str, Any]] | None:
        assertion = form.get("client_assertion")
        if assertion is not None:
            if form.get("client_assertion_type") != ASSERTION_TYPE or not self._assertion_ok(
                tenant, assertion, app
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
        if not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
            return self._aad_error(
                401, "invalid_client", 7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                f"secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
            )  # fmt: skip
        if app.secret_expired:
            return self._aad_error(
                401, "invalid_client", 7000222,
                f"The provided client secret keys for app '{app.client_id}' are expired. Visit the Azure "
                "portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using "
                "certificate credentials for added security: https://aka.ms/certCreds.",
            )  # fmt: skip
        return None

    def _assertion_ok(self, tenant: str, assertion: str, app: RegisteredApp) -> bool:
        """RS256/PS256 JWT signed by a registered certificate, for this app and this token endpoint."""
        found = self.resolve(tenant)
        audiences = [self.token_endpoint(tenant), self.token_endpoint(found[0] if found else self.tenant_id)]
        for cert in app.certificates:
            try:
                claims = jwt.decode(
                    assertion, cert.public_key(), algorithms=["RS256", "PS256"],  # type: ignore[arg-type]
                    audience=audiences, options={"require": ["exp", "aud", "iss", "sub"]},
                )  # fmt: skip
            except jwt.PyJWTError:
                continue
            if str(claims.get("iss", "")).lower() == app.client_id and str(claims.get("sub", "")).lower() == (
                app.client_id
            ):
                return True
        return False

    @staticmethod
    def register_certificate(app: RegisteredApp, pem: str | bytes) -> str:
        """Allow the app client assertions signed by this certificate's key; returns its SHA-1 thumbprint."""
        cert = x509.load_pem_x509_certificate(pem.encode() if isinstance(pem, str) else pem)
        app.certificates.append(cert)
        return cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Entra's x5t is SHA-1

    def bearer(self, authorization: str | None) -> IssuedToken:
        """The token behind an `Authorization: Bearer ...` header, or 401 as Graph sends it."""
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
        return token
