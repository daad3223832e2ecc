"""Paging over real HTTPS with the next page requested early (collectors.graph.iter_pages).

Graph's pages are served by a small HTTPS server written here, because the cases need pages the
simulator never makes: a nested object holding the key ``@odata.nextLink`` before the real one,
so the early look at the raw bytes takes the wrong link. Sign-in is the simulator's, as Entra's."""

from __future__ import annotations

import json
import ssl
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import trustme

from collectors.graph import GraphClient
from collectors.page_parser import ProcessPages
from collectors.paging import Decode, decode_here
from graphsim.server import GraphSimulator
from licensedesk.config import Settings


class Pages:
    """An HTTPS server answering GET /v1.0/users?<query> with canned bodies, and what it was asked."""

    def __init__(self, tmp: Path, sim_ca: str) -> None:
        ca = trustme.CA()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1").configure_cert(context)
        self.bundle = tmp / "cas.pem"
        self.bundle.write_bytes(ca.cert_pem.bytes() + Path(sim_ca).read_bytes())
        self.bodies: dict[str, dict[str, Any]] = {}
        self.cut_once: set[str] = set()  # queries answered first with half their body (whole HTTP)
        self.asked: list[str] = []
        pages = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = self.path.partition("?")[2]
                pages.asked.append(query)
                data = json.dumps(pages.bodies.get(query, {"value": []})).encode()
                if query in pages.cut_once:
                    # Framed as complete (Content-Length of what is sent): only the JSON shows it.
                    pages.cut_once.discard(query)
                    data = data[: len(data) // 2]
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.origin = f"https://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[tuple[Pages, GraphClient]]:
    with GraphSimulator(users=5, seed=1) as sim:
        server = Pages(tmp_path, sim.ca_bundle)
        settings = Settings(
            store=str(tmp_path / "s.sqlite"), tenant_id=sim.tenant_id, client_id=sim.client_id,
            client_secret=sim.client_secret, graph_url=f"{server.origin}/v1.0", authority_url=sim.authority_url,
            ca_bundle=str(server.bundle),
        )  # fmt: skip
        client = GraphClient(settings)
        try:
            yield server, client
        finally:
            client.session.close()
            server.close()


def _users(*ids: str) -> list[dict[str, Any]]:
    return [{"id": i} for i in ids]


@pytest.fixture(params=["here", "process"])
def decoding(request: pytest.FixtureRequest) -> Iterator[tuple[Decode, Callable[[Any], list[str]]]]:
    """Each way a page's bytes become its items: parsed on the caller's thread (every listing), or
    in the user pages' parser process (the user sweep); and how to read the ids back from them."""
    if request.param == "here":
        yield decode_here, lambda page: [u["id"] for u in page]
        return
    parser = ProcessPages()
    try:
        yield parser.decoder(with_signins=False), lambda page: [row[0] for row in page.users]
    finally:
        parser.close()


def test_a_misread_early_link_is_dropped_and_the_parsed_link_followed(
    pages: tuple[Pages, GraphClient], decoding: tuple[Decode, Callable[[Any], list[str]]]
) -> None:
    """Either decoder: the parser process is sent the decoy's page too, and its answer must not be
    taken for the next page's."""
    server, client = pages
    decode, ids = decoding
    decoy = f"{server.origin}/v1.0/users?decoy=1"
    server.bodies = {
        "first=1": {
            # A nested object holding the key: the early look at the raw bytes takes it.
            "value": [{"id": "u1", "extra": {"@odata.nextLink": decoy}}],
            "@odata.nextLink": f"{server.origin}/v1.0/users?page=2",
        },
        "page=2": {"value": _users("u2"), "@odata.nextLink": f"{server.origin}/v1.0/users?page=3"},
        "page=3": {"value": _users("u3")},
        "decoy=1": {"value": _users("stolen"), "@odata.nextLink": f"{server.origin}/v1.0/users?decoy=2"},
    }
    got = [ids(page) for page in client.iter_pages("/users", {"first": "1"}, decode)]
    assert got == [["u1"], ["u2"], ["u3"]]
    assert server.asked.count("page=2") == 1 and server.asked.count("page=3") == 1
    # The misread costs at most the two requests that may run ahead, to Graph's own host.
    assert sum(q.startswith("decoy") for q in server.asked) <= 2


def test_a_page_cut_short_inside_its_json_is_asked_again(
    pages: tuple[Pages, GraphClient], decoding: tuple[Decode, Callable[[Any], list[str]]]
) -> None:
    """A body whose HTTP framing says whole but whose JSON stops halfway (a proxy that lost the
    rest): the page is asked for again, and the sweep carries on with the next page as usual."""
    server, client = pages
    decode, ids = decoding
    server.bodies = {
        "page=1": {"@odata.nextLink": f"{server.origin}/v1.0/users?page=2", "value": _users("u1", "u2")},
        "page=2": {"@odata.nextLink": f"{server.origin}/v1.0/users?page=3", "value": _users("u3", "u4")},
        "page=3": {"value": _users("u5")},
    }
    server.cut_once = {"page=2"}
    got = [ids(page) for page in client.iter_pages("/users", {"page": "1"}, decode)]
    assert got == [["u1", "u2"], ["u3", "u4"], ["u5"]]
    assert server.asked.count("page=2") == 2 and server.asked.count("page=3") == 1


def test_a_link_to_another_host_is_never_requested_even_early(pages: tuple[Pages, GraphClient]) -> None:
    server, client = pages
    server.bodies = {
        "first=1": {"@odata.nextLink": "https://evil.example/v1.0/users?page=2", "value": _users("u1")},
    }
    iterator = client.iter_pages("/users", {"first": "1"})
    with pytest.raises(Exception, match="another host"):
        list(iterator)
    assert server.asked == ["first=1"]


def test_the_caller_is_never_more_than_four_pages_behind(pages: tuple[Pages, GraphClient]) -> None:
    """However slow the caller, only the four pages after the one it holds are requested."""
    server, client = pages
    server.bodies = {
        f"page={n}": {"@odata.nextLink": f"{server.origin}/v1.0/users?page={n + 1}", "value": _users(f"u{n}")}
        for n in range(1, 10)
    }
    server.bodies["page=10"] = {"value": _users("u10")}
    iterator = client.iter_pages("/users", {"page": "1"})
    first = next(iterator)
    time.sleep(1.0)  # the caller dawdles over page 1; requests may run ahead only so far
    assert first == _users("u1")
    assert sorted(server.asked) == ["page=1", "page=2", "page=3", "page=4", "page=5"]
    assert [u["id"] for page in iterator for u in page] == [f"u{n}" for n in range(2, 11)]


def test_pages_already_handed_over_are_not_kept(pages: tuple[Pages, GraphClient]) -> None:
    """A sweep holds a few pages at a time, never all of them (a 100k-user tenant is 126 MB of
    pages): 80 pages of ~330 KB each pass through, and only the few in flight are alive at once
    (a parsed page takes several times its bytes: the bound is in page sizes)."""
    server, client = pages
    filler = "x" * 300
    server.bodies = {
        f"page={n}": {
            "@odata.nextLink": f"{server.origin}/v1.0/users?page={n + 1}",
            "value": [{"id": f"u{n}-{k}", "note": filler} for k in range(1000)],
        }
        for n in range(1, 80)
    }
    server.bodies["page=80"] = {"value": _users("last")}
    tracemalloc.start()
    try:
        seen = sum(len(page) for page in client.iter_pages("/users", {"page": "1"}))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == 79 * 1000 + 1
    page_bytes = len(json.dumps(server.bodies["page=1"]))
    assert peak < 30 * page_bytes, (peak, page_bytes)
