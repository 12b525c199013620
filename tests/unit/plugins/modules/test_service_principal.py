# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""service_principal against a fake Exchange: register, rename, remove, and the refusals that protect access."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._errors import TransientError
from ansible_collections.m365.exchange.plugins.modules import service_principal

from fake_rbac import FakeRbacExchange, guid  # pylint: disable=import-error

APP_ID = guid("app", "new")
OBJECT_ID = guid("sp", "new")


@pytest.fixture
def exchange():
    fake = FakeRbacExchange()
    fake.archiver = fake.add_app("Contoso Archiver")
    fake.mailbox = fake.add("ceo")
    return fake


def test_register_then_rerun_writes_nothing(exchange, run_module):
    result, failed = run_module(service_principal, app_id=APP_ID.upper(), object_id=OBJECT_ID, display_name="Archiver",
                                diff=True)
    assert not failed and result["changed"]
    assert ("New-ServicePrincipal", {"AppId": APP_ID, "ObjectId": OBJECT_ID, "DisplayName": "Archiver"}) \
        in exchange.calls
    assert [sp["display_name"] for sp in exchange.service_principals if sp["app_id"] == APP_ID] == ["Archiver"]
    assert result["service_principal"]["exchange_object_id"] == guid("exo", APP_ID)
    assert result["diff"]["before"] == {} and result["diff"]["after"]["object_id"] == OBJECT_ID
    del exchange.calls[:]
    result, failed = run_module(service_principal, app_id=APP_ID, object_id=OBJECT_ID, display_name="Archiver")
    assert not failed and not result["changed"] and exchange.writes() == []


def test_check_mode_plans_and_writes_nothing(exchange, run_module):
    result, failed = run_module(service_principal, check_mode=True, app_id=APP_ID, object_id=OBJECT_ID)
    assert not failed and result["changed"]
    assert result["service_principal"] == {"app_id": APP_ID, "object_id": OBJECT_ID, "display_name": "",
                                           "exchange_object_id": None}
    assert exchange.writes() == [] and len(exchange.service_principals) == 1


def test_display_name_is_set_when_it_differs_and_left_alone_when_not_given(exchange, run_module):
    app = exchange.archiver
    result, failed = run_module(service_principal, app_id=app["app_id"])
    assert not failed and not result["changed"] and exchange.writes() == []
    result, failed = run_module(service_principal, app_id=app["app_id"], display_name="Archive reader")
    assert not failed and result["changed"]
    expected = {"Identity": app["object_id"], "DisplayName": "Archive reader"}
    assert exchange.writes() == [("Set-ServicePrincipal", expected)]
    assert app["display_name"] == "Archive reader"


def test_an_object_id_that_is_not_the_apps_is_refused(exchange, run_module):
    app = exchange.archiver
    result, failed = run_module(service_principal, app_id=app["app_id"], object_id=OBJECT_ID)
    assert failed and "object_id %s does not match the service principal Exchange has for app %s: its object ID is " \
                      "%s" % (OBJECT_ID, app["app_id"], app["object_id"]) in result["msg"]
    assert "enterprise application" in result["msg"] and result["service_principal"] is None
    result, failed = run_module(service_principal, app_id=APP_ID, object_id=app["object_id"])
    assert failed and "is the service principal of another app in Exchange, Contoso Archiver" in result["msg"]
    assert exchange.writes() == []


def test_an_unknown_app_needs_its_object_id(exchange, run_module):
    result, failed = run_module(service_principal, app_id=APP_ID)
    assert failed and "app %s has no service principal in Exchange Online; to register it, give object_id" % APP_ID \
        in result["msg"]
    assert exchange.writes() == []


@pytest.mark.parametrize("args, message", [
    ({"app_id": "archiver", "object_id": OBJECT_ID}, "app_id 'archiver' is not a GUID"),
    ({"app_id": APP_ID, "object_id": "  "}, "object_id is empty"),
    ({"app_id": APP_ID, "object_id": APP_ID}, "app_id and object_id are the same GUID"),
    ({"object_id": OBJECT_ID}, "app_id is required with state=present"),
])
def test_bad_input_is_refused_before_any_request(exchange, run_module, args, message):
    result, failed = run_module(service_principal, **args)
    assert failed and message in result["msg"], result["msg"]
    assert exchange.calls == []


def test_remove_by_object_id_and_rerun(exchange, run_module):
    app = exchange.add_app("Backup")
    result, failed = run_module(service_principal, object_id=app["object_id"], state="absent", diff=True)
    assert not failed and result["changed"] and result["service_principal"] is None
    assert result["diff"]["before"]["app_id"] == app["app_id"] and result["diff"]["after"] == {}
    assert app not in exchange.service_principals
    del exchange.calls[:]
    result, failed = run_module(service_principal, object_id=app["object_id"], state="absent")
    assert not failed and not result["changed"] and exchange.writes() == []


def test_a_principal_holding_assignments_is_not_removed(exchange, run_module):
    app = exchange.archiver
    exchange.add_scope("Legal", "Department -eq 'Legal'")
    exchange.assign(app, "Application Mail.Read", "Legal", name="Archiver Mail.Read")
    result, failed = run_module(service_principal, app_id=app["app_id"], state="absent")
    assert failed and "still holds 1 role assignment: 'Archiver Mail.Read' (Application Mail.Read, scope Legal)" \
        in result["msg"]
    assert exchange.writes() == [] and app in exchange.service_principals


def test_a_write_the_tenant_does_not_show_fails(exchange, run_module):
    exchange.ignore_writes.add("New-ServicePrincipal")
    result, failed = run_module(service_principal, app_id=APP_ID, object_id=OBJECT_ID)
    assert failed and "was answered without error, but reading the service principals afterwards does not show " \
                      "the change" in result["msg"]
    assert not result["changed"]


def test_a_lost_answer_is_settled_by_reading_again(exchange, run_module):
    exchange.faults_after[("New-ServicePrincipal", None)] = TransientError("connection reset after sending")
    result, failed = run_module(service_principal, app_id=APP_ID, object_id=OBJECT_ID)
    assert not failed and result["changed"]
    assert [c[0] for c in exchange.writes()] == ["New-ServicePrincipal"]


def test_a_write_lost_before_it_ran_is_sent_once_more(exchange, run_module):
    exchange.faults[("New-ServicePrincipal", None)] = TransientError("HTTP 503 after every retry")
    result, failed = run_module(service_principal, app_id=APP_ID, object_id=OBJECT_ID)
    assert not failed and result["changed"]
    assert [c[0] for c in exchange.writes()] == ["New-ServicePrincipal", "New-ServicePrincipal"]
