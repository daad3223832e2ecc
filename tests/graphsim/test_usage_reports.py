"""The simulator's usage reports answer as Graph documents them: 302 to a download that needs no
token, CSV with Graph's headers and quirks, only the periods Graph accepts, Reports.Read.All,
concealed names, and 14 requests per 10 minutes per report."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from graphsim.server import GraphSimulator
from graphsim.usage import GB, UsageProfile, conceal
from tests.helpers.graph_client import READ, Graph, https_session

ACTIVE = "reports/getOffice365ActiveUserDetail(period='D30')"
MAILBOX = "reports/getMailboxUsageDetail(period='D30')"


def download(sim: GraphSimulator, graph: Graph, path: str) -> tuple[bytes, list[dict[str, str]]]:
    answer = graph.get(path, allow_redirects=False)
    assert answer.status_code == 302, answer.text
    location = answer.headers["Location"]
    assert location.startswith(sim.authority_url + "/reports-download/")
    # The download is pre-authenticated: a session without any Authorization header gets it.
    body = https_session(sim).get(location, timeout=30)
    assert body.status_code == 200
    assert body.headers["Content-Type"] == "application/octet-stream"
    text = body.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return body.content, list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_active_user_detail_is_a_redirect_to_graphs_csv(sim: GraphSimulator, graph: Graph) -> None:
    raw, rows = download(sim, graph, ACTIVE)
    header = raw.decode("utf-8").removeprefix("\ufeff").splitlines()[0]
    # The header line exactly as Graph's v1.0 page for getOffice365ActiveUserDetail lists it.
    assert header.startswith(
        "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Has Exchange License,"
    )
    assert header.endswith("Yammer License Assign Date,Teams License Assign Date,Assigned Products")
    licensed = [u for u in sim.tenant.users if u.held_skus()]
    assert len(rows) == len(licensed)
    # Two days behind the tenant's clock, as Graph's reports are.
    assert {r["Report Refresh Date"] for r in rows} == {
        (sim.tenant.now.date() - timedelta(days=2)).isoformat()
    }
    never = next(u for u in licensed if u.last_sign_in is None)
    row = next(r for r in rows if r["User Principal Name"] == never.upn)
    assert row["Exchange Last Activity Date"] == "" and row["Teams Last Activity Date"] == ""


def test_usage_is_pinned_per_user_and_consistent_with_licences(sim: GraphSimulator, graph: Graph) -> None:
    user = next(u for u in sim.tenant.users if u.held_skus() and u.account_enabled)
    sim.tenant.usage_overrides[user.id] = UsageProfile(
        exchange=date(2026, 1, 2), recipient_type="SharedMailbox", mailbox_bytes=3 * GB, on_hold=True
    )
    _, rows = download(sim, graph, MAILBOX)
    row = next(r for r in rows if r["User Principal Name"] == user.upn)
    assert row["Last Activity Date"] == "2026-01-02"
    assert row["Recipient Type"] == "SharedMailbox"
    assert row["Storage Used (Byte)"] == str(3 * 1024**3)
    assert row["Deleted Item Quota (Byte)"] == str(100 * 1024**3)  # a hold raises it to 100 GB
    assert row["Has Archive"] == "False"
    no_exchange = {u.upn for u in sim.tenant.users if not u.held_skus()}
    assert no_exchange.isdisjoint(r["User Principal Name"] for r in rows)


def test_copilot_report_is_beta_and_csv_only_on_request(sim: GraphSimulator, graph: Graph) -> None:
    beta = sim.graph_url.replace("/v1.0", "/beta")
    path = f"{beta}/reports/getMicrosoft365CopilotUsageUserDetail(period='D30')"
    assert graph.get(path + "?$format=text/csv", allow_redirects=False).status_code == 302
    # v1.0 has no such function, and Graph's default for it is JSON, which the simulator does not serve.
    assert graph.get("reports/getMicrosoft365CopilotUsageUserDetail(period='D30')").status_code == 400
    assert graph.get(path, allow_redirects=False).status_code == 400
    _, rows = download(sim, graph, path + "?$format=text/csv")
    holders = {u.upn for u in sim.tenant.users if sim.tenant.sku_id("Microsoft_365_Copilot") in u.held_skus()}
    assert {r["User Principal Name"] for r in rows} == holders


@pytest.mark.parametrize("bad", ["period='D31'", "period=D30", "period='d30'", "date=2026-01-01"])
def test_only_graphs_periods_are_accepted(graph: Graph, bad: str) -> None:
    answer = graph.get(f"reports/getOffice365ActiveUserDetail({bad})", allow_redirects=False)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "BadRequest"


def test_reports_need_reports_read_all(sim: GraphSimulator) -> None:
    refused = Graph(sim, READ)
    answer = refused.get(ACTIVE, allow_redirects=False)
    assert answer.status_code == 403
    assert refused.get("admin/reportSettings").status_code == 403


def test_concealed_names_are_hashes(sim: GraphSimulator, graph: Graph) -> None:
    assert graph.get("admin/reportSettings").json()["displayConcealedNames"] is False
    sim.tenant.concealed_names = True
    assert graph.get("admin/reportSettings").json()["displayConcealedNames"] is True
    _, rows = download(sim, graph, ACTIVE)
    user = next(u for u in sim.tenant.users if u.held_skus())
    names = {r["User Principal Name"] for r in rows}
    assert user.upn not in names and conceal(user.upn) in names
    assert all(len(n) == 32 and "@" not in n for n in names)


def test_fourteen_requests_per_ten_minutes_per_report(sim: GraphSimulator, graph: Graph) -> None:
    now = [1000.0]
    sim.api.reports.clock = lambda: now[0]
    for _ in range(14):
        assert graph.get(ACTIVE, allow_redirects=False).status_code == 302
    refused = graph.get(ACTIVE, allow_redirects=False)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "600"  # all 14 were at t=1000: the oldest leaves at 1600
    # The limit is per report: another report still answers.
    assert graph.get(MAILBOX, allow_redirects=False).status_code == 302
    now[0] += 600
    assert graph.get(ACTIVE, allow_redirects=False).status_code == 302


def test_download_links_expire(sim: GraphSimulator, graph: Graph) -> None:
    now = [0.0]
    sim.api.reports.clock = lambda: now[0]
    location = graph.get(ACTIVE, allow_redirects=False).headers["Location"]
    now[0] += 301  # "valid for a short period of time (a few minutes)"
    assert https_session(sim).get(location, timeout=10).status_code == 404


def test_a_simulated_day_passing_clears_the_limit(sim: GraphSimulator, graph: Graph) -> None:
    # The demo collects once per simulated day, dozens of times a minute: never throttled.
    for _ in range(14):
        assert graph.get(ACTIVE, allow_redirects=False).status_code == 302
    assert graph.get(ACTIVE, allow_redirects=False).status_code == 429
    sim.tenant.now += timedelta(days=1)
    assert graph.get(ACTIVE, allow_redirects=False).status_code == 302
