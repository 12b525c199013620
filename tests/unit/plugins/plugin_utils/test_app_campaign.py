# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RBAC for Applications campaign's controller-side steps without a tenant: inputs, the plan (filter or mark),
its ledger, and the proof at the end."""

import csv
import json
import os

import pytest

from ansible_collections.m365.exchange.plugins.plugin_utils import _app_campaign as app_campaign
from ansible_collections.m365.exchange.plugins.plugin_utils import _campaign as campaign

TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "archive_access", "templates")
APP = {"app_id": "51a7c3e0-8d2b-4f6a-9c1e-3b5d7f9a1c2e", "object_id": "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4",
       "display_name": "Vault Exporter"}


def read_csv_report(path):
    """The CSV report's facts ({field: [value, detail...]}) and its rows (dicts), split at the empty line."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    split = lines.index([])
    return dict((line[0], line[1:]) for line in lines[:split]), [dict(zip(lines[split + 1], line))
                                                                 for line in lines[split + 2:]]


def mailbox(name, **extra):
    return dict({"primary_smtp_address": "%s@x" % name, "guid": "g-" + name,
                 "external_directory_object_id": "e-" + name}, **extra)


def args(tmp_path, action="grant", **extra):
    values = {"action": action, "tenant": "Contoso", "app": "Vault Exporter", "app_record": APP,
              "app_roles": ["Mail.Read"], "app_scope_by": "auto", "mark_attribute": "customattribute12",
              "data_dir": str(tmp_path / "data"), "scope": dict(campaign.SCOPE_DEFAULTS),
              "selected": [mailbox("a"), mailbox("b"), mailbox("c")], "excluded": [mailbox("c")]}
    values.update(extra)
    return values


def test_bad_values_are_named_with_what_is_allowed():
    _values, problems = campaign.check_inputs({
        "tenant": "t", "method": "application_rbac", "app": " ", "app_roles": ["Mail.Reed"],
        "mark_attribute": "Notes", "app_scope_by": "filter", "app_object_id": "not-a-guid",
        "scope": {"identities": ["a@x"]}})
    text = "; ".join(problems)
    assert "archive_access_app is empty" in text
    assert "archive_access_app_roles[0] 'Mail.Reed' is not an Application role" in text
    assert "archive_access_mark_attribute 'Notes' is not a custom attribute" in text
    assert "archive_access_app_scope_by=filter cannot select archive_access_scope.identities" in text
    assert "archive_access_app_object_id 'not-a-guid' is not a GUID" in text
    _values, problems = campaign.check_inputs({"tenant": "t", "method": "graph", "delegate": "a@x"})
    assert problems == ["archive_access_method 'graph' is not a method of this role: use full_access (the delegate "
                        "gets FullAccess on each mailbox) or application_rbac (an app gets an Application role on "
                        "a management scope)"]


def test_a_filter_scope_excludes_by_object_id_and_the_ledger_owns_scope_and_assignment(tmp_path):
    plan = app_campaign.app_plan(args(tmp_path))
    assert plan["how"] == "filter" and plan["targets"] == ["e-a", "e-b"] and plan["excluded"] == ["e-c"]
    assert plan["filter"] == ("(RecipientTypeDetails -eq 'UserMailbox' -or RecipientTypeDetails -eq "
                              "'SharedMailbox') -and (ExternalDirectoryObjectId -ne 'e-c')")
    state = app_campaign.read_app_ledger(plan["ledger"], tenant="contoso", app=APP)
    assert [(o["kind"], o.get("role")) for o in state.owned] == [("scope", None),
                                                                 ("assignment", "Application Mail.Read")]
    again = app_campaign.app_plan(args(tmp_path))  # a rerun: the same campaign, nothing owned twice
    assert again["campaign"] == plan["campaign"] and again["scope_name"] == plan["scope_name"]
    assert len(app_campaign.read_app_ledger(plan["ledger"]).owned) == 2


def test_identities_or_many_exclusions_mark_and_a_foreign_value_is_refused(tmp_path):
    scope = dict(campaign.SCOPE_DEFAULTS, identities=["a@x", "b@x"])
    plan = app_campaign.app_plan(args(tmp_path, scope=scope))
    assert plan["how"] == "mark" and "identities" in plan["why_mark"]
    assert plan["filter"].endswith("(CustomAttribute12 -eq 'archive-%s')" % plan["campaign"])
    many = [mailbox("x%d" % i) for i in range(app_campaign.MAX_FILTER_EXCLUSIONS + 1)]
    assert app_campaign.expressible(campaign.SCOPE_DEFAULTS, dict((m["guid"], 1) for m in many))
    with pytest.raises(campaign.CampaignError, match=r"b@x \('HR-7'\)"):
        app_campaign.app_plan(args(tmp_path / "other", scope=scope,
                                   selected=[mailbox("a"), mailbox("b", custom_attribute12="HR-7")]))
    assert not os.path.exists(str(tmp_path / "other" / "data"))


def test_marks_in_the_journal_are_what_the_revoke_takes_off(tmp_path):
    scope = dict(campaign.SCOPE_DEFAULTS, identities=["a@x", "b@x"])
    plan = app_campaign.app_plan(args(tmp_path, scope=scope))
    value = plan["mark"]["value"]
    lines = [{"event": "read", "kind": "custom_attribute", "state": "present", "mailbox": "e-a", "rights": []},
             {"event": "write", "kind": "custom_attribute", "state": "present", "mailbox": "e-a",
              "action": "added", "rights": [value]},
             {"event": "read", "kind": "custom_attribute", "state": "present", "mailbox": "e-b", "rights": []}]
    with open(plan["ledger"], "a", encoding="utf-8") as handle:
        handle.write("".join(json.dumps(line) + "\n" for line in lines))
    revoke = app_campaign.app_plan(args(tmp_path, action="revoke", app_record=None, app_lookup={"app": APP}))
    assert revoke["unmark"] == ["e-a", "e-b"]  # b's write may have happened before a kill
    assert revoke["assignments"] == ["Application Mail.Read"] and revoke["remove_scope"]
    assert not revoke["remove_app"]


def test_the_proof_names_mailboxes_out_of_scope_and_excluded_ones_in_it(tmp_path):
    plan = app_campaign.app_plan(args(tmp_path))
    results = {"proof_in": {"mailboxes": [{"identity": "e-a", "in_scope": True},
                                          {"identity": "e-b", "in_scope": False}]},
               "proof_out": {"mailboxes": [{"identity": "e-c", "in_scope": True}]},
               "scope": {"changed": True, "scope": {"name": plan["scope_name"]}}}
    result = app_campaign.app_finish(plan["run"], TEMPLATES, results)
    assert result["status"] == "INCOMPLETE"
    assert "1 mailbox selected by the campaign that the app does not reach: b@x" in result["problem"]
    assert "1 mailbox excluded that the app reaches: c@x" in result["problem"]
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        report = json.load(handle)
    assert report["method"] == "RBAC for Applications"
    details = dict((d["label"], d["value"]) for d in report["method_details"])
    assert details["Scope filter"] == plan["filter"]
    assert details["Proof"] == ("Test-ServicePrincipalAuthorization: 1 of 2 mailboxes of the campaign in scope, 0 of 1 "
                                "excluded mailboxes not in scope")
    assert details["App"] == "Vault Exporter (app ID %s)" % APP["app_id"] == report["delegate"]
    assert "tenant-wide admin consent" in details["Tenant-wide consent"] and details["EWS"] == "EWS: not read."
    # the same contract as a FullAccess report: status first, what to do, the proof's failures, the scope's counts
    assert report["status"] == "INCOMPLETE" and report["next_step"] == result["problem"]
    assert report["headline"].startswith("The scope Exchange enforces is not the campaign's set")
    assert [(f["mailbox"], f["error"]) for f in report["failures"]] == [
        ("b@x", "selected by the campaign, but the app does not reach it"),
        ("c@x", "excluded, but the app reaches it")]
    assert report["summary"]["failed"] == 2 and report["skipped"] == [] and report["not_attempted"] is None
    assert report["scope"]["selected"] == 3 and report["scope"]["targets"] == 2 and report["scope"]["excluded"] == [
        "c@x"]
    assert report["scope"]["proven_in"] == 1 and report["scope"]["proven_out"] == 0 and report["scope"]["changed"] == 1
    assert report["campaign"]["id"] == plan["campaign"] and report["campaign"]["ledger"] == plan["ledger"]
    assert report["run"]["started_local"] and report["run"]["finished_local"]
    assert report["effective_by"]["minutes"] == app_campaign.APP_PROPAGATION_MINUTES
    assert report["access_rights"] == ["Application Mail.Read"]
    assert report["proof"]["not_in_scope"] == ["b@x"] and report["proof"]["excluded_in_scope"] == ["c@x"]
    facts, rows = read_csv_report(result["reports"]["csv"])
    assert facts["status"] == ["INCOMPLETE"] and facts["what to do"] == [report["next_step"]]
    assert facts["method: Proof"] == [details["Proof"]] and facts["app"] == [report["delegate"]]
    assert facts["proof: in the app's reach"] == ["1"] and "at the ACL limit" not in facts
    assert [(r["mailbox"], r["action"]) for r in rows] == [("a@x", "in scope"), ("b@x", "NOT in scope"),
                                                           ("c@x", "excluded, in scope")]
    with open(result["reports"]["html"], encoding="utf-8") as handle:
        html = handle.read()
    assert '<p class="status" id="status">INCOMPLETE</p>' in html and 'id="method-proof"' in html
    assert result["lines"][0].startswith("Contoso grant for Vault Exporter") and "Status: INCOMPLETE" in result[
        "lines"][0]
    assert not app_campaign.read_app_ledger(plan["ledger"]).verified["ok"]


def proven(plan, outside=False):
    return {"proof_in": {"mailboxes": [{"identity": ident, "in_scope": True} for ident in plan["targets"]]},
            "proof_out": {"mailboxes": [{"identity": ident, "in_scope": outside} for ident in plan["outside"]]}}


def read_report(result):
    with open(result["reports"]["json"], encoding="utf-8") as handle:
        return json.load(handle)


def test_a_proven_grant_is_complete_a_plan_is_a_plan_and_the_revoke_closes_the_campaign(tmp_path):
    check = app_campaign.app_plan(args(tmp_path / "check"), check_mode=True)
    planned = read_report(app_campaign.app_finish(check["run"], TEMPLATES, {}))
    assert planned["status"] == "PLAN" and planned["next_step"].startswith("Check mode: nothing was changed")
    assert planned["headline"].startswith("Check mode, nothing was changed: the grant would give Vault Exporter")
    assert planned["campaign"]["ledger"] is None and planned["effective_by"] is None
    assert not os.path.exists(check["ledger"])

    plan = app_campaign.app_plan(args(tmp_path))
    results = dict(proven(plan), scope={"changed": True, "scope": {"name": plan["scope_name"]}},
                   assignments=[{"changed": True, "assignment": {"name": "x"}}])
    result = app_campaign.app_finish(plan["run"], TEMPLATES, results)
    report = read_report(result)
    assert result["status"] == report["status"] == "COMPLETE" and not result["problem"] and report["next_step"] == ""
    assert report["headline"] == ("Vault Exporter (app ID %s) holds Application Mail.Read on exactly the 2 mailboxes "
                                  "of the campaign, proven by Test-ServicePrincipalAuthorization; the 1 excluded "
                                  "mailboxes are out of its reach." % APP["app_id"])
    assert report["failures"] == [] and report["scope"]["changed"] == 2 and report["summary"]["added"] == 2

    revoke = app_campaign.app_plan(args(tmp_path, action="revoke", app_record=None, app_lookup={"app": APP}))
    results = {"scope": {"changed": True, "scope": None},
               "assignments": [{"changed": True, "assignment": None}]}
    report = read_report(app_campaign.app_finish(revoke["run"], TEMPLATES, results))
    assert report["status"] == "COMPLETE" and report["campaign"]["closed"] and report["campaign"]["closed_now"]
    assert report["headline"].startswith("Everything campaign %s created for" % plan["campaign"])
    assert report["proof"] is None and report["scope"]["proven_in"] is None


NOT_FOUND = {"failed": False, "msg": "app 'x' has no service principal in Exchange Online: ..."}


def test_the_ledger_is_named_after_the_app_id_however_the_app_is_named(tmp_path):
    by_name = app_campaign.app_plan(args(tmp_path, app="vault EXPORTER"))
    by_id = app_campaign.app_plan(args(tmp_path, app=APP["app_id"].upper()))
    assert by_name["ledger"] == by_id["ledger"] and by_name["campaign"] == by_id["campaign"]
    assert os.path.basename(by_name["ledger"]) == "app-%s.ledger.jsonl" % APP["app_id"]
    # a revoke after the service principal is gone: the app ID as given finds the campaign, and so does the object ID
    # that the ledger records; a display name cannot
    for given in (APP["app_id"].upper(), APP["object_id"]):
        revoke = app_campaign.app_plan(args(tmp_path, action="revoke", app=given, app_record=None,
                                            app_lookup=dict(NOT_FOUND)), check_mode=True)
        assert revoke["ledger"] == by_name["ledger"] and revoke["campaign"] == by_name["campaign"]
    with pytest.raises(campaign.CampaignError, match=r"archive_access_app 'Vault Exporter' names no service principal "
                                                     r"in Exchange Online .* give the app's app ID \(a GUID\)"):
        app_campaign.app_plan(args(tmp_path, action="revoke", app_record=None, app_lookup=dict(NOT_FOUND)))
    with pytest.raises(campaign.CampaignError, match="could not be looked up in Exchange Online: HTTP 401"):
        app_campaign.app_plan(args(tmp_path, action="revoke", app_record=None,
                                   app_lookup={"failed": False, "msg": "HTTP 401"}))


def test_full_access_only_variables_set_with_application_rbac_are_named_in_one_warning():
    base = {"tenant": "t", "method": "application_rbac", "app": "Vault Exporter", "app_roles": ["Mail.Read"],
            "mark_attribute": "CustomAttribute12", "app_scope_by": "auto"}
    values, problems = campaign.check_inputs(dict(base, full_access_only=dict(campaign.FULL_ACCESS_ONLY)))
    assert not problems and "warnings" not in values
    values, problems = campaign.check_inputs(dict(base, full_access_only={
        "revoke_all": "True", "acl_limit_action": "skip", "check_acl_limit": False, "automapping": "true"}))
    assert not problems
    assert values["warnings"] == [
        "archive_access_method=application_rbac ignores archive_access_revoke_all=true, "
        "archive_access_acl_limit_action=skip, archive_access_automapping=true: they apply only for "
        "archive_access_method=full_access (an app's access has no access control entries on the mailboxes, and its "
        "revoke removes exactly what its ledger records)"]
    values, _problems = campaign.check_inputs({"tenant": "t", "delegate": "a@x", "full_access_only": {
        "revoke_all": True}})
    assert "warnings" not in values  # full_access reads them


def test_a_published_campaign_is_what_a_revoke_job_without_the_ledger_removes(tmp_path):
    scope = dict(campaign.SCOPE_DEFAULTS, identities=["a@x", "b@x"])
    plan = app_campaign.app_plan(args(tmp_path, scope=scope))
    with open(plan["ledger"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": "write", "kind": "custom_attribute", "state": "present", "mailbox": "e-a",
                                 "action": "added", "rights": [plan["mark"]["value"]]}) + "\n")
    granted = app_campaign.app_finish(plan["run"], TEMPLATES, proven(plan))
    ((key, published),) = granted["published"].items()
    assert key == "contoso/app-%s" % APP["app_id"] and published["id"] == plan["campaign"]
    assert json.loads(json.dumps(published)) == published  # set_stats carries JSON
    # the revoke job: another machine, no ledger, the service principal gone: the app ID finds the published campaign
    job = args(tmp_path / "job", action="revoke", app=APP["app_id"], app_record=None, app_lookup=dict(NOT_FOUND),
               scope=scope, campaigns={"contoso": {"id": "a FullAccess campaign"}, key: published})
    assert app_campaign.app_plan(dict(job), check_mode=True)["unmark"] == ["e-a"]
    assert not os.path.exists(app_campaign.app_ledger_path(job, APP["app_id"]))  # check mode writes nothing
    revoke = app_campaign.app_plan(dict(job))
    assert revoke["campaign"] == plan["campaign"] and revoke["scope_name"] == plan["scope_name"]
    assert revoke["assignments"] == ["Application Mail.Read"] and revoke["remove_scope"] and revoke["unmark"] == [
        "e-a"]
    results = {"scope": {"changed": True, "scope": None}, "assignments": [{"changed": True, "assignment": None}],
               "unmark": {"summary": {"removed": 1}}}
    with open(revoke["ledger"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": "write", "kind": "custom_attribute", "state": "absent", "mailbox": "e-a",
                                 "action": "removed", "rights": []}) + "\n")
    closed = app_campaign.app_finish(revoke["run"], TEMPLATES, results)
    assert closed["status"] == "COMPLETE" and closed["published"][key]["closed"]
    # a later job of the workflow that receives the closed campaign changes nothing
    later = app_campaign.app_plan(args(tmp_path / "later", action="revoke", app=APP["app_id"], app_record=None,
                                       app_lookup=dict(NOT_FOUND), campaigns=closed["published"]))
    assert later["closed"] and "is closed" in later["msg"]
