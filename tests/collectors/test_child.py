"""The collection's child processes (collectors.child) start the same wherever the collection runs."""

from __future__ import annotations

import sys
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from collectors.page_parser import ProcessPages
from collectors.usage_process import ProcessParser

ACTIVE = (
    b"Report Refresh Date,User Principal Name,Exchange Last Activity Date,OneDrive Last Activity Date,"
    b"SharePoint Last Activity Date,Teams Last Activity Date,Yammer Last Activity Date\n"
    b"2026-03-09,Ann@x.com,2026-03-08,,,,\n"
)
PAGE = b'{"@odata.nextLink": "https://graph.microsoft.com/v1.0/users?$skiptoken=X", "value": [{"id": "A1"}]}'


def _parse_a_report() -> object:
    parser = ProcessParser()
    try:
        parser.add("active", [ACTIVE], "active", lambda: None)
        return sorted(parser.result().by_name)
    finally:
        parser.close()


def _parse_a_page() -> object:
    pages = ProcessPages()
    try:
        return [row[0] for row in pages.decoder(with_signins=False)(PAGE, "users")().items.users]
    finally:
        pages.close()


@pytest.mark.parametrize(("use", "expected"), [(_parse_a_report, ["ann@x.com"]), (_parse_a_page, ["a1"])])
def test_a_parser_starts_the_same_under_streamlit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use: Callable[[], object], expected: object
) -> None:
    """Streamlit runs each page with the page script as ``sys.modules["__main__"]`` (the
    dashboard's "Collect now"): a child started the way multiprocessing's spawn does it would run
    the dashboard's app in the child (it did, in the suite: every collection after an AppTest
    failed). Neither parser may run it at all."""
    ran = tmp_path / "ran"
    page = tmp_path / "app.py"
    page.write_text(f"open({str(ran)!r}, 'w').close()\nraise SystemExit(3)\n")
    fake_main = types.ModuleType("__main__")
    fake_main.__file__ = str(page)
    monkeypatch.setitem(sys.modules, "__main__", fake_main)
    assert use() == expected
    assert not ran.exists()
