"""A simulated tenant, collected over HTTPS into an SQLite store and left running for writes, with
three direct E5 holders whose premium plans are unused and exactly two available E3 seats (the
downgrade tests' tenant).

Everyone used every workload on the usage report date, except the three: they use Exchange,
OneDrive, SharePoint and the desktop apps but never Teams, so Phone System (MCOEV) is unused, and
their E5 has Defender (WINDEFATP) and Power BI Pro (BI_AZURE_P2) switched off: the
``premium_unused`` advice, E5 -> E3. The first (by UPN) also has Teams (TEAMS1) off, a plan E3
has too, so that one is carried over; the third has Phone System off as well, which E3 lacks.
40 days on from the build, so every licence is past the 30-day guardrail. SPE_E5 costs USD 57.00
and SPE_E3 USD 36.00 a month.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from click.testing import CliRunner

from cli.main import cli
from collectors.runner import run_collection
from graphsim import licensing
from graphsim.model import DirectLicense
from graphsim.server import GraphSimulator
from graphsim.usage import UsageProfile
from licensedesk.config import Settings
from tests.helpers.plans import WRITE
from tests.helpers.settings import settings_for
from tests.helpers.usage_tenant import everyone_busy

PRICES = (
    "sku,unit_price,currency,period,effective_from\n"
    "SPE_E5,57.00,USD,month,2020-01-01\nSPE_E3,36.00,USD,month,2020-01-01\n"
)
WINDEFATP = "871d91ec-ec1a-452b-a83f-bd76c7d770ef"
BI_PRO = "70d33638-9c74-4d01-bfd3-562de28bd4ba"
MCOEV = "4828c8ec-dc2e-4779-b502-87ac9ce28ab7"
TEAMS = "57ff2da0-773e-42df-b2af-ffb7a2317929"
# What each of the three (in UPN order) has switched off in E5.
DISABLED = ((WINDEFATP, BI_PRO, TEAMS), (WINDEFATP, BI_PRO), (WINDEFATP, BI_PRO, MCOEV))


@dataclass(frozen=True)
class DowngradeTenant:
    sim: GraphSimulator
    settings: Settings  # writes allowed, the simulator's write app
    upns: list[str]  # the three E5 holders, sorted
    user_ids: list[str]  # theirs, in the same order
    e5: str
    e3: str


@contextmanager
def downgrade_tenant(store: str) -> Iterator[DowngradeTenant]:
    with GraphSimulator(users=150, seed=3) as sim:
        sim.set_permissions(WRITE)
        t = sim.tenant
        day = everyone_busy(t)
        e5, e3 = t.sku_id("SPE_E5"), t.sku_id("SPE_E3")
        chosen = sorted(
            (u for u in t.users
             if u.held_skus() == {e5} and e5 in u.direct and u.activity == "active" and u.account_enabled
             and not u.is_guest and u.usage_location),
            key=lambda u: u.upn.lower(),
        )[:3]  # fmt: skip
        assert len(chosen) == 3
        for user, off in zip(chosen, DISABLED, strict=True):
            t.usage_overrides[user.id] = UsageProfile(
                exchange=day, onedrive=day, sharepoint=day, apps=day, desktop=True, mailbox_bytes=1,
                onedrive_bytes=1,
            )  # fmt: skip
            old = user.direct[e5]
            licensing.set_direct(t, user, {e5: DirectLicense(tuple(sorted(off)), old.updated)})
        # Exactly two E3 seats free: take the rest off the largest subscription.
        subs = [s for s in t.subscriptions if s.sku_id == e3 and s.status == "Enabled"]
        max(subs, key=lambda s: s.total_licenses).total_licenses -= t.free_seats(e3) - 2
        t.refresh_units()
        assert t.free_seats(e3) == 2
        settings = settings_for(sim, store, allow_writes=True)
        run_collection(settings, clock=lambda: t.now.strftime("%Y-%m-%dT%H:%M:%SZ"))
        prices = f"{store}.prices.csv"
        with open(prices, "w", encoding="utf-8") as f:
            f.write(PRICES)
        result = CliRunner().invoke(cli, ["prices", "import", prices], env=settings.environ())
        assert result.exit_code == 0, result.output
        yield DowngradeTenant(sim, settings, [u.upn for u in chosen], [u.id for u in chosen], e5, e3)
