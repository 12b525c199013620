"""SendAs (Get/Add/Remove-RecipientPermission) and SendOnBehalf (Set-Mailbox -GrantSendOnBehalfTo)."""

import pytest

from conformance_support import DOMAIN, is_missing, sub_request

SELF = "NT AUTHORITY\\SELF"
HASHTABLE = "#Exchange.GenericHashTable"
RECIPIENT_PERMISSION_KEYS = {"Identity", "Trustee", "AccessControlType", "AccessRights", "TrusteeSidString",
                             "TrusteeWithPrimarySmtpAddress", "IsValid", "ObjectState"}


def _send_as(api, identity, **extra):
    return api.rows("Get-RecipientPermission", dict({"Identity": identity}, **extra))


def _trustees(api, identity):
    return [r["Trustee"] for r in _send_as(api, identity)]


def _sid(api, identity):
    return api.rows("Get-User", {"Identity": identity}, select=["Sid"])[0]["Sid"]


def _delegates(api, identity):
    return api.rows("Get-Mailbox", {"Identity": identity}, select=["GrantSendOnBehalfTo"])[0]["GrantSendOnBehalfTo"]


def test_recipient_permission_rows_are_live_shaped(api):
    raw = api.ok("Get-RecipientPermission", {"Identity": "info"})["value"]
    assert [r["Trustee"] for r in raw] == [SELF, "helpdesk@" + DOMAIN]
    for row in raw:
        assert set(k for k in row if "@" not in k) == RECIPIENT_PERMISSION_KEYS
        assert row["AccessRights"] == ["SendAs"] and row["AccessRights@odata.type"] == "#Collection(String)"
        assert row["AccessControlType"] == "Allow" and row["TrusteeWithPrimarySmtpAddress"] == ""
        assert "Deny" not in row and "IsInherited" not in row
    assert raw[0]["TrusteeSidString"] == "S-1-5-10"
    assert raw[1]["TrusteeSidString"] == _sid(api, "helpdesk")


def test_self_holds_send_as_by_default_and_groups_can_be_targets(api):
    assert _trustees(api, "ceo") == [SELF]
    assert _trustees(api, "nomailbox.admin") == [SELF]
    assert _trustees(api, "Finance") == ["helpdesk@" + DOMAIN]
    assert _trustees(api, "support") == [SELF, "Archive Operators"]
    orphan = _send_as(api, "orphans")[1]
    assert orphan["Trustee"] == orphan["TrusteeSidString"] and orphan["Trustee"].startswith("S-1-5-21-")


def test_get_recipient_permission_by_trustee_across_the_tenant(api):
    rows = api.rows("Get-RecipientPermission", {"Trustee": "helpdesk@" + DOMAIN, "ResultSize": "Unlimited"})
    assert {r["Identity"] for r in rows} == {"info", "Finance"}
    assert all(r["TrusteeSidString"] == _sid(api, "helpdesk") for r in rows)


def test_add_then_already_present_then_remove_then_absent(api):
    params = {"Identity": "ceo", "Trustee": "archive.admin@" + DOMAIN, "AccessRights": ["SendAs"], "Confirm": False}
    added = api.ok("Add-RecipientPermission", params)
    assert added["@adminapi.warnings"] == []
    assert added["value"][0]["Trustee"] == "archive.admin@" + DOMAIN and added["value"][0]["Identity"] == "ceo"
    again = api.ok("Add-RecipientPermission", dict(params, AccessRights="SendAs"))
    assert again["value"] == []
    assert again["@adminapi.warnings"][0].startswith("The appropriate access control entry is already present on "
                                                     "the object \"CN=ceo,")
    assert _trustees(api, "ceo").count("archive.admin@" + DOMAIN) == 1
    removed = api.ok("Remove-RecipientPermission", params)
    assert removed["value"] == [] and removed["@adminapi.warnings"] == []
    assert _trustees(api, "ceo") == [SELF]
    absent = api.ok("Remove-RecipientPermission", params)
    assert absent["value"] is None
    assert absent["@adminapi.warnings"][0].endswith("because the ACE isn't present.")
    counters = api.server.counters()
    assert counters["writes"] == 4  # every executed write cmdlet, no-ops included (as for Add-MailboxPermission)
    assert counters["cmdlets"]["Add-RecipientPermission"] == counters["cmdlets"]["Remove-RecipientPermission"] == 2


def test_trustee_rules(api):
    for trustee in ("Finance", "Project Phoenix", "nobody@" + DOMAIN, "left.company"):
        response = api.invoke("Add-RecipientPermission", {"Identity": "info", "Trustee": trustee,
                                                          "AccessRights": "SendAs"})
        assert is_missing(response), trustee
    for trustee in ("nomailbox.admin", "Archive Operators", "Legacy Admins"):
        api.ok("Add-RecipientPermission", {"Identity": "info", "Trustee": trustee, "AccessRights": "SendAs"})
    assert {"nomailbox.admin@" + DOMAIN, "Archive Operators", "Legacy Admins"} <= set(_trustees(api, "info"))
    ambiguous = api.invoke("Add-RecipientPermission", {"Identity": "info", "Trustee": "jsmith",
                                                       "AccessRights": "SendAs"})
    # typed as not-found by default, like the live service (ambiguous_shape)
    assert ambiguous.status_code in (400, 404) and "matches multiple entries" in ambiguous.text


def test_access_rights_only_send_as(api):
    response = api.invoke("Add-RecipientPermission", {"Identity": "info", "Trustee": "helpdesk",
                                                      "AccessRights": ["FullAccess"]})
    assert response.status_code == 400
    message = response.json()["error"]["innererror"]["internalexception"]["message"]
    assert "FullAccess" in message and "SendAs" in message
    missing = api.invoke("Add-RecipientPermission", {"Identity": "info", "Trustee": "helpdesk"})
    assert missing.status_code == 400 and "Parameter set cannot be resolved" in missing.text


def test_remove_keeps_other_trustees(api):
    api.ok("Add-RecipientPermission", {"Identity": "info", "Trustee": "archive.admin", "AccessRights": "SendAs"})
    api.ok("Remove-RecipientPermission", {"Identity": "info", "Trustee": "archive.admin", "AccessRights": "SendAs"})
    assert _trustees(api, "info") == [SELF, "helpdesk@" + DOMAIN]


# -- SendOnBehalf -------------------------------------------------------------------------------------------------

def test_grant_send_on_behalf_shows_names(api):
    assert _delegates(api, "ceo") == ["helpdesk"]
    assert _delegates(api, "legal.hold") == ["archive.admin", "Archive Operators"]
    assert _delegates(api, "info") == ["alex.martin", "alex.martin2"]
    assert _delegates(api, "support") == []
    row = api.ok("Get-Mailbox", {"Identity": "info"})["value"][0]
    assert row["GrantSendOnBehalfTo@odata.type"] == "#Collection(String)"
    named = api.rows("Get-Mailbox", {"Identity": "info", "IncludeGrantSendOnBehalfToWithDisplayNames": True},
                     select=["GrantSendOnBehalfTo", "GrantSendOnBehalfToWithDisplayNames"])[0]
    assert named == {"GrantSendOnBehalfTo": ["alex.martin", "alex.martin2"],
                     "GrantSendOnBehalfToWithDisplayNames": ["Alex Martin", "Alex Martin"]}


def test_add_and_remove_hashtable_keep_the_other_delegates(api):
    edit = {"@odata.type": HASHTABLE, "add": "nolicense.admin@" + DOMAIN}
    assert api.ok("Set-Mailbox", {"Identity": "legal.hold", "GrantSendOnBehalfTo": edit})["value"] == []
    assert _delegates(api, "legal.hold") == ["archive.admin", "Archive Operators", "nolicense.admin"]
    again = api.ok("Set-Mailbox", {"Identity": "legal.hold", "GrantSendOnBehalfTo": edit})
    assert again["@adminapi.warnings"][0].startswith("The command completed successfully but no settings of '")
    api.ok("Set-Mailbox", {"Identity": "legal.hold", "GrantSendOnBehalfTo": {"@odata.type": HASHTABLE,
                                                                             "Remove": ["nolicense.admin"]}})
    assert _delegates(api, "legal.hold") == ["archive.admin", "Archive Operators"]
    absent = api.ok("Set-Mailbox", {"Identity": "legal.hold", "GrantSendOnBehalfTo": {"@odata.type": HASHTABLE,
                                                                                      "remove": "helpdesk"}})
    assert "no settings of" in absent["@adminapi.warnings"][0]
    assert _delegates(api, "legal.hold") == ["archive.admin", "Archive Operators"]


def test_full_list_replaces_and_empty_clears(api):
    api.ok("Set-Mailbox", {"Identity": "ceo", "GrantSendOnBehalfTo": ["archive.admin", "nomailbox.admin"]})
    assert _delegates(api, "ceo") == ["archive.admin", "nomailbox.admin"]
    api.ok("Set-Mailbox", {"Identity": "ceo", "GrantSendOnBehalfTo": "helpdesk"})
    assert _delegates(api, "ceo") == ["helpdesk"]
    api.ok("Set-Mailbox", {"Identity": "ceo", "GrantSendOnBehalfTo": None})
    assert _delegates(api, "ceo") == []


@pytest.mark.parametrize("delegate", ["Finance", "Project Phoenix", "Legacy Admins", "user.only", "nobody"])
def test_send_on_behalf_refuses_what_is_not_a_mailbox_mail_user_or_mail_security_group(api, delegate):
    edit = {"@odata.type": HASHTABLE, "add": delegate}
    response = api.invoke("Set-Mailbox", {"Identity": "ceo", "GrantSendOnBehalfTo": edit})
    assert is_missing(response)
    assert response.json()["error"]["details"][0]["message"] == (
        "Ex94914C|Microsoft.Exchange.Configuration.Tasks.ManagementObjectNotFoundException|Couldn't find object "
        "\"%s\". Please make sure that it was spelled correctly or specify a different object." % delegate)
    assert _delegates(api, "ceo") == ["helpdesk"]


def test_hashtable_needs_its_odata_type(api):
    response = api.invoke("Set-Mailbox", {"Identity": "ceo", "GrantSendOnBehalfTo": {"add": "archive.admin"}})
    assert response.status_code == 400
    assert "ParameterTransformationException" in response.json()["error"]["innererror"]["internalexception"]["type"]
    assert _delegates(api, "ceo") == ["helpdesk"]


def test_set_mailbox_implements_only_grant_send_on_behalf(api):
    response = api.invoke("Set-Mailbox", {"Identity": "ceo", "HiddenFromAddressListsEnabled": True})
    assert response.status_code == 400 and "HiddenFromAddressListsEnabled" in response.text
    nothing = api.ok("Set-Mailbox", {"Identity": "ceo"})
    assert "no settings of" in nothing["@adminapi.warnings"][0]
    assert is_missing(api.invoke("Set-Mailbox", {"Identity": "nomailbox.admin", "GrantSendOnBehalfTo": []}))


def test_new_cmdlets_hold_a_concurrency_slot_each(api):
    """The cost model: every new cmdlet is one execution holding a slot (a $batch's sub-requests take theirs at
    the same moment, so with C=2 the third is refused)."""
    api.token()
    api.server.set_faults(concurrency_limit=2)
    requests_ = [sub_request(1, "Get-RecipientPermission", {"Identity": "info"}),
                 sub_request(2, "Get-MailboxFolderPermission", {"Identity": "ceo:\\Calendar"}),
                 sub_request(3, "Test-ServicePrincipalAuthorization", {"Identity": "Contoso Archiver"})]
    statuses = [r["status"] for r in api.batch(requests_).json()["responses"]]
    assert statuses == [200, 200, 429]
    counters = api.server.counters()
    assert counters["executions"] == 2 and counters["throttled"] == 1
    assert counters["cmdlet_attempts"]["Test-ServicePrincipalAuthorization"] == 1
