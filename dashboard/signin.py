"""The person using this session and their roles, read from Streamlit (``st.secrets``, ``st.user``).

The decision itself is ``dashboard.access`` (pure); this module only feeds it. It sits apart from
``dashboard.ui`` so that ``dashboard.services`` can check a role inside an action ("Collect now")
without importing the rendering helpers.
"""

from __future__ import annotations

import os
import tomllib
from typing import Any

import streamlit as st
from streamlit import config as st_config
from streamlit.errors import StreamlitSecretNotFoundError

from dashboard.access import AccessConfig, AccessDenied, Role, access_config, broken, roles_for, toml_problem


def _shown(path: str) -> str:
    """A secrets path as a person finds it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else path


def secrets_problem() -> str | None:
    """Which configured secrets file does not parse, and where; None when every one that exists does.

    Streamlit raises the same error for "no secrets file" and "a secrets file that does not
    parse" (and only logs the latter with its line), so each file is read again here to name the
    file and the line.
    """
    for path in st_config.get_option("secrets.files"):
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as file:
                tomllib.load(file)
        except tomllib.TOMLDecodeError as exc:
            return toml_problem(_shown(path), exc)
        except (OSError, UnicodeDecodeError) as exc:
            return (
                f"The secrets file {_shown(path)} cannot be read ({exc.__class__.__name__}), so sign-in cannot be "
                "checked; fix it, or remove the file to run in local single-user mode."
            )
    return None


def secrets() -> tuple[dict[str, Any], str | None]:
    """``st.secrets`` as a plain dict, or ({}, the reason) when secrets exist but cannot be
    loaded; ({}, None) when there are none."""
    try:
        return {key: st.secrets[key] for key in st.secrets}, None
    except StreamlitSecretNotFoundError as exc:
        problem = secrets_problem()
        if problem is not None:
            return {}, problem
        paths = st_config.get_option("secrets.files")
        if getattr(exc, "error_id", None) == "no-secrets-found" or not any(os.path.exists(p) for p in paths):
            return {}, None
        # Something else Streamlit cannot load (a secrets directory, an invalid path): its own
        # message names the path and never a value.
        return {}, f"{exc} Sign-in cannot be checked; fix it, or remove it to run in local single-user mode."


def claims() -> dict[str, Any]:
    """The signed-in person's claims (``st.user``) as a plain dict."""
    return {key: st.user.get(key) for key in st.user}


def access_state() -> tuple[AccessConfig, dict[str, Any], frozenset[Role]]:
    """Sign-in configuration, the person's claims, and their roles."""
    loaded, problem = secrets()
    config = broken(problem) if problem else access_config(loaded)
    person = claims()
    return config, person, roles_for(person, config)


def require_role(role: Role, action: str) -> None:
    """Refuse ``action`` (e.g. "Collecting now") unless this session's person has ``role``.

    Raises:
        AccessDenied: they do not (one sentence).
    """
    config, _person, roles = access_state()
    if role not in roles:
        reason = config.problem or f"{action} needs the {role.value} role; ask a License Desk administrator."
        raise AccessDenied(reason)
