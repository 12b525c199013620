"""Tenant churn (rename, convert to mail user, delete, re-create, grant by hand) and what the cmdlets say after it."""

from conformance_support import DOMAIN, is_missing

NOT_FOUND = 404


def _admin(api, route, body=None, method="POST"):
    url = "%s/%s" % (api.conn["admin_url"], route)
    if method == "GET":
        return api.http.get(url, params=body, verify=api.server.ca_path)
    return api.http.post(url, json=body or {}, verify=api.server.ca_path)


def _mailbox(api, identity, **extra):
    return api.rows("Get-Mailbox", dict({"Identity": identity}, **extra),
                    select=["Name", "Alias", "Guid", "ExchangeGuid", "ExternalDirectoryObjectId", "PrimarySmtpAddress",
                            "UserPrincipalName", "EmailAddresses", "GrantSendOnBehalfTo"])[0]


def _explicit_users(api, identity):
    return [r["User"] for r in api.rows("Get-MailboxPermission", {"Identity": identity}) if not r["IsInherited"]]


def test_rename_drops_the_old_address_and_keeps_ids_and_permissions(api):
    before = _mailbox(api, "ceo")
    renamed = api.server.rename_mailbox("ceo@" + DOMAIN, "morgan.chen@fabrikam.example")
    assert renamed["guid"] == before["Guid"] and renamed["exchange_guid"] == before["ExchangeGuid"]
    for old in ("ceo@" + DOMAIN, "ceo"):
        assert is_missing(api.invoke("Get-MailboxPermission", {"Identity": old})), old
        assert is_missing(api.invoke("Get-Recipient", {"Identity": old})), old
    after = _mailbox(api, before["ExchangeGuid"])
    assert after["Name"] == after["Alias"] == "morgan.chen"
    assert after["PrimarySmtpAddress"] == after["UserPrincipalName"] == "morgan.chen@fabrikam.example"
    assert not [a for a in after["EmailAddresses"] if "ceo@" in a.lower()]
    assert {k: after[k] for k in ("Guid", "ExchangeGuid", "ExternalDirectoryObjectId")} == {
        k: before[k] for k in ("Guid", "ExchangeGuid", "ExternalDirectoryObjectId")}
    for identity in (before["Guid"], before["ExchangeGuid"], before["ExternalDirectoryObjectId"],
                     "morgan.chen@fabrikam.example"):
        assert "archive.admin@" + DOMAIN in _explicit_users(api, identity), identity
    assert after["GrantSendOnBehalfTo"] == ["helpdesk"]
    assert [r["User"] for r in api.rows("Get-MailboxFolderPermission", {"Identity": before["Guid"] + ":\\Calendar"})
            ][2:] == ["Helpdesk", "Archive Admin"]
    assert api.rows("Get-RecipientPermission", {"Identity": "morgan.chen"})[0]["Identity"] == "morgan.chen"


def test_rename_of_a_delegate_keeps_its_grants_under_the_new_name(api):
    api.server.rename_mailbox("helpdesk", "service.desk@" + DOMAIN)
    assert _mailbox(api, "ceo")["GrantSendOnBehalfTo"] == ["service.desk"]
    assert "service.desk@" + DOMAIN in _explicit_users(api, "info")
    assert [r["Trustee"] for r in api.rows("Get-RecipientPermission", {"Identity": "info"})][1] == \
        "service.desk@" + DOMAIN


def test_rename_options_and_conflicts(api):
    kept = api.server.rename_mailbox("legal.hold", "legal@" + DOMAIN, keep_old_address=True, alias="legal",
                                     display_name="Legal")
    assert "smtp:legal.hold@" + DOMAIN in kept["email_addresses"]
    assert _mailbox(api, "legal.hold@" + DOMAIN)["Name"] == "legal"
    response = _admin(api, "churn/rename", {"identity": "ceo", "primary_smtp": "legal@" + DOMAIN})
    assert response.status_code == 400 and "already an address of legal" in response.json()["error"]
    assert _admin(api, "churn/rename", {"identity": "nobody", "primary_smtp": "x@y.z"}).status_code == NOT_FOUND


def test_convert_to_mail_user(api):
    before = _mailbox(api, "helpdesk")
    converted = _admin(api, "churn/convert-to-mail-user", {"identity": "helpdesk@" + DOMAIN}).json()
    assert converted["recipient_type_details"] == "MailUser" and converted["guid"] == before["Guid"]
    recipient = api.rows("Get-Recipient", {"Identity": "helpdesk@" + DOMAIN},
                         select=["RecipientTypeDetails", "Guid", "ExchangeGuid"])[0]
    assert recipient == {"RecipientTypeDetails": "MailUser", "Guid": before["Guid"],
                         "ExchangeGuid": "00000000-0000-0000-0000-000000000000"}
    for identity in ("helpdesk@" + DOMAIN, before["Guid"], before["ExchangeGuid"]):
        assert is_missing(api.invoke("Get-MailboxPermission", {"Identity": identity})), identity
        assert is_missing(api.invoke("Get-Mailbox", {"Identity": identity})), identity
    assert is_missing(api.invoke("Get-MailboxFolderPermission", {"Identity": "helpdesk:\\Calendar"}))
    assert api.rows("Get-User", {"Identity": before["Guid"]})[0]["RecipientTypeDetails"] == "MailUser"
    # The same security principal: what it holds elsewhere stays.
    assert "helpdesk@" + DOMAIN in _explicit_users(api, "info")
    assert _mailbox(api, "ceo")["GrantSendOnBehalfTo"] == ["helpdesk"]


def test_delete_is_a_soft_delete(api):
    before = _mailbox(api, "legal.hold")
    deleted = api.server.delete_mailbox("legal.hold")
    assert deleted["soft_deleted"] is True
    for identity in ("legal.hold@" + DOMAIN, before["Guid"], before["ExchangeGuid"]):
        assert is_missing(api.invoke("Get-Mailbox", {"Identity": identity})), identity
        assert is_missing(api.invoke("Get-MailboxPermission", {"Identity": identity})), identity
    soft = api.rows("Get-Mailbox", {"Identity": before["Guid"], "SoftDeletedMailbox": True}, select=["Name"])
    assert soft == [{"Name": "legal.hold"}]
    assert is_missing(api.invoke("Get-Recipient", {"Identity": "legal.hold"}))


def test_deleted_trustee_leaves_orphaned_looking_entries(api):
    api.server.delete_mailbox("helpdesk")
    users = [r["User"] for r in api.rows("Get-MailboxFolderPermission", {"Identity": "ceo:\\Calendar"})]
    assert users[2].startswith("NT:S-1-5-21-")
    assert _mailbox(api, "ceo")["GrantSendOnBehalfTo"] == []
    assert "helpdesk@" + DOMAIN not in _explicit_users(api, "info")
    shown = api.rows("Get-MailboxPermission", {"Identity": "info", "IncludeSoftDeletedUserPermissions": True})
    assert "helpdesk@" + DOMAIN in [r["User"] for r in shown]


def test_recreate_under_a_used_address(api):
    before = _mailbox(api, "legal.hold")
    conflict = _admin(api, "churn/recreate", {"address": "legal.hold@" + DOMAIN})
    assert conflict.status_code == 400 and "still exists" in conflict.json()["error"]
    api.server.delete_mailbox("legal.hold@" + DOMAIN)
    created = api.server.recreate_mailbox("legal.hold@" + DOMAIN, display_name="Legal Hold")
    assert created["guid"] != before["Guid"] and created["exchange_guid"] != before["ExchangeGuid"]
    assert created["external_directory_object_id"] != before["ExternalDirectoryObjectId"]
    now = _mailbox(api, "legal.hold@" + DOMAIN)
    assert now["Guid"] == created["guid"] and now["GrantSendOnBehalfTo"] == []
    assert _explicit_users(api, "legal.hold@" + DOMAIN) == ["NT AUTHORITY\\SELF"]
    assert is_missing(api.invoke("Get-MailboxPermission", {"Identity": before["Guid"]}))
    assert [r["Trustee"] for r in api.rows("Get-RecipientPermission", {"Identity": "legal.hold@" + DOMAIN})] == [
        "NT AUTHORITY\\SELF"]
    assert [r["User"] for r in api.rows("Get-MailboxFolderPermission", {"Identity": "legal.hold:\\Inbox"})] == [
        "Default", "Anonymous"]
    soft = api.rows("Get-Mailbox", {"Identity": "legal.hold@" + DOMAIN, "SoftDeletedMailbox": True}, select=["Guid"])
    assert soft == [{"Guid": before["Guid"]}]


def test_grant_by_hand_is_outside_the_api(api):
    api.server.reset_counters()
    api.server.grant_permission("full_access", "support", "archive.admin", automapping=False)
    api.server.grant_permission("send_as", "support", "archive.admin")
    api.server.grant_permission("send_on_behalf", "support", "archive.admin")
    _admin(api, "churn/grant", {"kind": "folder", "identity": "zoe.muller", "user": "archive.admin",
                                "access_rights": ["Editor"], "sharing_permission_flags": ["Delegate"]})
    counters = api.server.counters()
    assert counters["cmdlets"] == {} and counters["executions"] == 0 and counters["writes"] == 0
    assert "archive.admin@" + DOMAIN in _explicit_users(api, "support")
    assert api.server.permissions(None, "support")["automapping"] == {"archive.admin@" + DOMAIN: False}
    assert "archive.admin@" + DOMAIN in [r["Trustee"] for r in api.rows("Get-RecipientPermission",
                                                                        {"Identity": "support"})]
    assert _mailbox(api, "support")["GrantSendOnBehalfTo"] == ["archive.admin"]
    rows = api.rows("Get-MailboxFolderPermission", {"Identity": "zoe.muller:\\Kalender", "User": "archive.admin"})
    assert rows[0]["AccessRights"] == ["Editor"] and rows[0]["SharingPermissionFlags"] == "Delegate"
    bad = _admin(api, "churn/grant", {"kind": "owner", "identity": "support", "user": "archive.admin"})
    assert bad.status_code == 400


def test_state_views(api):
    view = _admin(api, "delegations", {"identity": "zoe.muller"}, method="GET").json()
    assert view["language"] == "de-DE" and view["send_as"][0]["trustee"] == "NT AUTHORITY\\SELF"
    calendar = next(f for f in view["folders"] if f["folder_type"] == "Calendar")
    assert calendar["name"] == "Kalender" and calendar["identity"] == "zoe.muller:\\Kalender"
    assert calendar["entries"][2]["sharing_permission_flags"] == "Delegate"
    assert api.server.delegations(None, "legal.hold")["send_on_behalf"][0]["name"] == "archive.admin"
    rbac = _admin(api, "rbac", {}, method="GET").json()
    assert [s["name"] for s in rbac["management_scopes"]] == ["Legal Department"]
    assert api.server.rbac_state()["role_assignments"][0]["role"] == "Application Mail.Read"
    state = api.server.state()["tenants"][0]
    ceo = next(r for r in state["recipients"] if r["name"] == "ceo")
    assert ceo["folder_acl"]["Calendar"][0] == ["Default", 6144, 0]


def test_reset_restores_the_tenant(api):
    api.server.rename_mailbox("ceo", "morgan.chen@fabrikam.example")
    api.server.reset()
    assert _mailbox(api, "ceo@" + DOMAIN)["Name"] == "ceo"
