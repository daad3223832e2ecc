"""Microsoft 365 usage as the simulated tenant's reports show it: one profile per user, and the
report CSVs built from those profiles.

Why profiles derived from the directory: usage must be consistent with the tenant's licences (a
user without an Exchange plan has no mailbox row and no Exchange activity; only Copilot holders
are in the Copilot report) and with sign-in activity (someone who never signed in used nothing).
A profile is drawn deterministically from the tenant's seed and the user's id, so the same tenant
always reports the same usage; tests pin exact values with ``Tenant.usage_overrides``.

CSV shapes are Graph's documented ones (the column headers of each report's v1.0 or beta page),
with the quirks a real download has: a UTF-8 byte-order mark, "Report Refresh Date" two days
behind the tenant's clock, empty cells for dates never reached, and, when the tenant conceals
names (admin/reportSettings displayConcealedNames), 32-hex-digit hashes where names would be.
Imports graphsim.model, graphsim.skus and graphsim.state only.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from random import Random

from graphsim.model import User
from graphsim.state import TenantState

GB = 1024**3
# Exchange raises a mailbox's Recoverable Items quota from 30 GB to 100 GB when it is put on
# litigation hold or an in-place hold: that is how the mailbox report shows a hold.
RECOVERABLE_QUOTA = 30 * GB
HOLD_QUOTA = 100 * GB


@dataclass(slots=True)
class UsageProfile:
    """One user's last activity per workload (None: never in the report's history) and mailbox facts."""

    exchange: date | None = None
    onedrive: date | None = None
    sharepoint: date | None = None
    teams: date | None = None
    yammer: date | None = None
    apps: date | None = None
    desktop: bool = False  # Windows or Mac Office apps used in the period
    web_mobile: bool = False
    copilot: date | None = None
    recipient_type: str = "UserMailbox"
    mailbox_bytes: int = 0
    has_archive: bool = False
    on_hold: bool = False
    onedrive_bytes: int = 0


_WORKLOADS: dict[tuple[tuple[str, tuple[str, ...]], ...], frozenset[str]] = {}


def workloads(tenant: TenantState, user: User) -> frozenset[str]:
    """Workloads the user's held SKUs (their switched-on plans) give: exchange, sharepoint,
    onedrive, teams, yammer, apps, copilot."""
    # A few dozen distinct (SKU, disabled plans) sets among 100,000 users: each worked out once.
    key = tuple(
        sorted((s, user.direct[s].disabled_plans if s in user.direct else ()) for s in user.held_skus())
    )
    found = _WORKLOADS.get(key)
    if found is None:
        found = _WORKLOADS[key] = frozenset(_workloads(tenant, user))
    return found


def _workloads(tenant: TenantState, user: User) -> set[str]:
    out: set[str] = set()
    for sku_id in user.held_skus():
        sku = tenant.sku_by_id.get(sku_id)
        if sku is None:
            continue
        disabled = user.direct[sku_id].disabled_plans if sku_id in user.direct else ()
        for plan in sku.plans:
            if plan.id in disabled or plan.applies_to != "User":
                continue
            out |= _plan_workloads(plan.name)
    return out


def _plan_workloads(name: str) -> set[str]:
    if name.startswith("EXCHANGE_S_"):
        return {"exchange"}
    if name.startswith("SHAREPOINT") or name == "ONEDRIVE_BASIC":
        return {"sharepoint", "onedrive"}
    if name == "TEAMS1":
        return {"teams"}
    if name.startswith("YAMMER"):
        return {"yammer"}
    if name in ("OFFICESUBSCRIPTION", "OFFICE_BUSINESS"):
        return {"apps"}
    if name == "M365_COPILOT_APPS":
        return {"copilot"}
    return set()


def profile(tenant: TenantState, user: User) -> UsageProfile:
    """The user's usage: the override a test set, else one drawn from the seed and the user's id."""
    pinned = tenant.usage_overrides.get(user.id)
    if isinstance(pinned, UsageProfile):
        return pinned
    rng = Random(f"{tenant.seed_key}/usage/{user.id}")
    has = workloads(tenant, user)
    today = tenant.now.date()
    last = datetime.fromtimestamp(user.last_sign_in, tenant.now.tzinfo).date() if user.last_sign_in else None

    def seen(share: float) -> date | None:
        # Activity never follows the last sign-in: an inactive user's last use is on or before it.
        if last is None or rng.random() >= share:
            return None
        newest = today if user.activity == "active" else last
        return min(newest - timedelta(days=rng.randint(0, 6)), last if user.activity != "active" else today)

    p = UsageProfile()
    p.exchange = seen(0.97) if "exchange" in has else None
    p.teams = seen(0.9) if "teams" in has else None
    p.sharepoint = seen(0.7) if "sharepoint" in has else None
    p.onedrive = seen(0.75) if "onedrive" in has else None
    p.yammer = seen(0.1) if "yammer" in has else None
    if "apps" in has:
        p.apps = seen(0.9)
        p.desktop = p.apps is not None and rng.random() < 0.75
        p.web_mobile = p.apps is not None and (not p.desktop or rng.random() < 0.5)
    p.copilot = seen(0.6) if "copilot" in has else None
    if "exchange" in has:
        # Leavers' mailboxes are often converted to shared ones and keep their licence.
        p.recipient_type = (
            "SharedMailbox" if not user.account_enabled and rng.random() < 0.3 else "UserMailbox"
        )
        p.mailbox_bytes = int(rng.uniform(0.05, 45) * GB)
        p.has_archive = rng.random() < 0.04
        p.on_hold = rng.random() < 0.02
    if "onedrive" in has:
        p.onedrive_bytes = int(rng.uniform(0, 20) * GB)
    return p


def conceal(value: str) -> str:
    """What a concealed report shows for a name: 32 upper-case hex digits, stable per value."""
    return hashlib.md5(value.encode(), usedforsecurity=False).hexdigest().upper()


def refresh_date(tenant: TenantState) -> date:
    """Reports lag the service by about two days."""
    return tenant.now.date() - timedelta(days=2)


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _tf(value: bool) -> str:
    return "True" if value else "False"


def _yn(value: bool) -> str:
    return "Yes" if value else "No"


@dataclass(frozen=True, slots=True)
class ReportSpec:
    """One per-user report: its function name, CSV header, accepted periods, who is in it, a row."""

    name: str
    header: tuple[str, ...]
    periods: tuple[str, ...]
    beta_only: bool
    rows: Callable[[TenantState, User, UsageProfile, str, Callable[[str], str]], list[str] | None]


def _first_assigned(user: User) -> str:
    dates = [lic.updated for lic in user.direct.values()]
    dates += [lic.updated for lic in user.group_licenses.values() if lic.state == "Active"]
    return min(dates).date().isoformat() if dates else ""


def _active_user(
    t: TenantState, u: User, p: UsageProfile, period: str, name: Callable[[str], str]
) -> list[str] | None:
    if not u.held_skus():
        return None
    has = workloads(t, u)
    parts = "+".join(sorted(t.sku_by_id[s].part_number for s in u.held_skus() if s in t.sku_by_id))
    lic = [_tf(w in has) for w in ("exchange", "onedrive", "sharepoint")] + ["False"]
    lic += [_tf("yammer" in has), _tf("teams" in has)]
    last = [_d(p.exchange), _d(p.onedrive), _d(p.sharepoint), "", _d(p.yammer), _d(p.teams)]
    first = _first_assigned(u)
    assigned = [
        first if w in has else "" for w in ("exchange", "onedrive", "sharepoint", "skype", "yammer", "teams")
    ]
    return [name(u.upn), name(u.display_name), "False", "", *lic, *last, *assigned, parts]


def _apps(
    t: TenantState, u: User, p: UsageProfile, period: str, name: Callable[[str], str]
) -> list[str] | None:
    if "apps" not in workloads(t, u):
        return None
    used = p.apps is not None
    flags = [_yn(p.desktop), _yn(p.desktop and used and u.idx % 5 == 0), _yn(p.web_mobile), _yn(p.web_mobile)]
    per_app = [_yn(used)] * 6
    platforms = [_yn(p.desktop)] * 6 + [_yn(p.desktop and u.idx % 5 == 0)] * 6 + [_yn(p.web_mobile)] * 12
    activation = _d(p.apps - timedelta(days=120)) if p.desktop and p.apps else ""
    return [name(u.upn), activation, _d(p.apps), period.removeprefix("D"), *flags, *per_app, *platforms]


def _mailbox(
    t: TenantState, u: User, p: UsageProfile, period: str, name: Callable[[str], str]
) -> list[str] | None:
    if "exchange" not in workloads(t, u):
        return None
    quota = 100 * GB
    return [
        name(u.upn), name(u.display_name), "False", "", u.created.date().isoformat(), _d(p.exchange),
        str(p.mailbox_bytes // 70_000), str(p.mailbox_bytes), str(int(quota * 0.98)), str(int(quota * 0.99)),
        str(quota), str(p.mailbox_bytes // 700_000), str(p.mailbox_bytes // 100), str(HOLD_QUOTA if p.on_hold else RECOVERABLE_QUOTA),
        _tf(p.has_archive), p.recipient_type, period.removeprefix("D"),
    ]  # fmt: skip


def _onedrive(
    t: TenantState, u: User, p: UsageProfile, period: str, name: Callable[[str], str]
) -> list[str] | None:
    if "onedrive" not in workloads(t, u):
        return None
    local = u.upn.replace("@", "_").replace(".", "_")
    site = f"https://contoso-my.sharepoint.com/personal/{local}"
    files = p.onedrive_bytes // 2_000_000
    return [
        name(site), name(u.display_name), "False", _d(p.onedrive), str(files), str(files // 10),
        str(p.onedrive_bytes), str(1024 * GB), name(u.upn), period.removeprefix("D"),
    ]  # fmt: skip


def _copilot(
    t: TenantState, u: User, p: UsageProfile, period: str, name: Callable[[str], str]
) -> list[str] | None:
    if "copilot" not in workloads(t, u):
        return None
    c = _d(p.copilot)
    teams = c if p.teams else ""
    return [
        period.removeprefix("D") if period != "ALL" else "ALL",
        name(u.upn),
        name(u.display_name),
        c,
        teams,
        c,
        "",
        "",
        c,
        "",
        "",
        c,
    ]


_PERIODS = ("D7", "D30", "D90", "D180")
REPORTS: dict[str, ReportSpec] = {
    spec.name.lower(): spec
    for spec in (
        ReportSpec("getOffice365ActiveUserDetail", (
            "Report Refresh Date", "User Principal Name", "Display Name", "Is Deleted", "Deleted Date",
            "Has Exchange License", "Has OneDrive License", "Has SharePoint License",
            "Has Skype For Business License", "Has Yammer License", "Has Teams License",
            "Exchange Last Activity Date", "OneDrive Last Activity Date", "SharePoint Last Activity Date",
            "Skype For Business Last Activity Date", "Yammer Last Activity Date", "Teams Last Activity Date",
            "Exchange License Assign Date", "OneDrive License Assign Date", "SharePoint License Assign Date",
            "Skype For Business License Assign Date", "Yammer License Assign Date", "Teams License Assign Date",
            "Assigned Products"), _PERIODS, False, _active_user),
        ReportSpec("getM365AppUserDetail", (
            "Report Refresh Date", "User Principal Name", "Last Activation Date", "Last Activity Date",
            "Report Period", "Windows", "Mac", "Mobile", "Web", "Outlook", "Word", "Excel", "PowerPoint",
            "OneNote", "Teams", *(f"{app} ({os})" for os in ("Windows", "Mac", "Mobile", "Web")
                                  for app in ("Outlook", "Word", "Excel", "PowerPoint", "OneNote", "Teams"))),
            _PERIODS, False, _apps),
        ReportSpec("getMailboxUsageDetail", (
            "Report Refresh Date", "User Principal Name", "Display Name", "Is Deleted", "Deleted Date",
            "Created Date", "Last Activity Date", "Item Count", "Storage Used (Byte)",
            "Issue Warning Quota (Byte)", "Prohibit Send Quota (Byte)", "Prohibit Send/Receive Quota (Byte)",
            "Deleted Item Count", "Deleted Item Size (Byte)", "Deleted Item Quota (Byte)", "Has Archive",
            "Recipient Type", "Report Period"), _PERIODS, False, _mailbox),
        ReportSpec("getOneDriveUsageAccountDetail", (
            "Report Refresh Date", "Site URL", "Owner Display Name", "Is Deleted", "Last Activity Date",
            "File Count", "Active File Count", "Storage Used (Byte)", "Storage Allocated (Byte)",
            "Owner Principal Name", "Report Period"), _PERIODS, False, _onedrive),
        ReportSpec("getMicrosoft365CopilotUsageUserDetail", (
            "Report Refresh Date", "Report Period", "User Principal Name", "Display Name", "Last Activity Date",
            "Microsoft Teams Copilot Last Activity Date", "Word Copilot Last Activity Date",
            "Excel Copilot Last Activity Date", "PowerPoint Copilot Last Activity Date",
            "Outlook Copilot Last Activity Date", "OneNote Copilot Last Activity Date",
            "Loop Copilot Last Activity Date", "Copilot Chat Last Activity Date"), (*_PERIODS, "ALL"), True, _copilot),
    )
}  # fmt: skip


def report_lines(tenant: TenantState, spec: ReportSpec, period: str) -> Iterator[str]:
    """The report's CSV text in lines (BOM first), for the tenant as it is now."""
    name: Callable[[str], str] = conceal if tenant.concealed_names else (lambda s: s)
    refreshed = refresh_date(tenant).isoformat()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(spec.header)
    yield "\ufeff" + buf.getvalue()
    for user in tenant.users:
        row = spec.rows(tenant, user, profile(tenant, user), period, name)
        if row is None:
            continue
        buf.seek(0)
        buf.truncate()
        writer.writerow([refreshed, *row])
        yield buf.getvalue()
