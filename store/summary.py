"""What a completed collection reports (``SnapshotWriter.complete``): counts and warnings, kept apart
from the writer so that its readers (the CLI, the dashboard, ``collect --all``) need not import it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SnapshotSummary:
    snapshot_id: int
    users: int
    licenses: int
    skus: int
    groups: int
    users_changed: int
    licenses_changed: int
    warnings: list[str] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
