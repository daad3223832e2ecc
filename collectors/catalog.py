"""The SKU catalog: friendly names for Microsoft 365 products and their service plans.

Graph reports licenses by ``skuId`` (a GUID) and ``skuPartNumber`` (e.g. ``SPE_E3``); people want
"Microsoft 365 E3". Names are always joined on ``skuId`` (the catalog's ``GUID``), never on the part
number: part numbers are not unique (``MCOPSTN5`` belongs to two products) and carry stray whitespace.
A SKU the catalog does not know falls back to its ``skuPartNumber`` (the caller's job, see
:meth:`Catalog.name_for`).

Two sources:

``collectors/data/common_skus.csv`` (shipped, :func:`load_common_skus`)
    Our own short table of about 45 commonly licensed SKUs, written for License Desk; it is *not* a
    copy of Microsoft's catalog. Every ``sku_id`` / ``sku_part_number`` pair was checked against
    Microsoft's "Product names and service plan identifiers for licensing" CSV (December 2025 copy,
    see ``shared/reference/README.md``), and the tests re-check it whenever that copy is present.
    Names are ours: short and recognisable ("Microsoft 365 E3", "Teams Phone Standard").
    UTF-8, no BOM, comma separated, one header row, no comment lines. Columns:

    - ``sku_id``: the product GUID (Graph ``skuId``), lower case.
    - ``sku_part_number``: Graph ``skuPartNumber``, for people reading the file; never used to join.
    - ``name``: the name shown in the dashboard and reports.
    - ``kind``: ``suite`` (a bundle that is someone's main license, e.g. E3, Business Premium),
      ``standalone`` (a single product bought on its own, e.g. Visio Plan 2, Entra ID P1),
      ``addon`` (needs a base license, e.g. Copilot, Audio Conferencing, Defender for Office 365 P1),
      ``free`` (free, viral or self-service SKUs, e.g. FLOW_FREE, POWER_BI_STANDARD, TEAMS_EXPLORATORY,
      kept out of "unused seats" and waste totals) or ``trial``.

Microsoft's CSV (imported, :func:`parse_microsoft_catalog`)
    The full catalog, one row per (product, service plan), downloaded by the user from Microsoft Learn
    and imported with ``license-desk catalog import FILE``. It changes monthly, so we never ship it.
    Header: ``Product_Display_Name,String_Id,GUID,Service_Plan_Name,Service_Plan_Id,
    Service_Plans_Included_Friendly_Names`` (any order, any letter case). It is read by the rules
    every file a person gives us follows (:mod:`analysis.user_files`: encoding, separators,
    quoting, row numbers, one sentence per problem); its own quirks are handled here: trailing and
    non-breaking spaces and tabs in ids, names and even GUIDs, repeated (product, plan) rows, and
    part numbers shared by two GUIDs.

Row numbers in messages count records the way a spreadsheet does: the header is row 1.
No database, no HTTP: reading the file the user named is the only I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from analysis.user_files import normalised, problems_error, quoted, read_file, read_table
from licensedesk.errors import InputError

__all__ = [
    "COMMON_SKUS_COLUMNS",
    "KINDS",
    "MICROSOFT_COLUMNS",
    "Catalog",
    "CatalogPlan",
    "CatalogProduct",
    "builtin_catalog",
    "load_common_skus",
    "parse_microsoft_catalog",
]

KINDS: frozenset[str] = frozenset({"suite", "standalone", "addon", "free", "trial"})
"""The values allowed in the ``kind`` column of ``common_skus.csv``."""

MICROSOFT_COLUMNS: tuple[str, ...] = (
    "Product_Display_Name",
    "String_Id",
    "GUID",
    "Service_Plan_Name",
    "Service_Plan_Id",
    "Service_Plans_Included_Friendly_Names",
)
"""The header of Microsoft's CSV, in Microsoft's order."""

COMMON_SKUS_COLUMNS: tuple[str, ...] = ("sku_id", "sku_part_number", "name", "kind")
"""The header of ``collectors/data/common_skus.csv``."""

# Cells of Microsoft's CSV that may be empty. An empty plan friendly name falls back to the plan name.
_OPTIONAL_MICROSOFT = frozenset({"Service_Plans_Included_Friendly_Names"})

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@dataclass(frozen=True)
class CatalogProduct:
    """One licensable product (a SKU)."""

    sku_id: str
    """Lower-case GUID, Graph ``skuId``."""
    sku_part_number: str
    """Graph ``skuPartNumber`` (Microsoft's ``String_Id``), whitespace-normalised."""
    name: str
    """The name to show people."""
    kind: str | None = None
    """One of :data:`KINDS` for our own table; None for products imported from Microsoft's CSV."""


@dataclass(frozen=True)
class CatalogPlan:
    """One service plan included in a product."""

    sku_id: str
    """Lower-case GUID of the product that includes the plan."""
    service_plan_id: str
    """Lower-case GUID, Graph ``servicePlanId``."""
    service_plan_name: str
    """Graph ``servicePlanName``, e.g. ``EXCHANGE_S_ENTERPRISE``."""
    friendly_name: str
    """Microsoft's friendly name, as published (about 155 are still in legacy ALL CAPS)."""


@dataclass(frozen=True)
class Catalog:
    """Products and service plans, with anything odd noticed while reading them.

    ``products`` has one entry per ``sku_id`` and ``plans`` one per (``sku_id``, ``service_plan_id``),
    both in the order first seen. ``warnings`` are whole sentences for a person.
    """

    products: tuple[CatalogProduct, ...]
    plans: tuple[CatalogPlan, ...] = ()
    warnings: tuple[str, ...] = ()
    _by_id: dict[str, CatalogProduct] = field(init=False, repr=False, compare=False, hash=False)
    _plans_by_id: dict[str, tuple[CatalogPlan, ...]] = field(
        init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        by_id: dict[str, CatalogProduct] = {}
        for product in self.products:
            by_id.setdefault(product.sku_id, product)
        plans: dict[str, list[CatalogPlan]] = {}
        for plan in self.plans:
            plans.setdefault(plan.sku_id, []).append(plan)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_plans_by_id", {k: tuple(v) for k, v in plans.items()})

    def product_for(self, sku_id: str) -> CatalogProduct | None:
        """The product with this ``skuId`` (any case, surrounding whitespace ignored), or None."""
        return self._by_id.get(sku_id.strip().lower())

    def name_for(self, sku_id: str) -> str | None:
        """The friendly name for a ``skuId``, or None when the catalog does not know it.

        Callers fall back to the SKU's ``skuPartNumber`` and list the SKU as unknown.
        """
        product = self.product_for(sku_id)
        return product.name if product is not None else None

    def plans_for(self, sku_id: str) -> tuple[CatalogPlan, ...]:
        """The service plans included in a product, in file order (empty if unknown)."""
        return self._plans_by_id.get(sku_id.strip().lower(), ())


def _as_guid(value: str) -> str | None:
    """The lower-case GUID in an already normalised cell, or None if it is not a GUID."""
    lowered = value.lower()
    return lowered if _GUID.fullmatch(lowered) else None


def _clash(pairs: Sequence[tuple[str, str, str]]) -> str:
    """Describe the (label, kept, new) values that differ other than in case, or "" if none do."""
    return " and ".join(
        f"the {label} {quoted(new)} instead of {quoted(kept)}"
        for label, kept, new in pairs
        if kept.casefold() != new.casefold()
    )


def _cells(
    text: str, source: str, columns: Sequence[str], optional: frozenset[str]
) -> tuple[list[tuple[int, dict[str, str]]], list[tuple[int, str]]]:
    """The normalised cells of each data row whose required cells are filled in, and the problems
    (row number, sentence) of the rest, by the rules of :mod:`analysis.user_files`."""
    table = read_table(text, source, columns)
    rows: list[tuple[int, dict[str, str]]] = []
    problems = list(table.problems)
    for number, raw in table.rows:
        cells = {name: normalised(value) for name, value in raw.items()}
        empty = [f"{name} is empty" for name in columns if name not in optional and not cells[name]]
        if empty:
            problems.append((number, f"{source}, row {number}: {' and '.join(empty)}."))
            continue
        rows.append((number, cells))
    return rows, problems


def parse_microsoft_catalog(path: str | Path) -> Catalog:
    """Read Microsoft's "Product names and service plan identifiers for licensing" CSV.

    Whitespace in every cell is normalised (stripped, NBSP and tabs turned into spaces, runs
    collapsed; inner spaces that are part of an id, as in ``Microsoft_365_ Business_ Premium_(no
    Teams)``, are kept as one space). GUIDs are validated and lower-cased. Products are deduplicated
    on GUID, the first name and part number winning; plans on (GUID, Service_Plan_Id), the first row
    winning. Conflicting repeats are kept out and reported in ``Catalog.warnings``; names that differ
    only in case are not conflicts.

    Raises:
        InputError: the file breaks a rule of :mod:`analysis.user_files` (one sentence naming the
            file, and the row), or rows have an invalid GUID or an empty required cell: one
            sentence per bad row (the first ``MAX_PROBLEMS_SHOWN`` and how many more). Nothing
            partial is ever returned.
    """
    source = str(path)
    rows, problems = _cells(read_file(path, source), source, MICROSOFT_COLUMNS, _OPTIONAL_MICROSOFT)
    products: dict[str, tuple[int, CatalogProduct]] = {}
    plans: dict[tuple[str, str], tuple[int, CatalogPlan]] = {}
    warnings: list[str] = []
    reported: set[tuple[str, ...]] = set()
    for number, cells in rows:
        sku_id = _as_guid(cells["GUID"])
        plan_id = _as_guid(cells["Service_Plan_Id"])
        bad = [f"{name} {quoted(cells[name])} is not a GUID" for name, value in
               (("GUID", sku_id), ("Service_Plan_Id", plan_id)) if value is None]  # fmt: skip
        if sku_id is None or plan_id is None:
            problems.append((number, f"{source}, row {number}: {' and '.join(bad)}."))
            continue
        product = CatalogProduct(
            sku_id=sku_id, sku_part_number=cells["String_Id"], name=cells["Product_Display_Name"]
        )
        kept_row, kept = products.setdefault(sku_id, (number, product))
        if kept is not product:
            clash = _clash(
                (
                    ("name", kept.name, product.name),
                    ("part number", kept.sku_part_number, product.sku_part_number),
                )
            )
            if clash and ("product", sku_id, clash) not in reported:
                reported.add(("product", sku_id, clash))
                warnings.append(
                    f"Row {number} gives product {sku_id} {clash}; kept what row {kept_row} says."
                )
        plan_name = cells["Service_Plan_Name"]
        plan = CatalogPlan(
            sku_id=sku_id,
            service_plan_id=plan_id,
            service_plan_name=plan_name,
            friendly_name=cells["Service_Plans_Included_Friendly_Names"] or plan_name,
        )
        kept_plan_row, kept_plan = plans.setdefault((sku_id, plan_id), (number, plan))
        if kept_plan is not plan:
            clash = _clash(
                (
                    ("name", kept_plan.service_plan_name, plan.service_plan_name),
                    ("friendly name", kept_plan.friendly_name, plan.friendly_name),
                )
            )
            if clash and ("plan", sku_id, plan_id, clash) not in reported:
                reported.add(("plan", sku_id, plan_id, clash))
                warnings.append(
                    f"Row {number} repeats service plan {plan_id} of {kept.sku_part_number} ({sku_id}) "
                    f"with {clash}; kept what row {kept_plan_row} says."
                )
    if problems:
        raise problems_error([sentence for _, sentence in sorted(problems)], "Nothing was imported.")
    return Catalog(
        products=tuple(product for _, product in products.values()),
        plans=tuple(plan for _, plan in plans.values()),
        warnings=tuple(warnings),
    )


@functools.cache
def load_common_skus() -> tuple[CatalogProduct, ...]:
    """Our shipped table of common SKUs (``collectors/data/common_skus.csv``), in file order.

    Raises:
        ValueError: the shipped file is malformed (a packaging bug; the tests guard against it).
    """
    source = "common_skus.csv"
    text = (
        resources.files("collectors")
        .joinpath("data")
        .joinpath("common_skus.csv")
        .read_text(encoding="utf-8-sig")
    )
    # A broken shipped table is a packaging bug, not the user's input: let it surface as such.
    try:
        rows, problems = _cells(text, source, COMMON_SKUS_COLUMNS, frozenset())
    except InputError as exc:
        raise ValueError(str(exc)) from None
    if problems:
        raise ValueError(problems[0][1])
    products: dict[str, CatalogProduct] = {}
    for number, cells in rows:
        sku_id = _as_guid(cells["sku_id"])
        if sku_id is None:
            raise ValueError(f"{source}, row {number}: sku_id {quoted(cells['sku_id'])} is not a GUID.")
        if sku_id in products:
            raise ValueError(f"{source}, row {number}: sku_id {sku_id} is listed twice.")
        if cells["kind"] not in KINDS:
            raise ValueError(
                f"{source}, row {number}: kind {quoted(cells['kind'])} is not one of {', '.join(sorted(KINDS))}."
            )
        products[sku_id] = CatalogProduct(
            sku_id=sku_id, sku_part_number=cells["sku_part_number"], name=cells["name"], kind=cells["kind"]
        )
    return tuple(products.values())


def builtin_catalog() -> Catalog:
    """A catalog of our shipped common SKUs only (no service plans), for before any import."""
    return Catalog(products=load_common_skus())
