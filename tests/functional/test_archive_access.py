# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The archive-access playbooks against the emulator, verified on the emulator's state."""

import csv
import glob
import json
import os
import stat

import pytest

from ansible_collections.m365.exchange.plugins.plugin_utils._ledger import read_ledger as read_ledger_state

from playbook_support import BIN, collections_path, playbook_path, read_csv_report  # pylint: disable=import-error

PRE_EXISTING = {"ceo@", "legal.hold@"}


def addresses(tenant, locals_):
    return set(local + tenant.domain for local in locals_)


def campaign_vars(tenant, tmp_path, **extra):
    variables = {
        "archive_access_delegate": tenant.delegate,
        "archive_access_ledger": str(tmp_path / ("%s.ledger.jsonl" % tenant.domain)),
        "archive_access_report_dir": str(tmp_path / "reports"),
        "archive_access_chunk_size": 40,
        "archive_access_acl_limit_action": "skip",
        "archive_access_scope": {"exclude": ["info@" + tenant.domain, "support@" + tenant.domain]},
    }
    variables.update(extra)
    return variables


def read_ledger(path):
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@pytest.fixture
def usual_umask():
    """umask 022, under which a file written without an explicit mode would be readable by everyone."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(paths):
    return dict((path, oct(stat.S_IMODE(os.stat(path).st_mode))) for path in paths)


def test_grant_rerun_revoke_keeps_pre_existing_and_excluded_access(tenant, tmp_path, run_playbook, usual_umask):
    # the ledger's directory does not exist yet: the role creates it, private
    variables = campaign_vars(tenant, tmp_path, archive_access_ledger=str(tmp_path / "campaign" / "c.ledger.jsonl"))
    before = tenant.full_access_holders()
    helpdesk_before = tenant.full_access_holders("helpdesk@" + tenant.domain)
    assert before == addresses(tenant, PRE_EXISTING)

    grant = run_playbook("grant_archive_access", tenant, variables)
    assert grant.returncode == 0, grant
    granted = tenant.full_access_holders()
    assert len(granted) > 100
    assert not granted & addresses(tenant, ["info@", "support@", "full.acl@", "archive.admin@"])
    assert tenant.automapping("ceo@" + tenant.domain) == {}  # pre-existing: never re-added
    some = sorted(granted - before)[0]
    assert list(tenant.automapping(some).values()) == [False]
    assert "expect them to be effective by" in grant.output

    ledger_path = variables["archive_access_ledger"]
    reports = sorted(glob.glob(str(tmp_path / "reports" / "*grant*")))
    assert [os.path.splitext(r)[1] for r in reports] == [".csv", ".html", ".json"]
    with open(reports[2], encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["summary"]["added"] == len(granted - before)
    assert report["summary"]["unchanged"] == len(before)
    # full.acl@ is left out by the run's own setting (skip at the ACL limit), info@/support@ by the exclusions
    assert report["status"] == "COMPLETE" and report["next_step"] == ""
    assert report["scope"]["excluded"] == sorted(addresses(tenant, ["info@", "support@"]))
    assert report["scope"]["acl_limit"] == 1 and [g["mailboxes"] for g in report["skipped"]] == [
        ["full.acl@" + tenant.domain]]
    assert report["scope"]["pre_existing"] == len(before) and report["scope"]["changed"] == len(granted - before)
    facts, rows = read_csv_report(reports[0])
    assert facts["status"] == ["COMPLETE"] and facts["campaign"] == [report["campaign"]["id"]]
    assert facts["added"] == [str(len(granted - before))] and facts["at the ACL limit"][0] == "1"
    assert list(rows[0]) == ["mailbox", "mailbox_id", "action", "before", "after", "time", "error"]
    assert len(rows) == len(report["results"])

    tenant.server.reset_counters()
    regrant = run_playbook("grant_archive_access", tenant, variables)
    assert regrant.returncode == 0, regrant
    assert tenant.counters()["writes"] == 0
    assert tenant.full_access_holders() == granted

    revoke = run_playbook("revoke_archive_access", tenant, variables)
    assert revoke.returncode == 0, revoke
    assert tenant.full_access_holders() == before
    assert tenant.full_access_holders("helpdesk@" + tenant.domain) == helpdesk_before
    assert read_ledger(ledger_path)[-1]["event"] == "closed"
    # the ledger and reports name every mailbox in scope: private whatever the umask
    files = [ledger_path] + glob.glob(str(tmp_path / "reports" / "*"))
    directories = [str(tmp_path / "campaign"), str(tmp_path / "reports")]
    assert len(files) == 10  # the ledger, and JSON, CSV and HTML of the grant, the rerun and the revoke
    assert modes(files + directories) == dict([(f, "0o600") for f in files] + [(d, "0o700") for d in directories])

    tenant.server.reset_counters()
    rerevoke = run_playbook("revoke_archive_access", tenant, variables)
    assert rerevoke.returncode == 0, rerevoke
    assert tenant.counters()["writes"] == 0


LIST_ONLY_CHANGES = """
- name: The grant, in a play whose module_defaults would shorten mailbox_permission's results
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  module_defaults:
    m365.exchange.mailbox_permission:
      list_unchanged: false
  tasks:
    - name: Grant the delegate's access
      ansible.builtin.include_role:
        name: m365.exchange.archive_access
        tasks_from: grant
"""


def test_the_report_lists_every_mailbox_whatever_module_defaults_say(tenant, tmp_path, run_playbook):
    playbook = tmp_path / "grant_listing_only_changes.yml"
    playbook.write_text(LIST_ONLY_CHANGES, encoding="utf-8")
    grant = run_playbook(str(playbook), tenant, campaign_vars(tenant, tmp_path))
    assert grant.returncode == 0, grant
    (report,) = glob.glob(str(tmp_path / "reports" / "*grant*.csv"))
    _facts, rows = read_csv_report(report)
    actions = dict((row["mailbox"], row["action"]) for row in rows)
    assert len(rows) > 100
    assert set(actions[mailbox] for mailbox in addresses(tenant, PRE_EXISTING)) == {"unchanged"}


def test_check_mode_changes_nothing(tenant, tmp_path, run_playbook):
    variables = campaign_vars(tenant, tmp_path)
    run = run_playbook("grant_archive_access", tenant, variables, check=True)
    assert run.returncode == 0, run
    assert tenant.counters()["writes"] == 0
    assert not os.path.exists(variables["archive_access_ledger"])


def test_empty_scope_says_so_and_changes_nothing(tenant, tmp_path, run_playbook):
    variables = campaign_vars(tenant, tmp_path, archive_access_scope={"filter": "Department -eq 'Nowhere'"})
    run = run_playbook("grant_archive_access", tenant, variables)
    assert run.returncode == 0, run
    assert "the scope selects no mailbox" in run.output
    assert tenant.counters()["writes"] == 0


@pytest.mark.parametrize("delegate, words", [
    ("nolicense.admin@", ["without a license"]),
    ("nomailbox.admin@", ["not found"]),
])
def test_preflight_refuses_a_delegate_that_cannot_export(tenant, tmp_path, run_playbook, delegate, words):
    variables = campaign_vars(tenant, tmp_path, archive_access_delegate=delegate + tenant.domain)
    run = run_playbook("grant_archive_access", tenant, variables)
    assert run.returncode != 0
    for word in words:
        assert word in run.output
    assert tenant.counters()["writes"] == 0


def test_preflight_stops_at_the_acl_limit_before_any_change(tenant, tmp_path, run_playbook):
    # the opt-in preflight count: one more read per mailbox, and no chunk is written at all
    variables = campaign_vars(tenant, tmp_path, archive_access_acl_limit_action="stop",
                              archive_access_check_acl_limit=True)
    run = run_playbook("grant_archive_access", tenant, variables)
    assert run.returncode != 0
    assert "full.acl@" + tenant.domain in run.output and "Nothing was changed" in run.output
    assert tenant.counters()["writes"] == 0
    assert not os.path.exists(variables["archive_access_ledger"])


def test_the_chunk_with_a_full_mailbox_is_refused_as_a_whole(tenant, tmp_path, run_playbook):
    # the default: the grant's own read finds the full mailbox and nothing is written in its chunk
    variables = campaign_vars(tenant, tmp_path, archive_access_acl_limit_action="stop", archive_access_chunk_size=1000)
    before = tenant.full_access_holders()
    run = run_playbook("grant_archive_access", tenant, variables)
    assert run.returncode != 0
    assert "was refused as a whole" in run.output and "full.acl@" + tenant.domain in run.output
    assert tenant.counters()["writes"] == 0 and tenant.full_access_holders() == before
    (report,) = glob.glob(str(tmp_path / "reports" / "*grant*.json"))
    with open(report, encoding="utf-8") as handle:
        data = json.load(handle)
    assert data["status"] == "INCOMPLETE" and "refused as a whole" in data["stopped"] and data["results"] == []


@pytest.mark.parametrize("damage, words", [
    ("corrupt", ["is corrupt at line 2"]),
    ("other_delegate", ["belongs to delegate", "refusing to use another campaign's ledger"]),
    ("missing", ["There is no ledger at"]),
])
def test_doubtful_ledgers_are_refused_without_change(tenant, tmp_path, run_playbook, damage, words):
    variables = campaign_vars(tenant, tmp_path)
    assert run_playbook("grant_archive_access", tenant, variables).returncode == 0
    ledger_path = variables["archive_access_ledger"]
    lines = open(ledger_path, encoding="utf-8").read().splitlines(True)
    if damage == "corrupt":
        lines[1] = "{not json}\n"  # a whole line that is not JSON (a torn last write, "{..." cut off, is skipped)
    elif damage == "other_delegate":
        helpdesk = tenant.recipient("helpdesk@" + tenant.domain)
        header = dict(json.loads(lines[0]), delegate=helpdesk["primary_smtp"], delegate_id=helpdesk["edoid"],
                      delegate_guid=helpdesk["guid"])
        lines[0] = json.dumps(header) + "\n"
    else:
        lines = None
        os.remove(ledger_path)
    if lines is not None:
        with open(ledger_path, "w", encoding="utf-8") as handle:
            handle.writelines(lines)
    tenant.server.reset_counters()
    granted = tenant.full_access_holders()
    for playbook in ("revoke_archive_access", "grant_archive_access"):
        if damage == "missing" and playbook == "grant_archive_access":
            continue
        run = run_playbook(playbook, tenant, variables)
        assert run.returncode != 0, run
        for word in words:
            assert word in run.output
    assert tenant.counters()["writes"] == 0
    assert tenant.full_access_holders() == granted


def test_revoke_all_cleans_up_without_a_ledger(tenant, tmp_path, run_playbook):
    variables = campaign_vars(tenant, tmp_path)
    assert run_playbook("grant_archive_access", tenant, variables).returncode == 0
    os.remove(variables["archive_access_ledger"])
    run = run_playbook("revoke_archive_access", tenant, dict(variables, archive_access_revoke_all=True))
    assert run.returncode == 0, run
    assert tenant.full_access_holders() == set()  # pre-existing access goes too: that is what revoke_all means


def test_two_tenants_from_one_inventory(tenants, tmp_path, run_playbook):
    inventory = {"all": {"hosts": dict((t.domain, t.host_vars()) for t in tenants)}}
    inventory_path = tmp_path / "tenants.json"
    inventory_path.write_text(json.dumps(inventory), encoding="utf-8")
    variables = {
        "archive_access_hosts": "all",
        "archive_access_delegate": "{{ 'archive.admin@' ~ inventory_hostname }}",
        "archive_access_ledger": str(tmp_path) + "/{{ inventory_hostname }}.ledger.jsonl",
        "archive_access_report_dir": str(tmp_path / "reports"),
        "archive_access_acl_limit_action": "skip",
    }
    run = run_playbook("grant_archive_access", None, variables, inventory=str(inventory_path))
    assert run.returncode == 0, run
    for tenant in tenants:
        assert len(tenant.full_access_holders()) > 100
        assert read_ledger(str(tmp_path / (tenant.domain + ".ledger.jsonl")))[0]["tenant"] == tenant.domain
    run = run_playbook("revoke_archive_access", None, variables, inventory=str(inventory_path))
    assert run.returncode == 0, run
    for tenant in tenants:
        assert tenant.full_access_holders() == addresses(tenant, PRE_EXISTING)


@pytest.mark.parametrize("kill_after", [2.0, 3.5, 5.0])
def test_a_grant_killed_part_way_is_finished_by_a_rerun(tenant, tmp_path, run_playbook, kill_after):
    variables = campaign_vars(tenant, tmp_path, archive_access_chunk_size=15)
    tenant.server.set_faults(latency_ms=15)
    killed = run_playbook("grant_archive_access", tenant, variables, kill_after=kill_after)
    assert killed.returncode == -9, killed
    tenant.server.set_faults(latency_ms=0)
    rerun = run_playbook("grant_archive_access", tenant, variables)
    assert rerun.returncode == 0, rerun
    holders = tenant.full_access_holders()
    ledger = read_ledger_state(variables["archive_access_ledger"])
    assert set(m.address.lower() for m in ledger.pre_existing()) == addresses(tenant, PRE_EXISTING)
    assert set(m.address.lower() for m in ledger.granted()) == holders - addresses(tenant, PRE_EXISTING)
    assert run_playbook("revoke_archive_access", tenant, variables).returncode == 0
    assert tenant.full_access_holders() == addresses(tenant, PRE_EXISTING)


def test_awx_workflow_passes_the_campaign_through_set_stats(tenant, tmp_path, monkeypatch):
    ansible_runner = pytest.importorskip("ansible_runner")
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ.get("PATH", ""))
    variables = campaign_vars(tenant, tmp_path)
    envvars = dict(tenant.env(), ANSIBLE_COLLECTIONS_PATH=collections_path())
    for job in ("grant-job", "revoke-job"):
        (tmp_path / job).mkdir()
    grant = ansible_runner.run(private_data_dir=str(tmp_path / "grant-job"), playbook=playbook_path("grant_archive_access"),
                               extravars=variables, envvars=envvars, quiet=True)
    assert grant.status == "successful"
    (stats,) = [e for e in grant.events if e.get("event") == "playbook_on_stats"]
    artifacts = stats["event_data"]["artifact_data"]
    campaign = artifacts["archive_access_campaigns"][tenant.domain]
    assert len(json.dumps(artifacts)) < 20000
    assert set(m.lower() for m in campaign["pre_existing"]) == addresses(tenant, PRE_EXISTING)

    os.remove(variables["archive_access_ledger"])  # no file survives between AWX jobs
    revoke_vars = dict(variables, **artifacts)
    revoke = ansible_runner.run(private_data_dir=str(tmp_path / "revoke-job"), playbook=playbook_path("revoke_archive_access"),
                                extravars=revoke_vars, envvars=envvars, quiet=True)
    assert revoke.status == "successful"
    assert tenant.full_access_holders() == addresses(tenant, PRE_EXISTING)


def test_audit_lists_explicit_delegations_as_csv(tenant, tmp_path, run_playbook):
    report_dir = tmp_path / "audit"
    run = run_playbook("audit_mailbox_permissions", tenant, {
        "permission_audit_report_dir": str(report_dir),
        "permission_audit_scope": {"recipient_type_details": ["UserMailbox", "SharedMailbox"]},
    })
    assert run.returncode == 0, run
    (report,) = glob.glob(str(report_dir / "*.csv"))
    with open(report, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    delegate_rows = [row for row in rows
                     if row["trustee"].lower() == tenant.delegate and row["kind"] == "MailboxPermission"]
    assert set(row["mailbox"].lower() for row in delegate_rows) == addresses(tenant, PRE_EXISTING)
    assert all(row["access_rights"] == "FullAccess" and row["is_inherited"] == "False" for row in delegate_rows)
    assert not [row for row in rows if row["trustee"] == "NT AUTHORITY\\SELF"]
    assert any(row["trustee"].startswith("S-1-5-21-") for row in rows)  # orphaned SIDs are listed
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    assert tenant.counters()["writes"] == 0
