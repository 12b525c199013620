# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""management_role_assignment against a fake Exchange: one assignment per app, role and scope."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._rbac import APPLICATION_ROLES
from ansible_collections.m365.exchange.plugins.modules import management_role_assignment

from fake_rbac import FakeRbacExchange  # pylint: disable=import-error


@pytest.fixture
def exchange():
    fake = FakeRbacExchange()
    fake.archiver = fake.add_app("Contoso Archiver")
    fake.backup = fake.add_app("Backup", display_name="")
    fake.add_scope("Legal", "Department -eq 'Legal'")
    fake.add_scope("Sales", "Department -eq 'Sales'")
    return fake


def test_assign_in_a_scope_then_rerun_writes_nothing(exchange, run_module):
    app = exchange.archiver
    result, failed = run_module(management_role_assignment, app=app["app_id"], role="mail.read",
                                custom_resource_scope="Legal", diff=True)
    assert not failed and result["changed"] and result["warnings"] == []
    expected = {"App": app["object_id"], "Role": "Application Mail.Read", "CustomResourceScope": "Legal"}
    assert exchange.writes() == [("New-ManagementRoleAssignment", expected)]
    assignment = result["assignment"]
    assert assignment["name"] == "Application Mail.Read-%s" % app["object_id"] and assignment["guid"]
    assert (assignment["app_id"], assignment["custom_resource_scope"], assignment["recipient_write_scope"]) == \
        (app["app_id"], "Legal", "CustomRecipientScope")
    assert result["diff"]["before"] == {}
    del exchange.calls[:]
    for name in ("Contoso Archiver", app["object_id"], app["app_id"]):
        result, failed = run_module(management_role_assignment, app=name, role="Application Mail.Read",
                                    custom_resource_scope="legal")
        assert not failed and not result["changed"]
    assert exchange.writes() == []


def test_the_same_assignment_under_another_name_is_left_with_a_warning(exchange, run_module):
    exchange.assign(exchange.archiver, "Application Mail.Read", "Legal", name="Archiver reads Legal")
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Application Mail.Read",
                                custom_resource_scope="Legal", name="Campaign 7")
    assert not failed and not result["changed"] and exchange.writes() == []
    assert result["assignment"]["name"] == "Archiver reads Legal"
    assert "as assignment 'Archiver reads Legal'; name 'Campaign 7' is not applied" in result["warnings"][0]


def test_another_scope_or_role_is_another_assignment(exchange, run_module):
    exchange.assign(exchange.archiver, "Application Mail.Read", "Legal")
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Application Mail.Read",
                                custom_resource_scope="Sales", name="Archiver reads Sales")
    assert not failed and result["changed"]
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Application Mail.Send",
                                custom_resource_scope="Legal", name="Archiver sends Legal")
    assert not failed and result["changed"]
    assert sorted((a["role"], a["scope"]) for a in exchange.assignments) == [
        ("Application Mail.Read", "Legal"), ("Application Mail.Read", "Sales"), ("Application Mail.Send", "Legal")]


def test_an_organization_wide_assignment_is_warned_about(exchange, run_module):
    result, failed = run_module(management_role_assignment, app=exchange.backup["app_id"], role="Mail.ReadBasic")
    assert not failed and result["changed"]
    assert "gets Application Mail.ReadBasic on every mailbox of the organization" in result["warnings"][0]
    assert "a service principal without display name" in result["warnings"][0]
    assert exchange.assignments[-1]["scope"] == ""
    # an org-wide assignment is not the same as a scoped one
    result, failed = run_module(management_role_assignment, app=exchange.backup["app_id"], role="Mail.ReadBasic",
                                custom_resource_scope="Legal")
    assert not failed and result["changed"] and len(exchange.assignments) == 2


def test_check_mode_plans_and_writes_nothing(exchange, run_module):
    result, failed = run_module(management_role_assignment, check_mode=True, app="Contoso Archiver",
                                role="Application Mail.Read", custom_resource_scope="Legal")
    assert not failed and result["changed"] and exchange.writes() == [] and exchange.assignments == []
    assert result["assignment"]["role"] == "Application Mail.Read" and result["assignment"]["guid"] is None


def test_an_unknown_role_is_refused_naming_the_valid_ones(exchange, run_module):
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Application Mail.Reed",
                                custom_resource_scope="Legal")
    assert failed and "role 'Application Mail.Reed' is not an Application role" in result["msg"]
    assert ", ".join(APPLICATION_ROLES) in result["msg"]
    assert exchange.calls == []


def test_an_unknown_app_is_refused_naming_the_known_ones(exchange, run_module):
    result, failed = run_module(management_role_assignment, app="Fabrikam Reader", role="Mail.Read")
    assert failed and "app 'Fabrikam Reader' has no service principal in Exchange Online" in result["msg"]
    assert "Contoso Archiver (app ID %s)" % exchange.archiver["app_id"] in result["msg"]
    assert "m365.exchange.service_principal" in result["msg"]
    assert exchange.writes() == []


def test_absent_for_an_unknown_app_has_nothing_to_remove(exchange, run_module):
    result, failed = run_module(management_role_assignment, app="Fabrikam Reader", role="Mail.Read", state="absent")
    assert not failed and not result["changed"] and exchange.writes() == []


def test_an_unknown_scope_and_a_taken_name_are_refused_before_any_write(exchange, run_module):
    exchange.assign(exchange.backup, "Application Mail.Read", "Sales", name="Taken")
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Mail.Read",
                                custom_resource_scope="Finance", name="Taken")
    assert failed
    assert "custom_resource_scope 'Finance' does not exist: create it first with m365.exchange.management_scope" \
        in result["msg"]
    assert "name 'Taken' is taken by the role assignment of Application Mail.Read to %s in scope 'Sales'" % (
        exchange.backup["object_id"]) in result["msg"]
    assert exchange.writes() == []


def test_absent_removes_only_the_apps_assignment_of_that_role_and_scope(exchange, run_module):
    mine = exchange.assign(exchange.archiver, "Application Mail.Read", "Legal")
    others = [exchange.assign(exchange.archiver, "Application Mail.Read", "Sales"),
              exchange.assign(exchange.archiver, "Application Mail.Send", "Legal"),
              exchange.assign(exchange.backup, "Application Mail.Read", "Legal")]
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Mail.Read",
                                custom_resource_scope="Legal", state="absent", diff=True)
    assert not failed and result["changed"] and result["assignment"] is None
    assert [r["name"] for r in result["removed"]] == [mine["name"]]
    assert exchange.assignments == others
    del exchange.calls[:]
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Mail.Read",
                                custom_resource_scope="Legal", state="absent")
    assert not failed and not result["changed"] and exchange.writes() == []


def test_absent_with_a_name_of_another_assignment_removes_nothing(exchange, run_module):
    exchange.assign(exchange.archiver, "Application Mail.Read", "Legal", name="Campaign")
    exchange.assign(exchange.backup, "Application Mail.Read", "Sales", name="Pre-existing")
    result, failed = run_module(management_role_assignment, app="Contoso Archiver", role="Mail.Read",
                                custom_resource_scope="Legal", name="Pre-existing", state="absent")
    assert failed and "role assignment 'Pre-existing' is not Application Mail.Read of Contoso Archiver" in result["msg"]
    assert "it is left alone" in result["msg"]
    assert exchange.writes() == [] and len(exchange.assignments) == 2
