"""Word lists for synthetic people: names, departments, job titles, countries and partner domains.

Kept apart from the tenant logic so the generator reads as rules, not data. A few names carry
non-ASCII letters on purpose (display names must survive JSON, SQLite and CSV round trips); their
UPNs are transliterated to ASCII as Entra admins usually do. Imports nothing from the project.
"""

from __future__ import annotations

import unicodedata
from functools import cache

FIRST_NAMES = (
    "Adele", "Alex", "Allan", "Amara", "Ana", "Anders", "Anita", "Arjun", "Ben", "Bianca", "Carlos",
    "Catherine", "Chen", "Chloé", "Christie", "Daniel", "Debra", "Diego", "Emily", "Enrico", "Erik",
    "Fatima", "François", "Gabriel", "Grace", "Hannah", "Henrik", "Hiroshi", "Irvin", "Isabel", "Isaiah",
    "Jakob", "Johanna", "Jonas", "José", "Joni", "Julia", "Kai", "Karin", "Lakshmi", "Lee", "Lena", "Lidia",
    "Lucas", "Lynne", "Maria", "Mateo", "Megan", "Miriam", "Nestor", "Noah", "Nora", "Olga", "Omar",
    "Patti", "Pradeep", "Priya", "Rahul", "Raul", "Renée", "Rosa", "Sam", "Sara", "Sofia", "Søren", "Sven",
    "Tomás", "Vikram", "Wei", "Yuki", "Zoë",
)  # fmt: skip
SURNAMES = (
    "Adams", "Bauer", "Becker", "Bergman", "Brown", "Campbell", "Chen", "Clark", "Costa", "Das", "Dubois",
    "Evans", "Fischer", "Fogarty", "García", "Gibson", "Gupta", "Hansen", "Harris", "Hoffmann", "Ito",
    "Jensen", "Johnson", "Kaur", "Kim", "Kowalski", "Larsen", "Laurent", "Lee", "Lopez", "Martin", "Meyer",
    "Miller", "Moreau", "Müller", "Nakamura", "Nguyen", "Nielsen", "O'Brien", "Okafor", "Patel", "Pereira",
    "Petersen", "Reddy", "Richter", "Rossi", "Santos", "Schmidt", "Schneider", "Silva", "Singh", "Smith",
    "Sørensen", "Suzuki", "Tanaka", "Taylor", "Thompson", "Vance", "Wagner", "Walker", "Weber", "Williams",
    "Wilson", "Wong", "Young", "Zhang",
)  # fmt: skip

# Department -> (weight, job titles)
DEPARTMENTS: dict[str, tuple[float, tuple[str, ...]]] = {
    "Sales": (0.18, ("Account Executive", "Sales Manager", "Inside Sales Representative")),
    "Marketing": (0.08, ("Marketing Specialist", "Product Marketing Manager", "Content Strategist")),
    "Engineering": (0.19, ("Software Engineer", "Senior Software Engineer", "Engineering Manager")),
    "Finance": (0.08, ("Financial Analyst", "Accountant", "Controller")),
    "Human Resources": (0.05, ("HR Generalist", "Recruiter", "HR Business Partner")),
    "IT": (0.07, ("Systems Administrator", "Security Engineer", "Service Desk Analyst")),
    "Operations": (0.12, ("Operations Coordinator", "Project Manager", "Logistics Planner")),
    "Customer Support": (0.12, ("Support Engineer", "Customer Success Manager", "Support Team Lead")),
    "Legal": (0.03, ("Corporate Counsel", "Paralegal", "Compliance Officer")),
    "Research & Development": (0.08, ("Research Scientist", "Data Scientist", "Lab Technician")),
}

# usageLocation -> (weight, country name, cities, preferredLanguage, phone prefix)
COUNTRIES: dict[str, tuple[float, str, tuple[str, ...], str, str]] = {
    "US": (0.42, "United States", ("Redmond", "New York", "Austin", "Chicago"), "en-US", "+1 425 555"),
    "GB": (0.12, "United Kingdom", ("London", "Manchester", "Reading"), "en-GB", "+44 20 7946"),
    "DE": (0.10, "Germany", ("Munich", "Berlin", "Hamburg"), "de-DE", "+49 89 3176"),
    "FR": (0.07, "France", ("Paris", "Lyon"), "fr-FR", "+33 1 7036"),
    "IN": (0.11, "India", ("Bengaluru", "Hyderabad", "Pune"), "en-IN", "+91 80 4010"),
    "CA": (0.07, "Canada", ("Toronto", "Vancouver"), "en-CA", "+1 416 555"),
    "BR": (0.06, "Brazil", ("São Paulo", "Rio de Janeiro"), "pt-BR", "+55 11 3040"),
    "AU": (0.05, "Australia", ("Sydney", "Melbourne"), "en-AU", "+61 2 9374"),
}
FABRIKAM_COUNTRIES = ("US", "CA", "GB")

CONTOSO = "Contoso Ltd"
FABRIKAM = "Fabrikam Inc"
COMPANY_DOMAINS = {CONTOSO: "contoso.com", FABRIKAM: "fabrikam.com"}
TENANT_DOMAIN = "contoso.onmicrosoft.com"
GUEST_DOMAINS = (
    "northwindtraders.com",
    "adatum.com",
    "litwareinc.com",
    "tailspintoys.com",
    "wingtiptoys.com",
)

_TRANSLIT = str.maketrans({"ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "'": ""})


@cache
def ascii_name(name: str) -> str:
    """Lowercase ASCII form of a name for UPNs and mail addresses."""
    folded = unicodedata.normalize("NFKD", name.translate(_TRANSLIT))
    return "".join(c for c in folded if c.isascii() and (c.isalnum() or c == "-")).lower()
