"""The next page's link read from a page's raw bytes, so the next request starts before the page
is parsed (collectors.graph.next_link_hint). A hint is only ever followed after the client's
same-host check, and the parsed page decides; these cases pin what the raw scan may return."""

from __future__ import annotations

import json

import pytest

from collectors.graph import next_link_hint

LINK = "https://graph.microsoft.com/v1.0/users?$select=id&$top=999&$skiptoken=RFNwdAIAAQAAAC"


def page(link: str | None, *, first: bool, names: tuple[str, ...] = ("Ann",)) -> bytes:
    body: dict[str, object] = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#users"}
    if link is not None and first:
        body["@odata.nextLink"] = link
    body["value"] = [{"id": str(i), "displayName": n} for i, n in enumerate(names)]
    if link is not None and not first:
        body["@odata.nextLink"] = link
    return json.dumps(body).replace(" ", "").encode()


@pytest.mark.parametrize("first", [True, False], ids=["before value", "after value"])
def test_the_link_is_found_wherever_graph_puts_it(first: bool) -> None:
    assert next_link_hint(page(LINK, first=first)) == LINK


def test_escaped_characters_in_the_link_are_decoded() -> None:
    raw = b'{"value":[],"@odata.nextLink":"https:\\/\\/graph.microsoft.com\\/v1.0\\/users?a=1\\u0026b=2"}'
    assert next_link_hint(raw) == "https://graph.microsoft.com/v1.0/users?a=1&b=2"


def test_the_last_page_has_none() -> None:
    assert next_link_hint(page(None, first=True)) is None


def test_tenant_text_spelling_the_key_is_not_taken_for_the_link() -> None:
    # A display name holding the key's text is JSON-escaped, so the raw pattern cannot match it.
    evil = 'x","@odata.nextLink":"https://evil.example/steal'
    assert next_link_hint(page(None, first=True, names=(evil,))) is None
    assert next_link_hint(page(LINK, first=False, names=(evil,))) == LINK


@pytest.mark.parametrize(
    "raw",
    [
        b'{"@odata.nextLink" : "https://graph.microsoft.com/v1.0/users?x=1","value":[]}',  # spaced: parse decides
        b'{"value":[],"@odata.nextLink":"https://graph.microsoft.com/v1.0/us',  # cut short
        b'{"value":[],"@odata.nextLink":null}',
        b'{"value":[],"@odata.nextLink":""}',
    ],
)
def test_anything_unusual_gives_no_hint(raw: bytes) -> None:
    assert next_link_hint(raw) is None
