"""App-only sign-in to Microsoft Entra with MSAL (client secret or certificate).

One ``ConfidentialClientApplication`` per identity and process, token cache in memory only (MSAL
renews the token before it expires); tokens are never written anywhere. Entra's AADSTS error codes
become one sentence that names the setting to fix. The scope is always Microsoft Graph's resource
(its app ID URI), whatever host Graph is reached through. Imports no Streamlit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import msal
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from licensedesk.config import ENV_PREFIX, AppIdentity, Role, Settings
from licensedesk.errors import AuthError, ConfigError, redact

GLOBAL_GRAPH_RESOURCE = "https://graph.microsoft.com"
# Graph host -> Graph's app ID URI in that cloud (learn.microsoft.com/graph/deployments). Entra
# issues tokens only for these, so a gateway or proxy host in LICENSE_DESK_GRAPH_URL must not
# become the scope.
_GRAPH_RESOURCE_BY_HOST = {
    "graph.microsoft.com": GLOBAL_GRAPH_RESOURCE,
    "graph.microsoft.us": "https://graph.microsoft.us",
    "dod-graph.microsoft.us": "https://dod-graph.microsoft.us",
    "microsoftgraph.chinacloudapi.cn": "https://microsoftgraph.chinacloudapi.cn",
}

# AADSTS code -> what the operator should do about it. {tenant}, {client}, {scope} and {prefix}
# (LICENSE_DESK_ or LICENSE_DESK_WRITE_, whichever app signed in) are filled in.
_AADSTS_SENTENCES: dict[int, str] = {
    7000215: (
        "Entra rejected the client secret for app {client} (AADSTS7000215): check "
        "{prefix}CLIENT_SECRET holds the secret's Value, not its ID."
    ),
    7000222: (
        "The client secret for app {client} has expired (AADSTS7000222): create a new one under "
        "Certificates & secrets in the app registration and update {prefix}CLIENT_SECRET."
    ),
    700016: (
        "App {client} was not found in tenant {tenant} (AADSTS700016): check "
        "{prefix}CLIENT_ID and that the app is registered in, or consented to by, that tenant."
    ),
    90002: f"Tenant {{tenant}} was not found (AADSTS90002): check {ENV_PREFIX}TENANT_ID.",
    900023: f"Tenant {{tenant}} is not a valid tenant id or domain (AADSTS900023): check {ENV_PREFIX}TENANT_ID.",
    700027: (
        "Entra rejected the certificate for app {client} (AADSTS700027): upload the certificate in "
        "{prefix}CLIENT_CERTIFICATE to the app registration, or check it has not expired."
    ),
    7000229: (
        "App {client} has no service principal in tenant {tenant} (AADSTS7000229): an administrator "
        "must grant it admin consent first."
    ),
    500011: (
        "Entra knows no resource for the scope {scope} in tenant {tenant} (AADSTS500011): set "
        f"{ENV_PREFIX}GRAPH_SCOPE to Microsoft Graph's resource in your cloud, such as "
        f"{GLOBAL_GRAPH_RESOURCE}/.default."
    ),
}


class HttpClient(Protocol):
    """What MSAL needs of its ``http_client``: a requests.Session, or GraphClient's retrying one."""

    # (*args, **kwargs) as MSAL calls them: any signature fits, requests.Session's explicit one too.
    def get(self, *args: Any, **kwargs: Any) -> requests.Response: ...

    def post(self, *args: Any, **kwargs: Any) -> requests.Response: ...


class VerifyingSession(requests.Session):
    """A ``requests.Session`` that always verifies TLS against the configured CA bundle.

    ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` in the environment silently replace a session's
    ``verify`` (requests merges them over it), so the configured bundle is passed on every call.
    Every call also gets a bounded timeout: a hung server must not hang a nightly collection.
    """

    def __init__(self, ca_bundle: str | None, timeout: tuple[float, float] = (10.0, 120.0)) -> None:
        super().__init__()
        self._ca_bundle = ca_bundle
        self._timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self._ca_bundle:
            kwargs["verify"] = self._ca_bundle
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        return super().request(method, url, *args, **kwargs)


def graph_scope(settings: Settings) -> str:
    """The app-only scope: ``LICENSE_DESK_GRAPH_SCOPE`` if set, else Graph's resource in the cloud
    of ``LICENSE_DESK_GRAPH_URL``'s host, else (a gateway, a proxy, the simulator) the global one."""
    if settings.graph_scope:
        return settings.graph_scope
    host = (urlsplit(settings.graph_url).hostname or "").lower()
    return f"{_GRAPH_RESOURCE_BY_HOST.get(host, GLOBAL_GRAPH_RESOURCE)}/.default"


class TokenProvider:
    """Acquires and caches app-only Graph tokens for one tenant and one app.

    Args:
        settings: the tenant, the authority and both apps' credentials.
        http_client: what MSAL sends its requests with.
        role: "read" signs in as the read app (``LICENSE_DESK_CLIENT_*``), "write" as the write app
            (``LICENSE_DESK_WRITE_CLIENT_*``); a missing write app is a ConfigError at the first token.
    """

    def __init__(self, settings: Settings, http_client: HttpClient, *, role: Role = "read") -> None:
        settings.require_tenant()
        self._settings = settings
        self._http = http_client
        self._role: Role = role
        self._scope = graph_scope(settings)
        self._app: msal.ConfidentialClientApplication | None = None
        self._identity: AppIdentity | None = None

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            s = self._settings
            identity = self._identity = s.identity(self._role)
            credential: Any = identity.client_secret
            if identity.client_certificate:
                credential = load_certificate_credential(
                    identity.client_certificate, identity.client_certificate_password, prefix=identity.prefix
                )
            try:
                self._app = msal.ConfidentialClientApplication(
                    identity.client_id,
                    authority=f"{s.authority_url}/{s.tenant_id}",
                    client_credential=credential,
                    # Instance discovery calls login.microsoftonline.com; skipping it keeps national
                    # clouds, proxies and the simulator working, and tenant discovery still runs.
                    instance_discovery=False,
                    http_client=self._http,
                    token_cache=msal.TokenCache(),
                )
            except requests.exceptions.SSLError:
                raise AuthError(
                    f"TLS verification failed for {urlsplit(s.authority_url).netloc}: set "
                    f"{ENV_PREFIX}CA_BUNDLE to the CA that signed its certificate."
                ) from None
            except requests.exceptions.RequestException as exc:
                raise AuthError(
                    f"Cannot reach the sign-in endpoint {urlsplit(s.authority_url).netloc} "
                    f"({exc.__class__.__name__}); check {ENV_PREFIX}AUTHORITY_URL and the network."
                ) from None
            except ValueError as exc:
                raise AuthError(
                    f"The sign-in endpoint {s.authority_url}/{s.tenant_id} is not usable: "
                    f"{redact(str(exc), *s.secrets)}"
                ) from None
            except msal.exceptions.MsalServiceError as exc:
                # A 5xx from OpenID discovery that reached MSAL (a plain session, no retries).
                raise AuthError(
                    f"The sign-in endpoint {urlsplit(s.authority_url).netloc} failed OpenID discovery "
                    f"({redact(str(exc), *s.secrets)}); try again later."
                ) from None
        return self._app

    def token(self) -> str:
        """Return a valid access token (from MSAL's in-memory cache when still fresh)."""
        app = self._application()
        try:
            result = app.acquire_token_for_client(scopes=[self._scope])
        except requests.exceptions.SSLError:
            raise AuthError(
                f"TLS verification failed for {urlsplit(self._settings.authority_url).netloc}: set "
                f"{ENV_PREFIX}CA_BUNDLE to the CA that signed its certificate."
            ) from None
        except requests.exceptions.RequestException as exc:
            raise AuthError(
                f"Cannot reach the sign-in endpoint {urlsplit(self._settings.authority_url).netloc} "
                f"({exc.__class__.__name__})."
            ) from None
        if "access_token" in result:
            return str(result["access_token"])
        raise AuthError(self._explain(result))

    def reset(self) -> None:
        """Forget cached tokens: the next call asks Entra again (after a 401 from Graph)."""
        if self._app is not None:
            self._app.token_cache = msal.TokenCache()

    def _explain(self, result: dict[str, Any]) -> str:
        s = self._settings
        identity = self._identity
        assert identity is not None  # set by _application before any token request
        codes = result.get("error_codes") or []
        for code in codes:
            if code in _AADSTS_SENTENCES:
                return _AADSTS_SENTENCES[code].format(
                    tenant=s.tenant_id, client=identity.client_id, scope=self._scope, prefix=identity.prefix
                )
        description = str(result.get("error_description") or result.get("error") or "unknown error")
        first_line = description.strip().splitlines()[0] if description.strip() else description
        return redact(f"Entra refused the token request: {first_line}", *s.secrets)


def load_certificate_credential(
    path: str, password: str | None = None, *, prefix: str = ENV_PREFIX
) -> dict[str, str]:
    """Read a PEM file holding a private key and its certificate into MSAL's credential dict.

    ``prefix`` is the variables' prefix (``LICENSE_DESK_`` or ``LICENSE_DESK_WRITE_``) for messages.

    Raises:
        ConfigError: unreadable file, no key, no certificate, or a wrong password.
    """
    name = f"{prefix}CLIENT_CERTIFICATE"
    try:
        data = Path(path).read_bytes()
    except OSError:
        raise ConfigError(f"{name} points to {path}, which cannot be read.") from None
    try:
        key = serialization.load_pem_private_key(data, password=password.encode() if password else None)
    except (ValueError, TypeError):
        raise ConfigError(
            f"{name} ({path}) holds no readable private key, or its password "
            f"({prefix}CLIENT_CERTIFICATE_PASSWORD) is wrong."
        ) from None
    try:
        cert = x509.load_pem_x509_certificate(data)
    except ValueError:
        raise ConfigError(f"{name} ({path}) holds a private key but no PEM certificate.") from None
    der = cert.public_bytes(serialization.Encoding.DER)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "private_key": key_pem,
        "thumbprint": hashlib.sha1(der).hexdigest(),  # noqa: S324 - the x5t header is defined as SHA-1
        "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }
