"""Folders and folder permissions: localized calendars, Default/Anonymous, roles, delegate flags, the live errors."""

import pytest

from conformance_support import DOMAIN, is_missing

ROW_KEYS = {"FolderName", "User", "AccessRights", "SharingPermissionFlags", "Identity", "IsValid", "ObjectState"}
STORE_TASKS = "Microsoft.Exchange.Management.StoreTasks."


def _perms(api, identity, **extra):
    return api.rows("Get-MailboxFolderPermission", dict({"Identity": identity}, **extra))


def _entries(api, identity):
    return {r["User"]: (r["AccessRights"], r["SharingPermissionFlags"]) for r in _perms(api, identity)}


def _detail(response):
    return response.json()["error"]["details"][0]["message"]


def _calendar(api, mailbox):
    rows = api.rows("Get-MailboxFolderStatistics", {"Identity": mailbox, "FolderScope": "Calendar"},
                    select=["Name", "FolderType", "FolderPath", "Identity", "FolderId"])
    return next(r for r in rows if r["FolderType"] == "Calendar")


@pytest.mark.parametrize("mailbox,name", [("ceo", "Calendar"), ("zoe.muller", "Kalender"),
                                          ("alex.martin2", "Calendrier"), ("jose.nunez", "Calendario"),
                                          ("wang.xiaoming", "予定表")])
def test_calendar_found_whatever_the_language(api, mailbox, name):
    calendar = _calendar(api, mailbox)
    assert calendar["Name"] == name and calendar["FolderPath"] == "/" + name
    assert calendar["Identity"] == "%s\\%s" % (mailbox, name)
    rows = _perms(api, "%s@%s:\\%s" % (mailbox, DOMAIN, name))
    assert rows[0]["FolderName"] == name and [r["User"] for r in rows[:2]] == ["Default", "Anonymous"]
    by_id = _perms(api, "%s:%s" % (mailbox, calendar["FolderId"]))
    assert by_id == rows


def test_english_name_of_a_localized_calendar_is_not_found(api):
    response = api.invoke("Get-MailboxFolderPermission", {"Identity": "zoe.muller:\\Calendar"})
    assert is_missing(response)
    assert _detail(response) == ("Ex6F9304|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|"
                                 "The operation couldn't be performed because 'zoe.muller:\\Calendar' couldn't be "
                                 "found.")
    assert is_missing(api.invoke("Get-MailboxFolderPermission", {"Identity": "ceo:\\Kalender"}))
    assert is_missing(api.invoke("Get-MailboxFolderPermission", {"Identity": "nobody:\\Calendar"}))


def test_folder_statistics_scopes_and_subfolders(api):
    rows = api.rows("Get-MailboxFolderStatistics", {"Identity": "jose.nunez", "FolderScope": "Calendar"},
                    select=["Name", "FolderType", "FolderPath"])
    assert rows == [{"Name": "Calendario", "FolderType": "Calendar", "FolderPath": "/Calendario"},
                    {"Name": "Equipo", "FolderType": "User Created", "FolderPath": "/Calendario/Equipo"}]
    everything = api.rows("Get-MailboxFolderStatistics", {"Identity": "ceo"}, select=["Name", "FolderType"])
    assert everything[0] == {"Name": "Top of Information Store", "FolderType": "Root"}
    assert {"Inbox", "Calendar", "Contacts", "SentItems", "DeletedItems"} <= {r["FolderType"] for r in everything}
    assert api.rows("Get-MailboxFolderStatistics", {"Identity": "ceo", "FolderScope": "Journal"}) == []
    bad = api.invoke("Get-MailboxFolderStatistics", {"Identity": "ceo", "FolderScope": "Kalender"})
    assert bad.status_code == 400


def test_row_shape_and_default_entries(api):
    raw = api.ok("Get-MailboxFolderPermission", {"Identity": "ceo:\\Calendar"})["value"]
    assert all(set(k for k in r if "@" not in k) == ROW_KEYS for r in raw)
    assert raw[0]["AccessRights@odata.type"] == "#Collection(String)"
    assert _entries(api, "ceo:\\Calendar") == {
        "Default": (["LimitedDetails"], None), "Anonymous": (["None"], None),
        "Helpdesk": (["Editor"], "Delegate, CanViewPrivateItems"), "Archive Admin": (["Reviewer"], None)}
    assert _entries(api, "support:\\Calendar") == {"Default": (["AvailabilityOnly"], None),
                                                   "Anonymous": (["None"], None)}
    assert _entries(api, "support:\\Inbox")["Alex Martin"] == (["ReadItems", "CreateItems"], None)
    assert raw[0]["Identity"] == "ceo:\\Calendar"
    root = _perms(api, "ceo")
    assert {r["FolderName"] for r in root} == {"Top of Information Store"}
    assert _entries(api, "legal.hold:\\Inbox\\Case Files")["Archive Admin"] == (["Reviewer"], None)


def test_orphaned_entry_shows_nt_sid(api):
    orphan = [r for r in _perms(api, "orphans:\\Calendar") if r["User"].startswith("NT:S-1-5-21-")]
    assert len(orphan) == 1
    api.ok("Remove-MailboxFolderPermission", {"Identity": "orphans:\\Calendar", "User": orphan[0]["User"]})
    assert not [r for r in _perms(api, "orphans:\\Calendar") if r["User"].startswith("NT:")]


def test_get_with_user(api):
    rows = _perms(api, "ceo:\\Calendar", User="helpdesk@" + DOMAIN)
    assert [r["User"] for r in rows] == ["Helpdesk"]
    assert [r["User"] for r in _perms(api, "ceo:\\Calendar", User="Default")] == ["Default"]
    response = api.invoke("Get-MailboxFolderPermission", {"Identity": "ceo:\\Calendar", "User": "jane.smith"})
    assert response.status_code == 400
    assert _detail(response) == ("|%sUserNotFoundInPermissionEntryException|There is no existing permission entry "
                                 "found for user: Jane Smith." % STORE_TASKS)


def test_add_existing_user_is_the_live_error(api):
    for user, display in (("helpdesk@" + DOMAIN, "Helpdesk"), ("Default", "Default")):
        response = api.invoke("Add-MailboxFolderPermission", {"Identity": "ceo:\\Calendar", "User": user,
                                                              "AccessRights": "Reviewer"})
        assert response.status_code == 400
        assert _detail(response) == ("|%sUserAlreadyExistsInPermissionEntryException|An existing permission entry "
                                     "was found for user: %s." % (STORE_TASKS, display))


def test_add_set_remove_round_trip(api):
    identity = "zoe.muller:\\Kalender"
    added = api.ok("Add-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin@" + DOMAIN,
                                                   "AccessRights": ["Reviewer"], "SendNotificationToUser": False})
    assert added["value"][0]["User"] == "Archive Admin" and added["value"][0]["FolderName"] == "Kalender"
    api.ok("Set-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin", "AccessRights": "Editor"})
    assert _entries(api, identity)["Archive Admin"] == (["Editor"], None)
    same = api.ok("Set-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin",
                                                  "AccessRights": "Editor"})
    assert same["@adminapi.warnings"] == ["The command completed successfully but no permissions of "
                                          "'zoe.muller:\\Kalender' have been modified."]
    api.ok("Remove-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin", "Confirm": False})
    assert "Archive Admin" not in _entries(api, identity)
    assert _entries(api, identity)["José Núñez"] == (["Editor"], "Delegate")
    absent = api.invoke("Remove-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin"})
    assert absent.status_code == 400 and "There is no existing permission entry found for user: Archive Admin." in \
        _detail(absent)
    unset = api.invoke("Set-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin",
                                                       "AccessRights": "Reviewer"})
    assert unset.status_code == 400 and "UserNotFoundInPermissionEntryException" in _detail(unset)


def test_default_and_anonymous_are_set_never_removed(api):
    api.ok("Set-MailboxFolderPermission", {"Identity": "ceo:\\Calendar", "User": "Default",
                                           "AccessRights": "AvailabilityOnly"})
    assert _entries(api, "ceo:\\Calendar")["Default"] == (["AvailabilityOnly"], None)
    for user in ("Default", "Anonymous"):
        response = api.invoke("Remove-MailboxFolderPermission", {"Identity": "ceo:\\Calendar", "User": user})
        assert response.status_code == 400
    assert {"Default", "Anonymous"} <= set(_entries(api, "ceo:\\Calendar"))


def test_delegate_flags_rules(api):
    identity = "ceo:\\Calendar"
    api.ok("Add-MailboxFolderPermission", {"Identity": identity, "User": "jane.smith@" + DOMAIN,
                                           "AccessRights": "Editor", "SharingPermissionFlags": "Delegate"})
    assert _entries(api, identity)["Jane Smith"] == (["Editor"], "Delegate")
    # Documented: Set without SendNotificationToUser/SharingPermissionFlags keeps the delegate ...
    api.ok("Set-MailboxFolderPermission", {"Identity": identity, "User": "jane.smith@" + DOMAIN,
                                           "AccessRights": "Editor"})
    assert _entries(api, identity)["Jane Smith"] == (["Editor"], "Delegate")
    # ... with SendNotificationToUser the flags fall back to None.
    api.ok("Set-MailboxFolderPermission", {"Identity": identity, "User": "jane.smith@" + DOMAIN,
                                           "AccessRights": "Editor", "SendNotificationToUser": True})
    assert _entries(api, identity)["Jane Smith"] == (["Editor"], None)
    for bad in ({"AccessRights": "Reviewer", "SharingPermissionFlags": "Delegate"},
                {"AccessRights": "Editor", "SharingPermissionFlags": "CanViewPrivateItems"}):
        response = api.invoke("Add-MailboxFolderPermission", dict({"Identity": identity,
                                                                   "User": "john.smith@" + DOMAIN}, **bad))
        assert response.status_code == 400, bad
    for bad in ({"AccessRights": "Editor", "SharingPermissionFlags": "Delegate"}, {"AccessRights": "LimitedDetails"},
                {"AccessRights": "Reviewer", "SendNotificationToUser": True}):
        response = api.invoke("Add-MailboxFolderPermission", dict({"Identity": "ceo:\\Inbox",
                                                                   "User": "john.smith@" + DOMAIN}, **bad))
        assert response.status_code == 400, bad
    assert "John Smith" not in _entries(api, identity) and "John Smith" not in _entries(api, "ceo:\\Inbox")


def test_roles_and_granular_rights(api):
    identity = "ceo:\\Inbox"
    roles = ("Owner", "PublishingEditor", "Editor", "PublishingAuthor", "Author", "NonEditingAuthor", "Reviewer",
             "Contributor", "None")
    api.ok("Add-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin", "AccessRights": "Owner"})
    for role in roles:
        api.ok("Set-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin", "AccessRights": role})
        assert _entries(api, identity)["Archive Admin"][0] == [role]
    api.ok("Set-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin",
                                           "AccessRights": ["ReadItems", "FolderVisible"]})
    assert _entries(api, identity)["Archive Admin"][0] == ["Reviewer"]
    api.ok("Set-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin",
                                           "AccessRights": "ReadItems,EditOwnedItems"})
    assert _entries(api, identity)["Archive Admin"][0] == ["ReadItems", "EditOwnedItems"]
    response = api.invoke("Set-MailboxFolderPermission", {"Identity": identity, "User": "archive.admin",
                                                          "AccessRights": "Boss"})
    internal = response.json()["error"]["innererror"]["internalexception"]
    assert response.status_code == 400 and internal["type"].endswith("ParameterTransformationException")
    assert "MailboxFolderAccessRight" in internal["message"] and "LimitedDetails" in internal["message"]


def test_folder_users_are_mail_enabled_security_principals(api):
    for user in ("Finance", "Legacy Admins", "nobody@" + DOMAIN, "Alex Martin", "user.only"):
        response = api.invoke("Add-MailboxFolderPermission", {"Identity": "ceo:\\Calendar", "User": user,
                                                              "AccessRights": "Reviewer"})
        assert response.status_code == 400, user
        assert _detail(response) == ("|%sInvalidExternalUserIdException|The user \"%s\" is either not valid SMTP "
                                     "address, or there is no matching information." % (STORE_TASKS, user))
    for user in ("Archive Operators", "nomailbox.admin", "info"):
        api.ok("Add-MailboxFolderPermission", {"Identity": "ceo:\\Calendar", "User": user, "AccessRights": "Reviewer"})
    assert {"Archive Operators", "No Mailbox Admin", "Info"} <= set(_entries(api, "ceo:\\Calendar"))


def test_display_name_shared_by_two_users_cannot_be_removed_by_it(api):
    response = api.invoke("Remove-MailboxFolderPermission", {"Identity": "info:\\Calendar", "User": "Alex Martin"})
    assert response.status_code == 400 and "InvalidExternalUserIdException" in _detail(response)
    api.ok("Remove-MailboxFolderPermission", {"Identity": "info:\\Calendar", "User": "alex.martin2@" + DOMAIN})
    assert "Alex Martin" not in _entries(api, "info:\\Calendar")


def test_reset_delegate_user_collection(api):
    api.ok("Remove-MailboxFolderPermission", {"Identity": "ceo:\\Calendar", "ResetDelegateUserCollection": True})
    assert _entries(api, "ceo:\\Calendar")["Helpdesk"] == (["Editor"], None)
