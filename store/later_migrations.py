"""Migrations 8 onwards: the tables of what was added after the core schema (notifications,
Microsoft 365 usage reports, the tenants registry). Append new migrations here; the rules of
``store.migrations`` apply.
"""

from __future__ import annotations

LATER_MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        8,
        "notifications",
        """
        -- What each notification channel was last told about each finding of `license-desk check`
        -- (finding_key: analysis.digest.finding_key; facts: its fingerprint, to tell "changed"
        -- from "unchanged"; its SKU, so a SKU excluded later is not announced as resolved).
        -- Deleted when the finding is resolved and the channel was told so.
        CREATE TABLE notification_state (
            channel TEXT NOT NULL,
            finding_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            subject TEXT NOT NULL,
            sku_id TEXT NOT NULL,
            sku_part_number TEXT NOT NULL,
            message TEXT NOT NULL,
            facts TEXT NOT NULL,
            first_sent_at TEXT NOT NULL,
            last_sent_at TEXT NOT NULL,
            PRIMARY KEY (channel, finding_key)
        );
        -- Every message sent (digests and mailed reports): inserted as 'pending' before it is sent,
        -- updated with the server's answer. Destinations never hold a secret (no webhook path or
        -- query, no password).
        CREATE TABLE notification_deliveries (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            channel TEXT NOT NULL,
            destination TEXT NOT NULL,
            what TEXT NOT NULL,
            subject TEXT NOT NULL,
            snapshot_id INTEGER,
            content TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
            answer TEXT,
            error TEXT
        );
        CREATE INDEX notification_deliveries_created ON notification_deliveries (created_at);
        """,
    ),
    (
        9,
        "usage_reports",
        """
        -- Microsoft 365 usage per user (store.usage), as intervals like licences; dates are the
        -- last activity per workload (NULL: none); on_hold NULL: no mailbox row.
        CREATE TABLE user_usage (
            user_id TEXT NOT NULL,
            report_date TEXT,
            exchange_at TEXT,
            onedrive_at TEXT,
            sharepoint_at TEXT,
            teams_at TEXT,
            yammer_at TEXT,
            apps_at TEXT,
            desktop_apps INTEGER,
            web_mobile_apps INTEGER,
            copilot_at TEXT,
            recipient_type TEXT,
            mailbox_bytes BIGINT,
            has_archive INTEGER,
            on_hold INTEGER,
            onedrive_bytes BIGINT,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER
        );
        CREATE INDEX user_usage_current ON user_usage (user_id) WHERE valid_to IS NULL;
        -- What each snapshot got from each report (concealed: hashed names, never joined).
        CREATE TABLE usage_reports (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            report TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('ok', 'forbidden', 'concealed', 'empty')),
            refresh_date TEXT,
            rows INTEGER NOT NULL,
            matched INTEGER NOT NULL,
            PRIMARY KEY (snapshot_id, report)
        );
        """,
    ),
    (
        10,
        "tenants registry",
        """
        -- The customer tenants `collect --all` collects, one store each (store.tenants). credential
        -- is a reference (env:NAME, file:PATH or secret:NAME), never a secret; client_id NULL means
        -- the configured multi-tenant app. tags: a JSON list. last_*: the outcome of the latest
        -- collection of this tenant, its failure in one sentence.
        CREATE TABLE tenants (
            tenant_id TEXT PRIMARY KEY,
            display_name TEXT NOT NULL,
            domain TEXT,
            client_id TEXT,
            credential TEXT,
            enabled INTEGER NOT NULL DEFAULT 1,
            tags TEXT NOT NULL DEFAULT '[]',
            added_at TEXT NOT NULL,
            last_run_at TEXT,
            last_status TEXT CHECK (last_status IN ('complete', 'failed')),
            last_snapshot_id INTEGER,
            last_error TEXT
        );
        """,
    ),
)
