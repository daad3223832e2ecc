"""JSON batching (POST /v1.0/$batch): validation, dependsOn ordering, 424 for failed dependencies.

Why a separate executor callback: every item must go through the same fault injection, logging,
permission checks and router as a direct call, which the server owns; this module only knows
Graph's batch rules (at most 20 items, unique string ids, relative URLs, Content-Type with a body,
responses in any order: the simulator answers in reverse so clients that rely on order fail fast).
Imports graphsim.calls and graphsim.errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graphsim.calls import ApiResponse
from graphsim.errors import bad_request

MAX_ITEMS = 20
# (method, url, lowercase headers, body, refusal): the server logs the item, applies faults and routes
# it; when refusal is set (an item the batch rules refuse before it runs) it logs it and answers that.
ExecuteItem = Callable[[str, str, dict[str, str], bytes, ApiResponse | None], ApiResponse]


def _error(status: int, code: str, message: str) -> ApiResponse:
    return ApiResponse(status, {"error": {"code": code, "message": message}})


def run_batch(body: bytes, execute: ExecuteItem) -> ApiResponse:
    """Run the batch in `body`; raises GraphError (400) for a malformed batch as a whole."""
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = None
    requests = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
        raise bad_request("Invalid batch payload format.", code="BadRequest")
    if len(requests) > MAX_ITEMS:
        raise bad_request(f"Number of batch requests exceeds the limit of {MAX_ITEMS}.", code="BadRequest")
    ids = [r.get("id") for r in requests]
    if not all(isinstance(i, str) and i for i in ids):
        raise bad_request("Batch request id must be a non-empty string.", code="BadRequest")
    if len(set(ids)) != len(ids):
        raise bad_request("Batch request ids must be unique.", code="BadRequest")
    by_id = {r["id"]: r for r in requests}
    for r in requests:
        deps = r.get("dependsOn", [])
        if not isinstance(deps, list) or any(d not in by_id or d == r["id"] for d in deps):
            raise bad_request(f"Request id {r['id']} depends on an unknown request id.", code="BadRequest")
    done: dict[str, ApiResponse] = {}
    order: list[str] = []
    while len(done) < len(requests):
        ready = [
            r for r in requests if r["id"] not in done and all(d in done for d in r.get("dependsOn", []))
        ]
        if not ready:
            raise bad_request("Batch requests have circular dependencies.", code="BadRequest")
        for r in ready:
            done[r["id"]] = _run_item(r, done, execute)
            order.append(r["id"])
    # An omitted item (fault injection) still ran, and dependsOn saw its real status.
    responses = [_render(i, done[i]) for i in reversed(order) if not done[i].omit]
    return ApiResponse(200, {"responses": responses})


def _run_item(item: dict[str, Any], done: dict[str, ApiResponse], execute: ExecuteItem) -> ApiResponse:
    failed = [d for d in item.get("dependsOn", []) if done[d].status >= 400]
    if failed:
        return _error(
            424, "FailedDependency", f"Request {item['id']} failed because request {failed[0]} failed."
        )
    method, url = item.get("method"), item.get("url")
    if not isinstance(method, str) or not isinstance(url, str) or not url:
        return _error(400, "BadRequest", f"Request id {item['id']} has no method or url.")
    headers = item.get("headers") or {}
    lowered = {str(k).lower(): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
    raw_body = b"" if item.get("body") is None else json.dumps(item["body"]).encode()
    refusal = None
    if "://" in url:
        refusal = _error(400, "BadRequest", "Batch request url must be relative to the batch endpoint.")
    elif not isinstance(headers, dict):
        refusal = _error(400, "BadRequest", f"Headers of request id {item['id']} must be an object.")
    elif raw_body and "content-type" not in lowered:
        message = f"Write request id : {item['id']} does not contain Content-Type header or body."
        refusal = _error(400, "BadRequest", message)
    return execute(method.upper(), url, lowered, raw_body, refusal)


def _render(item_id: str, resp: ApiResponse) -> dict[str, Any]:
    out: dict[str, Any] = {"id": item_id, "status": resp.status, "headers": resp.headers}
    if resp.body is not None:
        out["body"] = resp.body
    return out
