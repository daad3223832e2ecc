"""Graph v1.0 read resources the product uses, and the router that also dispatches the writes.

Why one router for direct calls and $batch items: a batch item must meet exactly the same rules
(permissions, query validation, write rules) as the same call made on its own. Handlers hold
tenant.lock while they read or change state and build the JSON. Imports graphsim.calls,
graphsim.errors, graphsim.model, graphsim.odata, graphsim.payloads, graphsim.reports, graphsim.tenant,
graphsim.writes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, unquote

from graphsim import writes
from graphsim.calls import JSON_TYPE, ApiRequest, ApiResponse, need
from graphsim.errors import bad_request, forbidden, method_not_allowed, not_found
from graphsim.model import ERROR, Group, User
from graphsim.odata import (
    DEFAULT_TOP,
    Filter,
    PageTokens,
    check_options,
    parse_group_filter,
    parse_select,
    parse_top,
    parse_user_filter,
)
from graphsim.payloads import (
    GROUP_PROPERTIES,
    SKU_PROPERTIES,
    SUBSCRIPTION_PROPERTIES,
    USER_PROPERTIES,
    group_json,
    pick,
    sku_json,
    subscription_json,
    user_json,
)
from graphsim.reports import ReportService
from graphsim.tenant import Tenant

__all__ = ["JSON_TYPE", "ApiRequest", "ApiResponse", "GraphApi"]

T = TypeVar("T")
_DIR = frozenset({"Directory.Read.All", "Directory.ReadWrite.All"})
SKU_READ = _DIR | {"LicenseAssignment.Read.All", "Organization.Read.All", "LicenseAssignment.ReadWrite.All",
                   "Organization.ReadWrite.All"}  # fmt: skip
ORG_READ = _DIR | {"Organization.Read.All", "Organization.ReadWrite.All"}
USER_READ = _DIR | {"User.Read.All", "User.ReadWrite.All"}
GROUP_READ = _DIR | {"Group.Read.All", "GroupMember.Read.All", "Group.ReadWrite.All"}


class GraphApi:
    """Answers Graph calls for one tenant; base_url is the absolute /v1.0 URL for links."""

    def __init__(self, tenant: Tenant, tokens: PageTokens, page_cap: int = 999) -> None:
        self.tenant = tenant
        self.tokens = tokens
        self.page_cap = page_cap
        self.base_url = ""
        self.reports = ReportService(tenant)

    def handle(self, req: ApiRequest) -> ApiResponse:
        """Route one call; raises GraphError for every error answer."""
        # OData option names are case-insensitive ($Select works); parameter values are not.
        req.query = {(k.lower() if k.startswith("$") else k): v for k, v in req.query.items()}
        raw = [s for s in req.path.split("/") if s]
        segs = [unquote(s) for s in raw]
        names = [s.lower().removeprefix("microsoft.graph.") for s in segs]
        m = req.method
        if names[:1] == ["reports"] and len(names) == 2:
            return self.reports.report(req, raw[1], req.version)
        if req.version != "v1.0":
            raise bad_request(
                f"Resource not found for the segment '{segs[0] if segs else ''}'.", code="BadRequest"
            )
        if names == ["admin", "reportsettings"]:
            return self.reports.settings(req, self.base_url)
        with self.tenant.lock:
            if names == ["subscribedskus"]:
                return self._only(m, "GET", lambda: self._skus(req, None))
            if len(names) == 2 and names[0] == "subscribedskus":
                return self._only(m, "GET", lambda: self._skus(req, segs[1]))
            if names[:2] == ["directory", "subscriptions"] and len(names) <= 3:
                return self._only(
                    m, "GET", lambda: self._subscriptions(req, segs[2] if len(segs) == 3 else None)
                )
            if names == ["users"]:
                return self._only(m, "GET", lambda: self._users(req))
            if names[:1] == ["users"] and len(names) in (2, 3):
                return self._user_item(req, segs[1], names[2] if len(names) == 3 else None)
            if names == ["groups"]:
                return self._only(m, "GET", lambda: self._groups(req))
            if names[:1] == ["groups"] and len(names) in (2, 3):
                return self._group_item(req, segs[1], names[2] if len(names) == 3 else None)
        bad = segs[0] if segs else ""
        raise bad_request(f"Resource not found for the segment '{bad}'.", code="BadRequest")

    @staticmethod
    def _only(method: str, allowed: str, run: Callable[[], ApiResponse]) -> ApiResponse:
        if method != allowed:
            raise method_not_allowed()
        return run()

    def _context(self, entity_set: str, select: Sequence[str] | None, entity: bool = False) -> str:
        sel = f"({','.join(select)})" if select else ""
        return f"{self.base_url}/$metadata#{entity_set}{sel}{'/$entity' if entity else ''}"

    def _page(
        self, req: ApiRequest, items: Sequence[T], matches: Callable[[T], bool],
        render: Callable[[T], dict[str, Any]], context: str, count: bool = False,
    ) -> ApiResponse:  # fmt: skip
        size = min(parse_top(req.query.get("$top")) or DEFAULT_TOP, self.page_cap)
        fingerprint = PageTokens.fingerprint(req.path, req.query)
        token = req.query.get("$skiptoken")
        pos = self.tokens.decode(token, fingerprint) if token is not None else 0
        values: list[dict[str, Any]] = []
        while pos < len(items) and len(values) < size:
            if matches(items[pos]):
                values.append(render(items[pos]))
            pos += 1
        while pos < len(items) and not matches(items[pos]):
            pos += 1
        body: dict[str, Any] = {"@odata.context": context}
        if count:
            body["@odata.count"] = sum(1 for it in items if matches(it))
        if pos < len(items):
            params = {k: v for k, v in req.query.items() if k.lower() != "$skiptoken"}
            params["$skiptoken"] = self.tokens.encode(pos, fingerprint)
            qs = "&".join(f"{k}={quote(v, safe=chr(36) + ',()/:@')}" for k, v in params.items())
            body["@odata.nextLink"] = f"{self.base_url}/{req.path.strip('/')}?{qs}"
        body["value"] = values
        return ApiResponse(200, body)

    # -- subscribedSkus and subscriptions --------------------------------------------------
    def _skus(self, req: ApiRequest, item: str | None) -> ApiResponse:
        need(req, SKU_READ)
        check_options(req.query, {"$select"}, "subscribedSkus")
        select = parse_select(req.query.get("$select"), SKU_PROPERTIES, "subscribedSku")
        t = self.tenant
        if item is None:
            values = [pick(sku_json(t, s.sku_id), select) for s in t.skus]
            return ApiResponse(
                200, {"@odata.context": self._context("subscribedSkus", select), "value": values}
            )
        sku = item.lower().rsplit("_", 1)[-1]
        if item.lower() != f"{t.tenant_id}_{sku}" or sku not in t.sku_by_id:
            raise not_found(item)
        body = {
            "@odata.context": self._context("subscribedSkus", select, True),
            **pick(sku_json(t, sku), select),
        }
        return ApiResponse(200, body)

    def _subscriptions(self, req: ApiRequest, item: str | None) -> ApiResponse:
        need(req, ORG_READ)
        t = self.tenant
        if item is not None:
            check_options(req.query, {"$select"}, "subscriptions")
            select = parse_select(req.query.get("$select"), SUBSCRIPTION_PROPERTIES, "companySubscription")
            sub = next(
                (s for s in t.subscriptions if item.lower() in (s.id, s.commerce_subscription_id)), None
            )
            if sub is None:
                raise not_found(item)
            ctx = self._context("directory/subscriptions", select, True)
            return ApiResponse(200, {"@odata.context": ctx, **pick(subscription_json(t, sub), select)})
        check_options(req.query, {"$select", "$top", "$skiptoken"}, "subscriptions")
        select = parse_select(req.query.get("$select"), SUBSCRIPTION_PROPERTIES, "companySubscription")
        return self._page(
            req, t.subscriptions, lambda s: True, lambda s: pick(subscription_json(t, s), select),
            self._context("directory/subscriptions", select),
        )  # fmt: skip

    # -- users -----------------------------------------------------------------------------
    def _user_select(self, req: ApiRequest) -> list[str] | None:
        select = parse_select(req.query.get("$select"), list(USER_PROPERTIES), "user")
        if select and "signInActivity" in select:
            if "AuditLog.Read.All" not in req.permissions:
                raise forbidden()
            if not self.tenant.has_premium:
                raise forbidden("Neither tenant is B2C or tenant doesn't have premium license")
        return select

    def _user_matches(self, flt: Filter | None) -> Callable[[User], bool]:
        if flt is None:
            return lambda u: True
        v = flt.value
        if flt.kind == "sku":
            return lambda u: v in u.held_skus()
        if flt.kind == "accountEnabled":
            return lambda u: u.account_enabled is v
        if flt.kind == "userType":
            return lambda u: u.user_type == v
        if flt.kind == "usageLocation":
            return lambda u: u.usage_location == v
        assert isinstance(v, frozenset)
        return lambda u: u.id in v

    def _users(self, req: ApiRequest) -> ApiResponse:
        need(req, USER_READ)
        check_options(req.query, {"$select", "$top", "$filter", "$skiptoken", "$count"}, "users")
        select = self._user_select(req)
        matches = self._user_matches(parse_user_filter(req.query.get("$filter")))
        count = (
            req.query.get("$count", "").lower() == "true"
            and req.headers.get("consistencylevel") == "eventual"
        )
        t = self.tenant
        return self._page(
            req, t.users, matches, lambda u: user_json(t, u, select), self._context("users", select), count
        )

    def _find_user(self, key: str) -> User:
        user = self.tenant.user(key)
        if user is None:
            raise not_found(key)
        return user

    def _user_item(self, req: ApiRequest, key: str, action: str | None) -> ApiResponse:
        t = self.tenant
        if action is None and req.method == "GET":
            need(req, USER_READ)
            check_options(req.query, {"$select"}, "users")
            select = self._user_select(req)
            user = self._find_user(key)
            return ApiResponse(
                200, {"@odata.context": self._context("users", select, True), **user_json(t, user, select)}
            )
        if action is None and req.method == "PATCH":
            need(req, writes.USER_WRITE)
            return writes.patch_user(t, req, self._find_user(key))
        if action in ("assignlicense", "reprocesslicenseassignment") and req.method == "POST":
            need(req, writes.USER_LICENSE_WRITE if action == "assignlicense" else writes.USER_WRITE)
            user = self._find_user(key)
            run = writes.assign_user if action == "assignlicense" else writes.reprocess_user
            return run(t, req, user, self._context("users", None, True))
        if action is None:
            raise method_not_allowed()
        raise bad_request(f"Resource not found for the segment '{action}'.", code="BadRequest")

    # -- groups ----------------------------------------------------------------------------
    def _has_errors(self, group: Group) -> bool:
        users = self.tenant.users_by_id
        return any(
            lic.state == ERROR
            for uid in group.members
            for (gid, _), lic in users[uid].group_licenses.items()
            if gid == group.id
        )

    def _groups(self, req: ApiRequest) -> ApiResponse:
        need(req, GROUP_READ)
        check_options(req.query, {"$select", "$top", "$filter", "$skiptoken", "$count"}, "groups")
        select = parse_select(req.query.get("$select"), list(GROUP_PROPERTIES), "group")
        advanced = (
            req.headers.get("consistencylevel", "").lower() == "eventual"
            or req.query.get("$count", "").lower() == "true"
        )
        flt = parse_group_filter(req.query.get("$filter"), advanced=advanced)
        matches: Callable[[Group], bool] = lambda g: True  # noqa: E731
        if flt is not None and flt.kind == "sku":
            matches = lambda g: flt.value in g.licenses  # noqa: E731
        elif flt is not None and flt.kind == "displayName":
            matches = lambda g: g.display_name.lower() == str(flt.value).lower()  # noqa: E731
        elif flt is not None:
            matches = self._has_errors
        t = self.tenant
        count = (
            req.query.get("$count", "").lower() == "true"
            and req.headers.get("consistencylevel") == "eventual"
        )
        return self._page(
            req, t.groups, matches, lambda g: group_json(t, g, select), self._context("groups", select), count
        )

    def _group_item(self, req: ApiRequest, key: str, action: str | None) -> ApiResponse:
        t = self.tenant
        group = t.group(key)
        if action == "assignlicense" and req.method == "POST":
            need(req, writes.GROUP_LICENSE_WRITE)
            if group is None:
                raise not_found(key)
            return writes.assign_group(t, req, group, self._context("groups", None, True))
        if req.method != "GET":
            raise method_not_allowed()
        need(req, GROUP_READ)
        if group is None:
            raise not_found(key)
        if action is None:
            check_options(req.query, {"$select"}, "groups")
            select = parse_select(req.query.get("$select"), list(GROUP_PROPERTIES), "group")
            return ApiResponse(
                200, {"@odata.context": self._context("groups", select, True), **group_json(t, group, select)}
            )
        if action not in ("members", "memberswithlicenseerrors"):
            raise bad_request(f"Resource not found for the segment '{action}'.", code="BadRequest")
        check_options(req.query, {"$select", "$top", "$skiptoken"}, action)
        select = self._user_select(req)
        members = [t.users_by_id[uid] for uid in group.members]
        gid = group.id
        matches: Callable[[User], bool] = lambda u: True  # noqa: E731
        if action == "memberswithlicenseerrors":
            matches = lambda u: any(k[0] == gid and lic.state == ERROR for k, lic in u.group_licenses.items())  # noqa: E731
        return self._page(
            req, members, matches, lambda u: {"@odata.type": "#microsoft.graph.user", **user_json(t, u, select)},
            self._context("directoryObjects", select),
        )  # fmt: skip
