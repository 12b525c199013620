# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning a trustee's rights on one mailbox: only what is missing is added, only what exists is removed."""

from ansible_collections.m365.exchange.plugins.module_utils._client import CommandResult
from ansible_collections.m365.exchange.plugins.module_utils._errors import TransientError
from ansible_collections.m365.exchange.plugins.module_utils._permissions import (
    MailboxState,
    PermissionRequest,
    Trustee,
    read_mailboxes,
)

TRUSTEE = Trustee("archive.admin@contoso.com", {
    "Guid": "0b7f5d4e-0000-4000-8000-000000000001",
    "PrimarySmtpAddress": "archive.admin@contoso.com",
    "RecipientTypeDetails": "UserMailbox",
})


def ace(rights, inherited=False, deny=False, inheritance="All"):
    return {"user": "archive.admin@contoso.com", "user_sid": "S-1-5-21-1-2-3-1001", "access_rights": rights,
            "is_inherited": inherited, "deny": deny, "inheritance_type": inheritance}


def mailbox(*aces, **flags):
    state = MailboxState(flags.get("identity", "ceo@contoso.com"))
    state.aces = list(aces)
    state.group_mailbox = flags.get("group_mailbox", False)
    return state


def parameters(commands):
    return [(command.cmdlet, command.parameters) for command in commands]


def test_present_adds_only_missing_rights_with_automapping():
    request = PermissionRequest(TRUSTEE, ["FullAccess", "ReadPermission"], automapping=False)
    change = request.plan(mailbox(ace(["ReadPermission"])))
    assert (change.action, change.before, change.after) == ("added", ["ReadPermission"], ["FullAccess", "ReadPermission"])
    assert parameters(request.write_commands(change)) == [("Add-MailboxPermission", {
        "Identity": "ceo@contoso.com", "User": TRUSTEE.guid, "AccessRights": ["FullAccess"],
        "InheritanceType": "All", "AutoMapping": False})]


def test_present_is_unchanged_when_rights_are_held():
    request = PermissionRequest(TRUSTEE, ["FullAccess"], automapping=False)
    change = request.plan(mailbox(ace(["FullAccess", "ReadPermission"])))
    assert change.action == "unchanged"
    assert request.write_commands(change) == []


def test_inherited_and_deny_entries_do_not_count_as_granted():
    request = PermissionRequest(TRUSTEE, ["FullAccess"])
    change = request.plan(mailbox(ace(["FullAccess"], inherited=True), ace(["FullAccess"], deny=True)))
    assert change.action == "added"
    assert change.before == []


def test_other_inheritance_type_does_not_satisfy_the_request():
    request = PermissionRequest(TRUSTEE, ["FullAccess"], inheritance_type="All")
    assert request.plan(mailbox(ace(["FullAccess"], inheritance="None"))).action == "added"
    # an entry whose inheritance type Exchange does not report is taken as matching
    assert request.plan(mailbox(ace(["FullAccess"], inheritance=None))).action == "unchanged"


def test_absent_removes_explicit_rights_per_entry_and_reports_inherited_ones():
    request = PermissionRequest(TRUSTEE, ["FullAccess"], state="absent")
    change = request.plan(mailbox(ace(["FullAccess", "ReadPermission"]), ace(["FullAccess"], inheritance="None"),
                                  ace(["FullAccess"], inherited=True)))
    assert (change.action, change.before, change.after) == ("removed", ["FullAccess", "ReadPermission"],
                                                            ["ReadPermission"])
    assert change.inherited == ["FullAccess"]
    assert parameters(request.write_commands(change)) == [
        ("Remove-MailboxPermission", {"Identity": "ceo@contoso.com", "User": TRUSTEE.guid,
                                      "AccessRights": ["FullAccess"], "Confirm": False, "InheritanceType": "All"}),
        ("Remove-MailboxPermission", {"Identity": "ceo@contoso.com", "User": TRUSTEE.guid,
                                      "AccessRights": ["FullAccess"], "Confirm": False, "InheritanceType": "None"}),
    ]


def test_absent_without_explicit_rights_is_unchanged():
    request = PermissionRequest(TRUSTEE, ["FullAccess"], state="absent")
    change = request.plan(mailbox(ace(["FullAccess"], inherited=True)))
    assert change.action == "unchanged"
    assert change.inherited == ["FullAccess"]


def test_deny_and_group_mailbox_switches_are_sent():
    request = PermissionRequest(TRUSTEE, ["FullAccess"], deny=True)
    change = request.plan(mailbox(ace(["FullAccess"]), identity="project.phoenix@contoso.com", group_mailbox=True))
    assert change.action == "added"
    (command,) = request.write_commands(change)
    assert command.parameters["Deny"] is True and command.parameters["GroupMailbox"] is True
    assert "AutoMapping" not in command.parameters


class AnsweringPipeline:
    """Answers each Get-MailboxPermission by identity, and reduces results with `keep` as Pipeline.run does."""

    def __init__(self, answers):
        self.answers = answers
        self.commands = []

    def run(self, commands, keep=None):
        self.commands.extend(commands)
        results = []
        for command in commands:
            answer = self.answers[command.parameters["Identity"]]
            if isinstance(answer, Exception):
                results.append(answer)
            else:
                result = CommandResult(answer)
                results.append(keep(result) if keep else result)
        return results


def test_reads_become_ace_entries_in_the_module_shape():
    pipeline = AnsweringPipeline({
        "ceo@contoso.com": [{"User": "archive.admin@contoso.com", "UserSid": "S-1-5-21-1-2-3-1001",
                             "AccessRights": ["ReadPermission, FullAccess"], "IsInherited": False,
                             "Deny": {"IsPresent": False}}],
        "cfo@contoso.com": [],
        "busy@contoso.com": TransientError("Get-MailboxPermission 'busy@contoso.com': 503 after 6 attempts"),
    })
    ceo, cfo, busy = read_mailboxes(pipeline, TRUSTEE, ["ceo@contoso.com", "cfo@contoso.com", "busy@contoso.com"])
    assert ceo.aces == [{"user": "archive.admin@contoso.com", "user_sid": "S-1-5-21-1-2-3-1001",
                         "access_rights": ["FullAccess", "ReadPermission"], "is_inherited": False, "deny": False,
                         "inheritance_type": None}]
    assert cfo.aces == [] and cfo.error is None
    assert busy.aces is None and "503" in str(busy.error)
    assert [c.parameters["User"] for c in pipeline.commands] == [TRUSTEE.guid] * 3
