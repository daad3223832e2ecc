"""Money: integer minor units (cents), ISO 4217 codes, and formatting at the edges.

Amounts are held as ``int`` minor units everywhere (a price of USD 36.00 is ``3600``), so sums are
exact. Only two operations round, both half-to-even on the minor unit: turning an annual amount
into a monthly one (``/ 12``) and nothing else. ``Decimal`` appears only where an amount leaves the
program (JSON, CSV, Excel, the dashboard). Currencies are never converted or summed together:
this module holds codes and their minor digits, never exchange rates.

Pure Python: no pandas, Streamlit, HTTP or database here.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal

# ISO 4217 active codes -> minor digits (List One, 2025). Funds and precious-metal codes without
# a minor unit (XAU, XDR, ...) are left out: nobody prices a licence in them.
_THREE = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})
_ZERO = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
     "XAF", "XOF", "XPF"}
)  # fmt: skip
_FOUR = frozenset({"CLF", "UYW"})
_TWO = frozenset(
    """AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS
    GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK
    PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG""".split()
)
CURRENCY_MINOR_DIGITS: dict[str, int] = {
    **dict.fromkeys(_TWO, 2),
    **dict.fromkeys(_ZERO, 0),
    **dict.fromkeys(_THREE, 3),
    **dict.fromkeys(_FOUR, 4),
}
"""ISO 4217 currency code -> number of minor-unit digits (USD 2, JPY 0, KWD 3)."""

PERIODS = ("month", "year")
"""Billing periods a price can be quoted per: one seat for one month, or for one year."""

_PLAIN_NUMBER = re.compile(r"^(\d+)(?:\.(\d+))?$")

MAX_UNIT_PRICE_MINOR = 10**10
"""The largest unit price accepted, in minor units (USD 100,000,000.00, JPY 10,000,000,000).

Far above any licence's price, and low enough that every cost License Desk adds up (a price
x 12 months x tens of millions of seats) stays an exact 64-bit integer in the store, in pandas'
Int64 columns and in every total."""


def is_currency(code: str) -> bool:
    """True for an ISO 4217 code License Desk knows (upper case, e.g. ``EUR``)."""
    return code in CURRENCY_MINOR_DIGITS


def minor_digits(currency: str) -> int:
    """Minor-unit digits of a currency (KeyError for an unknown code)."""
    return CURRENCY_MINOR_DIGITS[currency]


def parse_amount(text: str, currency: str) -> int:
    """A price written in major units (``"36"``, ``"36.5"``, ``"0.20"``) as integer minor units.

    Raises:
        ValueError: a phrase for a person (``"is not a number"``, ``"is negative"``, ...), to be
            put after the quoted value in a sentence naming the row.
    """
    value = text.strip()
    if value.startswith("-") and _PLAIN_NUMBER.match(value[1:].strip()):
        raise ValueError("is negative")
    match = _PLAIN_NUMBER.match(value)
    if match is None:
        if re.fullmatch(r"\d+,\d+", value):
            raise ValueError("is not a number (use a dot as the decimal separator)")
        raise ValueError("is not a number")
    whole, fraction = match.group(1), match.group(2) or ""
    digits = minor_digits(currency)
    # Trailing zeros past the currency's precision are harmless ("36.000" USD); real digits are not.
    if len(fraction.rstrip("0")) > digits:
        raise ValueError(f"has more decimals than {currency} allows ({digits})")
    fraction = fraction[:digits].ljust(digits, "0")
    scale: int = int(10**digits)
    if len(whole.lstrip("0")) > len(str(MAX_UNIT_PRICE_MINOR)):  # before int(): 4,300-digit texts
        raise ValueError(
            f"is more than License Desk accepts (at most {amount_text(MAX_UNIT_PRICE_MINOR, currency)})"
        )
    minor = int(whole) * scale + (int(fraction) if fraction else 0)
    if minor > MAX_UNIT_PRICE_MINOR:
        raise ValueError(
            f"is more than License Desk accepts (at most {amount_text(MAX_UNIT_PRICE_MINOR, currency)})"
        )
    return minor


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units as a Decimal in major units with the currency's digits (3600 USD -> 36.00)."""
    digits = minor_digits(currency)
    return (Decimal(int(minor)) / (Decimal(10) ** digits)).quantize(Decimal(1).scaleb(-digits))


def amount_text(minor: int, currency: str) -> str:
    """Major units as plain text for files and JSON (``"1234.50"``): exact, no grouping."""
    return str(to_decimal(minor, currency))


def format_money(minor: int, currency: str) -> str:
    """For people: ``"USD 1,234.50"`` (grouped, the currency's digits)."""
    digits = minor_digits(currency)
    return f"{currency} {to_decimal(minor, currency):,.{digits}f}"


def annual_unit(unit_minor: int, period: str) -> int:
    """The price of one seat for a year, exact: 12 x a monthly price, or the yearly price."""
    if period == "month":
        return int(unit_minor) * 12
    if period == "year":
        return int(unit_minor)
    raise ValueError(f"unknown billing period {period!r}")


def seats_cost(unit_minor: int, period: str, seats: int, basis: str) -> int:
    """What ``seats`` seats cost per ``basis`` ('month' or 'year'), in minor units.

    The annual figure is exact. The monthly figure of a yearly price is the annual one divided by
    12 and rounded half-to-even on the whole line (not per seat), so 7 seats at USD 100.00 a year
    cost USD 58.33 a month, not 7 x 8.33.
    """
    annual = annual_unit(unit_minor, period) * int(seats)
    if basis == "year":
        return annual
    if basis == "month":
        return int((Decimal(annual) / 12).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))
    raise ValueError(f"unknown cost basis {basis!r}")
