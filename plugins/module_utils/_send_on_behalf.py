# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""SendOnBehalf (the GrantSendOnBehalfTo property of a mailbox): the delegation of the bulk engine.

GrantSendOnBehalfTo is multi-valued: the writes use Set-Mailbox's add/remove form (a hashtable tagged
#Exchange.GenericHashTable), so one delegate is added or removed and the others stay as they are, also when
another task or an admin changes them at the same time. Get-Mailbox rows list the delegates by Name (unique in
the tenant); they are matched on the Name of the resolved trustee (or its GUID or address, should the service
show those), never on a display name, which two recipients may share.
"""

from ansible_collections.m365.exchange.plugins.module_utils._admin_api import with_v2_hint
from ansible_collections.m365.exchange.plugins.module_utils._bulk import Change, TrusteeDelegation
from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._parsing import as_list

SEND_ON_BEHALF = "SendOnBehalf"
GENERIC_HASHTABLE = "#Exchange.GenericHashTable"
READ_PROPERTIES = ("Identity", "Name", "GrantSendOnBehalfTo")
# Warning of a Set-Mailbox that changed nothing (answered 200): only a read tells what the tenant holds.
NOTHING_DONE = ("no settings of", "have been modified")


def delegate_names(value):
    """The delegates of a GrantSendOnBehalfTo value: Names as strings (also from objects or DNs)."""
    names = []
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("Name") or item.get("Identity") or item.get("DistinguishedName") or ""
        text = str(item).strip()
        if text.upper().startswith("CN="):  # a distinguished name: its first RDN is the Name
            text = _first_rdn(text[3:])
        if text:
            names.append(text)
    return names


def _first_rdn(text):
    """The value of a DN's first RDN (after its "CN="), escaped commas kept."""
    value, escaped = [], False
    for char in text:
        if escaped:
            value.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            break
        else:
            value.append(char)
    return "".join(value)


def trustee_keys(trustee):
    """What may stand for the trustee in GrantSendOnBehalfTo (never its display name)."""
    keys = set()
    for value in (trustee.object_name, trustee.guid, trustee.name):
        if value:
            keys.add(str(value).lower())
    return keys


class SendOnBehalfRead:
    """What the plan needs of one Get-Mailbox read."""

    __slots__ = ("name", "held", "delegates")

    def __init__(self, name, held, delegates):
        self.name = name
        self.held = held
        self.delegates = delegates


class SendOnBehalf(TrusteeDelegation):
    """Add or remove one delegate of a mailbox's GrantSendOnBehalfTo, keeping the others."""

    journal_kind = "send_on_behalf"

    supports_group_mailbox = False  # Microsoft 365 groups keep it with Set-UnifiedGroup

    def __init__(self, trustee, state="present", v2=False):
        self.trustee = trustee
        self.state = state
        self.v2 = v2  # Get-Mailbox and Set-Mailbox go to the Admin API v2.0
        self.keys = trustee_keys(trustee)

    def read_command(self, target):
        return Command("Get-Mailbox", {"Identity": target.identity}, READ_PROPERTIES)

    def keep(self, result):
        name, delegates = None, []
        for row in result.value:
            name = name or row.get("Name") or row.get("Identity")
            delegates.extend(delegate_names(row.get("GrantSendOnBehalfTo")))
        held = any(delegate.lower() in self.keys for delegate in delegates)
        return SendOnBehalfRead(name, held, delegates)

    def mailbox_key(self, read):
        return read.name.lower() if read.name else None

    def read_error(self, target, error):
        return with_v2_hint(error) if self.v2 else error

    def not_readable(self, target, kind):
        if kind == "GroupMailbox":
            return ("'%s' is a Microsoft 365 group: its senders on behalf are set with Set-UnifiedGroup "
                    "-GrantSendOnBehalfTo, which this module does not manage" % target.identity)
        return "mailbox '%s' (%s) cannot be read: Get-Mailbox does not find it" % (target.identity, kind)

    # ---- planning --------------------------------------------------------------------------------

    def plan(self, target):
        held = target.read.held
        before = [SEND_ON_BEHALF] if held else []
        if self.state == "present":
            if held:
                return Change(target, before, before, "unchanged")
            return Change(target, before, [SEND_ON_BEHALF], "added", [self._write(target, "add")])
        if not held:
            return Change(target, before, before, "unchanged")
        return Change(target, before, [], "removed", [self._write(target, "remove")])

    def _write(self, target, operation):
        # add/remove touch this delegate only; a plain list would replace every delegate of the mailbox
        value = {"@odata.type": GENERIC_HASHTABLE, operation: [self.trustee.identity]}
        return Command("Set-Mailbox", {"Identity": target.identity, "GrantSendOnBehalfTo": value, "Confirm": False},
                       retry_safe=True)

    # ---- confirming --------------------------------------------------------------------------------

    def suspicious(self, warnings):
        return any(marker in warning.lower() for warning in warnings for marker in NOTHING_DONE)

    def holds(self, change, read):
        return read.held == (self.state == "present")

    def after_write_error(self, change, error):
        if self.v2:
            with_v2_hint(error)
        return "failed"

    def still_missing(self, change, read):
        said = " ".join(change.warnings)
        return ("Set-Mailbox -GrantSendOnBehalfTo was answered without error%s, but reading '%s' afterwards %s %s "
                "among its delegates (%s). Rerun the task; if it persists, check the mailbox's delegates in the "
                "Exchange admin center" % (
                    " (the service said: %s)" % said if said else "", change.target.identity,
                    "does not show" if self.state == "present" else "still shows", self.trustee.name,
                    ", ".join(read.delegates) or "none"))
