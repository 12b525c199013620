# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offboarding playbooks against the emulator: plan (check mode), remove with a ledger, report, restore,
each verified on the emulator's state."""

import csv
import glob
import json
import os
import stat

from ansible_collections.m365.exchange.plugins.plugin_utils._delegation_ledger import parse_ledger

SELF_SID = "S-1-5-10"


def recipients(tenant):
    return tenant.server.state(tenant.domain)["recipients"]


def delegations(tenant):
    """Every delegation of the tenant as a set of (kind, mailbox, folder, principal, rights), from its state."""
    found = set()
    for rec in recipients(tenant):
        name = (rec.get("primary_smtp") or rec["name"]).lower()
        for sid, rights, deny, inheritance, inherited in rec.get("acl") or []:
            if not inherited and sid != SELF_SID:
                found.add(("mailbox_permission", name, "", sid, (tuple(sorted(rights)), deny, inheritance)))
        for sid in rec.get("send_as") or []:
            if sid != SELF_SID:
                found.add(("send_as", name, "", sid, ()))
        for guid in rec.get("send_on_behalf") or []:
            found.add(("send_on_behalf", name, "", guid.lower(), ()))
        for folder, entries in (rec.get("folder_acl") or {}).items():
            for principal, bits, flags in entries:
                found.add(("folder", name, folder, principal, (bits, flags)))
    return found


def principal_ids(tenant, address):
    rec = [r for r in recipients(tenant) if (r.get("primary_smtp") or "").lower() == address.lower()][0]
    return {rec["sid"], rec["guid"].lower()}


def held_by(found, ids):
    return set(item for item in found if item[3] in ids)


def seed(tenant):
    """More of archive.admin's delegations than the generated tenant has: a localized calendar with the Delegate flag,
    ReadPermission beside FullAccess, SendAs on a shared mailbox and on a distribution group, SendOnBehalf."""
    server, domain = tenant.server, tenant.domain
    server.grant_permission("folder", "zoe.muller", tenant.delegate, tenant=domain, access_rights=["Editor"],
                            sharing_permission_flags=["Delegate"])
    server.grant_permission("full_access", "support", tenant.delegate, tenant=domain, access_rights=["ReadPermission"])
    server.grant_permission("send_as", "info", tenant.delegate, tenant=domain)
    server.grant_permission("send_on_behalf", "ceo", tenant.delegate, tenant=domain)


def offboarding_vars(tenant, tmp_path, **extra):
    variables = {"remove_user_delegations_user": tenant.delegate,
                 "remove_user_delegations_dir": str(tmp_path / "offboarding")}
    variables.update(extra)
    return variables


def ledger_path(tenant, tmp_path):
    return str(tmp_path / "offboarding" / ("%s_%s.ledger.jsonl" % (tenant.domain, tenant.delegate)))


def report(tmp_path, kind):
    (path,) = glob.glob(str(tmp_path / "offboarding" / ("*_%s_*.csv" % kind)))
    with open(path, encoding="utf-8", newline="") as handle:
        return path, list(csv.DictReader(handle))


def test_plan_remove_report_and_restore(tenant, tmp_path, run_playbook):
    seed(tenant)
    ids = principal_ids(tenant, tenant.delegate)
    before = delegations(tenant)
    held = held_by(before, ids)
    kinds = sorted(set((item[0], item[2]) for item in held))
    assert kinds == [("folder", "Calendar"), ("folder", "Inbox/Case Files"), ("mailbox_permission", ""),
                     ("send_as", ""), ("send_on_behalf", "")]
    variables = offboarding_vars(tenant, tmp_path)

    plan = run_playbook("remove_user_delegations", tenant, variables, check=True)
    assert plan.returncode == 0, plan
    assert delegations(tenant) == before
    assert not os.path.exists(ledger_path(tenant, tmp_path))
    _path, planned = report(tmp_path, "plan")
    assert set((row["kind"], row["mailbox"].split("@")[0], row["action"]) for row in planned) == {
        ("mailbox_permission", "ceo", "removed"), ("mailbox_permission", "legal.hold", "removed"),
        ("mailbox_permission", "support", "removed"), ("send_as", "legal.hold", "removed"),
        ("send_as", "info", "removed"), ("send_on_behalf", "legal.hold", "removed"),
        ("send_on_behalf", "ceo", "removed"), ("folder", "ceo", "removed"), ("folder", "zoe.muller", "removed")}
    assert tenant.counters()["writes"] == 0

    removal = run_playbook("remove_user_delegations", tenant, variables)
    assert removal.returncode == 0, removal
    after = delegations(tenant)
    # only the Inbox\Case Files entry is left: the playbook removes the folders it is given (the calendar by default)
    assert held_by(after, ids) == set(item for item in held if item[2] == "Inbox/Case Files")
    assert after - held_by(after, ids) == before - held  # everybody else's delegations are untouched
    path, removed = report(tmp_path, "removed")
    assert len(removed) == len(planned) and set(row["action"] for row in removed) == {"removed"}
    assert [row["before"] for row in removed if row["mailbox"].startswith("zoe.muller@")] == ["Editor Delegate"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    ledger = ledger_path(tenant, tmp_path)
    assert stat.S_IMODE(os.stat(ledger).st_mode) == 0o600
    with open(ledger, encoding="utf-8") as handle:
        parsed = parse_ledger(handle.read(), tenant=tenant.domain, user=tenant.delegate)
    assert parsed["summary"] == {"mailbox_permission": 3, "send_as": 2, "send_on_behalf": 2, "folder": 2}
    assert len(parsed["removed"]) == 9

    tenant.server.reset_counters()
    again = run_playbook("remove_user_delegations", tenant, variables)
    assert again.returncode == 0, again
    assert tenant.counters()["writes"] == 0 and delegations(tenant) == after

    restore_plan = run_playbook("restore_user_delegations", tenant, variables, check=True)
    assert restore_plan.returncode == 0, restore_plan
    assert delegations(tenant) == after and tenant.counters()["writes"] == 0

    restore = run_playbook("restore_user_delegations", tenant, variables)
    assert restore.returncode == 0, restore
    assert delegations(tenant) == before  # every right, role and flag is back, the rest as it was
    _path, restored = report(tmp_path, "restored")
    assert set(row["action"] for row in restored) == {"added"} and len(restored) == 9
    with open(ledger, encoding="utf-8") as handle:
        assert parse_ledger(handle.read())["closed"]

    tenant.server.reset_counters()
    restore_again = run_playbook("restore_user_delegations", tenant, variables)
    assert restore_again.returncode == 0, restore_again
    assert tenant.counters()["writes"] == 0 and delegations(tenant) == before


def test_restore_skips_mailboxes_deleted_since(tenant, tmp_path, run_playbook):
    variables = offboarding_vars(tenant, tmp_path, remove_user_delegations_kinds=["mailbox_permission"])
    removal = run_playbook("remove_user_delegations", tenant, variables)
    assert removal.returncode == 0, removal
    assert tenant.full_access_holders() == set()
    tenant.server.delete_mailbox("ceo", tenant=tenant.domain)
    restore = run_playbook("restore_user_delegations", tenant, variables)
    assert restore.returncode == 0, restore
    assert tenant.full_access_holders() == {"legal.hold@" + tenant.domain}
    _path, restored = report(tmp_path, "restored")
    assert sorted((row["mailbox"].split("@")[0], row["action"]) for row in restored) == [
        ("ceo", "skipped"), ("legal.hold", "added")]


def test_a_ledger_of_another_user_is_refused(tenant, tmp_path, run_playbook):
    variables = offboarding_vars(tenant, tmp_path, remove_user_delegations_kinds=["send_as"])
    assert run_playbook("remove_user_delegations", tenant, variables).returncode == 0
    other = offboarding_vars(tenant, tmp_path, remove_user_delegations_user="helpdesk@" + tenant.domain,
                             remove_user_delegations_ledger=ledger_path(tenant, tmp_path))
    tenant.server.reset_counters()
    refused = run_playbook("restore_user_delegations", tenant, other)
    assert refused.returncode != 0
    assert "belongs to user '%s', not 'helpdesk@%s'" % (tenant.delegate, tenant.domain) in refused.output
    assert tenant.counters()["writes"] == 0


def test_a_removal_that_fails_on_a_mailbox_reports_it_and_fails(tenant, tmp_path, run_playbook):
    tenant.server.add_fault_rule(match={"cmdlet": "Remove-RecipientPermission", "identity": "legal.hold@" + tenant.domain},
                                 fault="error", status=400, times=10)
    variables = offboarding_vars(tenant, tmp_path)
    removal = run_playbook("remove_user_delegations", tenant, variables)
    assert removal.returncode != 0
    assert "removals failed" in removal.output
    _path, removed = report(tmp_path, "removed")
    assert [(row["kind"], row["action"]) for row in removed if row["action"] == "failed"] == [("send_as", "failed")]
    # the other kinds went on, and the ledger holds the SendAs to restore
    assert tenant.full_access_holders() == set()
    with open(ledger_path(tenant, tmp_path), encoding="utf-8") as handle:
        lines = [json.loads(line) for line in handle]
    assert [l["mailbox"] for l in lines if l.get("kind") == "send_as" and l["event"] == "read"] == [
        "legal.hold@" + tenant.domain]
