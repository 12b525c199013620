# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 18: the archive_access role by RBAC for Applications (archive_access_method=application_rbac).

Each test runs the collection's playbooks against the emulator and judges the tenant's RBAC state afterwards (its
service principals, scopes, role assignments and marks, and which mailboxes its own scope evaluation puts in the
campaign's scope), the emulator's write counters, and the ledger, not only what the play said.
"""

import glob
import json
import os

import pytest
from exo_emulator import rbac  # pylint: disable=import-error

from ansible_collections.m365.exchange.plugins.plugin_utils._app_campaign import read_app_ledger

from playbook_support import BIN, collections_path, playbook_path  # pylint: disable=import-error

APP_ID = "51a7c3e0-8d2b-4f6a-9c1e-3b5d7f9a1c2e"
APP_OBJECT_ID = "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4"
APP_NAME = "Vault Exporter"
EXCLUDED = ("ceo@", "info@")
CAMPAIGN_TYPES = ("UserMailbox", "SharedMailbox")
MAILBOX_TYPES = ("UserMailbox", "SharedMailbox", "RoomMailbox", "EquipmentMailbox", "SchedulingMailbox",
                 "DiscoveryMailbox")


def seed(emulator, tenant, pre_existing_scope=False, org_wide=False, register=True):
    """The app's service principal, and objects that existed before any campaign: they must survive its revoke."""
    live = emulator.tenant(tenant.domain)
    with live.lock:
        if register:
            live.service_principals = live.service_principals + [{
                "app_id": APP_ID, "object_id": APP_OBJECT_ID, "display_name": APP_NAME,
                "exchange_object_id": "2d9e8f7a-6b5c-4d3e-9f1a-0b2c3d4e5f6a"}]
        if pre_existing_scope:
            live.management_scopes = live.management_scopes + [{
                "name": "Legal before", "guid": "5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
                "filter": "Department -eq 'Legal'", "recipient_root": None, "exclusive": False}]
            live.role_assignments = live.role_assignments + [{
                "name": "Legal reader before", "guid": "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d",
                "role": "Application Mail.Read", "app": APP_OBJECT_ID, "scope": "Legal before"}]
        if org_wide:
            live.role_assignments = live.role_assignments + [{
                "name": "Org-wide reader", "guid": "8a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0e",
                "role": "Application Mail.Read", "app": APP_OBJECT_ID, "scope": ""}]


def variables(tenant, tmp_path, **extra):
    values = {"archive_access_method": "application_rbac", "archive_access_app": APP_NAME,
              "archive_access_data_dir": str(tmp_path / "data"),
              "archive_access_scope": {"recipient_type_details": list(CAMPAIGN_TYPES),
                                       "exclude": [local + tenant.domain for local in EXCLUDED]}}
    values.update(extra)
    return values


def campaign_objects(emulator, tenant):
    state = emulator.rbac_state(tenant.domain)
    scopes = dict((s["name"], s) for s in state["management_scopes"])
    assignments = [(a["name"], a["role"], a["app"], a["scope"]) for a in state["role_assignments"]]
    return state, scopes, assignments


def reached(emulator, tenant, scope_name):
    """{primary SMTP} of the active mailboxes the emulator's own evaluation puts in the scope (Get-Mailbox, and so
    the campaign, leaves inactive mailboxes out)."""
    live = emulator.tenant(tenant.domain)
    with live.lock:
        scope = next(s for s in live.management_scopes if s["name"] == scope_name)
        return set(r.primary_smtp.lower() for r in live.recipients
                   if not r.soft_deleted and not r.inactive and r.rtd in MAILBOX_TYPES
                   and rbac.in_scope(live, scope, r))


def mailboxes_of(tenant, types=CAMPAIGN_TYPES):
    return set(r["primary_smtp"].lower() for r in tenant.server.state(tenant.domain)["recipients"]
               if r.get("type") in types and not r.get("soft_deleted") and not r.get("inactive"))


def marks(tenant, attribute="12"):
    return dict((r["primary_smtp"].lower(), r["custom_attributes"][attribute])
                for r in tenant.server.state(tenant.domain)["recipients"]
                if (r.get("custom_attributes") or {}).get(attribute))


def last_report(tmp_path, action):
    paths = sorted(glob.glob(str(tmp_path / "data" / "*" / "reports" / ("*_%s_*.json" % action))),
                   key=os.path.getmtime)
    with open(paths[-1], encoding="utf-8") as handle:
        return json.load(handle)


def ledger(tmp_path):
    (path,) = glob.glob(str(tmp_path / "data" / "*" / "app-*.ledger.jsonl"))
    return read_app_ledger(path)


def writes(tenant):
    return tenant.counters()["writes"]


def test_grant_by_filter_proves_the_scope_reruns_without_writes_and_revoke_keeps_what_was_there(
        emulator, tenant, tmp_path, run_playbook):
    seed(emulator, tenant, pre_existing_scope=True)
    values = variables(tenant, tmp_path)
    grant = run_playbook("grant_archive_access", tenant, values)
    assert grant.returncode == 0, grant

    _state, scopes, assignments = campaign_objects(emulator, tenant)
    (name,) = [n for n in scopes if n.startswith("Archive campaign ")]
    assert "ExternalDirectoryObjectId -ne" in scopes[name]["filter"]
    assert (APP_OBJECT_ID, name) in [(a[2], a[3]) for a in assignments if a[1] == "Application Mail.Read"]
    expected = mailboxes_of(tenant) - set(local + tenant.domain for local in EXCLUDED)
    assert reached(emulator, tenant, name) == expected  # the emulator's own evaluation of the scope
    # a filter scope costs no write per mailbox: 1 scope + 1 assignment
    assert writes(tenant) == 2
    assert marks(tenant) == {}
    report = last_report(tmp_path, "grant")
    assert report["status"] == "COMPLETE" and report["method"] == "RBAC for Applications"
    labels = dict((d["label"], d["value"]) for d in report["method_details"])
    assert labels["Management scope"] == name and "tenant-wide admin consent" in labels["Tenant-wide consent"]
    assert labels["EWS"].startswith("EWS: EwsEnabled")
    assert labels["Proof"] == ("Test-ServicePrincipalAuthorization: %d of %d mailboxes of the campaign in scope, 2 of "
                               "2 excluded mailboxes not in scope" % (len(expected), len(expected)))
    # the same contract as a FullAccess report: the status line, the scope's counts, campaign, ledger and times
    assert report["headline"].startswith("%s (app ID %s) holds Application Mail.Read on exactly the %d mailboxes" % (
        APP_NAME, APP_ID, len(expected)))
    assert report["next_step"] == "" and report["failures"] == [] and report["skipped"] == []
    assert report["scope"]["targets"] == report["scope"]["proven_in"] == len(expected)
    assert report["scope"]["proven_out"] == 2 and report["scope"]["changed"] == 2
    assert sorted(report["scope"]["excluded"]) == sorted(local + tenant.domain for local in EXCLUDED)
    assert report["campaign"]["id"] == ledger(tmp_path).id and os.path.isfile(report["campaign"]["ledger"])
    assert report["run"]["finished_local"] and report["effective_by"]["minutes"] == 120
    assert set(r["mailbox"].lower() for r in report["results"] if r["action"] == "in scope") == expected

    emulator.reset_counters()
    rerun = run_playbook("grant_archive_access", tenant, values)
    assert rerun.returncode == 0, rerun
    assert writes(tenant) == 0

    revoke = run_playbook("revoke_archive_access", tenant, values)
    assert revoke.returncode == 0, revoke
    revoked = last_report(tmp_path, "revoke")
    assert revoked["status"] == "COMPLETE" and revoked["campaign"]["closed_now"]
    assert revoked["headline"].startswith("Everything campaign %s created for %s" % (
        report["campaign"]["id"], APP_NAME))
    state, scopes, assignments = campaign_objects(emulator, tenant)
    assert set(scopes) >= {"Legal before"} and not [n for n in scopes if n.startswith("Archive campaign ")]
    assert [a for a in assignments if a[2] == APP_OBJECT_ID] == [
        ("Legal reader before", "Application Mail.Read", APP_OBJECT_ID, "Legal before")]
    assert APP_OBJECT_ID in [sp["object_id"] for sp in state["service_principals"]]  # it existed before
    assert ledger(tmp_path).closed is not None

    emulator.reset_counters()
    # FullAccess-only variables do nothing here: one warning names them
    again = run_playbook("revoke_archive_access", tenant, dict(values, archive_access_revoke_all=True,
                                                               archive_access_acl_limit_action="skip"))
    assert again.returncode == 0, again
    assert "is closed" in again.output and writes(tenant) == 0
    assert " ".join(again.output.split()).count(
        "archive_access_method=application_rbac ignores archive_access_revoke_all=true, "
        "archive_access_acl_limit_action=skip") == 1


def test_a_scope_by_identities_marks_its_mailboxes_and_the_revoke_removes_all_the_campaign_created(
        emulator, tenant, tmp_path, run_playbook):
    seed(emulator, tenant, register=False)
    chosen = ["%s%s" % (local, tenant.domain) for local in ("legal.hold@", "info@", "ceo@")]
    values = variables(tenant, tmp_path, archive_access_app=APP_ID, archive_access_app_object_id=APP_OBJECT_ID,
                       archive_access_scope={"identities": chosen, "exclude": ["ceo@" + tenant.domain]})
    grant = run_playbook("grant_archive_access", tenant, values)
    assert grant.returncode == 0, grant

    state, scopes, assignments = campaign_objects(emulator, tenant)
    assert APP_ID in [sp["app_id"] for sp in state["service_principals"]]  # registered by the campaign
    (name,) = [n for n in scopes if n.startswith("Archive campaign ")]
    mark = ledger(tmp_path).mark
    assert mark["attribute"] == "CustomAttribute12" and "CustomAttribute12 -eq" in scopes[name]["filter"]
    assert marks(tenant) == dict((address.lower(), mark["value"]) for address in chosen[:2])
    assert reached(emulator, tenant, name) == set(address.lower() for address in chosen[:2])
    # 1 service principal + 2 marks + 1 scope + 1 assignment
    assert writes(tenant) == 5

    emulator.reset_counters()
    rerun = run_playbook("grant_archive_access", tenant, values)
    assert rerun.returncode == 0, rerun
    assert writes(tenant) == 0

    # the scope no longer selects legal.hold: its mark goes, so that the scope is the set again
    narrower = dict(values, archive_access_scope={"identities": chosen[1:], "exclude": ["ceo@" + tenant.domain]})
    emulator.reset_counters()
    narrowed = run_playbook("grant_archive_access", tenant, narrower)
    assert narrowed.returncode == 0, narrowed
    assert marks(tenant) == {chosen[1].lower(): mark["value"]} and writes(tenant) == 1
    assert reached(emulator, tenant, name) == {chosen[1].lower()}

    revoke = run_playbook("revoke_archive_access", tenant, values)
    assert revoke.returncode == 0, revoke
    state, scopes, assignments = campaign_objects(emulator, tenant)
    assert APP_ID not in [sp["app_id"] for sp in state["service_principals"]]
    assert not [n for n in scopes if n.startswith("Archive campaign ")]
    assert not [a for a in assignments if a[2] == APP_OBJECT_ID]
    assert marks(tenant) == {}
    assert ledger(tmp_path).closed is not None

    # the campaign removed the service principal it registered: its display name finds nothing any more, the app ID
    # still finds the campaign (one ledger, named after the app ID, whichever way the app was named)
    by_name = run_playbook("revoke_archive_access", tenant, dict(values, archive_access_app=APP_NAME,
                                                                 archive_access_app_object_id=""))
    assert by_name.returncode != 0
    assert "archive_access_app '%s' names no service principal in Exchange Online" % APP_NAME in " ".join(
        by_name.output.split()) and "give the app's app ID (a GUID)" in " ".join(by_name.output.split())
    by_id = run_playbook("revoke_archive_access", tenant, dict(values, archive_access_app=APP_ID.upper()))
    assert by_id.returncode == 0, by_id
    assert "is closed" in by_id.output
    (path,) = glob.glob(str(tmp_path / "data" / "*" / "app-*.ledger.jsonl"))
    assert os.path.basename(path) == "app-%s.ledger.jsonl" % APP_ID


def test_a_mark_attribute_used_by_someone_else_stops_the_grant_before_any_write(
        emulator, tenant, tmp_path, run_playbook):
    seed(emulator, tenant)
    live = emulator.tenant(tenant.domain)
    with live.lock:
        holder = next(r for r in live.recipients if r.primary_smtp.lower() == "legal.hold@" + tenant.domain)
        holder.custom = list(holder.custom or [None] * 15)
        holder.custom[11] = "kept-by-hr"
    values = variables(tenant, tmp_path, archive_access_app_scope_by="mark",
                       archive_access_scope={"identities": ["legal.hold@" + tenant.domain, "info@" + tenant.domain]})
    grant = run_playbook("grant_archive_access", tenant, values)
    assert grant.returncode != 0
    assert "legal.hold@%s ('kept-by-hr')" % tenant.domain in grant.output
    assert writes(tenant) == 0 and marks(tenant) == {"legal.hold@" + tenant.domain: "kept-by-hr"}


def test_verify_catches_a_scope_that_misses_a_mailbox_type(emulator, tenant, tmp_path, run_playbook):
    seed(emulator, tenant)
    values = variables(tenant, tmp_path)
    grant = run_playbook("grant_archive_access", tenant, values)
    assert grant.returncode == 0, grant
    live = emulator.tenant(tenant.domain)
    with live.lock:  # an administrator narrows the scope to user mailboxes
        for scope in live.management_scopes:
            if scope["name"].startswith("Archive campaign "):
                scope["filter"] = "RecipientTypeDetails -eq 'UserMailbox'"
    shared = sorted(mailboxes_of(tenant, ("SharedMailbox",)) - {"info@" + tenant.domain})
    emulator.reset_counters()
    verify = run_playbook(_verify_playbook(tmp_path), tenant, values)
    assert verify.returncode != 0
    assert "selected by the campaign that the app does not reach" in verify.output
    assert shared[0] in verify.output.lower()
    assert writes(tenant) == 0
    report = last_report(tmp_path, "verify")
    proof = dict((d["label"], d["value"]) for d in report["method_details"])["Proof"]
    assert "%d of %d mailboxes of the campaign in scope" % (
        len(mailboxes_of(tenant)) - 2 - len(shared), len(mailboxes_of(tenant)) - 2) in proof
    # INCOMPLETE, with what to do, and the mailboxes the proof found out of reach as failures
    assert report["status"] == "INCOMPLETE" and "Do not start the export" in report["next_step"]
    # the narrowed filter lost the exclusions too: ceo@ (a user mailbox) is reached although excluded
    failures = dict((f["mailbox"].lower(), f["error"]) for f in report["failures"])
    assert sorted(m for m, error in failures.items() if "does not reach" in error) == shared
    assert [m for m, error in failures.items() if "excluded" in error] == ["ceo@" + tenant.domain]
    assert report["summary"]["failed"] == len(shared) + 1
    assert report["scope"]["targets"] - report["scope"]["proven_in"] == len(shared)


def test_an_org_wide_assignment_of_the_app_fails_the_grant_naming_the_excluded_mailboxes(
        emulator, tenant, tmp_path, run_playbook):
    seed(emulator, tenant, org_wide=True)
    grant = run_playbook("grant_archive_access", tenant, variables(tenant, tmp_path))
    assert grant.returncode != 0
    assert "excluded that the app reaches" in grant.output
    assert ("ceo@" + tenant.domain) in grant.output and ("info@" + tenant.domain) in grant.output
    assert not ledger(tmp_path).verified["ok"]
    report = last_report(tmp_path, "grant")
    assert report["status"] == "INCOMPLETE" and report["scope"]["proven_out"] == 0
    assert sorted(f["mailbox"] for f in report["failures"]) == sorted(local + tenant.domain for local in EXCLUDED)
    assert all(f["error"] == "excluded, but the app reaches it" for f in report["failures"])


def test_bad_method_values_and_an_unknown_app_stop_before_any_write(emulator, tenant, tmp_path, run_playbook):
    seed(emulator, tenant)
    bad = run_playbook("grant_archive_access", tenant, variables(
        tenant, tmp_path, archive_access_app_roles=["Application Mail.Reed"], archive_access_mark_attribute="Notes"))
    assert bad.returncode != 0
    assert "archive_access_app_roles[0] 'Application Mail.Reed' is not an Application role" in bad.output
    assert "archive_access_mark_attribute 'Notes' is not a custom attribute" in bad.output
    method = run_playbook("grant_archive_access", tenant, variables(tenant, tmp_path, archive_access_method="graph"))
    assert method.returncode != 0 and "archive_access_method" in method.output and "graph" in method.output
    unknown = run_playbook("grant_archive_access", tenant, variables(tenant, tmp_path,
                                                                     archive_access_app="Fabrikam Reader"))
    assert unknown.returncode != 0
    assert "app 'Fabrikam Reader' has no service principal in Exchange Online" in unknown.output
    assert writes(tenant) == 0
    assert not glob.glob(str(tmp_path / "data" / "*" / "app-*.ledger.jsonl"))


def _verify_playbook(tmp_path, entry_point="verify"):
    """A play that includes the role's verify (or another) entry point, as an operator's playbook would."""
    path = tmp_path / ("%s.yml" % entry_point)
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "playbooks", "grant_archive_access.yml"),
              encoding="utf-8") as handle:
        text = handle.read()
    path.write_text(text.replace("tasks_from: grant", "tasks_from: " + entry_point), encoding="utf-8")
    return str(path)


def test_check_mode_and_preflight_write_nothing_and_leave_no_ledger(emulator, tenant, tmp_path, run_playbook):
    seed(emulator, tenant)
    for scope in ({"recipient_type_details": ["SharedMailbox"]},
                  {"identities": ["legal.hold@" + tenant.domain, "info@" + tenant.domain]}):
        values = variables(tenant, tmp_path, archive_access_scope=scope)
        plan = run_playbook("grant_archive_access", tenant, values, check=True)
        assert plan.returncode == 0, plan
        planned = last_report(tmp_path, "grant-plan")
        assert planned["status"] == "PLAN" and planned["next_step"].startswith("Check mode: nothing was changed")
        assert planned["headline"].startswith("Check mode, nothing was changed: the grant would give %s" % APP_NAME)
        assert planned["campaign"]["ledger"] is None and planned["scope"]["changed"] >= 1  # would write the scope
        preflight = run_playbook(_verify_playbook(tmp_path, "preflight"), tenant, values)
        assert preflight.returncode == 0, preflight
        assert "tenant-wide admin consent" in preflight.output and "EWS: EwsEnabled" in preflight.output
    assert writes(tenant) == 0
    assert not glob.glob(str(tmp_path / "data" / "*" / "app-*.ledger.jsonl"))
    assert not [n for n in campaign_objects(emulator, tenant)[1] if n.startswith("Archive campaign ")]


def test_awx_workflow_passes_an_app_campaign_through_set_stats(emulator, tenant, tmp_path, monkeypatch):
    """A grant job publishes the campaign; the revoke job, with no ledger file and the campaign's service principal
    named by its app ID, removes exactly what the campaign created and publishes it closed."""
    ansible_runner = pytest.importorskip("ansible_runner")
    seed(emulator, tenant, pre_existing_scope=True)
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ.get("PATH", ""))
    envvars = dict(tenant.env(), ANSIBLE_COLLECTIONS_PATH=collections_path())
    chosen = ["legal.hold@" + tenant.domain, "info@" + tenant.domain]
    values = variables(tenant, tmp_path, archive_access_scope={"identities": chosen})

    def job(name, playbook, extravars):
        (tmp_path / name).mkdir()
        run = ansible_runner.run(private_data_dir=str(tmp_path / name), playbook=playbook_path(playbook),
                                 extravars=extravars, envvars=envvars, quiet=True)
        assert run.status == "successful", name
        (stats,) = [e for e in run.events if e.get("event") == "playbook_on_stats"]
        return stats["event_data"]["artifact_data"]

    artifacts = job("grant-job", "grant_archive_access", values)
    key = "%s/app-%s" % (tenant.domain, APP_ID)
    published = artifacts["archive_access_campaigns"][key]
    assert published["id"] == ledger(tmp_path).id and published["how"] == "mark"
    assert len(marks(tenant)) == 2

    os.remove(glob.glob(str(tmp_path / "data" / "*" / "app-*.ledger.jsonl"))[0])  # no file survives between jobs
    revoked = job("revoke-job", "revoke_archive_access", dict(values, archive_access_app=APP_ID, **artifacts))
    _state, scopes, assignments = campaign_objects(emulator, tenant)
    assert not [n for n in scopes if n.startswith("Archive campaign ")] and marks(tenant) == {}
    assert [a[0] for a in assignments if a[2] == APP_OBJECT_ID] == ["Legal reader before"]
    assert revoked["archive_access_campaigns"][key]["closed"]
    assert last_report(tmp_path, "revoke")["status"] == "COMPLETE"
