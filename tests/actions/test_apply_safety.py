"""Applying under stress, against the simulator and real stores: concurrent operators, answers
that never come, Ctrl-C mid-apply, and refusals, each leaving an audit log that says what happened."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from actions.apply import ApplyResult, apply_plan
from actions.plan import plan_assign, plan_group_assign
from cli.main import cli
from collectors.graph import GraphClient
from collectors.runner import run_collection
from licensedesk.errors import ActionRefused
from store.audit import audit_entries, record_intent
from store.db import open_store
from store.locks import APPLY, LockTimeout, holding
from tests.helpers.plans import assignable, plan_inputs


def _visio_for(sim: Any, settings: Any, users_needed: int) -> list[str]:
    """UPNs of users who can take VISIOCLIENT directly, with seats bought for them (and collected)."""
    visio = sim.tenant.sku_id("VISIOCLIENT")
    short = users_needed - sim.tenant.free_seats(visio)
    if short > 0:
        sim.tenant.buy_seats("VISIOCLIENT", short, process=False)
    run_collection(settings)
    _skus, users, licenses = plan_inputs(settings.store)
    names = assignable(users, licenses, visio)[:users_needed]
    assert len(names) == users_needed
    return names


def _log(store_url: str) -> Any:
    with open_store(store_url) as store:
        return audit_entries(store).sort_values("id")


# -- point 10: two operators at the same moment ----------------------------------------------------
def test_a_direct_and_a_group_plan_at_the_same_moment_never_overdraw(tenant: Any) -> None:
    sim, settings = tenant
    visio = sim.tenant.sku_id("VISIOCLIENT")
    group = min(
        (g for g in sim.tenant.groups if not g.licenses and len(g.members) >= 2), key=lambda g: len(g.members)
    )
    members = list(group.members)
    outside = [
        n for n in _visio_for(sim, settings, len(members) + 12) if sim.tenant.user(n).id not in group.members
    ]
    skus, users, licenses = plan_inputs(settings.store)
    to_group = plan_group_assign(
        "VISIOCLIENT", group.id, group.display_name, members, skus=skus, licenses=licenses
    )
    needing = to_group.changes[0].seats
    free = sim.tenant.free_seats(visio)
    # Each plan alone fits the free seats; together they need one seat more than there is.
    direct = plan_assign(
        "VISIOCLIENT", outside[: free - needing + 1], skus=skus, users=users, licenses=licenses
    )
    assert direct.ok and to_group.ok and 2 <= needing <= free
    assert len(direct.changes) + needing == free + 1
    # Each send waits a second at Graph: without a lock both live checks pass before either lands.
    sim.faults.add("slow", path_prefix="/v1.0/$batch", delay=1.0)
    barrier = threading.Barrier(2)
    outcomes: dict[str, ApplyResult | ActionRefused] = {}

    def operator(name: str, plan: Any) -> None:
        barrier.wait()
        with open_store(settings.store) as store:
            try:
                outcomes[name] = apply_plan(plan, settings=settings, client=GraphClient(settings), store=store,
                                            actor=name)  # fmt: skip
            except ActionRefused as exc:
                outcomes[name] = exc

    threads = [threading.Thread(target=operator, args=a) for a in (("direct", direct), ("group", to_group))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert set(outcomes) == {"direct", "group"}
    counts = sim.tenant.seat_counts()[visio]
    assert counts.consumed <= counts.enabled + counts.warning
    (loser,) = [name for name, o in outcomes.items() if isinstance(o, ActionRefused)]
    (winner,) = [o for o in outcomes.values() if isinstance(o, ApplyResult)]
    assert winner.complete
    left, wanted = (free - needing, len(direct.changes)) if loser == "direct" else (needing - 1, needing)
    assert str(outcomes[loser]) == (
        f"Nothing was sent: VISIOCLIENT has {left} free seat(s) now but the plan needs {wanted}; "
        "seats were used since the snapshot it was built from."
    )
    states = [sim.tenant.users_by_id[u].group_licenses.get((group.id, visio)) for u in group.members]
    assert not [s for s in states if s is not None and s.error == "CountViolation"]
    log = _log(settings.store)
    assert set(log["status"]) == {"succeeded", "refused"}
    assert log[log["status"] == "refused"]["actor"].tolist() == [loser]


@pytest.mark.xdist_group("timing")  # measures a duration: not beside the other timing tests
def test_the_apply_lock_blocks_another_apply_but_not_readers_or_audit_writes(store_url: str) -> None:
    open_store(store_url).close()
    with open_store(store_url) as holder, holding(holder, APPLY, wait=1):
        with open_store(store_url) as other:
            started = time.monotonic()
            entry = record_intent(
                other, plan_id="p", actor="a", tenant_id=None, action="plan", status="refused"
            )
            assert audit_entries(other)["id"].tolist() == [entry]
            assert time.monotonic() - started < 2.0
            waited: list[bool] = []
            with (
                pytest.raises(LockTimeout, match="Another plan is being applied"),
                holding(other, APPLY, wait=0.3, on_wait=lambda: waited.append(True)),
            ):
                pass
            assert waited == [True]
    with open_store(store_url) as other, holding(other, APPLY, wait=0):
        pass  # released with the block


# -- point 13: answers that never come, Ctrl-C, refusals ------------------------------------------
def test_a_batch_whose_answer_is_lost_is_recorded_unknown_and_never_resent(tenant: Any) -> None:
    sim, settings = tenant
    names = _visio_for(sim, settings, 25)
    sim.clear_log()
    sim.faults.add("drop", path_prefix="/v1.0/$batch", nth=2)  # the second batch's connection dies
    args = ["assign", "--sku", "VISIOCLIENT", *sum((["--user", n] for n in names), []), "--apply"]
    result = CliRunner().invoke(cli, args, env=settings.environ())
    assert result.exit_code == 1
    assert "0 failed, 5 outcome unknown, 0 not sent (sent, but Graph's answer never came" in result.stderr
    assert "Applied plan" in result.stderr and ": 20 succeeded," in result.stderr
    # The 20 of the first batch ran; the second batch's 5 never did, and were never sent again.
    assert len([w for w in sim.write_requests() if w.batch_item is not None]) == 20
    assert len([w for w in sim.write_requests() if w.path == "/v1.0/$batch"]) == 1
    log = _log(settings.store)
    assert log["status"].tolist() == ["succeeded"] * 20 + ["unknown"] * 5
    unknown = log[log["status"] == "unknown"]
    assert unknown["http_status"].isna().all()
    assert all("its outcome is unknown" in e and "check it in the tenant" in e for e in unknown["error"])


def test_ctrl_c_during_a_slow_apply_records_what_was_sent(tenant: Any, tmp_path: Path) -> None:
    sim, settings = tenant
    names = _visio_for(sim, settings, 45)
    users_file = tmp_path / "users.csv"
    users_file.write_text("\n".join(names) + "\n", encoding="utf-8")
    sim.clear_log()
    sim.faults.add("slow", path_prefix="/v1.0/$batch", nth=2, delay=20)  # Graph takes its time on batch 2
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("LICENSE_DESK_")}, **settings.environ()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "licensedesk", "assign", "--sku", "VISIOCLIENT", "--users-file", str(users_file),
         "--apply"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len([r for r in sim.requests if r.path == "/v1.0/$batch"]) < 2 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.5)  # the client is waiting for the second batch's answer
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    lines = err.splitlines()
    assert lines[-1].startswith("license-desk: interrupted: plan ")
    assert lines[-1].endswith(
        ": 20 succeeded, 0 failed, 20 outcome unknown, 5 not sent (sent, but Graph's answer never came: check it "
        "in the tenant before sending it again); no snapshot was taken."
    )
    assert "nothing was published" not in err
    assert sum(line.lstrip().startswith("unknown  assign VISIOCLIENT") for line in lines) == 20
    log = _log(settings.store)
    assert log["status"].tolist() == ["succeeded"] * 20 + ["unknown"] * 20 + ["not_sent"] * 5
    assert "pending" not in set(log["status"])
    assert len([r for r in sim.requests if r.path == "/v1.0/$batch"]) == 2  # the third was never sent


def test_every_refusal_with_apply_is_in_the_audit_log(tenant: Any) -> None:
    sim, settings = tenant
    (user,) = _visio_for(sim, settings, 1)
    # Refused by the plan itself (an unknown plan to disable)...
    bad = CliRunner().invoke(cli, ["assign", "--sku", "VISIOCLIENT", "--user", user, "--disable-plan", "Teams",
                                   "--apply"], env=settings.environ())  # fmt: skip
    assert bad.exit_code == 1
    # ...with writes disabled...
    off = replace(settings, allow_writes=False)
    disabled = CliRunner().invoke(
        cli, ["assign", "--sku", "VISIOCLIENT", "--user", user, "--apply"], env=off.environ()
    )
    assert disabled.exit_code == 1 and "LICENSE_DESK_ALLOW_WRITES=true" in disabled.stderr
    # ...and a preview, which is no refusal, leaves nothing.
    preview = CliRunner().invoke(cli, ["assign", "--sku", "VISIOCLIENT", "--user", user, "--disable-plan", "Teams"],
                                 env=settings.environ())  # fmt: skip
    assert preview.exit_code == 1
    assert sim.write_requests() == []
    shown = CliRunner().invoke(cli, ["audit", "--format", "json"], env=settings.environ())
    rows = sorted(json.loads(shown.stdout), key=lambda r: r["id"])
    assert [(r["action"], r["status"]) for r in rows] == [("plan", "refused"), ("plan", "refused")]
    assert rows[0]["error"].startswith("VISIOCLIENT has no service plan 'Teams'; its plans are ")
    assert rows[1]["error"] == "Writes are disabled (LICENSE_DESK_ALLOW_WRITES is not true)."
    assert all(r["actor"].startswith("cli:") for r in rows)
    assert f"assign VISIOCLIENT to {user}" in json.loads(rows[1]["detail"])["changes"]
