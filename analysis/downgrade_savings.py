"""What a plan of downgrades saves: per currency, the price of the SKUs taken away less the price
of the SKUs given instead, at the prices in force on a date. Pure pandas."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

import pandas as pd

from analysis.costs import exact_int64, prices_in_force
from analysis.money import seats_cost

COLUMNS = ["currency", "downgrades", "saving"]


def downgrade_savings(
    pairs: Iterable[tuple[str, str]], prices: pd.DataFrame, *, on: dt.date, basis: str = "month"
) -> pd.DataFrame:
    """The saving of downgrading, per currency.

    Args:
        pairs: (from skuId, to skuId), one per downgrade.
        prices: the price book (``store.prices.load_prices``).

    Returns:
        ``currency``, ``downgrades`` (those whose two SKUs both have a price in that currency),
        ``saving`` (Int64 minor units per ``basis``: each SKU's line rounded once, as
        ``analysis.money.seats_cost``), sorted by currency; then one row with ``currency`` None and
        ``saving`` NA counting the downgrades priced in no currency (their saving is unknown, not 0).
    """
    counts = Counter(pairs)
    current = prices_in_force(prices, on)
    price = {
        (str(r["sku_id"]), str(r["currency"])): (int(r["unit_price_minor"]), str(r["period"]))
        for r in current.to_dict(orient="records")
    }
    currencies = sorted({c for _sku, c in price})
    rows: list[dict[str, Any]] = []
    priced_somewhere: set[tuple[str, str]] = set()
    for currency in currencies:
        taken: Counter[str] = Counter()
        given: Counter[str] = Counter()
        n = 0
        for (source, target), times in counts.items():
            if (source, currency) in price and (target, currency) in price:
                taken[source] += times
                given[target] += times
                n += times
                priced_somewhere.add((source, target))
        if not n:
            continue
        saving = sum(seats_cost(*price[(s, currency)], k, basis) for s, k in taken.items()) - sum(
            seats_cost(*price[(t, currency)], k, basis) for t, k in given.items()
        )
        rows.append({"currency": currency, "downgrades": n, "saving": saving})
    unknown = sum(times for pair, times in counts.items() if pair not in priced_somewhere)
    if unknown:
        rows.append({"currency": None, "downgrades": unknown, "saving": None})
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["saving"] = exact_int64([r["saving"] for r in rows])
    out["downgrades"] = out["downgrades"].astype("int64")
    return out
