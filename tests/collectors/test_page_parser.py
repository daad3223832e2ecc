"""The user pages' parser process (collectors.page_parser, collectors.page_process): a real child
process fed real page bytes through a real pipe. It makes the rows parsing here makes, a page that
is not one is the pager's error, a parser that dies is one sentence and a failed snapshot, and no
parser outlives its collector or waits on it."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.demo_tenant import simulator_settings
from collectors.page_parser import InlinePages, ProcessPages
from collectors.paging import Decoded
from collectors.retry import TransientError
from collectors.runner import run_collection
from collectors.snapshot import Progress
from collectors.user_rows import UserTuples, drop_repeated, user_page_tuples
from collectors.users import SIGNIN_FIELD, USER_FIELDS
from graphsim.server import GraphSimulator
from licensedesk.errors import GraphError, LicenseDeskError
from store import queries
from store.db import open_store
from tests.helpers.graph_client import fetch_token, https_session
from tests.helpers.processes import alive, child_left_by_a_killed_parent, children_running

ANN = {
    "id": "0A1B2C3D-0000-4000-8000-00000000000A",
    "userPrincipalName": " Ann@Contoso.com ",
    "displayName": "Ann",
    "accountEnabled": True,
    "usageLocation": "NL",
    "createdDateTime": "2024-05-01T09:00:00Z",
    "assignedLicenses": [{"skuId": "C7DF2760-2C81-4EF7-B578-5B5392B571DF", "disabledPlans": []}],
    "licenseAssignmentStates": [
        {
            "skuId": "C7DF2760-2C81-4EF7-B578-5B5392B571DF",
            "assignedByGroup": "9F1D3E44-1111-4222-8333-444455556666",
            "state": "Error",
            "error": "CountViolation",
            "disabledPlans": [],
            "lastUpdatedDateTime": "2026-11-30T08:00:00Z",
        }
    ],
    "signInActivity": {"lastSignInDateTime": "2026-11-29T10:00:00Z"},
}
NEXT = "https://graph.microsoft.com/v1.0/users?$skiptoken=X1"
ANN_PAGE = json.dumps({"@odata.nextLink": NEXT, "value": [ANN]}).encode()


@pytest.fixture
def parser() -> Iterator[ProcessPages]:
    pages = ProcessPages()
    try:
        yield pages
    finally:
        pages.close()


def test_a_page_becomes_its_rows_in_the_parser_process(parser: ProcessPages) -> None:
    """Worked by hand from ANN: ids lower-cased, the UPN trimmed, the group licence in error with
    its group, and the sign-in dates as Graph gave them."""
    page = parser.decoder(with_signins=True)(ANN_PAGE, "users")()
    uid = "0a1b2c3d-0000-4000-8000-00000000000a"
    sku = "c7df2760-2c81-4ef7-b578-5b5392b571df"
    assert page.next_link == NEXT
    assert page.items.users == [
        (uid, "Ann@Contoso.com", "Ann", 1, None, "NL", None, None, None, "2024-05-01T09:00:00Z")
    ]
    assert page.items.licenses == [
        (
            uid,
            sku,
            "9f1d3e44-1111-4222-8333-444455556666",
            "Error",
            "CountViolation",
            "",
            "2026-11-30T08:00:00Z",
        )
    ]
    assert page.items.assigned == [(uid, sku)]
    assert page.items.signins == [(uid, "2026-11-29T10:00:00Z", None, None)]
    without = parser.decoder(with_signins=False)(ANN_PAGE, "users")()
    assert without.items.signins == [] and without.items.users == page.items.users


def test_the_parser_process_makes_what_parsing_here_makes_of_simulated_pages(parser: ProcessPages) -> None:
    """Every page of a simulated tenant, fetched over HTTPS: the same rows from the process as from
    ``user_page_tuples`` over the standard library's parse, page by page."""
    with GraphSimulator(users=2100, seed=5) as sim:
        session = https_session(sim)
        headers = {"Authorization": f"Bearer {fetch_token(sim, session).json()['access_token']}"}
        url: str | None = f"{sim.graph_url}/users"
        params: dict[str, str] | None = {"$select": f"{USER_FIELDS},{SIGNIN_FIELD}", "$top": "999"}
        bodies: list[bytes] = []
        while url:
            raw = session.get(url, params=params, headers=headers, timeout=60).content
            bodies.append(raw)
            url, params = json.loads(raw).get("@odata.nextLink"), None
    assert len(bodies) == 3
    process, here = parser.decoder(with_signins=True), InlinePages().decoder(with_signins=True)
    # All sent before any answer is taken, as the prefetch threads do.
    answers = [process(raw, "users") for raw in bodies]
    users = 0
    for raw, answer in zip(bodies, answers, strict=True):
        body = json.loads(raw)
        expected = Decoded(body.get("@odata.nextLink"), user_page_tuples(body["value"], with_signins=True))
        assert answer() == expected == here(raw, "users")()
        users += len(expected.items.users)
    assert users == 2100


def test_what_is_not_a_page_is_the_pagers_error(parser: ProcessPages) -> None:
    decode = parser.decoder(with_signins=True)
    with pytest.raises(TransientError, match=r"^the users page: the answer was not complete JSON$"):
        decode(ANN_PAGE[: len(ANN_PAGE) // 2], "the users page")()
    with pytest.raises(GraphError, match=r"^Graph's answer for the users page is not a JSON object\.$"):
        decode(b"[1, 2]", "the users page")()
    with pytest.raises(GraphError, match=r"^Graph's answer for the users page has no 'value' list\.$"):
        decode(b'{"values": []}', "the users page")()
    # The parser carries on after each: the next page is read as usual.
    assert decode(ANN_PAGE, "the users page")().next_link == NEXT


def test_a_user_repeated_on_a_later_page_counts_once_from_the_first() -> None:
    """Graph repeats a user whose object changed while the sweep ran: Bob on both pages, with a
    different licence on the second; only page one's Bob is kept."""
    first = UserTuples(
        users=[("ann", "ann@x"), ("bob", "bob@x")],
        licenses=[("ann", "e3"), ("bob", "e3")],
        assigned=[("ann", "e3"), ("bob", "e3")],
        signins=[("ann", None), ("bob", None)],
    )
    second = UserTuples(
        users=[("bob", "bob@x"), ("cat", "cat@x")],
        licenses=[("bob", "e5"), ("cat", "e3")],
        assigned=[("bob", "e5"), ("cat", "e3")],
        signins=[("bob", "2026"), ("cat", None)],
        skipped=1,
    )
    seen: set[str] = set()
    assert drop_repeated(first, seen) == first
    assert drop_repeated(second, seen) == UserTuples(
        users=[("cat", "cat@x")],
        licenses=[("cat", "e3")],
        assigned=[("cat", "e3")],
        signins=[("cat", None)],
        skipped=1,
    )
    assert seen == {"ann", "bob", "cat"}


def test_a_parser_that_dies_is_one_sentence_for_the_page_waiting_and_the_next(parser: ProcessPages) -> None:
    decode = parser.decoder(with_signins=True)
    os.kill(parser.pid, signal.SIGSTOP)  # it holds the page sent next without answering...
    waiting = decode(ANN_PAGE, "users")
    os.kill(parser.pid, signal.SIGKILL)  # ...and is killed, as the OOM killer would
    sentence = r"^The process parsing user pages stopped \(exit code -9\); run the collection again\.$"
    with pytest.raises(LicenseDeskError, match=sentence):
        waiting()
    with pytest.raises(LicenseDeskError, match=sentence):
        decode(ANN_PAGE, "users")()


def test_a_parser_killed_mid_sweep_fails_the_snapshot_and_keeps_the_last(tmp_path: Path) -> None:
    # Ten pages: more than the pager keeps ahead of the one the sweep holds (four), so pages are
    # left to parse when the parser dies after the first (with four pages, all could be parsed).
    with GraphSimulator(users=9000, seed=3) as sim:
        settings = simulator_settings(sim, str(tmp_path / "store.sqlite"))
        kept = run_collection(settings).snapshot_id
        killed: list[int] = []

        def kill_the_parser(progress: Progress) -> None:
            if progress.step == "users" and not killed:
                killed.extend(children_running("collectors.page_process"))
                for pid in killed:
                    os.kill(pid, signal.SIGKILL)

        with pytest.raises(LicenseDeskError) as stopped:
            run_collection(settings, progress=kill_the_parser)
    assert len(killed) == 1
    assert (
        str(stopped.value)
        == "The process parsing user pages stopped (exit code -9); run the collection again."
    )
    with open_store(settings.store) as store:
        assert queries.resolve_snapshot(store) == kept
        latest = queries.snapshots(store).iloc[0]
        assert latest["status"] == "failed" and "parsing user pages stopped" in latest["error"]
    assert children_running("collectors.page_process") == []


@pytest.mark.parametrize(("users", "parsers"), [(400, 0), (2500, 1)])
def test_a_sweep_starts_the_parser_process_only_when_it_has_more_than_one_page(
    tmp_path: Path, users: int, parsers: int
) -> None:
    """A process costs more than parsing one page: a tenant of up to 999 users is parsed here."""
    seen: list[int] = []

    def count_parsers(progress: Progress) -> None:
        if progress.step == "users":
            seen.append(len(children_running("collectors.page_process")))

    with GraphSimulator(users=users, seed=4) as sim:
        summary = run_collection(simulator_settings(sim, str(tmp_path / "s.sqlite")), progress=count_parsers)
    assert summary.users == users
    assert seen == [parsers] * len(seen) and len(seen) == -(-users // 999)
    assert children_running("collectors.page_process") == []


def test_closing_with_pages_in_flight_neither_waits_nor_leaves_the_parser(parser: ProcessPages) -> None:
    """A sweep that fails (or is stopped) closes the parser with pages sent and unanswered."""
    decode = parser.decoder(with_signins=True)
    big = json.dumps({"value": [ANN] * 5000}).encode()  # several pages' worth, so some are unread
    for _ in range(4):
        decode(big, "users")
    started = time.monotonic()
    parser.close()
    assert time.monotonic() - started < 3
    assert not alive(parser.pid)


def test_a_killed_collector_leaves_no_page_parser_behind() -> None:
    script = (
        "import sys\n"
        "from collectors.page_parser import ProcessPages\n"
        "pages = ProcessPages()\n"
        "print(pages.pid, flush=True)\n"
        "sys.stdin.read()\n"
    )
    assert child_left_by_a_killed_parent(script) is None
