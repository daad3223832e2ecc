"""The notification secrets (SMTP password, the Teams Workflows URL with its signature, the webhook
signing secret) never reach any output, traceback, store row or written file: on success, on
failure, in a dry run and in the delivery audit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import trustme

from tests.analysis import finance_tenant as t
from tests.helpers.thresholds import breach_e3
from tests.notify.servers import Receiver, free_port, smtp_server
from tests.notify.test_notify_cli import write_config

SMTP_CANARY = "SmtpCanary~9d1e-DoNotLeak"
SIG_CANARY = "SigCanary4b7eDoNotLeak"
HOOK_CANARY = "HookCanary~2c8a-DoNotLeak"
CANARIES = (SMTP_CANARY, SIG_CANARY, HOOK_CANARY)


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "licensedesk", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.stdout + done.stderr


def test_notification_secrets_never_leak(ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    store = str(tmp_path / "store.sqlite")
    t.build(store)
    breach_e3(store)
    teams_path = (
        f"/workflows/{SIG_CANARY}/triggers/manual/paths/invoke?api-version=2016-06-01&sig={SIG_CANARY}"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}
    with smtp_server(ca, password=SMTP_CANARY) as smtp, Receiver(ca) as teams, Receiver(status=500) as broken:
        config = write_config(
            tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp, teams=True, webhook=broken.url("/h")
        )
        env = {
            **base,
            "LICENSE_DESK_STORE": store,
            "LICENSE_DESK_SMTP_PASSWORD": SMTP_CANARY,
            "LICENSE_DESK_TEAMS_WEBHOOK_URL": teams.url(teams_path),
            "LICENSE_DESK_WEBHOOK_SECRET": HOOK_CANARY,
        }
        # every channel fails: a wrong SMTP password, nobody at the Teams URL, the webhook answers 500
        failing = {
            **env,
            "LICENSE_DESK_SMTP_PASSWORD": "wrong",
            "LICENSE_DESK_TEAMS_WEBHOOK_URL": f"https://127.0.0.1:{free_port()}{teams_path}",
        }
        plain_teams = {
            **env,
            "LICENSE_DESK_TEAMS_WEBHOOK_URL": teams.url(teams_path).replace("https", "http"),
        }
        outputs = [
            _run(["--config", config, "notify", "--dry-run"], env),
            _run(["--debug", "--config", config, "notify"], failing),
            _run(["--debug", "--config", config, "notify"], env),  # e-mail and Teams sent, webhook 500
            _run(["--debug", "--config", config, "notify"], plain_teams),
            _run(
                [
                    "--config",
                    config,
                    "export",
                    "--report",
                    "users-licences",
                    "--format",
                    "xlsx",
                    "-o",
                    str(tmp_path / "out.xlsx"),
                    "--email",
                    "billing@contoso.com",
                ],
                env,
            ),  # fmt: skip
            _run(["deliveries", "--format", "json"], env),
            _run(["deliveries"], env),
        ]
        assert len(smtp.inbox) == 2 and len(teams.requests) == 1  # the flows really ran with the canaries
    assert "would get: License Desk: 5 findings need attention (5 new)" in outputs[0]
    assert "refused the user name alerts@contoso.com or its password" in outputs[1]
    assert "teams: Cannot connect to https://127.0.0.1:" in outputs[1]
    assert "teams: sent" in outputs[2] and "webhook: http://127.0.0.1" in outputs[2]
    assert "LICENSE_DESK_TEAMS_WEBHOOK_URL must be the https URL" in outputs[3]
    assert "email: sent out.xlsx" in outputs[4]
    assert '"status": "failed"' in outputs[5] and '"status": "sent"' in outputs[5]
    for text in outputs:
        for canary in CANARIES:
            assert canary not in text
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert Path(store) in written and tmp_path / "out.xlsx" in written
    for path in written:
        for canary in CANARIES:
            assert canary.encode() not in path.read_bytes(), (path, canary)
