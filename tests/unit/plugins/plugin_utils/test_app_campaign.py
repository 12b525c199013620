# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The RBAC for Applications campaign's controller-side steps without a tenant: inputs, the plan (filter or mark),
its ledger, and the proof at the end."""

import json
import os

import pytest

from ansible_collections.m365.exchange.plugins.plugin_utils import _app_campaign as app_campaign
from ansible_collections.m365.exchange.plugins.plugin_utils import _campaign as campaign

TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "archive_access", "templates")
APP = {"app_id": "51a7c3e0-8d2b-4f6a-9c1e-3b5d7f9a1c2e", "object_id": "9e8d7c6b-5a49-4382-a1b0-c9d8e7f6a5b4",
       "display_name": "Vault Exporter"}


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
    revoke = app_campaign.app_plan(args(tmp_path, action="revoke", app_record=None))
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
    assert dict((d["label"], d["value"]) for d in report["method_details"])["Scope filter"] == plan["filter"]
    assert not app_campaign.read_app_ledger(plan["ledger"]).verified["ok"]
