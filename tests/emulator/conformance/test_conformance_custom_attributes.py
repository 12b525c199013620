"""Set-Mailbox -CustomAttribute1..15: the mark of an archive campaign by RBAC for Applications, seen by Get-Mailbox,
-Filter and a management scope's filter (Test-ServicePrincipalAuthorization)."""

import pytest

from conformance_support import is_missing

APP_ID = "71487acd-ec93-476d-bd0e-6c8b31831053"
OBJECT_ID = "6233fba6-0198-4277-892f-9275bf728bcc"


def _attribute(api, identity, number):
    name = "CustomAttribute%d" % number
    return api.rows("Get-Mailbox", {"Identity": identity}, select=[name])[0][name]


def test_set_mailbox_sets_and_clears_a_custom_attribute(api, emulator):
    writes = emulator.counters()["writes"]
    assert api.ok("Set-Mailbox", {"Identity": "support", "CustomAttribute12": "archive-2026"})["value"] == []
    assert _attribute(api, "support", 12) == "archive-2026"
    assert [r["Name"] for r in api.rows("Get-Mailbox", {"Filter": "CustomAttribute12 -eq 'archive-2026'"})] == [
        "support"]
    again = api.ok("Set-Mailbox", {"Identity": "support", "CustomAttribute12": "archive-2026"})
    assert again["@adminapi.warnings"][0].startswith("The command completed successfully but no settings of '")
    api.ok("Set-Mailbox", {"Identity": "support", "CustomAttribute12": None})
    assert _attribute(api, "support", 12) == ""
    api.ok("Set-Mailbox", {"Identity": "support", "CustomAttribute12": "x"})
    api.ok("Set-Mailbox", {"Identity": "support", "CustomAttribute12": ""})
    assert _attribute(api, "support", 12) == ""
    # every Set-Mailbox is a write, the one that changed nothing too
    assert emulator.counters()["writes"] == writes + 5


def test_other_attributes_and_send_on_behalf_stay(api):
    before = api.rows("Get-Mailbox", {"Identity": "ceo"},
                      select=["CustomAttribute1", "CustomAttribute15", "GrantSendOnBehalfTo"])[0]
    api.ok("Set-Mailbox", {"Identity": "ceo", "CustomAttribute3": "three", "CustomAttribute4": "four"})
    after = api.rows("Get-Mailbox", {"Identity": "ceo"},
                     select=["CustomAttribute1", "CustomAttribute3", "CustomAttribute4", "CustomAttribute15",
                             "GrantSendOnBehalfTo"])[0]
    assert after == dict(before, CustomAttribute3="three", CustomAttribute4="four")


def test_a_mark_puts_a_mailbox_into_a_scope_at_once(api):
    api.ok("New-ServicePrincipal", {"AppId": APP_ID, "ObjectId": OBJECT_ID})
    api.ok("New-ManagementScope", {"Name": "Marked", "RecipientRestrictionFilter": "CustomAttribute12 -eq 'c-1'"})
    api.ok("New-ManagementRoleAssignment", {"App": OBJECT_ID, "Role": "Application Mail.Read",
                                            "CustomResourceScope": "Marked"})

    def in_scope(identity):
        rows = api.rows("Test-ServicePrincipalAuthorization", {"Identity": APP_ID, "Resource": identity})
        return [row["InScope"] for row in rows]

    assert in_scope("info") == [False]
    api.ok("Set-Mailbox", {"Identity": "info", "CustomAttribute12": "c-1"})
    assert in_scope("info") == [True]
    api.ok("Set-Mailbox", {"Identity": "info", "CustomAttribute12": None})
    assert in_scope("info") == [False]


@pytest.mark.parametrize("value, words", [
    ("x" * 1025, "The maximum length is 1024 and the length of the value provided is 1025."),
    (["a", "b"], "Cannot convert value \"System.Object[]\" to type \"System.String\""),
    ({"add": "a"}, "Cannot convert value \"System.Collections.Hashtable\" to type \"System.String\""),
])
def test_values_that_are_not_a_short_string_are_refused(api, value, words):
    response = api.invoke("Set-Mailbox", {"Identity": "info", "CustomAttribute12": value})
    assert response.status_code == 400
    assert words in response.json()["error"]["innererror"]["internalexception"]["message"]
    assert _attribute(api, "info", 12) == ""


def test_unknown_attribute_numbers_and_mailboxes(api):
    response = api.invoke("Set-Mailbox", {"Identity": "info", "CustomAttribute16": "x"})
    assert response.status_code == 400 and "CustomAttribute16" in response.text
    assert is_missing(api.invoke("Set-Mailbox", {"Identity": "nobody", "CustomAttribute12": "x"}))
    # a mail user has no mailbox to set
    assert is_missing(api.invoke("Set-Mailbox", {"Identity": "nomailbox.admin", "CustomAttribute12": "x"}))
