# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SendAs (Get/Add/Remove-RecipientPermission): rows, and the SendAs delegation of the bulk engine.

One read per recipient (Get-RecipientPermission -Identity, every entry) serves the plan: the trustee's entry is
matched on TrusteeSidString (live rows carry no Deny and no IsInherited), and the rows' Identity (the recipient's
Name) tells two names of one recipient apart. A grant costs two cmdlets per changed recipient and one per
unchanged recipient. When the service does not tell the trustee's SID, the read filters with -Trustee, where
Exchange matches the trustee itself.
"""

from ansible_collections.m365.exchange.plugins.module_utils._bulk import Change, TrusteeDelegation
from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._parsing import as_names

SEND_AS = "SendAs"
ACCESS_RIGHTS = (SEND_AS,)
SELF_PRINCIPAL = "NT AUTHORITY\\SELF"
SELF_SID = "S-1-5-10"
# Warnings of writes that did nothing (answered 200): only a read tells what the tenant holds.
NOTHING_DONE = ("already present", "isn't present", "is not present", "doesn't exist", "does not exist")


def send_as_entry(row):
    """A Get-RecipientPermission row in the modules' shape."""
    return {
        "trustee": row.get("Trustee"),
        "trustee_sid": row.get("TrusteeSidString") or None,
        "access_rights": as_names(row.get("AccessRights")),
        "access_control_type": row.get("AccessControlType") or "Allow",
    }


def is_self(entry):
    return entry["trustee_sid"] == SELF_SID or (entry["trustee"] or "").upper() == SELF_PRINCIPAL


def allows_send_as(entry):
    return entry["access_control_type"] == "Allow" and SEND_AS in entry["access_rights"]


class SendAsRead:
    """What the plan needs of one Get-RecipientPermission read."""

    __slots__ = ("name", "held")

    def __init__(self, name, held):
        self.name = name  # the recipient's Name, as the rows' Identity gives it
        self.held = held  # whether the trustee holds SendAs (allow)


class SendAs(TrusteeDelegation):
    """Grant or revoke one trustee's SendAs on a recipient (a mailbox, a mail user, a distribution group...)."""

    journal_kind = "send_as"

    supports_group_mailbox = False  # Get-RecipientPermission finds Microsoft 365 groups without a switch

    def __init__(self, trustee, state="present"):
        self.trustee = trustee
        self.state = state
        self.filtered = trustee.sid is None  # without the SID, Exchange matches the trustee (-Trustee)

    def read_command(self, target):
        parameters = {"Identity": target.identity}
        if self.filtered:
            parameters["Trustee"] = self.trustee.identity
        return Command("Get-RecipientPermission", parameters)

    def keep(self, result):
        name = None
        held = False
        for row in result.value:
            name = name or row.get("Identity")
            entry = send_as_entry(row)
            sid = entry["trustee_sid"]
            if (self.filtered or (sid and sid.upper() == self.trustee.sid)) and allows_send_as(entry):
                held = True
        return SendAsRead(name, held)

    def mailbox_key(self, read):
        return read.name.lower() if read.name else None

    def not_readable(self, target, kind):
        return "recipient '%s' (%s) cannot be read: Get-RecipientPermission does not find it" % (target.identity, kind)

    # ---- planning --------------------------------------------------------------------------------

    def plan(self, target):
        held = target.read.held
        before = [SEND_AS] if held else []
        if self.state == "present":
            if held:
                return Change(target, before, before, "unchanged")
            return Change(target, before, [SEND_AS], "added", [self._write("Add-RecipientPermission", target)])
        if not held:
            return Change(target, before, before, "unchanged")
        return Change(target, before, [], "removed", [self._write("Remove-RecipientPermission", target)])

    def _write(self, cmdlet, target):
        parameters = {"Identity": target.identity, "Trustee": self.trustee.identity, "AccessRights": [SEND_AS],
                      "Confirm": False}
        # adding an entry that exists, or removing one that does not, succeeds with a warning: safe to send twice
        return Command(cmdlet, parameters, retry_safe=True)

    # ---- confirming --------------------------------------------------------------------------------

    def suspicious(self, warnings):
        return any(marker in warning.lower() for warning in warnings for marker in NOTHING_DONE)

    def holds(self, change, read):
        return read.held == (self.state == "present")

    def still_missing(self, change, read):
        said = " ".join(change.warnings)
        cmdlet = "Add-RecipientPermission" if self.state == "present" else "Remove-RecipientPermission"
        return ("%s was answered without error%s, but reading '%s' afterwards %s SendAs for %s. Rerun the task; if it "
                "persists, check the recipient's SendAs in the Exchange admin center" % (
                    cmdlet, " (the service said: %s)" % said if said else "", change.target.identity,
                    "does not show" if self.state == "present" else "still shows", self.trustee.name))
