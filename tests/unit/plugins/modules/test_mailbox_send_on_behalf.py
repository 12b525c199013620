# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_send_on_behalf against a fake Exchange: one delegate added or removed, the others kept."""

import pytest

from ansible_collections.m365.exchange.plugins.module_utils._errors import InvalidParameterError
from ansible_collections.m365.exchange.plugins.modules import mailbox_send_on_behalf

from fake_delegations import FakeDelegations  # pylint: disable=import-error


@pytest.fixture
def exchange():
    return FakeDelegations()


@pytest.fixture
def tenant(exchange):
    exchange.admin = exchange.add("archive.admin")
    exchange.helpdesk = exchange.add("helpdesk")
    exchange.ceo = exchange.add("ceo")
    exchange.info = exchange.add("info", kind="SharedMailbox")
    exchange.alex = exchange.add("alex.martin")
    exchange.alex2 = exchange.add("alex.martin2")
    exchange.display_names.update({"alex.martin": "Alex Martin", "alex.martin2": "Alex Martin"})
    exchange.guest = exchange.add("guest", kind="MailUser")
    exchange.team = exchange.add("team.1", kind="GroupMailbox")
    exchange.send_on_behalf["ceo"] = [exchange.helpdesk.guid]
    exchange.send_on_behalf["info"] = [exchange.alex2.guid]
    return exchange


def delegate(run_module, *identities, **args):
    args.setdefault("user", "archive.admin@contoso.com")
    return run_module(mailbox_send_on_behalf, identity=list(identities), **args)


def actions(result):
    return dict((entry["identity"], entry["action"]) for entry in result["results"])


def test_add_keeps_the_other_delegates_and_a_rerun_writes_nothing(tenant, run_module):
    result, failed = delegate(run_module, "ceo@contoso.com", "info@contoso.com")
    assert not failed, result["msg"]
    assert actions(result) == {"ceo@contoso.com": "added", "info@contoso.com": "added"}
    assert tenant.send_on_behalf["ceo"] == [tenant.helpdesk.guid, tenant.admin.guid]
    assert tenant.writes()[0] == ("Set-Mailbox", {
        "Identity": "ceo@contoso.com", "Confirm": False,
        "GrantSendOnBehalfTo": {"@odata.type": "#Exchange.GenericHashTable", "add": [tenant.admin.guid]}})
    tenant.calls = []
    result, failed = delegate(run_module, "ceo@contoso.com", "info@contoso.com")
    assert not failed and not result["changed"] and tenant.writes() == []
    assert [cmdlet for cmdlet, _p in tenant.calls].count("Get-Mailbox") == 2


def test_a_delegate_is_matched_by_its_object_not_its_display_name(tenant, run_module):
    # info@ has alex.martin2 ("Alex Martin"); alex.martin ("Alex Martin" too) is not a delegate there
    result, failed = delegate(run_module, "info@contoso.com", user="alex.martin@contoso.com", state="absent")
    assert not failed and actions(result) == {"info@contoso.com": "unchanged"}
    result, failed = delegate(run_module, "info@contoso.com", user="alex.martin@contoso.com")
    assert not failed and actions(result) == {"info@contoso.com": "added"}
    assert tenant.send_on_behalf["info"] == [tenant.alex2.guid, tenant.alex.guid]
    result, failed = delegate(run_module, "info@contoso.com", user="alex.martin2@contoso.com", state="absent")
    assert not failed and actions(result) == {"info@contoso.com": "removed"}
    assert tenant.send_on_behalf["info"] == [tenant.alex.guid]


def test_check_mode_and_diff(tenant, run_module):
    result, failed = delegate(run_module, "ceo@contoso.com", "info@contoso.com", user="helpdesk@contoso.com",
                              state="absent", check_mode=True, diff=True)
    assert not failed and actions(result) == {"ceo@contoso.com": "removed", "info@contoso.com": "unchanged"}
    assert result["diff"] == {"before": {"helpdesk@contoso.com": {"ceo@contoso.com": ["SendOnBehalf"]}},
                              "after": {"helpdesk@contoso.com": {"ceo@contoso.com": []}}}
    assert tenant.writes() == [] and tenant.send_on_behalf["ceo"] == [tenant.helpdesk.guid]


def test_remove_keeps_the_others(tenant, run_module):
    tenant.send_on_behalf["ceo"].append(tenant.admin.guid)
    result, failed = delegate(run_module, "ceo@contoso.com", user="helpdesk@contoso.com", state="absent")
    assert not failed and actions(result) == {"ceo@contoso.com": "removed"}
    assert tenant.send_on_behalf["ceo"] == [tenant.admin.guid]
    assert tenant.writes()[0][1]["GrantSendOnBehalfTo"] == {"@odata.type": "#Exchange.GenericHashTable",
                                                            "remove": [tenant.helpdesk.guid]}


def test_no_settings_modified_is_settled_by_a_read(tenant, run_module):
    def added_meanwhile(cmdlet, parameters):
        if cmdlet == "Set-Mailbox":
            tenant.on_call = None
            tenant.send_on_behalf["info"].append(tenant.admin.guid)
    tenant.on_call = added_meanwhile
    result, failed = delegate(run_module, "info@contoso.com")
    assert not failed and actions(result) == {"info@contoso.com": "added"}
    assert [cmdlet for cmdlet, _p in tenant.calls].count("Get-Mailbox") == 2


def test_a_set_that_does_nothing_fails_with_what_the_mailbox_holds(tenant, run_module):
    tenant._set_mailbox = lambda parameters: FakeDelegations._set_mailbox(  # noqa pylint: disable=protected-access
        tenant, dict(parameters, GrantSendOnBehalfTo={"@odata.type": "#Exchange.GenericHashTable"}))
    result, failed = delegate(run_module, "ceo@contoso.com")
    assert failed
    error = result["results"][0]["error"]
    assert "does not show archive.admin@contoso.com among its delegates (helpdesk)" in error
    assert "no settings of" in error


def test_mail_users_and_group_mailboxes_are_unusable(tenant, run_module):
    result, failed = delegate(run_module, "guest@contoso.com", "team.1@contoso.com", "ceo@contoso.com")
    assert failed and "'guest@contoso.com' is a MailUser, not a mailbox" in result["msg"]
    assert "Set-UnifiedGroup" in result["msg"] and tenant.writes() == []
    result, failed = delegate(run_module, "guest@contoso.com", "team.1@contoso.com", "ceo@contoso.com",
                              unusable="skip")
    assert not failed
    assert actions(result) == {"guest@contoso.com": "skipped", "team.1@contoso.com": "skipped",
                               "ceo@contoso.com": "added"}


@pytest.mark.parametrize("user, says", [
    ("S-1-5-21-9-9-9-9", "is a SID"),
    ("", "user is empty"),
])
def test_bad_delegates_are_refused_before_any_request(tenant, run_module, user, says):
    result, failed = delegate(run_module, "ceo@contoso.com", user=user)
    assert failed and says in result["msg"] and tenant.calls == []


def test_a_distribution_group_is_refused_as_delegate(tenant, run_module):
    tenant.add("finance", kind="MailUniversalDistributionGroup")
    result, failed = delegate(run_module, "ceo@contoso.com", user="finance@contoso.com")
    assert failed and "distribution group" in result["msg"] and tenant.writes() == []


def test_continue_on_error_false_stops_the_writes_at_the_first_failure(tenant, run_module):
    mailboxes = [tenant.add("user%02d" % number) for number in range(5)]
    tenant.faults[("Set-Mailbox", mailboxes[0].address)] = InvalidParameterError("refused", status=400)
    result, failed = delegate(run_module, *[m.address for m in mailboxes], continue_on_error=False, concurrency=1)
    assert failed
    assert result["results"][0]["action"] == "failed"
    assert set(entry["action"] for entry in result["results"][1:]) == {"skipped"}
    assert not any(tenant.send_on_behalf.get(m.name) for m in mailboxes)
