"""Regenerate docs/screenshots/*.png: every dashboard page, rendered by a real browser.

Usage (from the repository root):

    .venv/bin/python -m licensedesk demo --build-only --store /tmp/demo.sqlite
    .venv/bin/python scripts/screenshots.py --store /tmp/demo.sqlite [--only costs reclaim renewals]

Needs Debian's Chromium (``apt-get install chromium``) and ``pip install playwright``; never run
``playwright install`` (it downloads browsers). The dashboard is started headless on a free port
of 127.0.0.1 and stopped afterwards.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cli.serve import serving_dashboard

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the browser helpers the browser tests use: one Chromium set-up

from tests.helpers.browser import CHROMIUM, LAUNCH_ARGS, open_page  # noqa: E402

# (navigation title, file stem, whether the page draws a plotly chart)
PAGES = [
    ("Overview", "overview", True),
    ("SKU detail", "sku_detail", True),
    ("Users", "users", False),
    ("Group errors", "group_errors", False),
    ("Trends", "trends", True),
    ("Costs", "costs", False),
    ("Reclaim", "reclaim", False),
    ("Renewals", "renewals", False),
    ("Data", "data", False),
]


@contextmanager
def dashboard(store: str, timeout: float = 60.0) -> Iterator[str]:
    """Serve the dashboard on ``store`` (toolbar hidden for clean pictures); yields its URL."""
    with serving_dashboard(
        {"LICENSE_DESK_STORE": store}, timeout=timeout, extra=("--client.toolbarMode=viewer",)
    ) as url:
        yield url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default=str(REPO / "data" / "demo.sqlite"), help="the store to show")
    parser.add_argument("--out", default=str(REPO / "docs" / "screenshots"), help="where the PNGs go")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument(
        "--only", nargs="+", metavar="STEM", choices=[stem for _, stem, _ in PAGES],
        help="only these pages (file stems, e.g. costs reclaim); default: every page",
    )  # fmt: skip
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with dashboard(args.store) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        page = browser.new_page(viewport={"width": args.width, "height": 900})
        page.goto(url, wait_until="domcontentloaded")
        for title, stem, has_chart in PAGES:
            if args.only and stem not in args.only:
                continue
            open_page(page, title, has_chart)
            # Streamlit scrolls inside its main block, so a full-page screenshot only sees the
            # viewport: grow the viewport to the content's height instead.
            height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
            page.set_viewport_size({"width": args.width, "height": max(900, int(height))})
            open_page(page, title, has_chart)  # the page shown: only waits for it to redraw
            target = out / f"{stem}.png"
            page.screenshot(path=str(target), full_page=True)
            page.set_viewport_size({"width": args.width, "height": 900})
            print(target)
        browser.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
