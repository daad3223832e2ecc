"""The collection floor: every user page and usage report downloaded and parsed with plain
``requests``, ``json`` and ``csv``, nothing stored. No collector can be faster than that.

``bench_collect.py`` calls ``run`` in its own process, or with ``--process`` starts this file as
a process of its own (``python benchmarks/floor.py SPEC``), timed from outside like the
``license-desk collect`` process it is measured against. It imports nothing of License Desk, so
that process pays only for Python and requests; the spec (URLs, token request, the collector's
``$select``) comes from ``bench_collect.floor_spec``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from typing import Any

import requests


def run(spec: dict[str, Any]) -> tuple[float, int, int, int]:
    """Seconds, pages (user pages and reports), user pages and bytes, from the first user request."""
    session = requests.Session()
    session.trust_env = False
    verify = spec["ca_bundle"]
    token = session.post(spec["token_url"], data=spec["token_form"], verify=verify, timeout=30).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    started = time.perf_counter()
    url: str | None = spec["users_url"]
    params: dict[str, str] | None = spec["users_params"]
    pages = size = 0
    while url:
        response = session.get(url, params=params, headers=headers, verify=verify, timeout=120)
        body = response.json()
        pages += 1
        size += len(response.content)
        url, params = body.get("@odata.nextLink"), None
    user_pages = pages  # the pages --delay holds back (the reports are not delayed)
    for call in spec["report_urls"]:
        answer = session.get(call, headers=headers, verify=verify, allow_redirects=False, timeout=120)
        if answer.is_redirect:
            answer = session.get(answer.headers["Location"], verify=verify, timeout=120)
        rows = sum(1 for _ in csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        pages += 1
        size += len(answer.content)
        assert rows > 1, f"{call} came back empty"
    return time.perf_counter() - started, pages, user_pages, size


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
