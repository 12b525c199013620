# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""management_scope against a fake Exchange: create, change the filter, remove, and the filter checks."""

import pytest

from ansible_collections.m365.exchange.plugins.modules import management_scope

from fake_rbac import FakeRbacExchange  # pylint: disable=import-error

LEGAL = "Department -eq 'Legal' -and RecipientTypeDetails -eq 'UserMailbox'"


@pytest.fixture
def exchange():
    fake = FakeRbacExchange()
    fake.archiver = fake.add_app("Contoso Archiver")
    return fake


def test_create_then_rerun_writes_nothing(exchange, run_module):
    result, failed = run_module(management_scope, name="Archive - Legal", recipient_restriction_filter=LEGAL, diff=True)
    assert not failed and result["changed"]
    assert exchange.writes() == [("New-ManagementScope", {"Name": "Archive - Legal", "RecipientRestrictionFilter": LEGAL})]
    assert result["scope"]["recipient_restriction_filter"] == LEGAL and result["scope"]["guid"]
    assert result["diff"]["before"] == {}
    del exchange.calls[:]
    result, failed = run_module(management_scope, name="archive - legal", recipient_restriction_filter=LEGAL)
    assert not failed and not result["changed"] and exchange.writes() == []


@pytest.mark.parametrize("stored, given", [
    (LEGAL, "department  -EQ \"Legal\" -and  recipienttypedetails -eq 'UserMailbox'"),
    ("(%s)" % LEGAL, LEGAL),
    ("((Department -eq 'O''Brien'))", "Department -eq \"O'Brien\""),
])
def test_a_filter_written_another_way_is_the_same_filter(exchange, run_module, stored, given):
    exchange.add_scope("Archive", stored)
    exchange.stored_filter = lambda text: "(%s)" % text  # Exchange may show it in parentheses
    result, failed = run_module(management_scope, name="Archive", recipient_restriction_filter=given)
    assert not failed and not result["changed"] and exchange.writes() == []


@pytest.mark.parametrize("stored, given", [
    ("Department -eq 'Legal'", "Department -eq 'legal'"),  # a value's letter case is kept as written
    ("Department -eq 'Legal'", "Department -ne 'Legal'"),
    ("(A -eq 'x' -or B -eq 'y') -and C -eq 'z'", "A -eq 'x' -or B -eq 'y' -and C -eq 'z'"),
])
def test_another_filter_is_set(exchange, run_module, stored, given):
    exchange.add_scope("Archive", stored)
    result, failed = run_module(management_scope, name="Archive", recipient_restriction_filter=given)
    assert not failed and result["changed"]
    expected = {"Identity": exchange.scopes[0]["guid"], "RecipientRestrictionFilter": given}
    assert exchange.writes() == [("Set-ManagementScope", expected)]
    assert exchange.scopes[0]["filter"] == given


def test_check_mode_plans_and_writes_nothing(exchange, run_module):
    exchange.add_scope("Archive", "Department -eq 'Legal'")
    result, failed = run_module(management_scope, check_mode=True, diff=True, name="Archive",
                                recipient_restriction_filter="Department -eq 'Sales'")
    assert not failed and result["changed"] and exchange.writes() == []
    assert result["diff"]["before"]["recipient_restriction_filter"] == "Department -eq 'Legal'"
    assert result["diff"]["after"]["recipient_restriction_filter"] == "Department -eq 'Sales'"
    assert exchange.scopes[0]["filter"] == "Department -eq 'Legal'"


@pytest.mark.parametrize("args, message", [
    ({"name": "x", "recipient_restriction_filter": "Department -eq 'Legal"}, "has an unterminated quoted value"),
    ({"name": "x", "recipient_restriction_filter": "(Department -eq 'Legal'"}, "leaves 1 parenthesis open"),
    ({"name": "x", "recipient_restriction_filter": "Department -eq 'Legal')"}, "closes a parenthesis that was not"),
    ({"name": "x", "recipient_restriction_filter": " "}, "recipient_restriction_filter is empty: Write an OPATH"),
    ({"name": "x" * 65, "recipient_restriction_filter": "Department -eq 'x'"}, "has 65 characters"),
    ({"name": "", "state": "absent"}, "name is empty"),
    ({"name": "x"}, "recipient_restriction_filter"),
])
def test_bad_input_is_refused_before_any_request(exchange, run_module, args, message):
    result, failed = run_module(management_scope, **args)
    assert failed and message in result["msg"], result["msg"]
    assert exchange.calls == []


def test_a_filter_exchange_refuses_is_explained(exchange, run_module):
    result, failed = run_module(management_scope, name="x", recipient_restriction_filter="Departmnt -eq 'Legal'")
    assert failed and "recipient_restriction_filter \"Departmnt -eq 'Legal'\" was rejected by Exchange" in result["msg"]
    assert "'Departmnt' is not a recognized filterable property" in result["msg"]
    assert "filterable properties of -RecipientFilter" in result["msg"]
    assert exchange.scopes == []


def test_remove_then_rerun(exchange, run_module):
    exchange.add_scope("Archive", "Department -eq 'Legal'")
    result, failed = run_module(management_scope, name="Archive", state="absent")
    assert not failed and result["changed"] and result["scope"] is None and exchange.scopes == []
    del exchange.calls[:]
    result, failed = run_module(management_scope, name="Archive", state="absent")
    assert not failed and not result["changed"] and exchange.writes() == []


def test_a_scope_in_use_is_not_removed(exchange, run_module):
    exchange.add_scope("Archive", "Department -eq 'Legal'")
    exchange.assign(exchange.archiver, "Application Mail.Read", "Archive", name="Archiver reads")
    result, failed = run_module(management_scope, name="Archive", state="absent")
    assert failed and "is the custom resource scope of 1 role assignment: 'Archiver reads' (Application Mail.Read " \
                      "for Contoso Archiver)" in result["msg"]
    assert exchange.writes() == [] and len(exchange.scopes) == 1
