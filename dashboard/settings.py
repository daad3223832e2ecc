"""The settings the dashboard runs on, and the one place that decides which store it shows.

Pages, their loaders and the actions ("Collect now", apply) all take the store from here, so
what a page shows and where "Collect now" writes can never disagree: both are
``licensedesk.config.load_settings()``'s ``store``, from ``LICENSE_DESK_STORE`` or else the
TOML file ``LICENSE_DESK_CONFIG`` names. Settings are read on every call (a small file), so a
changed file is seen on the next run without a restart.

Imports nothing of the dashboard: every other dashboard module may import it.
"""

from __future__ import annotations

import os

from licensedesk.config import DEFAULT_STORE, Settings, load_settings
from licensedesk.errors import ConfigError

_STORE_VARIABLE = "LICENSE_DESK_STORE"


def current_settings() -> tuple[Settings | None, str | None]:
    """The configuration, or None and the one-sentence reason it is invalid."""
    try:
        return load_settings(), None
    except ConfigError as exc:
        return None, str(exc)


def store_path() -> str:
    """The store the dashboard reads and collects into: the configuration's ``store``.

    When the configuration is invalid nothing can be collected or applied (the Data page says
    why), so nothing can disagree: the pages then show ``LICENSE_DESK_STORE``, else the default.
    """
    loaded, _problem = current_settings()
    if loaded is not None:
        return loaded.store
    return os.environ.get(_STORE_VARIABLE) or DEFAULT_STORE


def inactive_days() -> int:
    """``LICENSE_DESK_INACTIVE_DAYS`` (default 90; also when the configuration is invalid)."""
    loaded, _problem = current_settings()
    return (loaded or Settings()).inactive_days


def table_rows() -> int:
    """``LICENSE_DESK_TABLE_ROWS``: the most rows a table shows (default 10,000; also when the
    configuration is invalid)."""
    loaded, _problem = current_settings()
    return (loaded or Settings()).table_rows
