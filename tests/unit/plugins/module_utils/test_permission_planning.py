# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The FullAccess delegation on one mailbox: what a read becomes, what is planned, which cmdlets carry it out."""

from ansible_collections.m365.exchange.plugins.module_utils._bulk import Target
from ansible_collections.m365.exchange.plugins.module_utils._client import CommandResult
from ansible_collections.m365.exchange.plugins.module_utils._permissions import AclRead, MailboxPermission
from ansible_collections.m365.exchange.plugins.module_utils._trustees import Trustee

SID = "S-1-5-21-1-2-3-1001"
TRUSTEE = Trustee("archive.admin@contoso.com", {
    "Guid": "0b7f5d4e-0000-4000-8000-000000000001",
    "Name": "archive.admin",
    "PrimarySmtpAddress": "archive.admin@contoso.com",
    "RecipientTypeDetails": "UserMailbox",
}, sid=SID)


def ace(rights, inherited=False, deny=False, inheritance=None):
    return {"user": "archive.admin@contoso.com", "user_sid": SID, "access_rights": rights,
            "is_inherited": inherited, "deny": deny, "inheritance_type": inheritance}


def target(*aces, **flags):
    mailbox = Target(flags.get("identity", "ceo@contoso.com"))
    mailbox.read = AclRead("ceo", list(aces), flags.get("explicit", 1 + len(aces)))
    mailbox.group_mailbox = flags.get("group_mailbox", False)
    return mailbox


def parameters(change):
    return [(command.cmdlet, command.parameters) for command in change.commands]


def test_a_read_keeps_the_trustees_entries_by_sid_the_mailboxs_name_and_its_explicit_count():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"])
    read = delegation.keep(CommandResult([
        {"Identity": "ceo", "User": "NT AUTHORITY\\SELF", "UserSid": "S-1-5-10",
         "AccessRights": ["FullAccess, ReadPermission"], "IsInherited": False, "Deny": False},
        {"Identity": "ceo", "User": "NT AUTHORITY\\SELF", "UserSid": "S-1-5-10",  # SELF twice, as live
         "AccessRights": ["FullAccess, ReadPermission"], "IsInherited": False, "Deny": False},
        {"Identity": "ceo", "User": "Archive Admin", "UserSid": SID.lower(),  # any display string, any case
         "AccessRights": "ReadPermission, FullAccess", "IsInherited": "False", "Deny": {"IsPresent": False}},
        {"Identity": "ceo", "User": "archive.admin@contoso.com", "UserSid": "S-1-5-21-9-9-9-1",  # same name, not him
         "AccessRights": ["FullAccess"], "IsInherited": False, "Deny": False},
        {"Identity": "ceo", "User": "NAMPR\\Administrator", "UserSid": "S-1-5-21-9-9-9-500",
         "AccessRights": ["FullAccess"], "IsInherited": True, "Deny": True},
    ]))
    assert read.name == "ceo" and read.explicit == 3
    assert read.aces == [ace(["FullAccess", "ReadPermission"]) | {"user": "Archive Admin", "user_sid": SID.lower()}]
    assert delegation.mailbox_key(read) == "ceo"


def test_without_the_trustees_sid_the_read_asks_exchange_to_match_him():
    trustee = Trustee("archive.admin@contoso.com", {"Guid": TRUSTEE.guid, "RecipientTypeDetails": "UserMailbox"})
    delegation = MailboxPermission(trustee, ["FullAccess"])
    command = delegation.read_command(Target("ceo@contoso.com"))
    assert command.parameters == {"Identity": "ceo@contoso.com", "User": TRUSTEE.guid}
    assert delegation.keep(CommandResult([])).explicit is None


def test_present_adds_only_missing_rights_with_automapping():
    delegation = MailboxPermission(TRUSTEE, ["ReadPermission", "FullAccess"], automapping=False)
    change = delegation.plan(target(ace(["ReadPermission"])))
    assert (change.action, change.before, change.after) == ("added", ["ReadPermission"], ["FullAccess", "ReadPermission"])
    assert parameters(change) == [("Add-MailboxPermission", {
        "Identity": "ceo@contoso.com", "User": TRUSTEE.guid, "AccessRights": ["FullAccess"],
        "InheritanceType": "All", "AutoMapping": False})]


def test_inherited_and_deny_entries_do_not_count_as_granted():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"])
    change = delegation.plan(target(ace(["FullAccess"], inherited=True), ace(["FullAccess"], deny=True)))
    assert change.action == "added" and change.before == []


def test_other_inheritance_type_does_not_satisfy_the_request_unless_unreported():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"], inheritance_type="All")
    assert delegation.plan(target(ace(["FullAccess"], inheritance="None"))).action == "added"
    assert delegation.plan(target(ace(["FullAccess"], inheritance=None))).action == "unchanged"


def test_absent_removes_explicit_rights_per_entry_with_what_is_known_of_its_inheritance():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"], state="absent")
    change = delegation.plan(target(ace(["FullAccess", "ReadPermission"]), ace(["FullAccess"], inheritance="None"),
                                    ace(["FullAccess"], inherited=True)))
    assert (change.action, change.before, change.after) == ("removed", ["FullAccess", "ReadPermission"],
                                                            ["ReadPermission"])
    base = {"Identity": "ceo@contoso.com", "User": TRUSTEE.guid, "AccessRights": ["FullAccess"], "Confirm": False}
    assert parameters(change) == [("Remove-MailboxPermission", base),
                                  ("Remove-MailboxPermission", dict(base, InheritanceType="None"))]
    assert "by inheritance" in delegation.warnings(change)[0]


def test_a_remove_that_missed_is_retried_with_every_other_inheritance_type():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"], state="absent")
    change = delegation.plan(target(ace(["FullAccess"])))
    still = AclRead("ceo", [ace(["FullAccess"])], 2)
    assert not delegation.holds(change, still)
    assert [c.parameters["InheritanceType"] for c in delegation.retry_commands(change, still)] == [
        "Children", "Descendents", "None", "SelfAndChildren"]
    assert delegation.holds(change, AclRead("ceo", [], 1))


def test_warnings_of_writes_that_did_nothing_are_suspicious():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"], state="absent")
    assert delegation.suspicious(["Can't remove the access control entry on the object \"CN=ceo\" for account "
                                  "\"archive.admin\" because the ACE doesn't exist on the object."])
    assert delegation.suspicious(["The appropriate access control entry is already present on the object."])
    assert not delegation.suspicious(["Some unrelated warning"])


def test_deny_and_group_mailbox_switches_are_sent():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"], deny=True)
    change = delegation.plan(target(ace(["FullAccess"]), identity="project.phoenix@contoso.com", group_mailbox=True))
    assert change.action == "added"
    (command,) = change.commands
    assert command.parameters["Deny"] is True and command.parameters["GroupMailbox"] is True
    assert "AutoMapping" not in command.parameters
    assert delegation.read_command(change.target).parameters == {"Identity": "project.phoenix@contoso.com",
                                                                 "GroupMailbox": True}


def test_a_full_list_is_only_full_for_a_new_entry():
    delegation = MailboxPermission(TRUSTEE, ["FullAccess"], acl_limit="skip")
    assert delegation.plan(target(explicit=500)).action == "skipped"
    # an entry of his that Exchange can widen: not refused
    assert delegation.plan(target(ace(["ReadPermission"]), explicit=500)).action == "added"
    assert delegation.plan(target(explicit=499)).action == "added"
