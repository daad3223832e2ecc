"""Bad notification configuration and export arguments: one sentence naming the key, exit code 2,
nothing sent and nothing written. Secrets are never echoed back."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

GOOD_EMAIL = (
    '[notify.email]\nhost = "smtp.contoso.com"\nfrom = "alerts@contoso.com"\nto = ["it@contoso.com"]\n'
)
SECRET_URL = (
    "http://prod-12.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=S3cr3tSig"
)

# case, [notify...] TOML, extra environment, the sentence (after "license-desk: error: "); {cfg} = the file
CASES: list[tuple[str, str, dict[str, str], str]] = [
    ("no channel", "[notify]\nreminder_days = 3\n", {},
     "No notification channel is configured: add [notify.email], [notify.teams] or [notify.webhook] to {cfg} (see the README, Alerts and scheduled reports)."),
    ("no notify table", 'store = "x.sqlite"\n', {},
     "No notification channel is configured: add [notify.email], [notify.teams] or [notify.webhook] to {cfg} (see the README, Alerts and scheduled reports)."),
    ("notify not a table", "notify = 3\n", {}, "notify in {cfg} must be a table ([notify])."),
    ("unknown notify key", "[notify]\nreminder = 3\n" + GOOD_EMAIL, {},
     "[notify] in {cfg} has unknown key(s) reminder; known keys: dashboard_url, reminder_days, send_all_clear, tenant_name, ca_bundle, timeout_seconds, exclude, email, teams, webhook."),
    ("unknown email key", GOOD_EMAIL + 'hots = "x"\n', {},
     "[notify.email] in {cfg} has unknown key(s) hots; known keys: host, port, security, username, from, to."),
    ("port not a number", GOOD_EMAIL + 'port = "abc"\n', {},
     "notify.email.port in {cfg} must be a whole number from 1 to 65535, not 'abc'."),
    ("port too big", GOOD_EMAIL + "port = 70000\n", {},
     "notify.email.port in {cfg} must be a whole number from 1 to 65535, not 70000."),
    ("bad security", GOOD_EMAIL + 'security = "ssl"\n', {},
     "notify.email.security in {cfg} must be starttls, tls or none, not 'ssl'."),
    ("no host", '[notify.email]\nfrom = "a@contoso.com"\nto = "b@contoso.com"\n', {},
     "notify.email.host in {cfg} is missing: name the SMTP server."),
    ("bad sender", '[notify.email]\nhost = "h"\nfrom = "alerts"\nto = "b@contoso.com"\n', {},
     "notify.email.from in {cfg} must be an e-mail address (e.g. \"License Desk <alerts@example.com>\"), not 'alerts'."),
    ("no recipients", '[notify.email]\nhost = "h"\nfrom = "a@contoso.com"\n', {},
     "notify.email.to in {cfg} is missing: list at least one recipient."),
    ("bad recipient", '[notify.email]\nhost = "h"\nfrom = "a@contoso.com"\nto = ["it@contoso.com", "finance"]\n', {},
     "notify.email.to in {cfg} has 'finance', which is not an e-mail address."),
    ("recipients not text", '[notify.email]\nhost = "h"\nfrom = "a@contoso.com"\nto = [1]\n', {},
     "notify.email.to in {cfg} must be a list of text values."),
    ("password missing", GOOD_EMAIL + 'username = "alerts@contoso.com"\n', {},
     "notify.email.username is set in {cfg}, so LICENSE_DESK_SMTP_PASSWORD must hold its password; it is not set."),
    ("password in the clear", GOOD_EMAIL + 'username = "u"\nsecurity = "none"\n', {"LICENSE_DESK_SMTP_PASSWORD": "pw"},
     "notify.email.security = \"none\" in {cfg} would send the SMTP password unencrypted; use starttls or tls."),
    ("teams without its URL", "[notify.teams]\n", {},
     "[notify.teams] is in {cfg}, so LICENSE_DESK_TEAMS_WEBHOOK_URL must hold the workflow's URL; it is not set."),
    ("teams URL in the file", f'[notify.teams]\nurl = "{SECRET_URL}"\n', {},
     "notify.teams.url in {cfg}: a Teams Workflows URL carries its signature, so it is a secret: set LICENSE_DESK_TEAMS_WEBHOOK_URL instead and remove it from the file."),
    ("teams URL not https", "[notify.teams]\n", {"LICENSE_DESK_TEAMS_WEBHOOK_URL": SECRET_URL},
     "LICENSE_DESK_TEAMS_WEBHOOK_URL must be the https URL of a Teams Workflows webhook trigger."),
    ("unknown teams key", '[notify.teams]\nchannel = "x"\n', {},
     "[notify.teams] in {cfg} has unknown key(s) channel; known keys: none (the table only switches the channel on)."),
    ("webhook without URL", "[notify.webhook]\n", {"LICENSE_DESK_WEBHOOK_SECRET": "s"},
     "notify.webhook.url in {cfg} is missing: give the receiver's URL."),
    ("webhook URL not http", '[notify.webhook]\nurl = "ftp://hooks.contoso.com/x?token=T0k3n"\n', {"LICENSE_DESK_WEBHOOK_SECRET": "s"},
     "notify.webhook.url in {cfg} must be an http or https URL with a host name."),
    ("webhook bad port", '[notify.webhook]\nurl = "https://hooks.contoso.com:99x/T0k3n"\n', {"LICENSE_DESK_WEBHOOK_SECRET": "s"},
     "notify.webhook.url in {cfg} has a port that is not a number."),
    ("webhook without secret", '[notify.webhook]\nurl = "https://hooks.contoso.com/in"\n', {},
     "[notify.webhook] is in {cfg}, so LICENSE_DESK_WEBHOOK_SECRET must hold the signing secret; it is not set."),
    ("dashboard URL", '[notify]\ndashboard_url = "licenses.contoso.com"\n' + GOOD_EMAIL, {},
     "notify.dashboard_url in {cfg} must be an http or https URL with a host name, not 'licenses.contoso.com'."),
    ("negative reminder", "[notify]\nreminder_days = -1\n" + GOOD_EMAIL, {},
     "notify.reminder_days in {cfg} must be a whole number 0 or more, not -1."),
    ("reminder as text", '[notify]\nreminder_days = "7"\n' + GOOD_EMAIL, {},
     "notify.reminder_days in {cfg} must be a whole number 0 or more, not '7'."),
    ("all clear not a flag", '[notify]\nsend_all_clear = "yes"\n' + GOOD_EMAIL, {},
     "notify.send_all_clear in {cfg} must be true or false, not 'yes'."),
    ("zero timeout", "[notify]\ntimeout_seconds = 0\n" + GOOD_EMAIL, {},
     "notify.timeout_seconds in {cfg} must be a positive number of seconds, not 0."),
    ("missing CA file", '[notify]\nca_bundle = "/nonexistent/ca.pem"\n' + GOOD_EMAIL, {},
     "notify.ca_bundle in {cfg} points to /nonexistent/ca.pem, which is not a readable file."),
    ("exclude not a table", "[notify]\nexclude = 3\n" + GOOD_EMAIL, {},
     "notify.exclude in {cfg} must be a table ([notify.exclude])."),
    ("exclude skus not text", "[notify.exclude]\nskus = 5\n" + GOOD_EMAIL, {},
     "notify.exclude.skus in {cfg} must be a list of text values."),
    ("exclude unknown key", '[notify.exclude]\nsku = ["X"]\n' + GOOD_EMAIL, {},
     "[notify.exclude] in {cfg} has unknown key(s) sku; known keys: skus, findings."),
    ("exclude not a finding id", '[notify.exclude]\nfindings = ["E3 Staff"]\n' + GOOD_EMAIL, {},
     "notify.exclude.findings in {cfg} has 'E3 Staff', which is not a finding id (threshold:..., group_error:..., expiring:... or renewal:...; `license-desk notify --dry-run` lists them)."),
]  # fmt: skip


@pytest.mark.parametrize(("case", "toml", "environ", "sentence"), CASES, ids=[c[0] for c in CASES])
def test_bad_notify_configuration_is_one_sentence(
    case: str, toml: str, environ: dict[str, str], sentence: str, tmp_path: Path
) -> None:
    config = tmp_path / "license-desk.toml"
    config.write_text(toml, encoding="utf-8")
    store = tmp_path / "never-created.sqlite"
    result = CliRunner().invoke(
        cli, ["--config", str(config), "notify"], env={"LICENSE_DESK_STORE": str(store), **environ}
    )
    assert result.exit_code == 2, result.output
    assert result.stderr == f"license-desk: error: {sentence.format(cfg=config)}\n"
    assert not store.exists()  # nothing was opened, let alone sent
    for secret in ("S3cr3tSig", "T0k3n"):
        assert secret not in result.output


def test_notify_tables_inside_license_desk_and_beside_the_main_settings(tmp_path: Path) -> None:
    """The main configuration reads the same file and leaves [notify] to its own loader."""
    config = tmp_path / "ld.toml"
    store = tmp_path / "none.sqlite"
    config.write_text(f'[license_desk]\nstore = "{store}"\n[license_desk.notify.teams]\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(config), "notify"])
    assert result.stderr == (
        f"license-desk: error: [notify.teams] is in {config}, so LICENSE_DESK_TEAMS_WEBHOOK_URL must hold the "
        "workflow's URL; it is not set.\n"
    )
    config.write_text(
        f'store = "{store}"\n[notify.webhook]\nurl = "https://h.contoso.com/in"\n', encoding="utf-8"
    )
    report = CliRunner().invoke(cli, ["--config", str(config), "report", "skus"])
    assert report.stderr == (
        f"license-desk: error: There is no store at {store}; run `license-desk collect` or `license-desk demo` first.\n"
    )


@pytest.mark.parametrize(
    ("args", "toml", "sentence"),
    [
        (["notify", "--channel", "teams"], GOOD_EMAIL, "--channel teams: add [notify.teams] to {cfg}."),
        (["export", "--report", "costs", "--email", "finance@contoso.com"], "[notify]\n",
         "--email needs an SMTP server: add [notify.email] to {cfg} (see the README, Alerts and scheduled reports)."),
        (["export", "--report", "costs", "--email", "finance@contoso.com"], None,
         "--email needs an SMTP server: add [notify.email] to a configuration file (--config FILE or LICENSE_DESK_CONFIG) (see the README, Alerts and scheduled reports)."),
        (["notify"], None,
         "No notification channel is configured: add [notify.email], [notify.teams] or [notify.webhook] to a configuration file (--config FILE or LICENSE_DESK_CONFIG) (see the README, Alerts and scheduled reports)."),
    ],
)  # fmt: skip
def test_bad_delivery_arguments(args: list[str], toml: str | None, sentence: str, tmp_path: Path) -> None:
    config = tmp_path / "ld.toml"
    prefix = []
    if toml is not None:
        config.write_text(toml, encoding="utf-8")
        prefix = ["--config", str(config)]
    result = CliRunner().invoke(cli, [*prefix, *args], env={"LICENSE_DESK_STORE": str(tmp_path / "s")})
    assert result.exit_code == 2
    assert result.stderr == f"license-desk: error: {sentence.format(cfg=config)}\n"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["export", "--report", "users"], "Invalid value for '--report': 'users' is not one of"),
        (
            ["export", "--report", "costs", "--format", "pdf"],
            "Invalid value for '--format': 'pdf' is not one of",
        ),
        (
            ["export", "--report", "costs", "--email", "finance"],
            "--email 'finance' is not an e-mail address.",
        ),
        (
            ["export", "--report", "costs", "--snapshot", "x"],
            "Invalid value for '--snapshot': 'x' is not a valid integer.",
        ),
    ],
)
def test_bad_export_usage(args: list[str], fragment: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, args, env={"LICENSE_DESK_STORE": str(tmp_path / "s.sqlite")})
    assert result.exit_code == 2
    assert fragment in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "s.sqlite").exists()
