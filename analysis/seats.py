"""Seat arithmetic: the one definition of purchased, available and utilization (DESIGN §4).

- purchased = enabled + warning (warning units are in their grace period: usable, about to lapse)
- available = purchased - consumed; negative means over-assigned and is never clipped
- utilization = consumed / purchased; undefined (NaN) when nothing is purchased
- suspended and lockedOut are shown but never purchased
- free/viral SKUs and ``appliesTo == "Company"`` SKUs are listed but kept out of unused-seat totals

Pure pandas: no Streamlit, HTTP or database here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# Free, trial-like and viral SKUs that tenants accumulate by self-service sign-up. They carry
# huge unit counts that mean nothing, so they never count as unused seats or waste. The shipped
# catalog marks these kind == "free" too; this list keeps the rule working without a catalog.
FREE_PART_NUMBERS = frozenset(
    {
        "FLOW_FREE",
        "POWER_BI_STANDARD",
        "POWERAPPS_VIRAL",
        "TEAMS_EXPLORATORY",
        "STREAM",
        "CCIBOTS_PRIVPREV_VIRAL",
        "POWERAPPS_DEV",
        "FLOW_PER_USER_DEV",
        "RIGHTSMANAGEMENT_ADHOC",
        "WINDOWS_STORE",
        "MCOPSTNC",
        "POWER_BI_INDIVIDUAL_USER",
        "MICROSOFT_BUSINESS_CENTER",
    }
)


def seat_table(skus: pd.DataFrame) -> pd.DataFrame:
    """Add the derived seat columns to per-SKU counts.

    Args:
        skus: one row per SKU with ``sku_part_number``, ``enabled``, ``warning``, ``suspended``,
            ``locked_out``, ``consumed`` and optionally ``applies_to``, ``catalog_name``, ``catalog_kind``.

    Returns:
        A new frame with ``name`` (catalog name, else the part number), ``known`` (in the catalog),
        ``purchased``, ``available``, ``utilization`` (NaN when purchased is 0), ``over_assigned``,
        ``free`` (free/viral), ``company`` (applies to the company), ``counts_as_unused`` (included
        in unused-seat and waste totals), ``unused`` (free seats that count, never negative for
        totals), and ``depends_on_warning`` (some free seats lapse when the grace period ends).
    """
    out = skus.copy()
    catalog_name = (
        out["catalog_name"] if "catalog_name" in out else pd.Series(None, index=out.index, dtype=object)
    )
    catalog_kind = (
        out["catalog_kind"] if "catalog_kind" in out else pd.Series(None, index=out.index, dtype=object)
    )
    applies_to = (
        out["applies_to"] if "applies_to" in out else pd.Series("User", index=out.index, dtype=object)
    )
    out["known"] = catalog_name.notna()
    out["name"] = catalog_name.where(catalog_name.notna(), out["sku_part_number"])
    out["purchased"] = out["enabled"].astype("int64") + out["warning"].astype("int64")
    out["available"] = out["purchased"] - out["consumed"].astype("int64")
    purchased = out["purchased"].astype("float64")
    out["utilization"] = np.where(
        purchased > 0, out["consumed"] / purchased.where(purchased > 0, 1.0), np.nan
    )
    out["over_assigned"] = out["available"] < 0
    out["free"] = out["sku_part_number"].str.upper().isin(FREE_PART_NUMBERS) | (catalog_kind == "free")
    out["company"] = applies_to.fillna("User").str.lower() == "company"
    out["counts_as_unused"] = ~(out["free"] | out["company"])
    out["unused"] = out["available"].clip(lower=0).where(out["counts_as_unused"], 0).astype("int64")
    out["depends_on_warning"] = (out["warning"] > 0) & (out["available"] > 0)
    return out


def seat_totals(table: pd.DataFrame) -> dict[str, int]:
    """Headline totals over SKUs that count as seats (free/viral and Company SKUs excluded).

    Args:
        table: the output of ``seat_table``.
    """
    counted = table[table["counts_as_unused"]]
    return {
        "skus": int(len(table)),
        "counted_skus": int(len(counted)),
        "purchased": int(counted["purchased"].sum()),
        "consumed": int(counted["consumed"].sum()),
        "unused": int(counted["unused"].sum()),
        "over_assigned_skus": int(counted["over_assigned"].sum()),
        "over_assigned_seats": int((-counted["available"].clip(upper=0)).sum()),
        "warning": int(counted["warning"].sum()),
    }
