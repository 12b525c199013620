# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mailbox_folder_permission against a fake Exchange: roles, flags, localized calendars, Default, read-backs."""

import json

import pytest

from ansible_collections.m365.exchange.plugins.modules import mailbox_folder_permission

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
    exchange.info = exchange.add("info", kind="SharedMailbox")
    exchange.extra_folders["info"] = ["Inbox\\Case Files"]
    exchange.alex = exchange.add("alex.martin")
    exchange.alex2 = exchange.add("alex.martin2")
    exchange.display_names.update({"alex.martin": "Alex Martin", "alex.martin2": "Alex Martin"})
    exchange.team = exchange.add("team.1", kind="GroupMailbox")
    exchange.share(exchange.ceo, "Calendar", exchange.helpdesk, "Editor", ["Delegate", "CanViewPrivateItems"])
    exchange.share(exchange.info, "Calendar", exchange.alex2, "Reviewer")
    return exchange


def share(run_module, *identities, **args):
    args.setdefault("user", "archive.admin@contoso.com")
    if args.get("state") != "absent":
        args.setdefault("access_rights", ["Reviewer"])
    return run_module(mailbox_folder_permission, identity=list(identities), **args)


def actions(result):
    return dict((entry["identity"], entry["action"]) for entry in result["results"])


def cmdlets(tenant):
    return [cmdlet for cmdlet, _params in tenant.calls]


def test_grant_on_calendars_and_a_rerun_writes_nothing(tenant, run_module):
    result, failed = share(run_module, "ceo@contoso.com", "info@contoso.com", access_rights=["editor"],
                           sharing_permission_flags=["Delegate"])
    assert not failed, result["msg"]
    assert actions(result) == {"ceo@contoso.com": "added", "info@contoso.com": "added"}
    assert result["results"][0]["after"] == ["Editor", "Delegate"]
    assert tenant.folder_entry(tenant.ceo, "Calendar", tenant.admin) == ["Editor", ["Delegate"]]
    assert tenant.writes()[0] == ("Add-MailboxFolderPermission", {
        "Identity": "ceo@contoso.com:\\Calendar", "User": "archive.admin@contoso.com", "AccessRights": ["Editor"],
        "SharingPermissionFlags": ["Delegate"]})
    tenant.calls = []
    result, failed = share(run_module, "ceo@contoso.com", "info@contoso.com", access_rights=["Editor"],
                           sharing_permission_flags=["Delegate"])
    assert not failed and not result["changed"] and tenant.writes() == []
    assert cmdlets(tenant).count("Get-MailboxFolderPermission") == 2


def test_another_role_is_a_change_of_the_entry_not_a_second_entry(tenant, run_module):
    result, failed = share(run_module, "ceo@contoso.com", user="helpdesk@contoso.com", access_rights=["Reviewer"])
    assert not failed
    entry = result["results"][0]
    assert (entry["action"], entry["before"], entry["after"]) == (
        "changed", ["Editor", "Delegate", "CanViewPrivateItems"], ["Reviewer"])
    helpdesk_entries = [e for e in tenant.entries(tenant.ceo, "Calendar") if e[0] == tenant.helpdesk.sid]
    assert helpdesk_entries == [[tenant.helpdesk.sid, "Reviewer", []]]
    assert [cmdlet for cmdlet, _p in tenant.writes()] == ["Set-MailboxFolderPermission"]


def test_granular_rights_that_are_a_role_are_that_role(tenant, run_module):
    tenant.share(tenant.ceo, "Calendar", tenant.admin, "Reviewer")
    result, failed = share(run_module, "ceo@contoso.com", access_rights=["readitems, FolderVisible"])
    assert not failed and actions(result) == {"ceo@contoso.com": "unchanged"}
    result, failed = share(run_module, "ceo@contoso.com", access_rights=["ReadItems", "CreateItems"])
    assert not failed and result["results"][0]["after"] == ["ReadItems", "CreateItems"]
    assert tenant.folder_entry(tenant.ceo, "Calendar", tenant.admin)[0] == ["ReadItems", "CreateItems"]


def test_the_calendar_is_found_under_its_localized_name_at_two_cmdlets_more_only_there(tenant, run_module):
    tenant.extra_folders["zoe.muller"] = ["Kalender\\Team"]  # listed before the calendar by the statistics
    result, failed = share(run_module, "zoe.muller@contoso.com", "ceo@contoso.com")
    assert not failed, result["msg"]
    assert actions(result) == {"zoe.muller@contoso.com": "added", "ceo@contoso.com": "added"}
    assert tenant.folder_entry(tenant.zoe, "Kalender", tenant.admin) == ["Reviewer", []]
    assert tenant.folder_entry(tenant.zoe, "Kalender\\Team", tenant.admin) is None
    statistics = [p for c, p in tenant.calls if c == "Get-MailboxFolderStatistics"]
    assert statistics == [{"Identity": "zoe.muller@contoso.com", "FolderScope": "Calendar"}]
    assert cmdlets(tenant).count("Get-MailboxFolderPermission") == 3  # ceo once, zoe under both names
    assert ("Add-MailboxFolderPermission", "zoe.muller@contoso.com:\\Kalender") in [
        (c, p["Identity"]) for c, p in tenant.writes()]


def test_a_folder_under_a_localized_default_folder_is_found_too(tenant, run_module):
    tenant.extra_folders["zoe.muller"] = ["Posteingang\\Projekte"]
    result, failed = share(run_module, "zoe.muller@contoso.com", folder="Inbox/Projekte")
    assert not failed, result["msg"]
    assert tenant.folder_entry(tenant.zoe, "Posteingang\\Projekte", tenant.admin) == ["Reviewer", []]


def test_an_unknown_folder_fails_the_task_before_any_change(tenant, run_module):
    result, failed = share(run_module, "ceo@contoso.com", "info@contoso.com", folder="Inbox\\Case Files")
    assert failed
    assert "mailbox 'ceo@contoso.com' (UserMailbox) has no folder 'Inbox\\Case Files'" in result["msg"]
    assert "unusable=skip" in result["msg"] and tenant.writes() == []
    result, failed = share(run_module, "ceo@contoso.com", "info@contoso.com", folder="inbox\\case files",
                           unusable="skip")
    assert not failed and actions(result) == {"ceo@contoso.com": "skipped", "info@contoso.com": "added"}


def test_default_with_state_absent_is_set_to_none(tenant, run_module):
    result, failed = share(run_module, "ceo@contoso.com", user="default", state="absent")
    assert not failed
    entry = result["results"][0]
    assert (entry["action"], entry["before"], entry["after"]) == ("removed", ["AvailabilityOnly"], ["None"])
    assert tenant.writes()[0] == ("Set-MailboxFolderPermission", {
        "Identity": "ceo@contoso.com:\\Calendar", "User": "Default", "AccessRights": ["None"]})
    assert tenant.folder_entry(tenant.ceo, "Calendar", "Default") == ["None", []]
    tenant.calls = []
    result, failed = share(run_module, "ceo@contoso.com", user="Default", state="absent")
    assert not failed and actions(result) == {"ceo@contoso.com": "unchanged"} and tenant.writes() == []


def test_default_gets_a_role(tenant, run_module):
    result, failed = share(run_module, "ceo@contoso.com", user="Default", access_rights=["LimitedDetails"])
    assert not failed and actions(result) == {"ceo@contoso.com": "changed"}
    assert result["trustee"]["name"] == "Default"
    assert tenant.folder_entry(tenant.ceo, "Calendar", "Default") == ["LimitedDetails", []]


def test_two_users_with_one_display_name_are_told_apart(tenant, run_module):
    # info:\Calendar has alex.martin2 ("Alex Martin") as Reviewer; alex.martin ("Alex Martin" too) has no entry
    result, failed = share(run_module, "info@contoso.com", user="alex.martin@contoso.com", state="absent")
    assert not failed and actions(result) == {"info@contoso.com": "unchanged"}
    result, failed = share(run_module, "info@contoso.com", user="alex.martin2@contoso.com", state="absent")
    assert not failed and actions(result) == {"info@contoso.com": "removed"}
    assert tenant.folder_entry(tenant.info, "Calendar", tenant.alex2) is None
    assert tenant.writes()[0] == ("Remove-MailboxFolderPermission", {
        "Identity": "info@contoso.com:\\Calendar", "User": "alex.martin2@contoso.com", "Confirm": False})


def test_flags_not_given_are_kept_and_flags_given_are_set(tenant, run_module):
    result, failed = share(run_module, "ceo@contoso.com", user="helpdesk@contoso.com", access_rights=["Editor"])
    assert not failed and actions(result) == {"ceo@contoso.com": "unchanged"}
    tenant.calls = []
    result, failed = share(run_module, "ceo@contoso.com", user="helpdesk@contoso.com", access_rights=["Editor"],
                           sharing_permission_flags=[])
    assert not failed and result["results"][0]["after"] == ["Editor"]
    assert tenant.writes()[0][1]["SharingPermissionFlags"] == "None"
    assert tenant.folder_entry(tenant.ceo, "Calendar", tenant.helpdesk) == ["Editor", []]
    # the flags changed: the answer proves nothing, a read confirms it
    assert cmdlets(tenant).count("Get-MailboxFolderPermission") == 2


def test_a_delegate_flag_that_exchange_keeps_fails_with_the_way_out(tenant, run_module):
    tenant.sticky_delegate = True
    result, failed = share(run_module, "ceo@contoso.com", user="helpdesk@contoso.com", access_rights=["Editor"],
                           sharing_permission_flags=["None"])
    assert failed
    entry = result["results"][0]
    assert entry["action"] == "failed" and "Delegate" in entry["error"]
    assert "remove the entry (state=absent) and grant it again" in entry["error"]
    assert [cmdlet for cmdlet, _p in tenant.writes()] == ["Set-MailboxFolderPermission"] * 2  # tried once more


def test_an_add_that_meets_an_entry_is_settled_by_a_read_and_a_set(tenant, run_module):
    def added_meanwhile(cmdlet, parameters):
        if cmdlet == "Add-MailboxFolderPermission":
            tenant.on_call = None
            tenant.share(tenant.ceo, "Calendar", tenant.admin, "Author")
    tenant.on_call = added_meanwhile
    result, failed = share(run_module, "ceo@contoso.com")
    assert not failed, result["msg"]
    assert actions(result) == {"ceo@contoso.com": "added"}
    assert [cmdlet for cmdlet, _p in tenant.writes()] == ["Add-MailboxFolderPermission", "Set-MailboxFolderPermission"]
    assert tenant.folder_entry(tenant.ceo, "Calendar", tenant.admin) == ["Reviewer", []]


def test_a_localized_group_calendar_is_found_with_group_mailbox(tenant, run_module):
    tenant.language["team.1"] = "fr"
    result, failed = share(run_module, "team.1@contoso.com")
    assert not failed, result["msg"]
    assert tenant.folder_entry(tenant.team, "Calendrier", tenant.admin) == ["Reviewer", []]
    statistics = [p for c, p in tenant.calls if c == "Get-MailboxFolderStatistics"]
    assert statistics[-1] == {"Identity": "team.1@contoso.com", "FolderScope": "Calendar", "GroupMailbox": True}


def test_group_mailboxes_are_handled_with_group_mailbox(tenant, run_module):
    result, failed = share(run_module, "team.1@contoso.com")
    assert not failed, result["msg"]
    assert tenant.writes()[0][1]["GroupMailbox"] is True
    assert tenant.folder_entry(tenant.team, "Calendar", tenant.admin) == ["Reviewer", []]


@pytest.mark.parametrize("args, says", [
    ({"access_rights": ["Reviewer", "ReadItems"]}, "a role (Reviewer) stands for a set of rights"),
    ({"access_rights": ["Viewer"]}, "access_rights 'Viewer' is not valid"),
    ({"access_rights": []}, "access_rights is required with state=present"),
    ({"access_rights": ["Reviewer"], "sharing_permission_flags": ["Delegate"]}, "needs access_rights [Editor]"),
    ({"access_rights": ["Editor"], "sharing_permission_flags": ["CanViewPrivateItems"]}, "needs Delegate too"),
    ({"access_rights": ["Owner"], "send_notification_to_user": True}, "applies to the calendar roles"),
    ({"state": "absent", "access_rights": ["Owner"]}, "access_rights cannot be used with state=absent"),
    ({"folder": " / "}, "names no folder"),
    ({"user": "Default", "sharing_permission_flags": ["Delegate"], "access_rights": ["Editor"]},
     "Default cannot be a delegate"),
    ({"user": "S-1-5-21-9-9-9-9"}, "whose entries can only be removed"),
])
def test_bad_input_is_refused_before_any_request(tenant, run_module, args, says):
    result, failed = share(run_module, "ceo@contoso.com", **args)
    assert failed and says in result["msg"], result["msg"]
    assert tenant.calls == []


def test_a_distribution_group_is_refused_as_user(tenant, run_module):
    tenant.add("finance", kind="MailUniversalDistributionGroup")
    result, failed = share(run_module, "ceo@contoso.com", user="finance@contoso.com")
    assert failed and "distribution group" in result["msg"] and tenant.writes() == []


def test_send_notification_goes_with_the_writes_only(tenant, run_module):
    tenant.share(tenant.ceo, "Calendar", tenant.admin, "Reviewer")
    tenant.share(tenant.info, "Calendar", tenant.admin, "Editor", ["Delegate"])
    result, failed = share(run_module, "ceo@contoso.com", "info@contoso.com", access_rights=["Editor"],
                           send_notification_to_user=True)
    assert not failed
    assert actions(result) == {"ceo@contoso.com": "changed", "info@contoso.com": "unchanged"}
    assert tenant.writes() == [("Set-MailboxFolderPermission", {
        "Identity": "ceo@contoso.com:\\Calendar", "User": "archive.admin@contoso.com", "AccessRights": ["Editor"],
        "SendNotificationToUser": True})]
    assert tenant.folder_entry(tenant.info, "Calendar", tenant.admin) == ["Editor", ["Delegate"]]


def test_journal_lines_carry_the_folder(tenant, run_module, tmp_path):
    journal = tmp_path / "j.jsonl"
    share(run_module, "ceo@contoso.com", user="helpdesk@contoso.com", state="absent", journal=str(journal))
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [(l["event"], l["kind"], l["folder"], l["rights"]) for l in lines] == [
        ("read", "folder", "Calendar", ["Editor", "Delegate", "CanViewPrivateItems"]),
        ("write", "folder", "Calendar", [])]
    assert lines[1]["action"] == "removed" and lines[1]["trustee"] == "helpdesk@contoso.com"
