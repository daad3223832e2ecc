"""The users a plan is for, from a list pasted, uploaded or named with ``--users-file``.

Read by the rules every file a person gives us follows (:mod:`analysis.user_files`: encoding,
separators, quoting, row numbers, one sentence per problem, the first 20 shown).
"""

from __future__ import annotations

from analysis.user_files import problems_error, read_csv, read_file
from licensedesk.errors import InputError

# Header names (compared case-insensitively) of the column that names users, most specific first:
# Entra's "Download users" CSV has userPrincipalName, id and mail; our own exports use
# user_principal_name and user_id.
USER_COLUMNS = ("userPrincipalName", "user_principal_name", "upn", "id", "user_id", "mail")


def parse_user_list(text: str, *, source: str = "The list of users") -> list[str]:
    """User principal names or object ids from a pasted list or a CSV file, in order, each once.

    A first row naming one of ``USER_COLUMNS`` is a header, and that column is read; every row
    must then have as many fields as the header (an unquoted comma in a name would shift the
    columns, and the licence go to whoever is in the next one). Without a header the text must be
    a single column (one user per line). Blank lines are dropped, and a user named twice (in any
    letter case) is kept once.

    Raises:
        InputError: the text breaks a rule of :mod:`analysis.user_files`, has several columns and
            none of them names users, rows with another number of fields than the header, or
            several values on a line of a list without header (``source`` starts each sentence).
    """
    found = read_csv(text, source)
    rows = [(number, [c.strip() for c in cells]) for number, cells in found.rows]
    if not rows:
        return []
    header = rows[0][1]
    wanted = {name.lower(): rank for rank, name in enumerate(USER_COLUMNS)}
    named = [(wanted[cell.lower()], i) for i, cell in enumerate(header) if cell.lower() in wanted]
    columns = ", ".join(USER_COLUMNS[:-1]) + f" or {USER_COLUMNS[-1]}"
    found.check_encoding(header=bool(named))
    column = min(named)[1] if named else 0
    if named:
        rows = rows[1:]
        ragged = [
            f"{source}, row {number}: found {len(cells)} fields where the header has {len(header)}."
            for number, cells in rows
            if len(cells) != len(header)
        ]
        if ragged:
            raise problems_error(ragged, "No plan was made.")
    elif len(header) == 1:
        for line, cells in rows:
            if sum(bool(c) for c in cells) > 1:
                raise InputError(
                    f"{source} has several values on line {line} but no header naming the user column; "
                    f"put one user per line, or add a header naming one column {columns}."
                )
    else:
        found_columns = ", ".join(repr(cell) for cell in header)
        raise InputError(
            f"{source} has several columns ({found_columns}) and none of them names users; add a header "
            f"naming one column {columns} (any letter case)."
        )
    unique: dict[str, str] = {}  # lowercased -> as first written: a dict keeps this linear
    for _line, cells in rows:
        # Without a header, a line's one value may follow an empty field (",ann@contoso.com").
        value = cells[column] if named else next(c for c in cells if c)
        if value:
            unique.setdefault(value.lower(), value)
    return list(unique.values())


def read_users_file(path: str) -> list[str]:
    """The users named in a file (``--users-file``); each sentence starts with the path.

    Raises:
        InputError: as :func:`parse_user_list`, and for a file that cannot be read, is empty or
            names no users.
    """
    text = read_file(path)
    users = parse_user_list(text, source=path)
    if not users:
        raise InputError(f"{path} is empty." if not text.strip() else f"{path} names no users.")
    return users
