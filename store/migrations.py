"""Numbered, append-only schema migrations.

Each migration runs in one transaction together with its row in ``schema_migrations``, so a
failed migration stays pending and the store is never half-upgraded. Never edit a migration
that has shipped: add the next number. The SQL avoids SQLite-only syntax where a portable form
exists, so the same statements can later serve PostgreSQL.
"""

from __future__ import annotations

from store.later_migrations import LATER_MIGRATIONS

# 1-7: the core schema.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "initial",
        """
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            tenant_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'failed')),
            error TEXT,
            host TEXT,
            pid INTEGER,
            user_count INTEGER,
            license_count INTEGER,
            sku_count INTEGER,
            group_count INTEGER,
            request_count INTEGER,
            retry_count INTEGER,
            duration_seconds REAL,
            signin_available INTEGER,
            warnings TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX snapshots_status ON snapshots (status, id);

        -- Per-snapshot facts: small (tens of SKUs), so kept whole each time.
        CREATE TABLE sku_counts (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            sku_id TEXT NOT NULL,
            sku_part_number TEXT NOT NULL,
            applies_to TEXT,
            capability_status TEXT,
            enabled INTEGER NOT NULL,
            warning INTEGER NOT NULL,
            suspended INTEGER NOT NULL,
            locked_out INTEGER NOT NULL,
            consumed INTEGER NOT NULL,
            users_in_store INTEGER NOT NULL,
            PRIMARY KEY (snapshot_id, sku_id)
        );
        CREATE TABLE sku_service_plans (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            sku_id TEXT NOT NULL,
            service_plan_id TEXT NOT NULL,
            service_plan_name TEXT,
            provisioning_status TEXT,
            applies_to TEXT,
            PRIMARY KEY (snapshot_id, sku_id, service_plan_id)
        );
        CREATE TABLE subscriptions (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            subscription_id TEXT NOT NULL,
            commerce_subscription_id TEXT,
            sku_id TEXT,
            sku_part_number TEXT,
            status TEXT,
            total_licenses INTEGER NOT NULL,
            is_trial INTEGER,
            created_at TEXT,
            next_lifecycle_at TEXT,
            PRIMARY KEY (snapshot_id, subscription_id)
        );
        CREATE TABLE licensed_groups (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            group_id TEXT NOT NULL,
            display_name TEXT,
            processing_state TEXT,
            has_errors INTEGER NOT NULL,
            PRIMARY KEY (snapshot_id, group_id)
        );
        CREATE TABLE group_licenses (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            group_id TEXT NOT NULL,
            sku_id TEXT NOT NULL,
            disabled_plans TEXT NOT NULL,
            PRIMARY KEY (snapshot_id, group_id, sku_id)
        );
        CREATE TABLE group_error_members (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
            group_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            PRIMARY KEY (snapshot_id, group_id, user_id)
        );

        -- Per-user facts: large, and mostly unchanged from one day to the next, so kept as
        -- intervals of snapshot ids: a row is valid from snapshot valid_from (inclusive) to
        -- valid_to (exclusive; NULL while current). Readers only see them as of complete snapshots.
        CREATE TABLE users (
            user_id TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER,
            user_principal_name TEXT,
            display_name TEXT,
            account_enabled INTEGER,
            user_type TEXT,
            usage_location TEXT,
            department TEXT,
            company_name TEXT,
            job_title TEXT,
            created_at TEXT
        );
        CREATE INDEX users_current ON users (user_id) WHERE valid_to IS NULL;
        CREATE INDEX users_span ON users (valid_from, valid_to);
        CREATE TABLE user_licenses (
            user_id TEXT NOT NULL,
            sku_id TEXT NOT NULL,
            assigned_by_group TEXT NOT NULL,
            state TEXT NOT NULL,
            error TEXT NOT NULL,
            disabled_plans TEXT NOT NULL,
            last_updated_at TEXT,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER
        );
        CREATE INDEX user_licenses_current ON user_licenses (user_id, sku_id, assigned_by_group)
            WHERE valid_to IS NULL;
        CREATE INDEX user_licenses_span ON user_licenses (valid_from, valid_to);
        -- Last sign-in is a "latest known" value that changes daily for most users: keeping its
        -- history would dwarf everything else, so only the latest is kept.
        CREATE TABLE user_signins (
            user_id TEXT PRIMARY KEY,
            last_sign_in_at TEXT,
            last_non_interactive_at TEXT,
            last_successful_at TEXT,
            snapshot_id INTEGER NOT NULL
        );

        CREATE TABLE catalog_products (
            sku_id TEXT PRIMARY KEY,
            sku_part_number TEXT NOT NULL,
            name TEXT NOT NULL,
            kind TEXT,
            source TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE catalog_plans (
            sku_id TEXT NOT NULL,
            service_plan_id TEXT NOT NULL,
            service_plan_name TEXT,
            friendly_name TEXT,
            PRIMARY KEY (sku_id, service_plan_id)
        );
        """,
    ),
    (
        2,
        "audit_log",
        """
        -- One row per intended write: inserted as 'pending' before the call, updated with the
        -- outcome after it. A row left 'pending' means the process died mid-call: outcome unknown.
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            plan_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            actor TEXT NOT NULL,
            tenant_id TEXT,
            action TEXT NOT NULL,
            user_id TEXT,
            user_principal_name TEXT,
            group_id TEXT,
            sku_id TEXT,
            sku_part_number TEXT,
            detail TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed', 'refused', 'not_sent')),
            http_status INTEGER,
            request_id TEXT,
            error TEXT
        );
        CREATE INDEX audit_log_created ON audit_log (created_at);
        CREATE INDEX audit_log_plan ON audit_log (plan_id);
        """,
    ),
    (
        3,
        "finance",
        """
        -- The price book: what one seat of a SKU costs, from a date on. Amounts are integer minor
        -- units (cents) of an ISO 4217 currency, never floats. History is kept: a snapshot is
        -- costed at the row in force on its own date.
        CREATE TABLE prices (
            sku_id TEXT NOT NULL,
            sku_part_number TEXT,
            unit_price_minor INTEGER NOT NULL CHECK (unit_price_minor >= 0),
            currency TEXT NOT NULL,
            period TEXT NOT NULL CHECK (period IN ('month', 'year')),
            effective_from TEXT NOT NULL,
            source TEXT,
            note TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (sku_id, currency, effective_from)
        );
        -- Per-SKU alert thresholds for `license-desk check`: NULL means "not checked".
        CREATE TABLE thresholds (
            sku_id TEXT PRIMARY KEY,
            sku_part_number TEXT,
            min_free_seats INTEGER CHECK (min_free_seats IS NULL OR min_free_seats >= 0),
            max_utilization_percent INTEGER
                CHECK (max_utilization_percent IS NULL OR max_utilization_percent BETWEEN 0 AND 100),
            note TEXT,
            updated_at TEXT NOT NULL
        );
        -- Users or SKUs kept out of reclaim candidates (and only out of those).
        CREATE TABLE exemptions (
            kind TEXT NOT NULL CHECK (kind IN ('user', 'sku')),
            target_id TEXT NOT NULL,
            label TEXT,
            note TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (kind, target_id)
        );
        """,
    ),
    (
        4,
        "interval_end_indexes",
        """
        -- The change ledger reads rows that opened OR closed between two snapshots; without an
        -- index on valid_to that OR scans the whole history (seen in bench_dashboard.py's plans).
        CREATE INDEX user_licenses_closed ON user_licenses (valid_to);
        CREATE INDEX users_closed ON users (valid_to);
        """,
    ),
    (
        5,
        "dashboard_reads",
        """
        -- Group-licence errors are a few percent of the licence rows, read on every page that counts
        -- them and, for the error trend, across every snapshot: a partial index holds just those
        -- rows (error included, so the trend reads the index alone).
        CREATE INDEX user_licenses_errors ON user_licenses (valid_from, valid_to, error)
            WHERE error <> '' AND assigned_by_group <> '';
        -- One user as of a snapshot (the member beside an error, a user added or removed between
        -- two snapshots): users_current only serves the latest snapshot.
        CREATE INDEX users_by_id ON users (user_id, valid_from);
        """,
    ),
    (
        6,
        "signin_history",
        """
        -- Sign-in activity as intervals of snapshot ids, like users and licences: a past snapshot's
        -- reports (last sign-in, inactive seats, their cost) must never change once published, and
        -- with only the latest value kept they moved with every collection. Rows that existed
        -- before this migration become valid from snapshot 0: earlier snapshots keep showing what
        -- they showed at the upgrade, and stop moving from then on.
        CREATE TABLE user_signin_intervals (
            user_id TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_to INTEGER,
            last_sign_in_at TEXT,
            last_non_interactive_at TEXT,
            last_successful_at TEXT
        );
        INSERT INTO user_signin_intervals (user_id, valid_from, valid_to, last_sign_in_at,
            last_non_interactive_at, last_successful_at)
            SELECT user_id, 0, NULL, last_sign_in_at, last_non_interactive_at, last_successful_at
            FROM user_signins;
        DROP TABLE user_signins;
        ALTER TABLE user_signin_intervals RENAME TO user_signins;
        -- A collection compares each page with the current rows; a report reads one row per user
        -- as of a snapshot: the latest valid_from at or before it (see store.queries).
        CREATE INDEX user_signins_current ON user_signins (user_id) WHERE valid_to IS NULL;
        CREATE INDEX user_signins_by_id ON user_signins (user_id, valid_from);
        """,
    ),
    (
        7,
        "audit_unknown_status",
        """
        -- 'unknown': a change that was sent but whose answer never came (the connection was lost,
        -- or the apply was interrupted while waiting): never resent, to be checked in the tenant.
        -- SQLite cannot alter a CHECK constraint, so the table is rebuilt with its ids kept. From
        -- here on store.audit assigns ids (MAX + 1 under the writer lock): an identity column
        -- rebuilt on PostgreSQL would restart at 1 and collide with the copied ids.
        CREATE TABLE audit_log_v7 (
            id INTEGER NOT NULL PRIMARY KEY,
            plan_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            finished_at TEXT,
            actor TEXT NOT NULL,
            tenant_id TEXT,
            action TEXT NOT NULL,
            user_id TEXT,
            user_principal_name TEXT,
            group_id TEXT,
            sku_id TEXT,
            sku_part_number TEXT,
            detail TEXT NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'succeeded', 'failed', 'unknown', 'refused', 'not_sent')),
            http_status INTEGER,
            request_id TEXT,
            error TEXT
        );
        INSERT INTO audit_log_v7 (id, plan_id, created_at, finished_at, actor, tenant_id, action, user_id,
                                  user_principal_name, group_id, sku_id, sku_part_number, detail, status,
                                  http_status, request_id, error)
            SELECT id, plan_id, created_at, finished_at, actor, tenant_id, action, user_id, user_principal_name,
                   group_id, sku_id, sku_part_number, detail, status, http_status, request_id, error
            FROM audit_log;
        DROP TABLE audit_log;
        ALTER TABLE audit_log_v7 RENAME TO audit_log;
        CREATE INDEX audit_log_created ON audit_log (created_at);
        CREATE INDEX audit_log_plan ON audit_log (plan_id);
        """,
    ),
) + LATER_MIGRATIONS
