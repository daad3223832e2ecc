"""The audit log's own storage: the 'unknown' status, and stores from before it (migration 7)."""

from __future__ import annotations

from store import migrations
from store.audit import Outcome, audit_entries, record_intent, record_outcomes
from store.db import _ddl, _statements, open_store


def test_a_store_from_before_unknown_keeps_its_audit_rows_and_ids(store_url: str) -> None:
    with open_store(store_url) as store:
        # Put back the audit table as migration 2 made it, with rows and a gap in the ids (a
        # rolled-back insert leaves one on PostgreSQL), and forget migration 7.
        (audit_sql,) = [sql for version, _name, sql in migrations.MIGRATIONS if version == 2]
        with store.atomic() as tx:
            tx.execute("DROP TABLE audit_log")
            for statement in _statements(audit_sql):
                tx.execute(_ddl(statement, store.dialect))
            for entry_id, status in ((1, "succeeded"), (2, "failed"), (5, "pending")):
                tx.execute(
                    "INSERT INTO audit_log (id, plan_id, created_at, actor, action, detail, status) "
                    "VALUES (?, 'old', '2024-01-01T00:00:00Z', 'cli:ann', 'assign', '{}', ?)",
                    (entry_id, status),
                )
            tx.execute("DELETE FROM schema_migrations WHERE version = 7")
    with open_store(store_url) as store:
        assert audit_entries(store)[["id", "status"]].values.tolist() == [
            [5, "pending"],
            [2, "failed"],
            [1, "succeeded"],
        ]
        new = record_intent(store, plan_id="new", actor="cli:bob", tenant_id=None, action="assign")
        assert new == 6
        record_outcomes(store, [Outcome(new, "unknown", error="no answer; check it in the tenant")])
        log = audit_entries(store)
    assert log[["id", "plan_id", "status"]].values.tolist()[0] == [6, "new", "unknown"]
    assert log["finished_at"].notna().tolist() == [True, False, False, False]
