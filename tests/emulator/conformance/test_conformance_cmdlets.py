"""Cmdlet semantics: scopes, identity resolution, groups, and the permission cmdlets."""

import pytest

from conformance_support import AMBIGUOUS_TYPE, DOMAIN, NOT_FOUND_TYPE, detail, is_not_found

ALREADY = "The appropriate access control entry is already present on the object"
MISSING = "because the ACE doesn't exist on the object."


def _names(rows):
    return {r["Name"] for r in rows}


def _aces(api, identity, user=None):
    params = {"Identity": identity}
    if user:
        params["User"] = user
    return api.rows("Get-MailboxPermission", params)


def _explicit(api, identity, user):
    return [r for r in _aces(api, identity, user) if not r["IsInherited"]]


def test_get_mailbox_scopes(api):
    everyone = _names(api.rows("Get-Mailbox", {"ResultSize": "Unlimited"}, select=["Name"]))
    assert {"ceo", "info", "room.atlantic", "projector.1", "O'Brien & Sons"} <= everyone
    assert not {"Project Phoenix", "left.company", "former.employee", "nomailbox.admin"} & everyone
    groups = api.rows("Get-Mailbox", {"GroupMailbox": True, "ResultSize": "Unlimited"},
                      select=["Name", "RecipientTypeDetails"])
    assert "Project Phoenix" in _names(groups) and {g["RecipientTypeDetails"] for g in groups} == {"GroupMailbox"}
    assert _names(api.rows("Get-Mailbox", {"SoftDeletedMailbox": True}, select=["Name"])) == {"left.company"}
    assert _names(api.rows("Get-Mailbox", {"InactiveMailboxOnly": True}, select=["Name"])) == {"former.employee"}
    assert "former.employee" in _names(api.rows("Get-Mailbox", {"IncludeInactiveMailbox": True,
                                                                "ResultSize": "Unlimited"}, select=["Name"]))
    shared = api.rows("Get-Mailbox", {"RecipientTypeDetails": ["SharedMailbox", "RoomMailbox"],
                                      "ResultSize": "Unlimited"}, select=["RecipientTypeDetails"])
    assert {r["RecipientTypeDetails"] for r in shared} == {"SharedMailbox", "RoomMailbox"}
    assert is_not_found(api.invoke("Get-Mailbox", {"Identity": "Project Phoenix"}))
    assert is_not_found(api.invoke("Get-Mailbox", {"Identity": "nomailbox.admin"}))


def test_get_recipient_user_group(api):
    recipients = api.rows("Get-Recipient", {"ResultSize": "Unlimited"}, select=["Name", "RecipientTypeDetails"])
    kinds = {r["RecipientTypeDetails"] for r in recipients}
    assert {"GroupMailbox", "MailUser", "MailUniversalDistributionGroup", "MailUniversalSecurityGroup"} <= kinds
    assert not {"UniversalSecurityGroup", "User"} & kinds
    assert "user.only" not in _names(recipients)
    users = api.rows("Get-User", {"ResultSize": "Unlimited"}, select=["Name", "RecipientTypeDetails"])
    assert {"User", "UserMailbox", "MailUser"} <= {u["RecipientTypeDetails"] for u in users}
    assert api.rows("Get-User", {"Identity": "user.only@" + DOMAIN})[0]["RecipientTypeDetails"] == "User"
    legacy = api.rows("Get-Group", {"Identity": "Legacy Admins"})[0]
    assert legacy["RecipientTypeDetails"] == "UniversalSecurityGroup" and legacy["Members"] == ["helpdesk"]
    operators = api.rows("Get-Group", {"Identity": "archive-operators@" + DOMAIN})[0]
    assert operators["WindowsEmailAddress"] == "archive-operators@" + DOMAIN
    assert operators["Members"] == ["archive.admin"]


def test_distribution_group_members_are_direct_with_nesting_and_cycles(api):
    finance = api.rows("Get-DistributionGroupMember", {"Identity": "Finance"})
    assert {(r["Name"], r["RecipientTypeDetails"]) for r in finance} == {
        ("ceo", "UserMailbox"), ("alex.martin", "UserMailbox"), ("Finance EMEA", "MailUniversalDistributionGroup")}
    assert "Finance Paris" in _names(api.rows("Get-DistributionGroupMember", {"Identity": "finance.emea@" + DOMAIN}))
    assert "Loop A" in _names(api.rows("Get-DistributionGroupMember", {"Identity": "Loop B"}))
    assert "Loop B" in _names(api.rows("Get-DistributionGroupMember", {"Identity": "Loop A"}))
    assert _names(api.rows("Get-DistributionGroupMember", {"Identity": "Archive Operators"})) == {"archive.admin"}
    assert is_not_found(api.invoke("Get-DistributionGroupMember", {"Identity": "Project Phoenix"}))
    assert is_not_found(api.invoke("Get-DistributionGroupMember", {"Identity": "ceo"}))


def test_unified_group_links(api):
    members = api.rows("Get-UnifiedGroupLinks", {"Identity": "project.phoenix@" + DOMAIN, "LinkType": "Members"})
    assert _names(members) == {"ceo", "archive.admin", "zoe.muller"}
    owners = api.rows("Get-UnifiedGroupLinks", {"Identity": "Project Phoenix", "LinkType": "Owners"})
    assert _names(owners) == {"ceo"}
    assert api.invoke("Get-UnifiedGroupLinks", {"Identity": "Project Phoenix", "LinkType": "Bogus"}).status_code == 400


def test_identity_resolution_forms(api):
    row = api.rows("Get-Mailbox", {"Identity": "ceo"})[0]
    forms = [row["Guid"], row["ExchangeGuid"], row["ExternalDirectoryObjectId"], row["DistinguishedName"],
             row["DistinguishedName"].lower(), row["LegacyExchangeDN"], "CEO", "ceo@" + DOMAIN, "SMTP:ceo@" + DOMAIN,
             "smtp:CEO@contoso.mail.onmicrosoft.com", row["UserPrincipalName"].upper()]
    for form in forms:
        assert api.rows("Get-Mailbox", {"Identity": form}, select=["Guid"])[0]["Guid"] == row["Guid"], form


@pytest.mark.parametrize("identity", ["jsmith", "Alex Martin"])
def test_ambiguous_identities(api, identity):
    """By default typed as not-found (PS365 capture): only the text tells it from a missing object."""
    response = api.invoke("Get-Mailbox", {"Identity": identity})
    assert response.status_code == 404
    _error_id, exc_type, text = detail(response.json())
    assert exc_type == NOT_FOUND_TYPE and text.endswith("'%s' matches multiple entries." % identity)
    api.server.set_faults(ambiguous_shape="ambiguous")
    response = api.invoke("Get-Mailbox", {"Identity": identity})
    assert response.status_code == 400 and detail(response.json())[1] == AMBIGUOUS_TYPE


def test_unique_forms_of_duplicates_resolve(api):
    assert api.rows("Get-Mailbox", {"Identity": "jsmith@" + DOMAIN})[0]["Name"] == "john.smith"
    assert api.rows("Get-Mailbox", {"Identity": "jane.smith@" + DOMAIN})[0]["Alias"] == "jsmith"
    assert api.rows("Get-Mailbox", {"Identity": "alex.martin2"})[0]["DisplayName"] == "Alex Martin"


def test_apostrophes_and_non_ascii(api):
    assert api.rows("Get-Mailbox", {"Identity": "pat.o'neil@" + DOMAIN})[0]["DisplayName"] == "Pat O'Neil"
    assert api.rows("Get-Mailbox", {"Identity": "O'Brien & Sons"})[0]["RecipientTypeDetails"] == "SharedMailbox"
    for upn, display in (("zoe.muller", "Zoë Müller"), ("jose.nunez", "José Núñez"), ("wang.xiaoming", "王小明")):
        row = api.rows("Get-Mailbox", {"Identity": upn + "@" + DOMAIN})[0]
        assert row["DisplayName"] == display
        assert api.rows("Get-Mailbox", {"Identity": display})[0]["Name"] == upn


def test_permission_rows(api):
    rows = _aces(api, "ceo")
    self_row = rows[0]
    assert self_row["User"] == "NT AUTHORITY\\SELF" and self_row["UserSid"] == "S-1-5-10"
    assert self_row["AccessRights"] == ["FullAccess, ReadPermission"]
    assert set(self_row) >= {"Identity", "User", "UserSid", "AccessRights", "IsInherited", "Deny", "IsValid",
                             "ObjectState"}
    assert not [r for r in rows if "InheritanceType" in r]  # live rows carry none
    archive = [r for r in rows if r["User"] == "archive.admin@" + DOMAIN]
    assert archive and archive[0]["AccessRights"] == ["FullAccess"] and archive[0]["IsInherited"] is False
    assert any(r["IsInherited"] and r["Deny"] for r in rows)
    raw = api.ok("Get-MailboxPermission", {"Identity": "ceo"})["value"][0]
    assert raw["AccessRights@odata.type"] == "#Collection(String)"
    orphans = [r for r in _aces(api, "orphans") if r["User"].startswith("S-1-5-21-")]
    assert len(orphans) == 4 and all(r["User"] == r["UserSid"] for r in orphans)
    inherited = _aces(api, "inherited", "archive.admin")
    assert inherited and all(r["IsInherited"] for r in inherited)
    assert sum(1 for r in _aces(api, "inherited") if r["User"] == "NT AUTHORITY\\SELF") == 2
    restricted = _explicit(api, "restricted", "helpdesk")
    assert restricted[0]["Deny"] is True


def test_user_filter_and_soft_deleted_trustees(api):
    api.server.set_faults(permission_requires_identity=False)  # the kind shape: -User over every mailbox
    assert {r["Identity"] for r in api.rows("Get-MailboxPermission", {"User": "archive.admin",
                                                                      "ResultSize": "Unlimited"})} >= {
        "ceo", "legal.hold", "inherited"}
    assert not [r for r in _aces(api, "support") if "left.company" in r["User"]]
    shown = api.rows("Get-MailboxPermission", {"Identity": "support", "IncludeSoftDeletedUserPermissions": True})
    assert [r for r in shown if r["User"] == "left.company@" + DOMAIN]


def test_add_creates_merges_and_warns(api):
    created = api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin@" + DOMAIN,
                                               "AccessRights": ["ReadPermission"], "AutoMapping": False})
    assert created["@adminapi.warnings"] == []
    assert created["value"][0]["AccessRights"] == ["ReadPermission"]
    merged = api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess",
                                              "AutoMapping": False})
    assert merged["value"][0]["AccessRights"] == ["FullAccess, ReadPermission"]
    assert len(_explicit(api, "info", "archive.admin")) == 1
    again = api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess"})
    assert again["value"] == [] and again["@adminapi.warnings"][0].startswith(ALREADY)
    assert api.server.permissions(None, "info")["automapping"] == {"archive.admin@" + DOMAIN: False}


def test_add_automapping_defaults_true_and_groups_never_map(api):
    api.ok("Add-MailboxPermission", {"Identity": "support", "User": "nolicense.admin", "AccessRights": ["FullAccess"]})
    api.ok("Add-MailboxPermission", {"Identity": "support", "User": "Archive Operators", "AccessRights": "FullAccess"})
    api.ok("Add-MailboxPermission", {"Identity": "support", "User": "Legacy Admins", "AccessRights": "FullAccess"})
    assert api.server.permissions(None, "support")["automapping"] == {"nolicense.admin@" + DOMAIN: True}
    users = {r["User"] for r in _aces(api, "support")}
    assert {"Archive Operators", "Legacy Admins"} <= users


def test_add_rejects_non_principals(api):
    for trustee in ("Finance", "Project Phoenix", "nobody@" + DOMAIN, "left.company"):
        response = api.invoke("Add-MailboxPermission", {"Identity": "info", "User": trustee, "AccessRights": "FullAccess"})
        assert is_not_found(response), trustee
    assert api.ok("Add-MailboxPermission", {"Identity": "info", "User": "nomailbox.admin", "AccessRights": "FullAccess"})


def test_deny_and_inheritance_type_are_separate_aces(api):
    api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess"})
    api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess",
                                     "Deny": True})
    api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess",
                                     "InheritanceType": "SelfAndChildren"})
    assert len(_explicit(api, "info", "archive.admin")) == 3  # rows do not say which is which: the state does
    aces = [a for a in api.server.permissions(None, "info")["aces"]
            if a["trustee"] == "archive.admin@" + DOMAIN and not a["inherited"]]
    assert sorted((a["deny"], a["inheritance_type"]) for a in aces) == [(False, "All"), (False, "SelfAndChildren"),
                                                                        (True, "All")]


def test_group_mailbox_needs_the_switch(api):
    params = {"Identity": "Project Phoenix", "User": "archive.admin", "AccessRights": "FullAccess"}
    assert is_not_found(api.invoke("Add-MailboxPermission", params))
    assert is_not_found(api.invoke("Get-MailboxPermission", {"Identity": "Project Phoenix"}))
    assert api.invoke("Add-MailboxPermission", dict(params, GroupMailbox=True)).status_code == 200
    rows = api.rows("Get-MailboxPermission", {"Identity": "Project Phoenix", "GroupMailbox": True})
    assert any(r["User"] == "archive.admin@" + DOMAIN for r in rows)


def test_acl_limit(api):
    assert len([r for r in _aces(api, "full.acl") if not r["IsInherited"]]) == 500
    response = api.invoke("Add-MailboxPermission", {"Identity": "full.acl", "User": "archive.admin",
                                                    "AccessRights": "FullAccess"})
    assert response.status_code == 400
    message = response.json()["error"]["details"][0]["message"]
    assert message.startswith("|System.InvalidOperationException|The mailbox ")
    assert "has reached the limit of maximum allowed access control entries of 500" in message
    merge = api.invoke("Add-MailboxPermission", {"Identity": "full.acl", "User": "NT AUTHORITY\\SELF",
                                                 "AccessRights": "ReadPermission"})
    assert merge.status_code == 200


def test_remove_partial_full_and_missing(api):
    api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                     "AccessRights": ["FullAccess", "ReadPermission"], "AutoMapping": False})
    removed = api.ok("Remove-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                                  "AccessRights": "ReadPermission", "Confirm": False})
    assert removed["value"] == [] and removed["@adminapi.warnings"] == []
    assert _explicit(api, "info", "archive.admin")[0]["AccessRights"] == ["FullAccess"]
    api.ok("Remove-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess"})
    assert _explicit(api, "info", "archive.admin") == []
    assert api.server.permissions(None, "info")["automapping"] == {}
    missing = api.ok("Remove-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                                  "AccessRights": "FullAccess"})
    assert missing["value"] is None and missing["@adminapi.warnings"][-1].endswith(MISSING)


def test_remove_inherited_is_a_no_op_with_warning(api):
    response = api.ok("Remove-MailboxPermission", {"Identity": "inherited", "User": "archive.admin",
                                                   "AccessRights": "FullAccess"})
    assert response["value"] is None
    assert response["@adminapi.warnings"][0].startswith("An inherited access control entry has been specified")
    assert response["@adminapi.warnings"][-1].endswith(MISSING)
    assert _aces(api, "inherited", "archive.admin")


def test_remove_deny_needs_deny_and_orphans_by_sid(api):
    missing = api.ok("Remove-MailboxPermission", {"Identity": "restricted", "User": "helpdesk",
                                                  "AccessRights": "FullAccess"})
    assert missing["value"] is None
    api.ok("Remove-MailboxPermission", {"Identity": "restricted", "User": "helpdesk", "AccessRights": "FullAccess",
                                        "Deny": True})
    assert _explicit(api, "restricted", "helpdesk") == []
    orphan = next(r["UserSid"] for r in _aces(api, "orphans") if r["User"].startswith("S-1-5-21-"))
    api.ok("Remove-MailboxPermission", {"Identity": "orphans", "User": orphan, "AccessRights": "FullAccess"})
    assert orphan not in {r["UserSid"] for r in _aces(api, "orphans")}


def test_remove_reset_default_and_clear_automapping(api):
    api.ok("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin", "AccessRights": "FullAccess"})
    api.ok("Remove-MailboxPermission", {"Identity": "info", "ClearAutoMapping": True})
    assert api.server.permissions(None, "info")["automapping"] == {}
    assert _explicit(api, "info", "archive.admin")
    api.ok("Remove-MailboxPermission", {"Identity": "ceo", "ResetDefault": True})
    assert [r["User"] for r in _aces(api, "ceo") if not r["IsInherited"]] == ["NT AUTHORITY\\SELF"]


def test_missing_mandatory_parameters(api):
    response = api.invoke("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin"})
    assert response.status_code == 400
    assert "Parameter set cannot be resolved" in response.json()["error"]["details"][0]["message"]
    response = api.invoke("Add-MailboxPermission", {"Identity": "info", "User": "archive.admin",
                                                    "AccessRights": "FullAccess", "AutoMapping": "no"})
    assert response.status_code == 400
    assert "Boolean parameters accept only Boolean values" in (
        response.json()["error"]["innererror"]["internalexception"]["message"])
