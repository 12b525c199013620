# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_info's SendAs, SendOnBehalf and folder reads against a fake Exchange."""

import pytest

from ansible_collections.m365.exchange.plugins.modules import mailbox_info

from fake_delegations import FakeDelegations  # pylint: disable=import-error


@pytest.fixture
def exchange():
    return FakeDelegations()


@pytest.fixture
def tenant(exchange):
    exchange.admin = exchange.add("archive.admin")
    exchange.helpdesk = exchange.add("helpdesk")
    exchange.ceo = exchange.add("ceo")
    exchange.zoe = exchange.add("zoe.muller")
    exchange.language["zoe.muller"] = "de"
    exchange.send_as["ceo"] = ["S-1-5-10", exchange.helpdesk.sid, exchange.admin.sid]
    exchange.send_on_behalf["ceo"] = [exchange.helpdesk.guid, exchange.admin.guid]
    exchange.share(exchange.ceo, "Calendar", exchange.helpdesk, "Editor", ["Delegate"])
    exchange.share(exchange.zoe, "Kalender", exchange.admin, "Reviewer")
    return exchange


def by_address(result):
    return dict((m["primary_smtp_address"], m) for m in result["mailboxes"])


def test_send_as_send_on_behalf_and_calendars_are_read(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com", "zoe.muller@contoso.com"],
                                include_send_as=True, include_send_on_behalf=True,
                                include_folder_permissions=["Calendar"])
    assert not failed, result["msg"]
    ceo, zoe = by_address(result)["ceo@contoso.com"], by_address(result)["zoe.muller@contoso.com"]
    assert [e["trustee_sid"] for e in ceo["send_as"]] == [tenant.helpdesk.sid, tenant.admin.sid]  # no SELF
    assert ceo["send_on_behalf"] == ["helpdesk", "archive.admin"] and zoe["send_on_behalf"] == []
    assert "grant_send_on_behalf_to" not in ceo
    assert [(e["user"], e["access_rights"], e["sharing_permission_flags"]) for e in ceo["folder_permissions"]] == [
        ("Default", ["AvailabilityOnly"], []), ("Anonymous", ["None"], []), ("Helpdesk", ["Editor"], ["Delegate"])]
    assert [(e["folder"], e["folder_path"], e["user"]) for e in zoe["folder_permissions"]][-1] == (
        "Calendar", "Kalender", "Archive.Admin")
    cmdlets = [cmdlet for cmdlet, _p in tenant.calls]
    assert cmdlets.count("Get-MailboxFolderStatistics") == 1  # only the German mailbox
    assert cmdlets.count("Get-RecipientPermission") == 2


def test_permission_user_tells_everything_one_user_holds(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com", "zoe.muller@contoso.com"],
                                permission_user="archive.admin@contoso.com", include_send_as=True,
                                include_send_on_behalf=True, include_folder_permissions=["calendar"])
    assert not failed, result["msg"]
    ceo, zoe = by_address(result)["ceo@contoso.com"], by_address(result)["zoe.muller@contoso.com"]
    assert [e["trustee_sid"] for e in ceo["send_as"]] == [tenant.admin.sid] and zoe["send_as"] == []
    assert ceo["send_on_behalf"] == ["archive.admin"]
    assert ceo["folder_permissions"] == []  # no entry: Exchange's "no existing permission entry" is no failure
    assert [e["access_rights"] for e in zoe["folder_permissions"]] == [["Reviewer"]]


def test_a_folder_a_mailbox_does_not_have_returns_no_entries(tenant, run_module):
    tenant.extra_folders["ceo"] = ["Inbox\\Projects"]
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com", "zoe.muller@contoso.com"],
                                include_folder_permissions=["Inbox/Projects"])
    assert not failed, result["msg"]
    assert [e["folder_path"] for e in by_address(result)["ceo@contoso.com"]["folder_permissions"]] == [
        "Inbox\\Projects"] * 2
    assert by_address(result)["zoe.muller@contoso.com"]["folder_permissions"] == []


def test_a_folder_path_that_names_nothing_is_refused(tenant, run_module):
    result, failed = run_module(mailbox_info, identity=["ceo@contoso.com"], include_folder_permissions=["Calendar", "/"])
    assert failed and "include_folder_permissions[1]" in result["msg"] and tenant.calls == []
