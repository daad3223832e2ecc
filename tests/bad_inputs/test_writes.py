"""Bad inputs to the write path (users files, disabled plans, plans refused): one sentence each."""

from __future__ import annotations

import pandas as pd
import pytest

from actions.plan import parse_user_list, plan_assign
from analysis.seats import seat_table
from licensedesk.errors import InputError

# (case, users file text, fragments the one-sentence error must hold)
USER_LISTS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "several columns, none names users",
        "displayName,department\nAnn,Sales\n",
        ("several columns ('displayName', 'department')", "userPrincipalName", "upn", "mail"),
    ),
    (
        "several columns, quoted header cells",
        '"Name, full","Team"\n"Kim, Olga",Ops\n',
        ("('Name, full', 'Team')",),
    ),
    (
        "a list without header with two users on a line",
        "ann@contoso.com\n\nbob@contoso.com, cat@contoso.com\n",
        ("several values on line 3", "one user per line"),
    ),
]


@pytest.mark.parametrize(("case", "text", "fragments"), USER_LISTS, ids=[c[0] for c in USER_LISTS])
def test_bad_user_lists(case: str, text: str, fragments: tuple[str, ...]) -> None:
    with pytest.raises(InputError) as err:
        parse_user_list(text, source="The users file users.csv")
    message = str(err.value)
    assert message.startswith("The users file users.csv has ")
    assert all(f in message for f in fragments), message
    assert "\n" not in message and message.endswith(".")


# (case, --disable-plan values, the refusal) for VISIOCLIENT, whose plans are the two below
PLANS = pd.DataFrame(
    [
        ("visio-id", "663a804f-1c30-4ff0-9915-9db84f0d1cea", "VISIO_CLIENT_SUBSCRIPTION"),
        ("visio-id", "2bdbaf8f-738f-4ac7-9234-3c3ee2ce7d0f", "VISIOONLINE"),
        ("e3-id", "efb87545-963c-4e0d-99df-69c6916d9eb0", "EXCHANGE_S_ENTERPRISE"),
    ],
    columns=["sku_id", "service_plan_id", "service_plan_name"],
)
VALID = "its plans are VISIOONLINE, VISIO_CLIENT_SUBSCRIPTION (by name or id)."
DISABLED_PLANS: list[tuple[str, list[str], str]] = [
    ("unknown name", ["Teams"], f"VISIOCLIENT has no service plan 'Teams'; {VALID}"),
    ("empty value", [""], f"VISIOCLIENT has no service plan ''; {VALID}"),
    (
        "another SKU's plan id",
        ["efb87545-963c-4e0d-99df-69c6916d9eb0"],
        f"VISIOCLIENT has no service plan 'efb87545-963c-4e0d-99df-69c6916d9eb0'; {VALID}",
    ),
    ("two unknown", ["a", "b"], f"VISIOCLIENT has no service plan 'a' or 'b'; {VALID}"),
]


@pytest.mark.parametrize(("case", "values", "sentence"), DISABLED_PLANS, ids=[c[0] for c in DISABLED_PLANS])
def test_bad_disabled_plans(case: str, values: list[str], sentence: str) -> None:
    skus = seat_table(
        pd.DataFrame(
            [("VISIOCLIENT", "visio-id", 5, 0, 1)],
            columns=["sku_part_number", "sku_id", "enabled", "warning", "consumed"],
        ).assign(suspended=0, locked_out=0)
    )
    users = pd.DataFrame(
        [("u1", "ann@contoso.com", "US", 1)],
        columns=["user_id", "user_principal_name", "usage_location", "account_enabled"],
    )
    licenses = pd.DataFrame(columns=["user_id", "sku_id", "assigned_by_group", "state", "error"])
    plan = plan_assign(
        "VISIOCLIENT", ["ann@contoso.com"], skus=skus, users=users, licenses=licenses,
        disabled_plans=values, service_plans=PLANS,
    )  # fmt: skip
    assert not plan.ok and [r.reason for r in plan.refused] == [sentence]
