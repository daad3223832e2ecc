"""Driving the dashboard in Streamlit's AppTest, and reading what its pages show."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import DownloadButton

from tests.helpers.paths import REPO

APP = str(REPO / "dashboard" / "app.py")


def open_app(monkeypatch: pytest.MonkeyPatch, store: str, page: str | None = None) -> AppTest:
    """Run the dashboard on ``store`` and switch to ``app_pages/<page>.py``; fail on any exception."""
    monkeypatch.setenv("LICENSE_DESK_STORE", store)
    at = AppTest.from_file(APP, default_timeout=60).run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    """Every metric shown, label -> value text."""
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, first_column: str, *others: str) -> pd.DataFrame:
    """The first table shown whose columns start with the given ones."""
    wanted = [first_column, *others]
    for frame in at.dataframe:
        value = frame.value
        if list(value.columns[: len(wanted)]) == wanted:
            return value
    raise AssertionError(
        f"no table starts with {wanted}: {[list(f.value.columns[:3]) for f in at.dataframe]}"
    )


def texts(at: AppTest) -> list[str]:
    """Markdown, captions, info, warning, error and success texts, in page order by kind."""
    out: list[str] = []
    for kind in (at.markdown, at.caption, at.info, at.warning, at.error, at.success):
        out.extend(str(e.value) for e in kind)
    return out


def download_labels(at: AppTest) -> list[str]:
    """The labels of every download button shown, in page order."""
    found = at.get("download_button")
    assert all(isinstance(e, DownloadButton) for e in found), found
    return [e.label for e in found if isinstance(e, DownloadButton)]


def metric_list(at: AppTest) -> list[tuple[str, str]]:
    """Every metric shown as (label, value), in page order (labels repeat across currencies)."""
    return [(m.label, m.value) for m in at.metric]


def rows(frame: pd.DataFrame, *columns: str) -> list[list[Any]]:
    """Some columns of a shown table as lists, missing values as None."""
    part = frame[list(columns)]
    return part.astype(object).where(part.notna(), None).values.tolist()  # type: ignore[no-any-return]
