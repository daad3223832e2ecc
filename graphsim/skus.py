"""The simulated tenant's product catalog and licensing rule tables.

Every skuId, part number, servicePlanId and plan name below was looked up in Microsoft's
"Product names and service plan identifiers for licensing" CSV (shared/reference), except the one
deliberately unknown SKU, so the product's catalog join can be tested against real identifiers. The
simulator keeps its own copy on purpose: it must not import the product's catalog (the product is
what it tests).

The rule tables (mutually exclusive plans, dependencies, prohibited usage locations) are simulator
rules modelled on Entra's documented behaviour, not Microsoft's real tables. Imports nothing from
the project.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ServicePlan:
    """One service plan inside a SKU (Graph servicePlanInfo / assignedPlan)."""

    id: str
    name: str
    service: str  # assignedPlan.service, e.g. "exchange"
    applies_to: str = "User"


@dataclass(frozen=True, slots=True)
class Sku:
    """A product the tenant has bought (Graph subscribedSku without the counts)."""

    sku_id: str
    part_number: str
    plans: tuple[ServicePlan, ...]
    applies_to: str = "User"

    def plan_ids(self, disabled: tuple[str, ...] = ()) -> frozenset[str]:
        """The plans this SKU switches on, minus the disabled ones."""
        return frozenset(p.id for p in self.plans if p.id not in disabled)


def _p(plan_id: str, name: str, service: str, applies_to: str = "User") -> ServicePlan:
    return ServicePlan(plan_id, name, service, applies_to)


# Service plans shared by several SKUs (ids from the CSV's Service_Plan_Id column).
EXO_P2 = _p("efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE", "exchange")
EXO_P1 = _p("9aaf7827-d63c-4b61-89c3-182f06f82e5c", "EXCHANGE_S_STANDARD", "exchange")
EXO_FOUNDATION = _p("113feb6c-3fe4-4440-bddc-54d774bf0318", "EXCHANGE_S_FOUNDATION", "exchange", "Company")
APPS_ENTERPRISE = _p("43de0ff5-c92c-492b-9116-175376d08c38", "OFFICESUBSCRIPTION", "MicrosoftOffice")
APPS_BUSINESS = _p("094e7854-93fc-4d55-b2c0-3ab5369ebdc1", "OFFICE_BUSINESS", "MicrosoftOffice")
SPO_P2 = _p("5dbe027f-2339-4123-9542-606e4d348a72", "SHAREPOINTENTERPRISE", "SharePoint")
SPO_P1 = _p("c7699d2e-19aa-44de-8edf-1736da088ca1", "SHAREPOINTSTANDARD", "SharePoint")
TEAMS = _p("57ff2da0-773e-42df-b2af-ffb7a2317929", "TEAMS1", "TeamspaceAPI")
SKYPE = _p("0feaeb32-d00e-4d66-bd5a-43b5b83db82c", "MCOSTANDARD", "MicrosoftCommunicationsOnline")
INTUNE = _p("c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "INTUNE_A", "SCO")
INTUNE_O365 = _p("882e1d05-acd1-4ccb-8708-6ee03664b117", "INTUNE_O365", "SCO")
AAD_P1 = _p("41781fb2-bc02-4b7c-bd55-b576c07bb09d", "AAD_PREMIUM", "AADPremiumService")
AAD_P2 = _p("eec0eb4f-6444-4f95-aba0-50c24d67f998", "AAD_PREMIUM_P2", "AADPremiumService")
MFA = _p("8a256a2b-b617-496d-b51b-e76466e88db0", "MFA_PREMIUM", "MultiFactorService")
CAS_DISCOVERY = _p("932ad362-64a8-4783-9106-97849a1a30b9", "ADALLOM_S_DISCOVERY", "Adallom", "Company")
RMS_P1 = _p("bea4c11e-220a-4e6d-8eb8-8ea15d019f90", "RMS_S_ENTERPRISE", "RMSOnline")
RMS_PREMIUM = _p("6c57d4b6-3b23-47a5-9bc9-69f17b4947b3", "RMS_S_PREMIUM", "RMSOnline")
PBI_PRO_PLAN = _p("70d33638-9c74-4d01-bfd3-562de28bd4ba", "BI_AZURE_P2", "PowerBI")
COPILOT_APPS = _p("a62f8878-de10-42f3-b68f-6149a25ceb97", "M365_COPILOT_APPS", "M365CopilotApps")

SKUS: tuple[Sku, ...] = (
    Sku(
        "05e9a617-0261-4cee-bb44-138d3ef5d965",
        "SPE_E3",
        (EXO_P2, APPS_ENTERPRISE, SPO_P2, TEAMS, SKYPE, INTUNE, AAD_P1, MFA),
    ),
    Sku(
        "06ebc4ee-1bb5-47dd-8120-11324bc54e06",
        "SPE_E5",
        (
            EXO_P2,
            APPS_ENTERPRISE,
            SPO_P2,
            TEAMS,
            _p("4828c8ec-dc2e-4779-b502-87ac9ce28ab7", "MCOEV", "MicrosoftCommunicationsOnline"),
            AAD_P2,
            _p("871d91ec-ec1a-452b-a83f-bd76c7d770ef", "WINDEFATP", "WindowsDefenderATP"),
            PBI_PRO_PLAN,
        ),
    ),
    Sku(
        "6fd2c87f-b296-42f0-b197-1e91e994b900",
        "ENTERPRISEPACK",
        (
            EXO_P2,
            APPS_ENTERPRISE,
            SPO_P2,
            TEAMS,
            SKYPE,
            _p("a23b959c-7ce8-4e57-9140-b90eb88a9e97", "SWAY", "Sway"),
        ),
    ),
    Sku(
        "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
        "SPB",
        (
            EXO_P1,
            APPS_BUSINESS,
            SPO_P1,
            TEAMS,
            AAD_P1,
            INTUNE,
            _p("f20fedf3-f3c3-43c3-8267-2bfdd51c0939", "ATP_ENTERPRISE", "exchange"),
        ),
    ),
    Sku(
        "4b9405b0-7788-4568-add1-99614e613b69",
        "EXCHANGESTANDARD",
        (EXO_P1, INTUNE_O365, _p("5e62787c-c316-451f-b873-1d05acd4d12c", "BPOS_S_TODO_1", "To-Do")),
    ),
    Sku("f8a1db68-be16-40ed-86d5-cb42ce701560", "POWER_BI_PRO", (EXO_FOUNDATION, PBI_PRO_PLAN)),
    Sku(
        "c5928f49-12ba-48f7-ada3-0d743a3601d5",
        "VISIOCLIENT",
        (
            EXO_FOUNDATION,
            _p("da792a53-cbc0-4184-a10d-e544dd34b3c1", "ONEDRIVE_BASIC", "SharePoint"),
            _p("663a804f-1c30-4ff0-9915-9db84f0d1cea", "VISIO_CLIENT_SUBSCRIPTION", "Visio"),
            _p("2bdbaf8f-738f-4ac7-9234-3c3ee2ce7d0f", "VISIOONLINE", "SharePoint"),
        ),
    ),
    Sku(
        "53818b1b-4a27-454b-8896-0dba576410e6",
        "PROJECTPROFESSIONAL",
        (
            _p("50554c47-71d9-49fd-bc54-42a2765c555c", "DYN365_CDS_PROJECT", "CDS"),
            EXO_FOUNDATION,
            _p("fa200448-008c-4acb-abd4-ea106ed2199d", "FLOW_FOR_PROJECT", "ProcessSimple"),
            _p(
                "fafd7243-e5c1-4a3a-9e40-495efcb1d3c3", "PROJECT_CLIENT_SUBSCRIPTION", "ProjectWorkManagement"
            ),
            _p("818523f5-016b-4355-9be8-ed6944946ea7", "PROJECT_PROFESSIONAL", "ProjectWorkManagement"),
        ),
    ),
    Sku("078d2b04-f1bd-4111-bbd4-b4b1b354cef4", "AAD_PREMIUM", (AAD_P1, CAS_DISCOVERY, EXO_FOUNDATION, MFA)),
    Sku(
        "84a661c4-e949-4bd2-a560-ed7766fcaf2b",
        "AAD_PREMIUM_P2",
        (AAD_P1, AAD_P2, CAS_DISCOVERY, EXO_FOUNDATION, MFA),
    ),
    Sku(
        "efccb6f7-5641-4e0e-bd10-b4976e1bf68e",
        "EMS",
        (AAD_P1, RMS_PREMIUM, CAS_DISCOVERY, EXO_FOUNDATION, RMS_P1, MFA, INTUNE),
    ),
    Sku(
        "639dec6b-bb19-468b-871c-c5c441c4b0cb",
        "Microsoft_365_Copilot",
        (
            _p("82d30987-df9b-4486-b146-198b21d164c7", "GRAPH_CONNECTORS_COPILOT", "M365CopilotConnectors"),
            _p(
                "931e4a88-a67f-48b5-814f-16a5f1e6028d", "M365_COPILOT_INTELLIGENT_SEARCH", "M365CopilotSearch"
            ),
            _p("3f30311c-6b1e-48a4-ab79-725b469da960", "M365_COPILOT_BUSINESS_CHAT", "M365CopilotChat"),
            _p("b95945de-b3bd-46db-8437-f2beb6ea2347", "M365_COPILOT_TEAMS", "M365CopilotTeams"),
            COPILOT_APPS,
            _p("89f1c4c8-0878-40f7-804d-869c9128ab5d", "M365_COPILOT_CONNECTORS", "M365CopilotConnectors"),
        ),
    ),
    Sku(
        "3d957427-ecdc-4df2-aacd-01cc9d519da8",
        "WORKPLACE_ANALYTICS",
        (
            _p("f477b0f0-3bb1-4890-940c-40fcee6ce05f", "WORKPLACE_ANALYTICS", "WorkplaceAnalytics"),
            _p(
                "ff7b261f-d98b-415b-827c-42a3fdf015af",
                "WORKPLACE_ANALYTICS_INSIGHTS_BACKEND",
                "WorkplaceAnalytics",
            ),
            _p(
                "b622badb-1b45-48d5-920f-4b27a2c0996c",
                "WORKPLACE_ANALYTICS_INSIGHTS_USER",
                "WorkplaceAnalytics",
            ),
        ),
    ),
    Sku(
        "f30db892-07e9-47e9-837c-80727f46fd3d",
        "FLOW_FREE",
        (
            _p("17ab22cd-a0b3-4536-910a-cb6eb12696c0", "DYN365_CDS_VIRAL", "CDS"),
            EXO_FOUNDATION,
            _p("50e68c76-46c6-4674-81f9-75456511b170", "FLOW_P2_VIRAL", "ProcessSimple"),
        ),
    ),
    Sku(
        "a403ebcc-fae0-4ca2-8c8c-7a907fd6c235",
        "POWER_BI_STANDARD",
        (EXO_FOUNDATION, _p("2049e525-b859-401b-b2a0-e0a31c4b1fe4", "BI_AZURE_P0", "PowerBI")),
    ),
    Sku(
        "c1d032e0-5619-4761-9b5c-75b6831e1711",
        "PBI_PREMIUM_PER_USER",
        (EXO_FOUNDATION, _p("0bf3c642-7bb5-4ccc-884e-59d09df0266c", "BI_AZURE_P3", "PowerBI"), PBI_PRO_PLAN),
    ),
    Sku(
        "0dab259f-bf13-4952-b7f8-7db8f131b28d",
        "MCOPSTN1",
        (_p("4ed3ff63-69d7-4fb7-b984-5aec7f605ca8", "MCOPSTN1", "MicrosoftCommunicationsOnline"),),
    ),
    Sku(
        "d17b27af-3f49-4822-99f9-56a661538792",
        "CRMSTANDARD",
        (
            _p("f9646fb2-e3b2-4309-95de-dc4833737456", "CRMSTANDARD", "CRM"),
            _p("7e6d7d78-73de-46ba-83b1-6d25117334ba", "FLOW_DYN_APPS", "ProcessSimple"),
            _p("3413916e-ee66-4071-be30-6f94d4adfeda", "MDM_SALES_COLLABORATION", "CRM"),
            _p("874fc546-6efe-4d22-90b8-5c4e7aa59f4b", "POWERAPPS_DYN_APPS", "PowerAppsService"),
        ),
    ),
    Sku(
        "99049c9c-6011-4908-bf17-15f496e6519d",
        "SHAREPOINTSTORAGE",
        (_p("be5a7ed5-c598-4fcd-a061-5e6724c68a58", "SHAREPOINTSTORAGE", "SharePoint", "Company"),),
        applies_to="Company",
    ),
    # Not in Microsoft's catalog (the Graph docs' old placeholder ids): the product must show it as
    # an unknown SKU by part number.
    Sku(
        "45715bb8-13f9-4bf6-927f-ef96c102d394",
        "CONTOSO_PARTNER_ADDON",
        (_p("11b0131d-43c8-4bbb-b2c8-e80f9a50834a", "PARTNER_ADDON_PLAN", "PartnerAddOn"),),
    ),
)

SKU_BY_PART: dict[str, Sku] = {s.part_number: s for s in SKUS}
SKU_BY_ID: dict[str, Sku] = {s.sku_id: s for s in SKUS}
PLAN_NAMES: dict[str, str] = {p.id: p.name for s in SKUS for p in s.plans}


def sku_id(part_number: str) -> str:
    """skuId of a catalog part number (KeyError if the simulator has no such SKU)."""
    return SKU_BY_PART[part_number].sku_id


# Pairs of service plans that cannot both be on for one user (simulator rule, in both directions).
# Entra lifted the Exchange Online plan 1/plan 2 conflict in 2023; the simulator keeps it because it
# is the classic example and the product must handle the error whatever the pair.
MUTUALLY_EXCLUSIVE: frozenset[tuple[str, str]] = frozenset(
    pair for a, b in ((EXO_P1.id, EXO_P2.id), (SPO_P1.id, SPO_P2.id)) for pair in ((a, b), (b, a))
)

# A dependent plan needs at least one of its prerequisite plans on the same user. Copilot's app
# integration needs Microsoft 365 Apps (enterprise or business), i.e. a qualifying base suite.
DEPENDENCIES: dict[str, frozenset[str]] = {
    COPILOT_APPS.id: frozenset({APPS_ENTERPRISE.id, APPS_BUSINESS.id}),
}

# Usage locations where a SKU may not be used (simulator rule: Calling Plans are sold in a few
# countries only; India and Brazil are two of the tenant's countries without them).
PROHIBITED_LOCATIONS: dict[str, frozenset[str]] = {
    sku_id("MCOPSTN1"): frozenset({"IN", "BR"}),
}

# Plans that give the user a mailbox: assigning one provisions proxy addresses, which is where a
# duplicate proxy address turns into UniquenessViolation / Other.
MAILBOX_PLANS: frozenset[str] = frozenset({EXO_P1.id, EXO_P2.id})
