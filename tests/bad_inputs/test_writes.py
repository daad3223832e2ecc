"""Bad inputs to the write path (users files, disabled plans, plans refused): one sentence each."""

from __future__ import annotations

import pytest

from actions.plan import parse_user_list
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
