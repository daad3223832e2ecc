"""Turning Graph payloads into rows: the documented sample shapes, nulls, extra fields, oddities."""

from __future__ import annotations

import random
from typing import Any

import pytest

from collectors.groups import group_rows
from collectors.normalize import flag, guid, license_error, plan_list, text, timestamp
from collectors.skus import sku_rows
from collectors.subscriptions import subscription_rows
from collectors.user_rows import user_page_tuples
from collectors.users import user_page_rows
from store.staging import LicenseRow

E5 = "c7df2760-2c81-4ef7-b578-5b5392b571df"
EMS5 = "b05e124f-c7cc-45a0-a6aa-8cf78c946968"
GROUP = "11151866-5419-4d93-9141-0603bbf78b42"

# graph-samples.md §3c (constructed from the resource docs), with an extra field Graph may add.
DEBRA = {
    "id": "81A133C2-BDF2-4E67-8755-7264366B04EE",
    "displayName": "Debra Berger",
    "userPrincipalName": "DebraB@contoso.com",
    "accountEnabled": True,
    "usageLocation": "US",
    "someFutureProperty": {"nested": [1, 2, 3]},
    "assignedLicenses": [{"disabledPlans": [], "skuId": E5.upper()}],
    "licenseAssignmentStates": [
        {"assignedByGroup": None, "disabledPlans": [], "error": "None",
         "lastUpdatedDateTime": "2024-03-01T10:00:00Z", "skuId": E5, "state": "Active"},
        {"assignedByGroup": GROUP, "disabledPlans": [], "error": "None",
         "lastUpdatedDateTime": "2024-03-02T08:30:00Z", "skuId": E5, "state": "Active"},
        {"assignedByGroup": GROUP, "disabledPlans": [], "error": "CountViolation",
         "lastUpdatedDateTime": "2024-03-02T08:30:00Z", "skuId": EMS5, "state": "Error"},
    ],
    "signInActivity": {
        "lastSignInDateTime": "2021-06-17T16:41:33Z",
        "lastNonInteractiveSignInDateTime": "0001-01-01T00:00:00Z",
        "lastNonInteractiveSignInRequestId": "",
    },
}  # fmt: skip


def test_documented_user_sample() -> None:
    page = user_page_rows([DEBRA], with_signins=True)
    uid = "81a133c2-bdf2-4e67-8755-7264366b04ee"
    assert page.users[0].user_id == uid
    assert page.users[0].department is None  # not selected / absent
    assert page.licenses == [
        LicenseRow(uid, E5, "", "Active", "", "", "2024-03-01T10:00:00Z"),
        LicenseRow(uid, E5, GROUP, "Active", "", "", "2024-03-02T08:30:00Z"),
        LicenseRow(uid, EMS5, GROUP, "Error", "CountViolation", "", "2024-03-02T08:30:00Z"),
    ]
    # E5 is held once (one seat) although it comes both directly and from the group; EMS is in error.
    assert [(a.user_id, a.sku_id) for a in page.assigned] == [(uid, E5)]
    signin = page.signins[0]
    assert signin.last_sign_in_at == "2021-06-17T16:41:33Z"
    assert signin.last_non_interactive_at is None  # year 1 means never
    assert signin.last_successful_at is None


def test_nulls_wrong_types_and_missing_ids_are_tolerated() -> None:
    odd: list[Any] = [
        {"id": None, "displayName": "no id"},
        "not an object",
        {
            "id": "u2",
            "displayName": None,
            "accountEnabled": "yes",  # wrong type: unknown, not True
            "assignedLicenses": None,
            "licenseAssignmentStates": [None, {"skuId": None}, {"skuId": E5, "error": None, "state": None}],
            "signInActivity": None,
        },
        {
            "id": "u3",
            # A licence in assignedLicenses with no state entry is still held (recorded as direct).
            "assignedLicenses": [{"skuId": E5, "disabledPlans": ["B", "a", "B"]}],
        },
    ]
    page = user_page_rows(odd, with_signins=True)
    assert page.skipped == 2
    assert [u.user_id for u in page.users] == ["u2", "u3"]
    assert page.users[0].account_enabled is None
    assert page.licenses == [
        LicenseRow("u2", E5, "", "Unknown", "", "", None),
        LicenseRow("u3", E5, "", "Active", "", "a,b", None),
    ]
    assert page.signins[0].last_sign_in_at is None


def test_unknown_enum_values_are_kept_verbatim() -> None:
    user = {
        "id": "u1",
        "licenseAssignmentStates": [{"skuId": E5, "state": "PendingSomething", "error": "Others"}],
    }
    (row,) = user_page_rows([user], with_signins=False).licenses
    assert (row.state, row.error) == ("PendingSomething", "Others")


def test_documented_sku_sample_including_over_consumed_suspended_sku() -> None:
    raw: list[Any] = [
        {"skuId": E5, "skuPartNumber": "ENTERPRISEPREMIUM", "appliesTo": "User", "capabilityStatus": "Enabled",
         "consumedUnits": 14, "prepaidUnits": {"enabled": 25, "lockedOut": 0, "suspended": 0, "warning": 0},
         "servicePlans": [{"servicePlanId": "8C098270-9DD4-4350-9B30-BA4703F3B36B", "servicePlanName": "ADALLOM_S_O365",
                           "provisioningStatus": "Success", "appliesTo": "Company"}]},
        {"skuId": "d17b27af-3f49-4822-99f9-56a661538792", "skuPartNumber": "CRMSTANDARD", "consumedUnits": 14,
         "capabilityStatus": "Suspended", "prepaidUnits": {"enabled": 0, "suspended": 25}},
        {"skuPartNumber": "NO_ID"},
        {"skuId": "45715bb8-13f9-4bf6-927f-ef96c102d394", "prepaidUnits": None, "consumedUnits": "7"},
    ]  # fmt: skip
    skus, plans = sku_rows(raw)
    assert [(s.sku_part_number, s.enabled, s.suspended, s.consumed) for s in skus] == [
        ("ENTERPRISEPREMIUM", 25, 0, 14),
        ("CRMSTANDARD", 0, 25, 14),
        ("45715bb8-13f9-4bf6-927f-ef96c102d394", 0, 0, 0),  # no part number: the id stands in
    ]
    assert plans[0].service_plan_id == "8c098270-9dd4-4350-9b30-ba4703f3b36b"


def test_documented_subscription_sample() -> None:
    (row,) = subscription_rows(
        [
            {"createdDateTime": "2023-01-01T00:00:00Z", "commerceSubscriptionId": "f9c1ea2d-2c6e-4717-8c3b-7130812d70ba",
             "id": "860697e3-b0aa-4196-a6c6-7ec361ed58f7", "isTrial": False, "nextLifecycleDateTime": "2023-02-01T00:00:00Z",
             "skuId": "0816ccb9-3785-4d19-bf78-6c53e2106509", "skuPartNumber": "MyPartNumber", "status": "Enabled",
             "totalLicenses": 25, "ownerType": "User"},
            {"status": "Enabled"},  # no id: dropped
        ]
    )  # fmt: skip
    assert (row.subscription_id, row.total_licenses, row.is_trial, row.next_lifecycle_at) == (
        "860697e3-b0aa-4196-a6c6-7ec361ed58f7", 25, 0, "2023-02-01T00:00:00Z",
    )  # fmt: skip


def test_group_rows_keep_licensed_and_flagged_groups_only() -> None:
    raw: list[Any] = [
        {"id": GROUP, "displayName": "Licensing - E5", "assignedLicenses": [{"skuId": E5, "disabledPlans": []}],
         "licenseProcessingState": {"state": "ProcessingComplete"}},
        {"id": "g-plain", "displayName": "All staff", "assignedLicenses": []},
        {"id": "g-flagged", "displayName": "Old licensing", "assignedLicenses": None, "licenseProcessingState": None},
    ]  # fmt: skip
    groups, licenses = group_rows(raw, {"g-flagged"})
    assert [(g.group_id, g.processing_state, g.has_errors) for g in groups] == [
        (GROUP, "ProcessingComplete", 0),
        ("g-flagged", None, 1),
    ]
    assert [(gl.group_id, gl.sku_id) for gl in licenses] == [(GROUP, E5)]


# -- the fast row builder against a plain reading of the rules ----------------------------------
def _reference_rows(page: list[Any], with_signins: bool) -> tuple[list[tuple[Any, ...]], ...]:
    """The rules of ``user_page_tuples`` written plainly with the ``normalize`` helpers."""
    users: list[tuple[Any, ...]] = []
    licenses: list[tuple[Any, ...]] = []
    assigned: list[tuple[Any, ...]] = []
    signins: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    for item in page:
        user_id = guid(item.get("id")) if isinstance(item, dict) else None
        if user_id is None or user_id in seen:
            continue
        seen.add(user_id)
        users.append(
            (user_id, *(text(item.get(k)) for k in ("userPrincipalName", "displayName")),
             flag(item.get("accountEnabled")),
             *(text(item.get(k)) for k in ("userType", "usageLocation", "department", "companyName", "jobTitle")),
             timestamp(item.get("createdDateTime")))
        )  # fmt: skip
        held: dict[str, Any] = {}
        for lic in item.get("assignedLicenses") or ():
            sku = guid(lic.get("skuId")) if isinstance(lic, dict) else None
            if sku and sku not in held:
                held[sku] = lic
                assigned.append((user_id, sku))
        pairs: set[tuple[str, str]] = set()
        for state in item.get("licenseAssignmentStates") or ():
            sku = guid(state.get("skuId")) if isinstance(state, dict) else None
            if sku is None or (sku, guid(state.get("assignedByGroup")) or "") in pairs:
                continue
            source = guid(state.get("assignedByGroup")) or ""
            pairs.add((sku, source))
            licenses.append(
                (user_id, sku, source, text(state.get("state")) or "Unknown", license_error(state.get("error")),
                 plan_list(state.get("disabledPlans")), timestamp(state.get("lastUpdatedDateTime")))
            )  # fmt: skip
        for sku in sorted(set(held) - {s for s, _ in pairs}):
            licenses.append((user_id, sku, "", "Active", "", plan_list(held[sku].get("disabledPlans")), None))
        if with_signins:
            activity = item.get("signInActivity")
            activity = activity if isinstance(activity, dict) else {}
            signins.append(
                (user_id, *(timestamp(activity.get(k)) for k in
                            ("lastSignInDateTime", "lastNonInteractiveSignInDateTime", "lastSuccessfulSignInDateTime")))
            )  # fmt: skip
    return users, licenses, assigned, signins


def _odd_value(rng: random.Random) -> Any:
    return rng.choice(
        [None, "", "  ", " a ", "None", "none", "Active", 5, 0, 1.5, True, False, [], {}, ["A", "b", " "],
         "0001-01-01T00:00:00Z", "2024-01-01T00:00:00Z", E5.upper(), f" {EMS5} ", GROUP]
    )  # fmt: skip


def _odd_user(rng: random.Random) -> Any:
    if rng.random() < 0.05:
        return _odd_value(rng)
    ids = ["u1", "U1 ", " u2", E5, GROUP.upper()]
    user: dict[str, Any] = {
        key: rng.choice(ids) if key == "id" and rng.random() < 0.7 else _odd_value(rng)
        for key in ("id", "displayName", "userPrincipalName", "accountEnabled", "userType", "usageLocation",
                    "department", "companyName", "jobTitle", "createdDateTime")
        if rng.random() < 0.8
    }  # fmt: skip
    skus = [E5, E5.upper(), f" {EMS5} ", "  ", 7, None]
    user["assignedLicenses"] = rng.choice(
        [None, {}, [{"skuId": rng.choice(skus), "disabledPlans": rng.choice([[], ["B", "a", "B"], None, "x"])}
                    for _ in range(rng.randint(0, 3))] + [_odd_value(rng)]]
    )  # fmt: skip
    user["licenseAssignmentStates"] = rng.choice(
        [None, {}, [_odd_value(rng)] + [
            {key: (rng.choice(skus + [GROUP]) if key in ("skuId", "assignedByGroup") and rng.random() < 0.7
                   else _odd_value(rng))
             for key in ("skuId", "assignedByGroup", "state", "error", "disabledPlans", "lastUpdatedDateTime")
             if rng.random() < 0.85}
            for _ in range(rng.randint(0, 4))]]
    )  # fmt: skip
    user["signInActivity"] = rng.choice(
        [
            _odd_value(rng),
            {k: _odd_value(rng) for k in ("lastSignInDateTime", "lastSuccessfulSignInDateTime")},
        ]
    )
    return user


@pytest.mark.parametrize("seed", range(4))
def test_fast_rows_equal_the_plain_rules_on_random_odd_pages(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(500):
        page = [_odd_user(rng) for _ in range(rng.randint(0, 6))]
        with_signins = rng.random() < 0.5
        fast = user_page_tuples(page, with_signins=with_signins)
        assert (fast.users, fast.licenses, fast.assigned, fast.signins) == _reference_rows(page, with_signins)
        named = user_page_rows(page, with_signins=with_signins)
        assert named.licenses == fast.licenses and all(type(r) is LicenseRow for r in named.licenses)
        assert named.skipped == fast.skipped
