# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""app_access_info against a fake Exchange: Test-ServicePrincipalAuthorization over many mailboxes."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._client import CommandResult
from ansible_collections.m365.exchange.plugins.modules import app_access_info

from fake_rbac import FakeRbacExchange  # pylint: disable=import-error


@pytest.fixture
def exchange():
    fake = FakeRbacExchange()
    fake.archiver = fake.add_app("Contoso Archiver")
    for name in ("ceo", "legal.hold", "counsel", "sales.lead"):
        fake.add(name)
    fake.add("info", kind="SharedMailbox")
    fake.add("team", kind="GroupMailbox")
    fake.add("jane.smith", alias="jsmith")
    fake.add("john.smith", alias="jsmith")
    fake.add_scope("Legal", "Department -eq 'Legal'", members=("legal.hold", "counsel"))
    fake.add_scope("Sales", "Department -eq 'Sales'", members=("sales.lead",))
    fake.assign(fake.archiver, "Application Mail.Read", "Legal")
    return fake


def addresses(*names):
    return ["%s@contoso.com" % name for name in names]


def test_each_mailbox_in_or_out_of_scope_through_the_pipeline(exchange, run_module):
    result, failed = run_module(app_access_info, app="Contoso Archiver",
                                identity=addresses("legal.hold", "counsel", "ceo") + ["LEGAL.HOLD@contoso.com"])
    assert not failed and not result["changed"]
    assert result["summary"] == {"mailboxes": 3, "in_scope": 2, "not_in_scope": 1, "missing": 0, "failed": 0}
    assert [(m["identity"], m["in_scope"]) for m in result["mailboxes"]] == [
        ("legal.hold@contoso.com", True), ("counsel@contoso.com", True), ("ceo@contoso.com", False)]
    assert result["mailboxes"][0]["roles"] == [{"role": "Application Mail.Read", "granted_permissions": "Mail.Read",
                                                "allowed_resource_scope": "Legal",
                                                "scope_type": "CustomRecipientScope", "in_scope": True}]
    assert result["app"]["object_id"] == exchange.archiver["object_id"]
    tests = [c for c in exchange.calls if c[0] == "Test-ServicePrincipalAuthorization"]
    assert tests[0][1] == {"Identity": exchange.archiver["object_id"], "Resource": "legal.hold@contoso.com"}
    assert len(tests) == 3 and "Test-ServicePrincipalAuthorization" not in exchange.invoked  # the pipeline's


def test_roles_say_which_assignments_count(exchange, run_module):
    exchange.assign(exchange.archiver, "Application Mail.Send", "Sales")
    result, failed = run_module(app_access_info, app=exchange.archiver["app_id"], roles=["mail.read"],
                                identity=addresses("legal.hold", "sales.lead"))
    assert not failed
    assert [m["in_scope"] for m in result["mailboxes"]] == [True, False]
    assert [[r["role"] for r in m["roles"]] for m in result["mailboxes"]] == [["Application Mail.Read"]] * 2
    result, failed = run_module(app_access_info, app=exchange.archiver["app_id"],
                                identity=addresses("legal.hold", "sales.lead"))
    assert [m["in_scope"] for m in result["mailboxes"]] == [True, True]


def test_list_mailboxes_keeps_the_exceptions_and_the_summary_counts_all(exchange, run_module):
    identities = addresses("legal.hold", "counsel", "ceo", "info")
    result, failed = run_module(app_access_info, app="Contoso Archiver", identity=identities,
                                list_mailboxes="not_in_scope")
    assert not failed and [m["identity"] for m in result["mailboxes"]] == addresses("ceo", "info")
    assert result["summary"]["mailboxes"] == 4
    result, failed = run_module(app_access_info, app="Contoso Archiver", identity=identities, list_mailboxes="none")
    assert not failed and result["mailboxes"] == [] and result["summary"]["in_scope"] == 2


def test_missing_and_ambiguous_mailboxes(exchange, run_module):
    identities = addresses("legal.hold", "nobody") + ["jsmith", "team@contoso.com"]
    result, failed = run_module(app_access_info, app="Contoso Archiver", identity=identities)
    assert failed
    assert "2 mailboxes were not found: nobody@contoso.com, team@contoso.com" in result["msg"]
    assert "Test-ServicePrincipalAuthorization failed for 1 mailbox: 'jsmith' matches several mailboxes" in result["msg"]
    assert result["missing"] == ["nobody@contoso.com", "team@contoso.com"]
    assert [(m["identity"], m["in_scope"]) for m in result["mailboxes"]] == [
        ("legal.hold@contoso.com", True), ("jsmith", None)]
    result, failed = run_module(app_access_info, app="Contoso Archiver", identity=identities[:2], missing="warn")
    assert not failed and result["summary"]["missing"] == 1
    assert "Mailboxes not found: nobody@contoso.com" in result["warnings"]


def test_selection_by_type_tests_each_selected_mailbox(exchange, run_module):
    result, failed = run_module(app_access_info, app="Contoso Archiver", recipient_type_details=["UserMailbox"])
    assert not failed
    assert result["summary"] == {"mailboxes": 6, "in_scope": 2, "not_in_scope": 4, "missing": 0, "failed": 0}
    assert result["mailboxes"][0]["primary_smtp_address"] == "ceo@contoso.com"
    resources = [c[1]["Resource"] for c in exchange.calls if c[0] == "Test-ServicePrincipalAuthorization"]
    assert resources[0] == exchange.find("ceo").guid  # addressed by GUID once selected


def test_an_app_without_assignments_or_with_an_organization_wide_one_is_warned_about(exchange, run_module):
    backup = exchange.add_app("Backup")
    result, failed = run_module(app_access_info, app="Backup", identity=addresses("ceo"))
    assert not failed and result["summary"]["in_scope"] == 0
    assert "Backup (app ID %s) holds no role assignment in Exchange" % backup["app_id"] in result["warnings"][0]
    assert "tenant-wide admin consent" in result["warnings"][0]
    exchange.assign(backup, "Application Mail.ReadBasic")
    result, failed = run_module(app_access_info, app="Backup", identity=addresses("ceo"), roles=["Mail.Read"])
    assert not failed and result["summary"]["in_scope"] == 0
    assert "holds no assignment of Application Mail.Read" in result["warnings"][0]
    result, failed = run_module(app_access_info, app="Backup", identity=addresses("ceo"))
    assert not failed and result["summary"]["in_scope"] == 1
    assert "holds Application Mail.ReadBasic for the whole organization" in result["warnings"][0]


def test_an_unknown_app_is_refused_before_any_test(exchange, run_module):
    result, failed = run_module(app_access_info, app="Fabrikam Reader", identity=addresses("ceo"))
    assert failed and "app 'Fabrikam Reader' has no service principal in Exchange Online" in result["msg"]
    assert result["mailboxes"] == []
    assert all(c[0] == "Get-ServicePrincipal" for c in exchange.calls)


@pytest.mark.parametrize("args, message", [
    ({"identity": ["", "ceo@@contoso.com"]}, "identity[0] is empty; identity[1] 'ceo@@contoso.com' is not a valid"),
    ({"identity": []}, "identity is an empty list"),
    ({"roles": ["Mail.Reed"]}, "roles 'Mail.Reed' is not an Application role"),
    ({"roles": []}, "roles is an empty list"),
    ({"filter": "Department -eq 'Legal"}, "has an unterminated quoted value"),
    ({"member_of_group": " "}, "member_of_group is empty"),
    ({"concurrency": 65}, "concurrency 65 is out of range"),
    ({"app": " "}, "app is empty"),
])
def test_bad_input_is_refused_before_any_request(exchange, run_module, args, message):
    arguments = dict(app="Contoso Archiver")
    arguments.update(args)
    result, failed = run_module(app_access_info, **arguments)
    assert failed and message in result["msg"], result["msg"]
    assert exchange.calls == []


def test_include_ews_settings_reads_the_organization_config_once(exchange, run_module):
    exchange._get_organizationconfig = lambda parameters: CommandResult([{  # pylint: disable=protected-access
        "EwsEnabled": False, "EwsApplicationAccessPolicy": "EnforceAllowList", "EwsAllowList": ["Vault/*"],
        "EwsBlockList": []}])
    result, failed = run_module(app_access_info, app="Contoso Archiver", identity=addresses("legal.hold"),
                                include_ews_settings=True)
    assert not failed
    assert result["ews_settings"] == {"ews_enabled": False, "ews_application_access_policy": "EnforceAllowList",
                                      "ews_allow_list": ["Vault/*"], "ews_block_list": []}
    assert [c[0] for c in exchange.calls].count("Get-OrganizationConfig") == 1
    result, failed = run_module(app_access_info, app="Contoso Archiver", identity=addresses("legal.hold"))
    assert not failed and "ews_settings" not in result
