# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 14's nine cases: an archive campaign in a tenant that changes between grant and revoke.

Each test runs the collection's playbooks against the emulator, changes the tenant as an administrator would
(rename with the old address removed, conversion to a mail user, deletion, re-creation under the same address,
grants by hand) and judges the tenant's access control lists afterwards, not only what the play said.
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time

import pytest

from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import read_ledger

from faultlab.lab import process_tree  # pylint: disable=import-error
from playbook_support import BIN, REPO, playbook_command, playbook_env  # pylint: disable=import-error

PRE_EXISTING = ("ceo@", "legal.hold@")


def mailbox_ids(tenant, locals_):
    return dict((tenant.recipient(local + tenant.domain)["edoid"], local + tenant.domain) for local in locals_)


def campaign(tenant, tmp_path, **extra):
    """A campaign over the user and shared mailboxes, its files in tmp_path, full mailboxes skipped."""
    variables = {
        "archive_access_delegate": tenant.delegate,
        "archive_access_data_dir": str(tmp_path / "data"),
        "archive_access_chunk_size": 60,
        "archive_access_acl_limit_action": "skip",
        "archive_access_scope": {"exclude": ["info@" + tenant.domain]},
    }
    variables.update(extra)
    return variables


def ledger_file(tmp_path):
    (path,) = glob.glob(str(tmp_path / "data" / "*" / "*.ledger.jsonl"))
    return path


def last_report(tmp_path, action):
    paths = sorted(glob.glob(str(tmp_path / "data" / "*" / "reports" / ("*_%s_*.json" % action))), key=os.path.getmtime)
    with open(paths[-1], encoding="utf-8") as handle:
        return json.load(handle)


def rows_by_id(report):
    return dict((row["mailbox_id"], row) for row in report["results"])


def granted_then(tenant, tmp_path, run_playbook, **extra):
    """Grant the campaign; return (its variables, the delegate's holders before, after the grant)."""
    variables = campaign(tenant, tmp_path, **extra)
    before = tenant.holders_by_id()
    grant = run_playbook("grant_archive_access", tenant, variables)
    assert grant.returncode == 0, grant
    after = tenant.holders_by_id()
    assert len(after) > 100 and set(before) <= set(after)
    return variables, before, after


def assert_only_pre_existing(tenant, before):
    """The campaign left nothing behind on any active mailbox, and removed no access the delegate had before."""
    assert tenant.holders_by_id() == before


# ---- 1. an identity that cannot be used is that mailbox's outcome, not its chunk's -----------------------------


def test_a_mailbox_turned_mail_user_is_gone_and_its_chunk_is_revoked(tenant, tmp_path, run_playbook):
    # one chunk for the whole campaign: the converted mailbox shares it with every other
    variables, before, after = granted_then(tenant, tmp_path, run_playbook, archive_access_chunk_size=1000)
    converted = tenant.recipient("ana.garcia@" + tenant.domain)["edoid"]
    deleted = tenant.recipient("ben.martin@" + tenant.domain)["edoid"]
    tenant.server.convert_to_mail_user("ana.garcia@" + tenant.domain)
    tenant.server.delete_mailbox("ben.martin@" + tenant.domain)

    revoke = run_playbook("revoke_archive_access", tenant, variables)
    assert revoke.returncode == 0, revoke
    assert_only_pre_existing(tenant, before)
    report = last_report(tmp_path, "revoke")
    rows = rows_by_id(report)
    assert rows[converted]["action"] == "gone" and "MailUser" in rows[converted]["error"]
    assert rows[deleted]["action"] == "gone"
    assert report["summary"]["removed"] == len(after) - len(before) - 2
    assert report["status"] == "COMPLETE" and report["campaign"]["closed"]
    assert read_ledger(ledger_file(tmp_path)).closed is not None


# ---- 2. the ledger knows mailboxes by ID: a rename (old address removed) is still revoked ----------------------


def test_a_mailbox_renamed_after_the_grant_is_revoked_by_its_id(tenant, tmp_path, run_playbook):
    variables, before, after = granted_then(tenant, tmp_path, run_playbook)
    renamed = tenant.recipient("alex.martin@" + tenant.domain)["edoid"]
    assert renamed in after
    tenant.server.rename_mailbox("alex.martin@" + tenant.domain, "alex.martin@fabrikam.example")
    # the old address is gone: nothing resolves it any more
    with pytest.raises(KeyError):
        tenant.recipient("alex.martin@" + tenant.domain)

    revoke = run_playbook("revoke_archive_access", tenant, variables)
    assert revoke.returncode == 0, revoke
    assert_only_pre_existing(tenant, before)
    row = rows_by_id(last_report(tmp_path, "revoke"))[renamed]
    assert row["action"] == "removed" and row["mailbox"] == "alex.martin@" + tenant.domain  # as the ledger knew it


# ---- 3. a closed campaign is closed ------------------------------------------------------------------------------


def test_revoking_a_closed_campaign_changes_nothing(tenant, tmp_path, run_playbook):
    variables, before, _after = granted_then(tenant, tmp_path, run_playbook)
    assert run_playbook("revoke_archive_access", tenant, variables).returncode == 0
    assert_only_pre_existing(tenant, before)
    ledger = ledger_file(tmp_path)
    with open(ledger, "rb") as handle:
        closed_ledger = handle.read()
    # after the campaign closed, the delegate gets access by hand (or by another campaign)
    by_hand = "alex.martin@" + tenant.domain
    tenant.server.grant_permission("full_access", by_hand, tenant.delegate)
    tenant.server.reset_counters()

    again = run_playbook("revoke_archive_access", tenant, variables)
    assert again.returncode == 0, again
    assert "is closed since" in again.output and "nothing was changed" in again.output
    assert tenant.counters()["writes"] == 0
    assert tenant.holders_by_id() == dict(before, **mailbox_ids(tenant, ["alex.martin@"]))
    with open(ledger, "rb") as handle:
        assert handle.read() == closed_ledger

    # a new campaign only by an explicit grant: the closed ledger is set aside, the hand grant counts as pre-existing
    regrant = run_playbook("grant_archive_access", tenant, variables)
    assert regrant.returncode == 0, regrant
    assert glob.glob(ledger + ".closed-*")
    state = read_ledger(ledger)
    assert state.closed is None and state.mailboxes[mailbox_ids(tenant, ["alex.martin@"]).popitem()[0]].pre_existing
    assert run_playbook("revoke_archive_access", tenant, variables).returncode == 0
    assert tenant.holders_by_id() == dict(before, **mailbox_ids(tenant, ["alex.martin@"]))


# ---- 4. letter case and the form of the delegate's name never make another campaign -------------------------------


def test_the_delegate_matched_by_object_whatever_its_letter_case(tenant, tmp_path, run_playbook):
    shouting = "Archive.Admin@" + tenant.domain.upper()
    variables, before, _after = granted_then(tenant, tmp_path, run_playbook, archive_access_delegate=shouting,
                                             archive_access_tenant=tenant.domain.upper())
    ledger = ledger_file(tmp_path)
    delegate = tenant.recipient(tenant.delegate)
    assert os.path.basename(ledger) == "%s.ledger.jsonl" % delegate["edoid"]
    tenant.server.rename_mailbox("ben.martin@" + tenant.domain, "ben.martin@fabrikam.example")
    # the revoke names the delegate by its GUID and the tenant in lower case: the same campaign, the same file
    by_guid = dict(variables, archive_access_delegate=delegate["guid"], archive_access_tenant=tenant.domain)
    revoke = run_playbook("revoke_archive_access", tenant, by_guid)
    assert revoke.returncode == 0, revoke
    assert_only_pre_existing(tenant, before)
    assert glob.glob(str(tmp_path / "data" / "*" / "*.ledger.jsonl")) == [ledger]
    assert read_ledger(ledger).closed is not None


# ---- 5. ledger and reports outside the collection, never in a build ------------------------------------------------


def test_the_campaign_files_go_to_the_users_data_directory(tenant, tmp_path, run_playbook):
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": ""}
    variables = {"archive_access_delegate": tenant.delegate, "archive_access_acl_limit_action": "skip",
                 "archive_access_scope": {"identities": ["zoe.muller@" + tenant.domain, "ceo@" + tenant.domain]}}
    before = tenant.holders_by_id()
    grant = run_playbook("grant_archive_access", tenant, variables, env=env)
    assert grant.returncode == 0, grant
    tenant_dir = home / ".local" / "share" / "m365.exchange" / "archive_access" / tenant.domain
    (ledger,) = glob.glob(str(tenant_dir / "*.ledger.jsonl"))
    assert len(glob.glob(str(tenant_dir / "reports" / "*_grant_*"))) == 3
    assert not os.path.exists(os.path.join(REPO, "playbooks", "archive-access"))
    assert set(tenant.holders_by_id()) - set(before) == set(mailbox_ids(tenant, ["zoe.muller@"]))
    tenant.server.delete_mailbox("zoe.muller@" + tenant.domain)
    tenant.server.recreate_mailbox("zoe.muller@" + tenant.domain)
    revoke = run_playbook("revoke_archive_access", tenant, variables, env=env)
    assert revoke.returncode == 0, revoke
    # the re-created mailbox is another person's: the campaign never touched it, the deleted one is gone
    assert_only_pre_existing(tenant, before)
    assert read_ledger(ledger).closed is not None
    assert rows_by_id(last_report_in(tenant_dir, "revoke")).popitem()[1]["action"] == "gone"


def last_report_in(directory, action):
    (path,) = glob.glob(str(directory / "reports" / ("*_%s_*.json" % action)))
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def test_a_stray_ledger_never_gets_into_a_build(tmp_path):
    tree = tmp_path / "tree"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in listed.decode("utf-8").split("\0"):
        if name and os.path.isfile(os.path.join(REPO, name)):
            os.makedirs(os.path.dirname(str(tree / name)) or str(tree), exist_ok=True)
            shutil.copy2(os.path.join(REPO, name), str(tree / name))
    # where the role's files used to go by default, and ledgers left anywhere in the tree (a closed one set aside)
    stray = ["playbooks/archive-access/contoso_archive.admin.ledger.jsonl", "campaign.ledger.jsonl.closed-20261201",
             "playbooks/archive-access/reports/contoso_grant_20261201T000000Z.html",
             "roles/archive_access/files/c.ledger.jsonl", "archive-access/reports/x_revoke_1.csv"]
    for name in stray:
        os.makedirs(os.path.dirname(str(tree / name)) or str(tree), exist_ok=True)
        (tree / name).write_text("{}\n", encoding="utf-8")
    built = subprocess.run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", str(tree), "--output-path",
                            str(tmp_path)], capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr
    (tarball,) = glob.glob(str(tmp_path / "*.tar.gz"))
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "roles/archive_access/tasks/grant.yml" in names
    assert not [name for name in names if ".ledger.jsonl" in name or "archive-access/" in name
                or name.endswith("archive-access")]


# ---- 6. an exclusion that matches nothing stops the preflight ------------------------------------------------------


def test_exclusions_that_match_nothing_stop_before_any_change(tenant, tmp_path, run_playbook):
    typo = campaign(tenant, tmp_path,
                    archive_access_scope={"exclude": ["ceo@" + tenant.domain, "c.eo@" + tenant.domain]})
    before = tenant.holders_by_id()
    refused = run_playbook("grant_archive_access", tenant, typo)
    assert refused.returncode != 0
    assert "c.eo@" + tenant.domain in refused.output and "match no mailbox" in refused.output
    assert tenant.counters()["writes"] == 0 and tenant.holders_by_id() == before

    variables, before, _after = granted_then(tenant, tmp_path, run_playbook,
                                             archive_access_scope={"exclude": ["zoe.muller@" + tenant.domain]})
    excluded = mailbox_ids(tenant, ["zoe.muller@"])
    assert not set(excluded) & set(tenant.holders_by_id())
    # the excluded mailbox is renamed: the revoke's exclusion by the old address now matches nothing
    tenant.server.grant_permission("full_access", "zoe.muller@" + tenant.domain, tenant.delegate)  # by hand, later
    tenant.server.rename_mailbox("zoe.muller@" + tenant.domain, "zoe.muller@fabrikam.example")
    holding = tenant.holders_by_id()
    tenant.server.reset_counters()
    stale = run_playbook("revoke_archive_access", tenant, variables)
    assert stale.returncode != 0 and "zoe.muller@" + tenant.domain in stale.output
    assert tenant.counters()["writes"] == 0 and tenant.holders_by_id() == holding
    # as a warning, the revoke goes on; the mailbox was never the campaign's, so its hand grant stays
    warned = run_playbook("revoke_archive_access", tenant, dict(variables, archive_access_exclude_unmatched="warn"))
    assert warned.returncode == 0, warned
    assert "match no mailbox" in warned.output
    assert set(tenant.holders_by_id()) == set(before) | set(excluded)


# ---- 7. one mailbox named four ways is one mailbox -----------------------------------------------------------------


def test_one_mailbox_named_four_ways_is_granted_once(tenant, tmp_path, run_playbook):
    zoe = tenant.recipient("zoe.muller@" + tenant.domain)
    names = [zoe["primary_smtp"], zoe["alias"], zoe["display_name"], zoe["guid"], "ceo@" + tenant.domain]
    variables = campaign(tenant, tmp_path, archive_access_scope={"identities": names})
    before = tenant.holders_by_id()
    grant = run_playbook("grant_archive_access", tenant, variables)
    assert grant.returncode == 0, grant
    report = last_report(tmp_path, "grant")
    assert report["summary"]["added"] == 1 and report["summary"]["unchanged"] == 1
    assert len(report["results"]) == 2
    delegate_sid = tenant.recipient(tenant.delegate)["sid"]
    aces = [ace for ace in tenant.server.permissions(tenant.domain, zoe["guid"])["aces"]
            if ace["trustee_sid"] == delegate_sid and not ace["inherited"]]
    assert [ace["access_rights"] for ace in aces] == [["FullAccess"]]  # one entry, written once
    assert tenant.counters()["cmdlets"].get("Add-MailboxPermission") == 1
    tenant.server.rename_mailbox(zoe["guid"], "zoe.m@fabrikam.example")
    revoke = run_playbook("revoke_archive_access", tenant, variables)
    assert revoke.returncode == 0, revoke
    assert last_report(tmp_path, "revoke")["summary"]["removed"] == 1
    assert_only_pre_existing(tenant, before)


# ---- 8. a killed ansible-playbook stops the writes within seconds ------------------------------------------------


def test_killing_ansible_playbook_stops_the_grant_and_a_rerun_finishes(tenant, tmp_path, run_playbook):
    variables = campaign(tenant, tmp_path, archive_access_chunk_size=1000)
    before = tenant.holders_by_id()
    tenant.server.set_faults(latency_ms=60, concurrency_limit=2)
    log = open(str(tmp_path / "killed.log"), "w", encoding="utf-8")
    process = subprocess.Popen(playbook_command("grant_archive_access", variables), env=playbook_env(tenant),
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tree = []
    try:
        deadline = time.monotonic() + 120
        while tenant.counters()["writes"] < 10 and time.monotonic() < deadline and process.poll() is None:
            tree = process_tree(process.pid)
            time.sleep(0.05)
        assert process.poll() is None, "the grant ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)  # ansible-playbook alone: its worker and the module live on
        killed_at, writes_at_kill = time.monotonic(), tenant.counters()["writes"]
        quiet_at = None
        while time.monotonic() - killed_at < 15:
            writes = tenant.counters()["writes"]
            time.sleep(1.0)
            if tenant.counters()["writes"] == writes:
                quiet_at = time.monotonic()
                break
        assert quiet_at is not None and quiet_at - killed_at < 5, "the module went on writing"
        assert tenant.counters()["writes"] - writes_at_kill < 30
    finally:
        process.wait(timeout=30)
        leftovers = [pid for pid in tree if os.path.exists("/proc/%d" % pid)]
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
    partial = tenant.holders_by_id()
    assert set(before) < set(partial)
    tenant.server.set_faults(latency_ms=0, concurrency_limit=0)
    rerun = run_playbook("grant_archive_access", tenant, variables)
    assert rerun.returncode == 0, rerun
    after = tenant.holders_by_id()
    assert len(after) > len(partial)
    state = read_ledger(ledger_file(tmp_path))
    assert set(m.id for m in state.pre_existing()) == set(before)
    assert set(m.id for m in state.granted() if m.grant != "skipped") >= set(after) - set(before)
    tenant.server.rename_mailbox("alex.martin@" + tenant.domain, "alex.martin@fabrikam.example")
    assert run_playbook("revoke_archive_access", tenant, variables).returncode == 0
    assert_only_pre_existing(tenant, before)


# ---- 9. check mode says what it would do and claims nothing it did not do ------------------------------------------


def test_check_mode_plans_without_claims(tenant, tmp_path, run_playbook):
    variables = campaign(tenant, tmp_path)
    before = tenant.holders_by_id()
    plan = run_playbook("grant_archive_access", tenant, variables, check=True)
    assert plan.returncode == 0, plan
    assert tenant.counters()["writes"] == 0 and tenant.holders_by_id() == before
    assert not glob.glob(str(tmp_path / "data" / "*" / "*.ledger.jsonl"))
    assert "effective by" not in plan.output and "PLAN" in plan.output
    (planned,) = glob.glob(str(tmp_path / "data" / "*" / "reports" / "*_grant-plan_*.json"))
    with open(planned, encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["status"] == "PLAN" and report["effective_by"] is None and report["campaign"]["ledger"] is None
    assert report["summary"]["added"] > 100
    assert "Reports: %s" % planned[:-len(".json")] in plan.output  # the path it names exists

    variables, before, after = granted_then(tenant, tmp_path, run_playbook)
    assert len(after) - len(before) == report["summary"]["added"]
    converted = mailbox_ids(tenant, ["ana.garcia@"])
    tenant.server.convert_to_mail_user("ana.garcia@" + tenant.domain)  # its mailbox and ACL go with it
    after = dict((k, v) for k, v in after.items() if k not in converted)
    ledger = ledger_file(tmp_path)
    with open(ledger, "rb") as handle:
        recorded = handle.read()
    tenant.server.reset_counters()
    revoke_plan = run_playbook("revoke_archive_access", tenant, variables, check=True)
    assert revoke_plan.returncode == 0, revoke_plan
    assert tenant.counters()["writes"] == 0 and tenant.holders_by_id() == after
    with open(ledger, "rb") as handle:
        assert handle.read() == recorded
    (planned,) = glob.glob(str(tmp_path / "data" / "*" / "reports" / "*_revoke-plan_*.json"))
    with open(planned, encoding="utf-8") as handle:
        plan_rows = rows_by_id(json.load(handle))
    assert sum(1 for row in plan_rows.values() if row["action"] == "removed") == len(after) - len(before)
    assert plan_rows[next(iter(converted))]["action"] == "gone"
    assert "effective by" not in revoke_plan.output
    assert run_playbook("revoke_archive_access", tenant, variables).returncode == 0
    assert_only_pre_existing(tenant, before)
