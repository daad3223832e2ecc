"""License Desk's collection against Microsoft's Python SDK (msgraph-sdk), on the same simulator.

Both read the same users with the same ``$select`` and ``$top=999``; the SDK deserialises them
into its model objects, License Desk streams them into the store. Runs alternate; medians and
ratios are printed. The SDK is a benchmark-only dependency: ``pip install -e '.[bench]'``.

    .venv/bin/python benchmarks/bench_sdk.py --users 10000 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_collect import RemoteSimulator, floor  # noqa: E402

from collectors.runner import run_collection  # noqa: E402
from collectors.users import SIGNIN_FIELD, USER_FIELDS  # noqa: E402


def _token(sim: RemoteSimulator) -> str:
    session = requests.Session()
    session.trust_env = False
    answer = session.post(
        f"{sim.authority_url}/{sim.tenant_id}/oauth2/v2.0/token",
        data={"grant_type": "client_credentials", "client_id": sim.client_id,
              "client_secret": sim.client_secret, "scope": "https://graph.microsoft.com/.default"},
        verify=sim.ca_bundle, timeout=30,
    )  # fmt: skip
    return str(answer.json()["access_token"])


async def _sdk_users(sim: RemoteSimulator, token: str) -> int:
    from kiota_abstractions.authentication import (
        AccessTokenProvider,
        AllowedHostsValidator,
        BaseBearerTokenAuthenticationProvider,
    )
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph import GraphRequestAdapter, GraphServiceClient
    from msgraph.generated.users.users_request_builder import UsersRequestBuilder
    from msgraph_core import GraphClientFactory

    class Token(AccessTokenProvider):  # type: ignore[misc]
        async def get_authorization_token(
            self, uri: str, additional_authentication_context: Any = None
        ) -> str:
            return token

        def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
            return AllowedHostsValidator(["127.0.0.1"])

    http = GraphClientFactory.create_with_default_middleware(
        client=httpx.AsyncClient(verify=sim.ca_bundle, timeout=120)
    )
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(Token()), client=http)
    adapter.base_url = sim.graph_url
    client = GraphServiceClient(request_adapter=adapter)
    query = UsersRequestBuilder.UsersRequestBuilderGetQueryParameters(
        select=f"{USER_FIELDS},{SIGNIN_FIELD}".split(","), top=999
    )
    page = await client.users.get(request_configuration=RequestConfiguration(query_parameters=query))
    count = 0
    while page is not None:
        count += len(page.value or [])
        if not page.odata_next_link:
            break
        page = await client.users.with_url(page.odata_next_link).get()
    await http.aclose()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sim = RemoteSimulator(args.users, 1)
    floors: list[float] = []
    ours: list[float] = []
    sdk: list[float] = []
    try:
        token = _token(sim)
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                floors.append(floor(sim)[0])
                started = time.perf_counter()
                summary = run_collection(sim.settings(f"{tmp}/run{run}.sqlite"))
                ours.append(time.perf_counter() - started)
                started = time.perf_counter()
                listed = asyncio.run(_sdk_users(sim, token))
                sdk.append(time.perf_counter() - started)
                assert listed == summary.users, (listed, summary.users)
                print(f"run {run + 1}: floor {floors[-1]:.2f}s, license-desk collect {ours[-1]:.2f}s, "
                      f"msgraph-sdk list users {sdk[-1]:.2f}s ({listed:,} users)", flush=True)  # fmt: skip
    finally:
        sim.close()
    f, o, s = statistics.median(floors), statistics.median(ours), statistics.median(sdk)
    print()
    print(f"users {args.users:,}, runs {args.runs}")
    print(f"floor (download + parse)              median {f:.2f}s")
    print(f"license-desk collect (full snapshot)   median {o:.2f}s  = {o / f:.2f}x the floor")
    print(f"msgraph-sdk (users only, no storing)   median {s:.2f}s  = {s / f:.2f}x the floor")
    print(f"license-desk is {s / o:.1f}x faster than the SDK")


if __name__ == "__main__":
    main()
