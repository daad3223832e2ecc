"""Settings that point the product at a running simulator."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from cli.demo_tenant import simulator_settings
from graphsim.server import GraphSimulator
from licensedesk.config import Settings


def settings_for(sim: GraphSimulator, store: str, **overrides: Any) -> Settings:
    """The simulator's settings with ``store``, and any fields replaced (e.g. allow_writes=True)."""
    settings = simulator_settings(sim, store)
    return replace(settings, **overrides) if overrides else settings
