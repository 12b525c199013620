# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One of a mailbox's CustomAttribute1-15 set to a value, or put back (the delegation of the bulk engine behind
mailbox_custom_attribute).

The archive_access role marks the mailboxes of a campaign by RBAC for Applications this way when its scope cannot be
written as a filter (see the design notes of _rbac.py): the management scope then selects
``CustomAttributeN -eq '<mark>'``. What the engine gives every bulk module matters here too: the journal's read
line records each mailbox's value before any write (so the revoke knows what to put back, also after a kill), a
rerun reads first and writes nothing where the value is already there, and every write is confirmed by the value a
read shows.

- state=present sets the value. A mailbox whose attribute holds another value is somebody else's use of the
  attribute: the task fails before anything is changed, naming them, unless ``overwrite`` is true.
- state=absent takes the value away where the attribute holds it (letter case aside, as an OPATH ``-eq`` compares):
  it is cleared, or set to the mailbox's entry in ``restore`` (what it held before). A mailbox that holds another
  value is left as it is (unchanged): the value is not there.
"""

from ansible_collections.m365.exchange.plugins.module_utils._bulk import Change, Delegation
from ansible_collections.m365.exchange.plugins.module_utils._client import Command

CUSTOM_ATTRIBUTES = tuple("CustomAttribute%d" % number for number in range(1, 16))
MAX_LENGTH = 1024  # Set-Mailbox -CustomAttributeN: up to 1,024 characters
# Warning of a Set-Mailbox that changed nothing (answered 200): only a read tells what the tenant holds.
NOTHING_DONE = ("no settings of", "have been modified")


def canonical_attribute(value):
    """CustomAttributeN in its canonical spelling, or None."""
    text = str(value or "").strip().lower()
    for name in CUSTOM_ATTRIBUTES:
        if name.lower() == text:
            return name
    return None


def same_value(left, right):
    """Whether two values are one for an OPATH -eq (which ignores letter case); empty and null are one."""
    return (left or "").strip().lower() == (right or "").strip().lower()


class AttributeRead:
    """What the plan needs of one Get-Mailbox read."""

    __slots__ = ("name", "guid", "value")

    def __init__(self, name, guid, value):
        self.name = name
        self.guid = guid
        self.value = value


def _values(value):
    return [value] if value else []


class CustomAttribute(Delegation):
    """Set one custom attribute to a value, or take the value away (cleared, or put back to what it was)."""

    supports_group_mailbox = False  # Microsoft 365 groups keep theirs with Set-UnifiedGroup

    def __init__(self, attribute, value, state="present", overwrite=False, restore=None):
        self.attribute = attribute
        self.value = value
        self.state = state
        self.overwrite = overwrite
        self.restore = dict((str(key).strip().lower(), "" if val is None else str(val))
                            for key, val in (restore or {}).items())

    def read_command(self, target):
        return Command("Get-Mailbox", {"Identity": target.identity}, ("Identity", "Name", "Guid", self.attribute))

    def keep(self, result):
        name = guid = None
        value = ""
        for row in result.value:
            name = name or row.get("Name") or row.get("Identity")
            guid = guid or row.get("Guid")
            value = value or str(row.get(self.attribute) or "")
        return AttributeRead(name, guid, value)

    def mailbox_key(self, read):
        key = read.guid or read.name
        return str(key).lower() if key else None

    def not_readable(self, target, kind):
        if kind == "GroupMailbox":
            return ("'%s' is a Microsoft 365 group: its custom attributes are set with Set-UnifiedGroup, which this "
                    "module does not manage" % target.identity)
        return "mailbox '%s' (%s) cannot be read: Get-Mailbox does not find it" % (target.identity, kind)

    # ---- planning --------------------------------------------------------------------------------

    def plan(self, target):
        current = target.read.value
        before = _values(current)
        if self.state == "present":
            if current == self.value:
                return Change(target, before, before, "unchanged")
            action = "added" if not current else "changed"
            # a value that differs in letter case only is the same mark for a scope; it is written as given
            conflict = bool(current) and not same_value(current, self.value)
            return Change(target, before, [self.value], action, [self._write(target, self.value)],
                          data="conflict" if conflict else None)
        if not current or not same_value(current, self.value):
            return Change(target, before, before, "unchanged")
        restored = self._restored(target)
        return Change(target, before, _values(restored), "changed" if restored else "removed",
                      [self._write(target, restored)])

    def _restored(self, target):
        for name in [target.identity] + list(target.aliases):
            value = self.restore.get(name.lower())
            if value is not None:
                return value
        return ""

    def _write(self, target, value):
        return Command("Set-Mailbox", {"Identity": target.identity, self.attribute: value or None, "Confirm": False},
                       retry_safe=True)

    def refuse(self, changes):
        if self.overwrite:
            return None
        taken = [c for c in changes if c.data == "conflict"]
        if not taken:
            return None
        shown = ", ".join("%s ('%s')" % (c.target.identity, c.before[0]) for c in taken[:20])
        if len(taken) > 20:
            shown += ", and %d more" % (len(taken) - 20)
        return ("%s already holds another value on %d mailbox%s: %s. Something else uses the attribute: choose "
                "another attribute, or set overwrite=true to replace the values (they are in the journal's read lines "
                "and in results[].before)" % (self.attribute, len(taken), "" if len(taken) == 1 else "es", shown))

    # ---- confirming --------------------------------------------------------------------------------

    def suspicious(self, warnings):
        return any(marker in warning.lower() for warning in warnings for marker in NOTHING_DONE)

    def holds(self, change, read):
        wanted = change.after[0] if change.after else ""
        return read.value == wanted

    def still_missing(self, change, read):
        said = " ".join(change.warnings)
        return ("Set-Mailbox -%s was answered without error%s, but reading '%s' afterwards shows %s. Rerun the task; "
                "if it persists, check the mailbox in the Exchange admin center" % (
                    self.attribute, " (the service said: %s)" % said if said else "", change.target.identity,
                    "'%s'" % read.value if read.value else "no value"))

    # ---- what the result and the journal say --------------------------------------------------------

    def journal_fields(self):
        return {"kind": "custom_attribute", "attribute": self.attribute, "value": self.value}

    def result_fields(self):
        return {"attribute": self.attribute, "value": self.value}

    def diff_key(self):
        return self.attribute
