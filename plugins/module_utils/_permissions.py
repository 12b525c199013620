# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Mailbox permissions (Get/Add/Remove-MailboxPermission): rows, and the FullAccess delegation of the bulk engine.

One read per mailbox (Get-MailboxPermission -Identity, all entries) serves everything the plan needs: the
trustee's entries (matched on UserSid), the mailbox's name (two names of one mailbox are one mailbox), and the
number of explicit entries (the limit of 500 is known before writing). A grant therefore costs two cmdlets per
changed mailbox and one per unchanged mailbox. When the service does not tell the trustee's SID, the read falls
back to -User, where Exchange matches the trustee itself.
"""

from ansible_collections.m365.exchange.plugins.module_utils._bulk import Change, TrusteeDelegation
from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._errors import AclLimitError
from ansible_collections.m365.exchange.plugins.module_utils._parsing import as_bool, as_names

ACCESS_RIGHTS = ("ChangeOwner", "ChangePermission", "DeleteItem", "ExternalAccount", "FullAccess", "ReadPermission")
INHERITANCE_TYPES = ("All", "Children", "Descendents", "None", "SelfAndChildren")
DEFAULT_INHERITANCE = "All"  # what Exchange uses when -InheritanceType is left out
ACL_LIMIT = 500
SELF_PRINCIPAL = "NT AUTHORITY\\SELF"
SELF_SID = "S-1-5-10"

# Warnings of writes that did nothing (the service still answers 200): only a read tells what the tenant holds.
NOTHING_DONE = ("doesn't exist on the object", "does not exist on the object", "already present",
                "inherited access control entry")

_RIGHTS_ORDER = dict((name.lower(), index) for index, name in enumerate(ACCESS_RIGHTS))


def _rights_key(name):
    return _RIGHTS_ORDER.get(name.lower(), len(_RIGHTS_ORDER)), name


def sort_rights(rights):
    return sorted(set(rights), key=_rights_key)


def permission_entry(row):
    """A Get-MailboxPermission row in the module's shape; tolerant of every known variant."""
    return {
        "user": row.get("User"),
        "user_sid": row.get("UserSid") or None,
        "access_rights": sort_rights(as_names(row.get("AccessRights"))),
        "is_inherited": as_bool(row.get("IsInherited")),
        "deny": as_bool(row.get("Deny")),
        "inheritance_type": row.get("InheritanceType") or None,
    }


def permission_entries(result):
    """A Get-MailboxPermission result's rows as entries; a `keep` for Pipeline.run, so that the pipeline's
    workers make them while other reads are on the wire."""
    return [permission_entry(row) for row in result.value]


def is_self(entry):
    return entry["user_sid"] == SELF_SID or (entry["user"] or "").upper() == SELF_PRINCIPAL


def visible_permissions(entries, include_inherited=False, include_self=False):
    return [e for e in entries if (include_inherited or not e["is_inherited"]) and (include_self or not is_self(e))]


class AclRead:
    """What the plan needs of one Get-MailboxPermission read."""

    __slots__ = ("name", "aces", "explicit")

    def __init__(self, name, aces, explicit):
        self.name = name  # the mailbox's Name, as the rows' Identity gives it (unique in the tenant)
        self.aces = aces  # the trustee's entries
        self.explicit = explicit  # distinct explicit entries of every trustee; None when the read was filtered

    def rights(self, deny, inherited=False, inheritance_type=None):
        """Rights the trustee holds through entries of this kind."""
        names = set()
        for ace in self.aces:
            if ace["is_inherited"] != inherited or ace["deny"] != deny:
                continue
            if inheritance_type and ace["inheritance_type"] and ace["inheritance_type"] != inheritance_type:
                continue
            names.update(ace["access_rights"])
        return names


class MailboxPermission(TrusteeDelegation):
    """Grant or revoke one trustee's mailbox rights (allow or deny) on a mailbox."""

    def __init__(self, trustee, access_rights, inheritance_type=DEFAULT_INHERITANCE, automapping=None, deny=False,
                 state="present", acl_limit="fail"):
        self.trustee = trustee
        self.access_rights = sort_rights(access_rights)
        self.inheritance_type = inheritance_type
        self.automapping = automapping
        self.deny = deny
        self.state = state
        self.acl_limit = acl_limit
        self.filtered = trustee.sid is None  # without the SID, Exchange matches the trustee (-User)

    # ---- reading ---------------------------------------------------------------------------------

    def read_command(self, target):
        parameters = {"Identity": target.identity}
        if self.filtered:
            parameters["User"] = self.trustee.identity
        if target.group_mailbox:
            parameters["GroupMailbox"] = True
        return Command("Get-MailboxPermission", parameters)

    def keep(self, result):
        name = None
        aces = []
        explicit = set()
        sid = self.trustee.sid
        for row in result.value:
            name = name or row.get("Identity")
            entry = permission_entry(row)
            if not entry["is_inherited"]:
                explicit.add((entry["user_sid"] or entry["user"], entry["deny"], entry["inheritance_type"],
                              tuple(entry["access_rights"])))
            if self.filtered or (entry["user_sid"] and entry["user_sid"].upper() == sid):
                aces.append(entry)
        return AclRead(name, aces, None if self.filtered else len(explicit))

    def mailbox_key(self, read):
        return read.name.lower() if read.name else None

    # ---- planning --------------------------------------------------------------------------------

    def plan(self, target):
        read = target.read
        before = sort_rights(read.rights(self.deny))
        if self.state == "present":
            return self._plan_grant(target, read, before)
        removals = []
        for ace in read.aces:
            if ace["is_inherited"] or ace["deny"] != self.deny:
                continue
            rights = [right for right in ace["access_rights"] if right in self.access_rights]
            if rights:
                removals.append((rights, ace["inheritance_type"]))
        after = sort_rights(set(before) - set(self.access_rights))
        commands = [self._remove(target, rights, inheritance) for rights, inheritance in removals]
        return Change(target, before, after, "removed" if commands else "unchanged", commands)

    def _plan_grant(self, target, read, before):
        held = read.rights(self.deny, inheritance_type=self.inheritance_type)
        add = [right for right in self.access_rights if right not in held]
        if not add:
            return Change(target, before, before, "unchanged")
        after = sort_rights(set(before) | set(add))
        change = Change(target, before, after, "added", [self._add(target, add)])
        if self.acl_limit != "fail" and self._at_limit(read):
            change.action = "skipped"
            change.error = self._limit_message(target, read)
            change.data = "acl_limit"
        return change

    def _at_limit(self, read):
        """Whether Exchange will refuse a new entry: the list is full and no entry of this kind can take the rights."""
        if read.explicit is None or read.explicit < ACL_LIMIT:
            return False
        return not any(not ace["is_inherited"] and ace["deny"] == self.deny and
                       ace["inheritance_type"] in (None, self.inheritance_type) for ace in read.aces)

    def _limit_message(self, target, read):
        return ("mailbox '%s' holds %d explicit access control entries, the limit is %d: Exchange refuses a new entry "
                "for %s. Remove stale entries (for example orphaned S-1-5-21-... trustees: user=<SID>, "
                "state=absent)" % (target.identity, read.explicit, ACL_LIMIT, self.trustee.name))

    def refuse(self, changes):
        if self.acl_limit != "stop":
            return None
        full = [change for change in changes if change.data == "acl_limit"]
        if not full:
            return None
        return ("%d mailboxes are at the limit of %d access control entries and acl_limit is stop: %s. Remove stale "
                "entries from them (for example orphaned S-1-5-21-... trustees), leave them out of identity, or use "
                "acl_limit=skip" % (len(full), ACL_LIMIT, ", ".join(c.target.identity for c in full[:20])))

    def _base(self, target):
        parameters = {"Identity": target.identity, "User": self.trustee.identity}
        if self.deny:
            parameters["Deny"] = True
        if target.group_mailbox:
            parameters["GroupMailbox"] = True
        return parameters

    def _add(self, target, rights):
        parameters = dict(self._base(target), AccessRights=rights, InheritanceType=self.inheritance_type)
        if self.automapping is not None and "FullAccess" in rights:
            parameters["AutoMapping"] = self.automapping
        return Command("Add-MailboxPermission", parameters)

    def _remove(self, target, rights, inheritance_type=None):
        parameters = dict(self._base(target), AccessRights=rights, Confirm=False)
        if inheritance_type:
            parameters["InheritanceType"] = inheritance_type
        return Command("Remove-MailboxPermission", parameters)

    def warnings(self, change):
        read = change.target.read
        notes = []
        inherited = sorted(read.rights(self.deny, inherited=True) & set(self.access_rights))
        if inherited and self.state == "absent":
            notes.append("%s holds %s on mailbox '%s' by inheritance; inherited rights cannot be removed on the mailbox"
                         % (self.trustee.name, ", ".join(inherited), change.target.identity))
        if self.state == "present" and not self.deny:
            denied = sorted((read.rights(True) | read.rights(True, inherited=True)) & set(self.access_rights))
            if denied:
                notes.append("%s holds a Deny entry for %s on mailbox '%s': Deny overrides the allow this task grants, "
                             "so the access will not work until the Deny is removed (deny=true, state=absent)" % (
                                 self.trustee.name, ", ".join(denied), change.target.identity))
            if self.trustee.object_name and read.name and read.name.lower() == self.trustee.object_name.lower():
                notes.append("mailbox '%s' is the trustee's own mailbox: %s has full access to it already; the entry "
                             "granted there changes nothing" % (change.target.identity, self.trustee.name))
        return notes

    # ---- confirming --------------------------------------------------------------------------------

    def suspicious(self, warnings):
        return any(marker in warning.lower() for warning in warnings for marker in NOTHING_DONE)

    def holds(self, change, read):
        if self.state == "present":
            return set(self.access_rights) <= read.rights(self.deny, inheritance_type=self.inheritance_type)
        return not read.rights(self.deny) & set(self.access_rights)

    def retry_commands(self, change, read):
        """A Remove answered "the ACE doesn't exist" while the entry is still there: the entry has another
        InheritanceType than the one sent (live rows do not show it). Try the others."""
        if self.state != "absent":
            return []
        commands = []
        for ace in read.aces:
            if ace["is_inherited"] or ace["deny"] != self.deny:
                continue
            rights = [right for right in ace["access_rights"] if right in self.access_rights]
            if not rights:
                continue
            tried = ace["inheritance_type"] or DEFAULT_INHERITANCE
            for inheritance in INHERITANCE_TYPES:
                if inheritance != tried:
                    commands.append(self._remove(change.target, rights, inheritance))
        return commands

    def still_missing(self, change, read):
        said = " ".join(change.warnings)
        if self.state == "absent":
            held = sort_rights(read.rights(self.deny) & set(self.access_rights))
            return ("Remove-MailboxPermission was answered without error%s, but %s still holds %s on '%s' after a "
                    "Remove with every InheritanceType (%s). Remove the entry in the Exchange admin center or with "
                    "Remove-MailboxPermission, then rerun the task" % (
                        " (the service said: %s)" % said if said else "", self.trustee.name, ", ".join(held),
                        change.target.identity, ", ".join(INHERITANCE_TYPES)))
        return ("Add-MailboxPermission was answered without error%s, but reading '%s' afterwards does not show %s for "
                "%s. Rerun the task; if it persists, check the mailbox in the Exchange admin center" % (
                    " (the service said: %s)" % said if said else "", change.target.identity,
                    ", ".join(self.access_rights), self.trustee.name))

    def after_write_error(self, change, error):
        if isinstance(error, AclLimitError) and self.acl_limit == "skip":
            return "skipped"
        return "failed"
