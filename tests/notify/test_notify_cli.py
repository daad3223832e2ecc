"""`license-desk notify` end to end: a real SMTP server (STARTTLS + AUTH), a real HTTPS receiver
standing in for the Teams workflow and a real HTTP receiver for the generic webhook.

The store is the hand-written finance tenant with SPE_E3 below a minimum of 5 free seats, so
`check` reports five findings (worked out by hand from tests/analysis/finance_tenant.py):

    threshold    SPE_E3 has 3 free seats, below the minimum of 5.
    group_error  Group 'E3 Staff': 1 member cannot get SPE_E3 (CountViolation).
    expiring     the SPE_E5 trial (sub-e5-trial) ends on 2026-03-12
    expiring     the SPE_E5 grace period (sub-e5-grace) ends on 2026-03-21
    renewal      sub-e5-paid renews on 2026-03-20 with 2 seats free
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import trustme
from click.testing import CliRunner, Result

from cli.main import cli
from store.db import open_store
from store.prices import save_threshold
from tests.analysis import finance_tenant as t
from tests.helpers.thresholds import breach_e3
from tests.notify.servers import QUEUE_ANSWER, SMTP_PASSWORD, SMTP_USER, Receiver, free_port, smtp_server

WEBHOOK_SECRET = "whsec-test-4f1c"
TEAMS_PATH = "/workflows/4d2c/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=TeamsSig123"
DASHBOARD = "https://licenses.contoso.com"
THRESHOLD = "SPE_E3 has 3 free seats, below the minimum of 5."
GROUP_ERROR = "Group 'E3 Staff': 1 member cannot get SPE_E3 (CountViolation)."
TRIAL = "A SPE_E5 subscription of 1 seat: its trial ends on 2026-03-12"
GRACE = "A SPE_E5 subscription of 1 seat: its grace period ends and it is suspended on 2026-03-21"
RENEWAL = "A SPE_E5 subscription of 2 seats renews on 2026-03-20"
GROUP_KEY = f"group_error:{t.G_E3}:SPE_E3:CountViolation"


def write_config(
    path: Path,
    *,
    ca_file: str,
    smtp: Any = None,
    security: str = "starttls",
    teams: bool = False,
    webhook: str | None = None,
    notify: str = "",
    exclude: str = "",
) -> str:
    lines = [
        # The hand-written tenant's snapshot is of 2026-03-01: these tests are about digests, so
        # its age is not news here (tests/analysis/test_collection_health.py tests that).
        "stale_hours = 1000000",
        "[notify]",
        f'dashboard_url = "{DASHBOARD}"',
        f'ca_bundle = "{ca_file}"',
        "timeout_seconds = 5",
        notify,
    ]
    if exclude:
        lines += ["[notify.exclude]", exclude]
    if smtp is not None:
        lines += [
            "[notify.email]", f'host = "{smtp.host}"', f"port = {smtp.port}", f'security = "{security}"',
            f'username = "{SMTP_USER}"', 'from = "License Desk <alerts@contoso.com>"',
            'to = ["it@contoso.com", "finance@contoso.com"]',
        ]  # fmt: skip
    if teams:
        lines += ["[notify.teams]"]
    if webhook:
        lines += ["[notify.webhook]", f'url = "{webhook}"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def run(store: str, config: str, *args: str, teams_url: str | None = None) -> Result:
    env = {
        "LICENSE_DESK_STORE": store,
        "LICENSE_DESK_SMTP_PASSWORD": SMTP_PASSWORD,
        "LICENSE_DESK_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    if teams_url:
        env["LICENSE_DESK_TEAMS_WEBHOOK_URL"] = teams_url
    return CliRunner().invoke(cli, ["--config", config, *args], env=env)


def deliveries(store: str) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["deliveries", "--format", "json"], env={"LICENSE_DESK_STORE": store})
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def card_texts(request: Any) -> list[str]:
    card = request.json()["attachments"][0]["content"]
    return [block.get("text", "") for block in card["body"]]


@pytest.fixture
def tenant_url(store_url: str) -> str:
    t.build(store_url)
    breach_e3(store_url)
    return store_url


def test_one_digest_per_channel_then_silence(
    tenant_url: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    with (
        smtp_server(ca, security="starttls") as smtp,
        Receiver(ca) as teams,
        Receiver() as hook,
    ):
        config = write_config(
            tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp, teams=True, webhook=hook.url("/intake")
        )
        first = run(tenant_url, config, "notify", teams_url=teams.url(TEAMS_PATH))
        assert first.exit_code == 0, first.output
        assert first.stderr == ""

        # e-mail: one message (not one per finding), over STARTTLS, logged in, to both recipients
        assert len(smtp.inbox) == 1
        mail = smtp.inbox[0]
        assert mail.authenticated_as == SMTP_USER
        assert mail.rcpt_tos == ["it@contoso.com", "finance@contoso.com"]
        assert mail.message["Subject"] == "License Desk: 5 findings need attention (5 new)"
        text = mail.text()
        for sentence in (THRESHOLD, GROUP_ERROR, TRIAL, GRACE, RENEWAL):
            assert text.count(sentence) == 1, sentence
        assert f"{DASHBOARD}/group_errors" in text and f"{DASHBOARD}/renewals" in text
        assert f"id: {GROUP_KEY}" in text

        # Teams: one Adaptive Card in the Workflows envelope, posted to the secret URL as given
        assert len(teams.requests) == 1
        posted = teams.requests[0]
        assert posted.path == TEAMS_PATH
        envelope = posted.json()
        assert envelope["type"] == "message"
        attachment = envelope["attachments"][0]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert attachment["content"]["type"] == "AdaptiveCard"
        texts = card_texts(posted)
        assert f"- {THRESHOLD}" in texts and f"- {GROUP_ERROR}" in texts
        assert sum(text.startswith(f"- {TRIAL}") for text in texts) == 1
        assert {a["url"] for a in attachment["content"]["actions"]} == {
            f"{DASHBOARD}/", f"{DASHBOARD}/group_errors", f"{DASHBOARD}/renewals",
        }  # fmt: skip

        # webhook: the signature is HMAC-SHA256 of the exact body with the shared secret
        assert len(hook.requests) == 1
        request = hook.requests[0]
        expected = "sha256=" + hmac.new(WEBHOOK_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
        assert request.headers["x-license-desk-signature-256"] == expected
        payload = request.json()
        assert payload["status"] == "attention" and payload["snapshot_id"] == 1
        assert [f["key"] for f in payload["new"]] == [
            "threshold:SPE_E3:min_free_seats", GROUP_KEY, "expiring:sub-e5-trial", "expiring:sub-e5-grace",
            "renewal:sub-e5-paid",
        ]  # fmt: skip
        assert payload["new"][0]["detail"]["available"] == 3

        # the delivery audit: what, where, the answer
        audit = deliveries(tenant_url)
        assert sorted((d["channel"], d["status"], d["answer"]) for d in audit) == [
            ("email", "sent", QUEUE_ANSWER), ("teams", "sent", "202 Accepted"), ("webhook", "sent", "202 Accepted"),
        ]  # fmt: skip
        teams_row = next(d for d in audit if d["channel"] == "teams")
        assert teams_row["destination"] == f"https://127.0.0.1:{teams.port}"
        assert teams_row["content"]["counts"]["new"] == 5
        assert first.stdout.count(": sent ") == 3

        # a second run with nothing new sends nothing, anywhere
        second = run(tenant_url, config, "notify", teams_url=teams.url(TEAMS_PATH))
        assert second.exit_code == 0, second.output
        assert (len(smtp.inbox), len(teams.requests), len(hook.requests)) == (1, 1, 1)
        assert "email: nothing new to send (5 open finding(s) already notified)." in second.stdout
        assert len(deliveries(tenant_url)) == 3


def test_changed_and_resolved_findings_only(
    tenant: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    with smtp_server(ca) as smtp:
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp)
        assert run(tenant, config, "notify").exit_code == 0
        breach_e3(tenant, minimum=6)  # same SKU, new limit: the finding changed
        changed = run(tenant, config, "notify")
        assert changed.exit_code == 0, changed.output
        assert len(smtp.inbox) == 2
        mail = smtp.inbox[1]
        assert mail.message["Subject"] == "License Desk: 5 findings need attention (1 changed)"
        text = mail.text()
        assert "SPE_E3 has 3 free seats, below the minimum of 6." in text
        assert f"was: {THRESHOLD}" in text
        assert GROUP_ERROR not in text and TRIAL not in text
        assert "4 other findings still open, already notified (reminded every 7 days)." in text

        with open_store(tenant) as store:
            save_threshold(store, t.E3, "SPE_E3", min_free_seats=None, max_utilization_percent=None)
        resolved = run(tenant, config, "notify")
        assert resolved.exit_code == 0
        text = smtp.inbox[2].text()
        assert smtp.inbox[2].message["Subject"] == "License Desk: 4 findings need attention (1 resolved)"
        assert (
            "Resolved since the last notification (1)\n- SPE_E3 has 3 free seats, below the minimum of 6."
            in text
        )
        assert run(tenant, config, "notify").exit_code == 0
        assert len(smtp.inbox) == 3  # resolved is said once


def test_reminder_after_the_period(tenant: str, ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    """Reminders count UTC calendar days from the last sending (a run's time is a parameter)."""
    from cli.check import run_check
    from notify.config import load_notify_config
    from notify.deliver import notify_channels

    with smtp_server(ca) as smtp:
        config = load_notify_config(
            {"LICENSE_DESK_SMTP_PASSWORD": SMTP_PASSWORD},
            write_config(tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp, notify="reminder_days = 3"),
        )
        monday = dt.datetime(2026, 3, 2, 7, 15, 30, tzinfo=dt.UTC)
        with open_store(tenant) as store:
            sid, started, findings = run_check(store, stale_hours=1_000_000)  # the tenant is of 2026-03-01

            def send(when: dt.datetime) -> str:
                return notify_channels(
                    store, config, findings, snapshot_id=sid, snapshot_started_at=started, now=when
                )[0].status

            assert send(monday) == "sent"
            assert send(monday + dt.timedelta(days=2, hours=16)) == "quiet"
            # 3 calendar days later, a few seconds earlier in the day: due all the same
            assert send(dt.datetime(2026, 3, 5, 7, 15, 1, tzinfo=dt.UTC)) == "sent"
            assert send(dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)) == "quiet"
    assert len(smtp.inbox) == 2
    reminder = smtp.inbox[1]
    assert reminder.message["Subject"] == "License Desk: 5 findings need attention (5 reminders)"
    assert "Reminder (5)" in reminder.text() and "first sent 2026-03-02, still open" in reminder.text()


def test_excluded_finding_absent_from_the_digest_but_present_in_check(
    tenant: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    with smtp_server(ca) as smtp, Receiver() as hook:
        config = write_config(
            tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp, webhook=hook.url("/"),
            exclude=f'skus = ["spe_e5"]\nfindings = ["{GROUP_KEY}"]',
        )  # fmt: skip
        result = run(tenant, config, "notify")
        assert result.exit_code == 0, result.output
        text = smtp.inbox[0].text()
        assert THRESHOLD in text
        for hidden in (GROUP_ERROR, TRIAL, GRACE, RENEWAL, "SPE_E5"):
            assert hidden not in text
        assert "4 findings left out by the notification exclusions." in text
        payload = hook.requests[0].json()
        assert [f["key"] for f in payload["new"]] == ["threshold:SPE_E3:min_free_seats"]
        assert payload["counts"]["excluded"] == 4
    check = CliRunner().invoke(cli, ["check", "--format", "json"], env={"LICENSE_DESK_STORE": tenant})
    assert check.exit_code == 1
    messages = [f["message"] for f in json.loads(check.stdout)["findings"]]
    assert GROUP_ERROR in messages
    assert sum("SPE_E5" in m for m in messages) == 3  # exclusions never hide the SKU elsewhere


def test_a_dead_channel_is_reported_and_the_others_deliver(
    tenant: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    dead = free_port()
    with smtp_server(ca) as smtp, Receiver(status=500) as broken:
        config = write_config(
            tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp, teams=True, webhook=broken.url("/hook")
        )
        result = run(tenant, config, "notify", teams_url=f"https://127.0.0.1:{dead}{TEAMS_PATH}")
        assert result.exit_code == 1
        assert len(smtp.inbox) == 1  # e-mail went out all the same
        errors = result.stderr.splitlines()
        assert errors == [
            f"license-desk: error: teams: Cannot connect to https://127.0.0.1:{dead} (no server answered). "
            "It was not delivered and stays due for the next run.",
            f"license-desk: error: webhook: http://127.0.0.1:{broken.port} answered 500 Internal Server Error: "
            "the flow failed. It was not delivered and stays due for the next run.",
        ]
        assert "Traceback" not in result.output
        audit = {d["channel"]: d for d in deliveries(tenant)}
        assert (audit["email"]["status"], audit["teams"]["status"], audit["webhook"]["status"]) == (
            "sent", "failed", "failed",
        )  # fmt: skip
        assert audit["webhook"]["answer"] == "500 Internal Server Error"
        assert audit["teams"]["error"] == f"Cannot connect to https://127.0.0.1:{dead} (no server answered)."

    # The channels come back: each gets the whole digest it missed; e-mail has nothing new.
    with smtp_server(ca) as smtp, Receiver(ca) as teams, Receiver() as hook:
        config = write_config(
            tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp, teams=True, webhook=hook.url("/hook")
        )
        again = run(tenant, config, "notify", teams_url=teams.url(TEAMS_PATH))
        assert again.exit_code == 0, again.output
        assert smtp.inbox == []
        assert hook.requests[0].json()["counts"]["new"] == 5
        assert f"- {GROUP_ERROR}" in card_texts(teams.requests[0])


def test_quiet_when_all_clear_unless_asked(ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    from store.snapshots import SnapshotWriter

    quiet = str(tmp_path / "quiet.sqlite")
    with open_store(quiet) as store, SnapshotWriter(store, "t") as writer:
        writer.stage("stage_skus", [(t.E3, "SPE_E3", "User", "Enabled", 10, 0, 0, 0, 0)])
        writer.complete()
    with smtp_server(ca) as smtp:
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp)
        result = run(quiet, config, "notify")
        assert result.exit_code == 0 and smtp.inbox == []
        assert result.stdout == "email: nothing new to send (all clear).\n"
        asked = write_config(
            tmp_path / "asked.toml", ca_file=ca_file, smtp=smtp, notify="send_all_clear = true"
        )
        assert run(quiet, asked, "notify").exit_code == 0
        assert [m.message["Subject"] for m in smtp.inbox] == ["License Desk: all clear"]
        assert "All clear: no threshold breached, no group error, nothing expiring." in smtp.inbox[0].text()


def test_implicit_tls(tenant: str, ca: trustme.CA, ca_file: str, tmp_path: Path) -> None:
    with smtp_server(ca, security="tls") as smtp:
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp, security="tls")
        result = run(tenant, config, "notify")
        assert result.exit_code == 0, result.output
        assert smtp.inbox[0].authenticated_as == SMTP_USER


@pytest.mark.parametrize(
    ("case", "sentence"),
    [
        ("wrong password", "127.0.0.1:{port} refused the user name alerts@contoso.com or its password (535 5.7.8 Authentication credentials invalid)."),
        ("untrusted certificate", "The TLS certificate of 127.0.0.1:{port} is not trusted (unable to get local issuer certificate); set notify.ca_bundle to the CA file that signed it."),
        ("no STARTTLS offered", "127.0.0.1:{port} does not offer STARTTLS; nothing was sent in the clear (set notify.email.security to tls or none if that is intended)."),
        ("nobody listening", "Cannot connect to 127.0.0.1:{port} (connection refused)."),
    ],
)  # fmt: skip
def test_smtp_failures_are_one_sentence(
    case: str, sentence: str, tenant: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    security = "none" if case == "no STARTTLS offered" else "starttls"
    with smtp_server(ca, security=security, auth=False) if security == "none" else smtp_server(ca) as smtp:
        if case == "nobody listening":
            smtp.port = free_port()
        config = write_config(
            tmp_path / "ld.toml",
            ca_file=str(other_ca) if case == "untrusted certificate" else ca_file,
            smtp=smtp,
        )
        env_password = "wrong" if case == "wrong password" else SMTP_PASSWORD
        result = CliRunner().invoke(
            cli, ["--config", config, "notify"],
            env={"LICENSE_DESK_STORE": tenant, "LICENSE_DESK_SMTP_PASSWORD": env_password},
        )  # fmt: skip
        assert result.exit_code == 1
        assert smtp.inbox == []
    assert result.stderr == (
        f"license-desk: error: email: {sentence.format(port=smtp.port)} "
        "It was not delivered and stays due for the next run.\n"
    )
    assert deliveries(tenant)[0]["status"] == "failed"


def test_dry_run_lists_ids_and_sends_nothing(
    tenant: str, ca: trustme.CA, ca_file: str, tmp_path: Path
) -> None:
    with smtp_server(ca) as smtp:
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, smtp=smtp)
        result = run(tenant, config, "notify", "--dry-run")
        assert result.exit_code == 0, result.output
        assert smtp.inbox == []
    assert result.stdout.startswith(
        f"email (it@contoso.com, finance@contoso.com via 127.0.0.1:{smtp.port}) would get: "
        "License Desk: 5 findings need attention (5 new)\n"
    )
    assert f"id: {GROUP_KEY}" in result.stdout and "id: renewal:sub-e5-paid" in result.stdout
    assert result.stderr == "Dry run: nothing was sent.\n"
    assert deliveries(tenant) == []


def test_after_each_collection_only_news(sim: Any, ca_file: str, tmp_path: Path) -> None:
    """Collected by the real collectors from the simulator: the digest holds exactly `check`'s
    findings; a second collection of the unchanged tenant brings nothing to send."""
    from collectors.runner import run_collection
    from tests.helpers.settings import settings_for

    store = str(tmp_path / "sim.sqlite")
    settings = settings_for(sim, store)
    run_collection(settings)  # type: ignore[arg-type]
    check = json.loads(
        CliRunner().invoke(cli, ["check", "--format", "json"], env={"LICENSE_DESK_STORE": store}).stdout
    )
    assert check["counts"]["group_error"] > 0  # the simulator seeds over-capacity groups
    with Receiver() as hook:
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, webhook=hook.url("/"))
        assert run(store, config, "notify").exit_code == 0
        payload = hook.requests[0].json()
        assert [f["message"] for f in payload["new"]] == [f["message"] for f in check["findings"]]
        summary = run_collection(settings)  # type: ignore[arg-type]
        assert summary.snapshot_id == 2
        again = run(store, config, "notify")
        assert again.exit_code == 0
        assert len(hook.requests) == 1
        assert (
            again.stdout
            == f"webhook: nothing new to send ({len(check['findings'])} open finding(s) already notified).\n"
        )


def test_two_notify_runs_at_once_send_the_digest_once(tenant: str, ca_file: str, tmp_path: Path) -> None:
    """Two schedules overlapping (a cron job and a systemd timer, or a run that outlasts its
    interval): the second waits for the first, then finds nothing new to say."""
    with Receiver(delay=1.5) as hook:
        config = write_config(tmp_path / "ld.toml", ca_file=ca_file, webhook=hook.url("/hook"))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")},
            "LICENSE_DESK_STORE": tenant, "LICENSE_DESK_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }  # fmt: skip
        command = [sys.executable, "-m", "licensedesk", "--config", config, "notify"]
        first = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        deadline = time.monotonic() + 30
        while not hook.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert hook.requests, "the first run never reached the webhook"
        # The first run is now inside its delivery (the receiver answers 1.5 s after the request).
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        first_out, _ = first.communicate(timeout=60)
    assert first.returncode == 0, first_out
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(hook.requests) == 1
    assert first_out.startswith('webhook: sent "License Desk: 5 findings need attention (5 new)"'), first_out
    assert second.stdout == "webhook: nothing new to send (5 open finding(s) already notified).\n"
