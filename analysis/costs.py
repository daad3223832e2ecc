"""Spend and waste per SKU and in total, from the price book and one snapshot.

Definitions (per SKU; seats from ``analysis.seats.seat_table``, the one seat arithmetic):

- **price in force**: the price-book row with the latest ``effective_from`` on or before the
  snapshot's date. Rows in several currencies with that same date are all in force: the SKU then
  appears once per currency, each in its own currency's totals (never converted, never summed).
- **trial seats**: units of trial subscriptions that are Enabled or Warning (nobody pays for them);
  **paid seats** = purchased - trial seats, never below 0.
- **assigned seats** = min(consumed, paid seats); **unassigned seats** = paid - assigned (the
  over-assigned surplus is not costed here: it is billed, if ever, at the next true-up).
- **purchased cost** = paid seats x price; **unassigned cost** = unassigned seats x price;
  **assigned cost** = purchased - unassigned cost (so a row always adds up to the minor unit).
- **disabled / inactive / never-signed-in cost**: assigned seats held by users in that idle
  category (``analysis.holders``; exclusive, allotted in that order up to the assigned seats).
  Inactive and never-signed-in are NA (unknown, not zero) when the snapshot has no sign-in data.
- **unused cost**: assigned seats of people who sign in but used none of the SKU's workloads for
  the limit (``analysis.reclaim_usage.unused_pairs``, from the usage reports), allotted after the
  idle categories; NA (unknown) when the snapshot has no usage data. Kept apart from inactive.
- **guest cost**: assigned seats held by guests. Guests overlap the idle categories, so guest
  cost is shown beside waste and never added to it.
- **waste** = unassigned + disabled + inactive + never-signed-in + unused cost (without sign-in or
  usage data, the part that is known).
- Free/viral and Company SKUs (``counts_as_unused`` false) are spend, never waste: their waste
  columns are 0 and all their paid units count as assigned (bought for the whole tenant). A free SKU without a price costs 0 (status ``free``); any other SKU without a
  price has status ``no price`` and NA costs: it is flagged, never counted as free.

Costs are integer minor units per ``basis`` (``month`` or ``year``, see ``analysis.money.seats_cost``);
columns are pandas ``Int64`` so a missing price stays NA. Pure pandas: no Streamlit, HTTP or database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from analysis.money import seats_cost

TRIAL_STATUSES = ("Enabled", "Warning")
SEAT_COLUMNS = [
    "purchased", "trial_seats", "paid_seats", "consumed", "assigned_seats", "unassigned_seats",
    "disabled_seats", "inactive_seats", "never_seats", "unused_seats", "guest_seats",
]  # fmt: skip
MONEY_COLUMNS = [
    "purchased_cost", "assigned_cost", "unassigned_cost", "disabled_cost", "inactive_cost",
    "never_signed_in_cost", "unused_cost", "guest_cost", "waste_cost",
]  # fmt: skip
COST_COLUMNS = [
    "sku_id", "sku_part_number", "name", "status", "currency", "unit_price_minor", "period",
    "effective_from", "counts_as_waste", *SEAT_COLUMNS, *MONEY_COLUMNS,
]  # fmt: skip
PRICE_COLUMNS = ["sku_id", "currency", "unit_price_minor", "period", "effective_from"]


def snapshot_date(started_at: str) -> dt.date:
    """The UTC calendar date of a snapshot's ``started_at``: the day whose prices apply."""
    stamp = pd.Timestamp(started_at)
    day: dt.date = (stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")).date()
    return day


def exact_int64(values: list[Any]) -> pd.arrays.IntegerArray:
    """Python ints (None for missing) as an Int64 column, exactly.

    ``pd.DataFrame(rows)`` puts an integer column with a missing value through float64, which
    rounds above 2**53 minor units (USD 90 trillion); this never does. Prices are bounded
    (``analysis.money.MAX_UNIT_PRICE_MINOR``) so that costs stay within 64 bits.
    """
    return pd.array(values, dtype="Int64")


def none_for_missing(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Text columns with None (not NaN) where a value is missing, so JSON says null."""
    for column in columns:
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def prices_in_force(prices: pd.DataFrame, on: dt.date) -> pd.DataFrame:
    """The price-book rows in force on ``on`` (see the module docstring).

    Args:
        prices: ``store.prices.load_prices`` rows: ``sku_id``, ``currency``, ``unit_price_minor``,
            ``period``, ``effective_from`` (ISO date text).

    Returns:
        ``sku_id``, ``currency``, ``unit_price_minor``, ``period``, ``effective_from``: one row per
        SKU and currency in force, sorted by SKU and currency.
    """
    if prices.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PRICE_COLUMNS})
    current = prices[prices["effective_from"].astype(str) <= on.isoformat()]
    latest = current.groupby("sku_id")["effective_from"].transform("max")
    out = current[current["effective_from"] == latest]
    return out[PRICE_COLUMNS].sort_values(["sku_id", "currency"]).reset_index(drop=True)


def trial_seats(subscriptions: pd.DataFrame) -> dict[str, int]:
    """skuId -> units of trial subscriptions that count as purchased (Enabled or Warning)."""
    if subscriptions.empty:
        return {}
    trial = subscriptions[
        subscriptions["is_trial"].fillna(0).astype(bool) & subscriptions["status"].isin(TRIAL_STATUSES)
    ]
    return {str(k): int(v) for k, v in trial.groupby("sku_id")["total_licenses"].sum().items()}


def _idle_counts(
    holders: pd.DataFrame, unused: set[tuple[str, str]] | None = None
) -> dict[str, dict[str, int]]:
    """skuId -> {'disabled': n, 'inactive': n, 'never': n, 'unused': n, 'guest': n} over held seats."""
    counts: dict[str, dict[str, int]] = {}
    if holders.empty:
        return counts
    idle_unused: dict[str, int] = {}
    for _uid, sku in unused or ():
        idle_unused[sku] = idle_unused.get(sku, 0) + 1
    # Two vectorised group counts, not a value_counts per SKU group.
    idle = holders.groupby(["sku_id", "idle"]).size().to_dict()
    guests = holders.groupby("sku_id")["guest"].sum()
    for sku_id, guest in guests.items():
        counts[str(sku_id)] = {
            "disabled": int(idle.get((sku_id, "disabled"), 0)),
            "inactive": int(idle.get((sku_id, "inactive"), 0)),
            "never": int(idle.get((sku_id, "never"), 0)),
            "unused": idle_unused.get(str(sku_id), 0),
            "guest": int(guest),
        }
    return counts


def sku_costs(
    seats: pd.DataFrame,
    prices: pd.DataFrame,
    holders: pd.DataFrame,
    subscriptions: pd.DataFrame,
    *,
    on: dt.date,
    basis: str = "month",
    signin_available: bool = True,
    unused: set[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """Spend and waste of every SKU of a snapshot (see the module docstring).

    Args:
        seats: ``analysis.seats.seat_table`` output of the snapshot.
        prices: the whole price book (``store.prices.load_prices``); the rows in force on ``on``
            are picked here.
        holders: ``analysis.holders.seat_holders`` output of the snapshot.
        subscriptions: ``store.queries.subscriptions`` rows (for trial seats).
        on: the snapshot's date (``snapshot_date``).
        basis: ``month`` or ``year``: the period every cost column is expressed per.
        signin_available: False when the snapshot has no sign-in data (inactive costs are NA).
        unused: ``analysis.reclaim_usage.unused_pairs`` of the snapshot; None without usage data
            (unused costs are NA).

    Returns:
        One row per SKU and currency in force (one row with ``currency`` NA for an unpriced
        SKU): ``sku_id``, ``sku_part_number``, ``name``, ``status`` (``priced``/``free``/
        ``no price``), ``currency``, ``unit_price_minor``, ``period``, ``effective_from``,
        ``counts_as_waste`` (bool), the seat counts ``purchased``, ``trial_seats``,
        ``paid_seats``, ``consumed``, ``assigned_seats``, ``unassigned_seats``,
        ``disabled_seats``, ``inactive_seats``, ``never_seats``, ``unused_seats``, ``guest_seats``, and
        the Int64 minor-unit costs ``purchased_cost``, ``assigned_cost``, ``unassigned_cost``,
        ``disabled_cost``, ``inactive_cost``, ``never_signed_in_cost``, ``unused_cost``, ``guest_cost``,
        ``waste_cost``. Sorted by status (priced first), then SKU name.
    """
    in_force = prices_in_force(prices, on)
    by_sku: dict[str, list[dict[str, Any]]] = {}
    for price in in_force.to_dict(orient="records"):
        by_sku.setdefault(str(price["sku_id"]), []).append(price)
    trials = trial_seats(subscriptions)
    idle = _idle_counts(holders, unused)
    rows: list[dict[str, Any]] = []
    for sku in seats.to_dict(orient="records"):
        sku_id = str(sku["sku_id"])
        counted = bool(sku["counts_as_unused"])
        purchased, consumed = int(sku["purchased"]), int(sku["consumed"])
        trial = min(trials.get(sku_id, 0), max(purchased, 0))
        paid = max(purchased - trial, 0)
        assigned = min(consumed, paid) if counted else paid
        seat_row: dict[str, Any] = {
            "sku_id": sku_id,
            "sku_part_number": sku["sku_part_number"],
            "name": sku["name"],
            "counts_as_waste": counted,
            "purchased": purchased,
            "trial_seats": trial,
            "paid_seats": paid,
            "consumed": consumed,
            "assigned_seats": assigned,
            "unassigned_seats": paid - assigned,
            **_idle_seats(idle.get(sku_id, {}), assigned if counted else 0),
        }
        options: list[dict[str, Any] | None] = [*by_sku.get(sku_id, [])] or [None]
        for price in options:
            rows.append(
                _priced_row(seat_row, price, bool(sku["free"]), basis, signin_available, unused is not None)
            )
    out = none_for_missing(pd.DataFrame(rows, columns=COST_COLUMNS), "currency", "period", "effective_from")
    for column in MONEY_COLUMNS + ["unit_price_minor"]:
        out[column] = exact_int64([row[column] for row in rows])
    order = out["status"].map({"priced": 0, "no price": 1, "free": 2})
    return (
        out.assign(_o=order).sort_values(["_o", "name", "currency"]).drop(columns="_o").reset_index(drop=True)
    )


def _idle_seats(counts: dict[str, int], assigned: int) -> dict[str, int]:
    """Idle seats allotted in the order disabled, inactive, never, each capped by what is left of
    the assigned (paid) seats, so trial seats held by idle users are not costed as waste."""
    left = assigned
    out: dict[str, int] = {}
    for key in ("disabled", "inactive", "never", "unused"):
        out[f"{key}_seats"] = min(counts.get(key, 0), left)
        left -= out[f"{key}_seats"]
    out["guest_seats"] = min(counts.get("guest", 0), assigned)
    return out


def _priced_row(
    seat_row: dict[str, Any],
    price: dict[str, Any] | None,
    free: bool,
    basis: str,
    signin: bool,
    usage: bool = False,
) -> dict[str, Any]:
    row = dict(seat_row)
    if price is None:
        row.update(
            status="free" if free else "no price",
            currency=None,
            unit_price_minor=None,
            period=None,
            effective_from=None,
        )
        value: int | None = 0 if free else None
        row.update(dict.fromkeys(MONEY_COLUMNS, value))
        return row
    unit, period = int(price["unit_price_minor"]), str(price["period"])
    row.update(
        status="priced",
        currency=price["currency"],
        unit_price_minor=unit,
        period=period,
        effective_from=price["effective_from"],
    )

    def cost(n: int) -> int:
        return seats_cost(unit, period, n, basis)

    purchased = cost(row["paid_seats"])
    unassigned = cost(row["unassigned_seats"]) if row["counts_as_waste"] else 0
    disabled, inactive, never = (
        cost(row["disabled_seats"]),
        cost(row["inactive_seats"]),
        cost(row["never_seats"]),
    )
    row.update(
        purchased_cost=purchased,
        unassigned_cost=unassigned,
        assigned_cost=purchased - unassigned,
        disabled_cost=disabled,
        inactive_cost=inactive if signin else None,
        never_signed_in_cost=never if signin else None,
        unused_cost=cost(row["unused_seats"]) if usage else None,
        guest_cost=cost(row["guest_seats"]),
        waste_cost=unassigned
        + disabled
        + (inactive + never if signin else 0)
        + (cost(row["unused_seats"]) if usage else 0),
    )
    return row


def cost_totals(costs: pd.DataFrame) -> pd.DataFrame:
    """Totals per currency of ``sku_costs`` output (currencies are never summed together).

    Returns:
        One row per currency: ``currency``, ``skus`` (priced SKUs), the seat columns and the
        money columns summed (an NA column stays NA: unknown, not zero), and ``unpriced_skus``
        (SKUs with status ``no price`` in the snapshot, which no total includes). With no priced
        SKU at all, one row with ``currency`` NA carries ``unpriced_skus``.
    """
    unpriced = int((costs["status"] == "no price").sum())
    priced = costs[costs["status"] == "priced"]
    rows: list[dict[str, Any]] = []
    for currency, part in priced.groupby("currency", sort=True):
        row: dict[str, Any] = {"currency": currency, "skus": int(part["sku_id"].nunique())}
        row.update({c: int(part[c].sum()) for c in SEAT_COLUMNS})
        for column in MONEY_COLUMNS:
            values = part[column]
            # Python ints, not numpy's int64 sum, which wraps around silently on overflow.
            row[column] = None if values.isna().any() else sum(int(v) for v in values)
        row["unpriced_skus"] = unpriced
        rows.append(row)
    if not rows:
        rows.append({"currency": None, "skus": 0, "unpriced_skus": unpriced})
    out = pd.DataFrame(rows, columns=["currency", "skus", *SEAT_COLUMNS, *MONEY_COLUMNS, "unpriced_skus"])
    for column in MONEY_COLUMNS:
        out[column] = exact_int64([row.get(column) for row in rows])
    return out


def unpriced_skus(costs: pd.DataFrame) -> pd.DataFrame:
    """The SKUs without a price in force (``sku_id``, ``sku_part_number``, ``name``, ``paid_seats``),
    most paid seats first: the rows to fill in before the totals are whole."""
    rows = costs[costs["status"] == "no price"]
    return (
        rows[["sku_id", "sku_part_number", "name", "paid_seats"]]
        .sort_values(["paid_seats", "name"], ascending=[False, True])
        .reset_index(drop=True)
    )


def seat_change_cost(
    seats: pd.DataFrame, prices: pd.DataFrame, *, on: dt.date, basis: str = "month"
) -> pd.DataFrame:
    """What a plan's seat changes are worth: the cost of the seats it puts into (or out of) use.

    Assigning seats that are already paid for does not change the bill; it moves their cost from
    "unassigned" (waste) to "assigned". Removing licences does the reverse, and the freed seats can
    be dropped at renewal. So the difference is reported both ways, per SKU and currency.

    Args:
        seats: a plan's seat table: ``sku_id``, ``sku_part_number``, ``assigned_before``, ``assigned_after``.
        prices: the price book (``store.prices.load_prices``); the price in force on ``on`` is used.

    Returns:
        ``sku_part_number``, ``currency``, ``seats_into_use`` (negative = freed),
        ``assigned_cost_change`` and ``unassigned_cost_change`` (minor units per ``basis``);
        SKUs without a price are left out (the caller says so).
    """
    columns = [
        "sku_part_number",
        "currency",
        "seats_into_use",
        "assigned_cost_change",
        "unassigned_cost_change",
    ]
    rows = []
    current = prices_in_force(prices, on)
    for seat in seats.itertuples(index=False):
        delta = int(seat.assigned_after) - int(seat.assigned_before)
        for price in current[current["sku_id"] == seat.sku_id].itertuples(index=False):
            change = seats_cost(int(price.unit_price_minor), str(price.period), abs(delta), basis)
            signed = change if delta >= 0 else -change
            rows.append((seat.sku_part_number, price.currency, delta, signed, -signed))
    return pd.DataFrame(rows, columns=columns)
