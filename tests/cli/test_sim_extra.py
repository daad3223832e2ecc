"""Installed without the ``sim`` extra (no trustme: the simulator's throwaway CA), License Desk
works; only ``demo`` and ``simulator`` refuse, in one sentence that says what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# The interpreter as it is without the extra: importing trustme fails as a missing package does.
WITHOUT_TRUSTME = "import sys; sys.modules['trustme'] = None; from cli.main import main; main()"
REFUSAL = (
    "license-desk: error: The simulator's packages are not installed (trustme is missing): "
    "install License Desk with its sim extra (pip install 'license-desk[sim]').\n"
)


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    env["LICENSE_DESK_STORE"] = str(tmp_path / "store.sqlite")
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TRUSTME, *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_product_runs_without_the_simulator(tmp_path: Path) -> None:
    (tmp_path / "prices.csv").write_text(
        "sku,unit_price,currency,period,effective_from\nSPE_E3,36.00,USD,month,2026-01-01\n", encoding="utf-8"
    )
    listed = _run(["--help"], tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "simulator" in listed.stdout and "demo" in listed.stdout
    imported = _run(["prices", "import", "prices.csv"], tmp_path)
    assert (imported.returncode, imported.stderr) == (0, "")
    assert imported.stdout == "Replaced the price book with 1 price row(s) from prices.csv.\n"


@pytest.mark.parametrize(
    "args",
    [["demo", "--build-only", "--store", "demo.sqlite"], ["simulator", "--users", "20"]],
    ids=lambda a: a[0],
)
def test_demo_and_simulator_say_what_to_install(tmp_path: Path, args: list[str]) -> None:
    refused = _run(args, tmp_path)
    assert (refused.returncode, refused.stdout, refused.stderr) == (2, "", REFUSAL)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no store, no demo file, no CA left behind
