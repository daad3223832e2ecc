"""What Graph does not tell us about a licence error: which plans conflict, which plans need which.

Graph's ``licenseAssignmentStates.error`` only names the error kind. To name the conflicting SKU or
the missing prerequisite, License Desk compares service plans (by ``servicePlanName``, which is
stable across SKUs) against these tables. They hold the well-known cases documented by Microsoft;
a conflict or dependency they do not know is reported as "not derivable", never guessed.

Pure data: no imports from the project.
"""

from __future__ import annotations

# Pairs of service plans that cannot both be on for one user (stored in one direction; checked in
# both). Exchange and SharePoint "standard"/"enterprise"/"kiosk" plans are the classic causes of
# MutuallyExclusiveViolation (e.g. Office 365 E1 with E3, or Exchange Online Plan 1 with an E-plan).
_EXCLUSIVE: tuple[tuple[str, str], ...] = (
    ("EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE"),
    ("EXCHANGE_S_DESKLESS", "EXCHANGE_S_STANDARD"),
    ("EXCHANGE_S_DESKLESS", "EXCHANGE_S_ENTERPRISE"),
    ("SHAREPOINTSTANDARD", "SHAREPOINTENTERPRISE"),
    ("SHAREPOINTDESKLESS", "SHAREPOINTSTANDARD"),
    ("SHAREPOINTDESKLESS", "SHAREPOINTENTERPRISE"),
)
MUTUALLY_EXCLUSIVE_PLANS: frozenset[tuple[str, str]] = frozenset(
    pair for a, b in _EXCLUSIVE for pair in ((a, b), (b, a))
)

# A dependent service plan -> the plans of which the user needs at least one (DependencyViolation).
PLAN_PREREQUISITES: dict[str, tuple[str, ...]] = {
    # Microsoft 365 Copilot in the Office apps needs Microsoft 365 Apps (enterprise or business).
    "M365_COPILOT_APPS": ("OFFICESUBSCRIPTION", "OFFICE_BUSINESS"),
    # Calling Plans need Teams Phone.
    "MCOPSTN1": ("MCOEV",),
    "MCOPSTN2": ("MCOEV",),
    "MCOPSTN5": ("MCOEV",),
    # Defender for Office 365 protects a mailbox: it needs an Exchange Online plan.
    "ATP_ENTERPRISE": ("EXCHANGE_S_STANDARD", "EXCHANGE_S_ENTERPRISE", "EXCHANGE_S_DESKLESS"),
}

# Readable names for the prerequisite plans above, used in sentences.
PLAN_DESCRIPTIONS: dict[str, str] = {
    "OFFICESUBSCRIPTION": "Microsoft 365 Apps for enterprise",
    "OFFICE_BUSINESS": "Microsoft 365 Apps for business",
    "MCOEV": "Teams Phone",
    "EXCHANGE_S_STANDARD": "Exchange Online (Plan 1)",
    "EXCHANGE_S_ENTERPRISE": "Exchange Online (Plan 2)",
    "EXCHANGE_S_DESKLESS": "Exchange Online Kiosk",
}


def plan_text(plan_name: str) -> str:
    """'Teams Phone (MCOEV)' for a known plan, else the plan name."""
    description = PLAN_DESCRIPTIONS.get(plan_name)
    return f"{description} ({plan_name})" if description else plan_name
