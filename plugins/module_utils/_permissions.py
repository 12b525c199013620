# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Mailbox permissions: reading ACEs, resolving the trustee, planning and applying changes.

The trustee's ACEs are read with Get-MailboxPermission -User, so Exchange itself
matches the security principal (by SID); the display string in the `User`
column is never compared. One read per mailbox doubles as the check that the
identity exists, which keeps a grant at two cmdlets per changed mailbox and one
per unchanged mailbox.
"""

from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._errors import (
    AmbiguousIdentityError,
    ExchangeError,
    InvalidInputError,
    NotFoundError,
)
from ansible_collections.m365.exchange.plugins.module_utils._mailboxes import (
    GROUP_MAILBOX,
    MAILBOX_TYPES,
    classify_missing,
    identity_problem,
)
from ansible_collections.m365.exchange.plugins.module_utils._parsing import as_bool, as_names

ACCESS_RIGHTS = ("ChangeOwner", "ChangePermission", "DeleteItem", "ExternalAccount", "FullAccess", "ReadPermission")
INHERITANCE_TYPES = ("All", "Children", "Descendents", "None", "SelfAndChildren")
TRUSTEE_FORMS = ("a user with a mailbox, a mail user or a mail-enabled security group, named by user principal name, "
                 "primary SMTP address or GUID")
SELF_PRINCIPAL = "NT AUTHORITY\\SELF"
SELF_SID = "S-1-5-10"

TRUSTEE_PROPERTIES = ("Identity", "Name", "DisplayName", "PrimarySmtpAddress", "RecipientTypeDetails", "Guid",
                      "ExternalDirectoryObjectId")
REFUSED_TRUSTEES = {
    "MailUniversalDistributionGroup": "a distribution group, which is not a security principal; use a mail-enabled "
                                      "security group or grant its members",
    "MailNonUniversalGroup": "a non-universal distribution group, which is not a security principal; use a "
                             "mail-enabled security group",
    "DynamicDistributionGroup": "a dynamic distribution group, which is not a security principal",
    "RoomList": "a room list, which is not a security principal",
    "GroupMailbox": "a Microsoft 365 group, which cannot hold mailbox permissions; use a mail-enabled security group "
                    "or grant its members",
    "MailContact": "a mail contact, which is not a security principal",
    "PublicFolder": "a public folder, which is not a security principal",
}


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


class Trustee:
    """The user or group that gets (or loses) the rights, resolved once per task."""

    def __init__(self, given, row):
        self.given = given
        self.guid = row.get("Guid")
        self.name = row.get("PrimarySmtpAddress") or row.get("Name") or given
        self.recipient_type_details = row.get("RecipientTypeDetails")
        # The GUID is unique where a name or alias may not be.
        self.identity = self.guid or row.get("ExternalDirectoryObjectId") or given

    def to_dict(self):
        return {"given": self.given, "name": self.name, "guid": self.guid,
                "recipient_type_details": self.recipient_type_details}


def trustee_problem(user, option="user"):
    """Why the trustee cannot be looked up at all (empty or malformed), or None; checked before any request."""
    problem = identity_problem(user, option)
    if problem and problem.endswith(" is empty"):
        return "%s is empty: the trustee must be %s" % (option, TRUSTEE_FORMS)
    return problem


def resolve_trustee(client, user, option="user"):
    """Find the trustee, refusing principals Exchange would accept but that cannot work."""
    problem = trustee_problem(user, option)
    if problem:
        raise InvalidInputError(problem)
    user = user.strip()
    try:
        rows = client.invoke("Get-Recipient", {"Identity": user}, TRUSTEE_PROPERTIES).value
    except NotFoundError:
        raise _unusable_trustee(client, user, option)
    except AmbiguousIdentityError:
        raise InvalidInputError("%s '%s' matches several recipients; name the trustee by user principal name, primary "
                                "SMTP address or GUID" % (option, user))
    if len(rows) != 1:
        raise InvalidInputError("%s '%s' matches %d recipients; name the trustee by user principal name, primary SMTP "
                                "address or GUID" % (option, user, len(rows)))
    row = rows[0]
    refused = REFUSED_TRUSTEES.get(row.get("RecipientTypeDetails"))
    if refused:
        raise InvalidInputError("%s '%s' is %s. The trustee must be %s." % (option, user, refused, TRUSTEE_FORMS))
    return Trustee(user, row)


def _unusable_trustee(client, user, option):
    """Explain why a name that is not a recipient cannot be a trustee."""
    try:
        groups = client.invoke("Get-Group", {"Identity": user}, ("Name", "RecipientTypeDetails")).value
    except NotFoundError:
        groups = []
    except AmbiguousIdentityError:
        return InvalidInputError("%s '%s' matches several groups; use the group's GUID" % (option, user))
    if groups:
        return InvalidInputError(
            "%s '%s' is a security group that is not mail-enabled (%s). Exchange accepts such a group as trustee "
            "but the access does not work; mail-enable it or use a mail-enabled security group."
            % (option, user, groups[0].get("RecipientTypeDetails")))
    try:
        users = client.invoke("Get-User", {"Identity": user}, ("Name", "RecipientTypeDetails")).value
    except (NotFoundError, AmbiguousIdentityError):
        users = []
    if users:
        return InvalidInputError("%s '%s' exists but has no Exchange recipient (no mailbox, not a mail user); "
                                 "license it for Exchange Online first" % (option, user))
    return InvalidInputError("%s '%s' was not found: the trustee must be %s" % (option, user, TRUSTEE_FORMS))


class MailboxState:
    """One target mailbox: the trustee's ACEs on it, or why it could not be read."""

    __slots__ = ("identity", "group_mailbox", "primary_smtp_address", "aces", "problem", "missing", "error")

    def __init__(self, identity):
        self.identity = identity
        self.group_mailbox = False
        self.primary_smtp_address = None
        self.aces = None
        self.problem = None  # why the identity cannot be used (unknown, ambiguous, not a mailbox)
        self.missing = False  # the identity does not exist: the task's `missing` option decides
        self.error = None  # the read failed (after retries)

    def rights(self, deny, inheritance_type=None, inherited=False):
        """Rights the trustee holds through ACEs of this kind."""
        names = set()
        for ace in self.aces or []:
            if ace["is_inherited"] != inherited or ace["deny"] != deny:
                continue
            if inheritance_type and ace["inheritance_type"] and ace["inheritance_type"] != inheritance_type:
                continue
            names.update(ace["access_rights"])
        return names


def read_mailboxes(pipeline, trustee, identities):
    """Read the trustee's ACEs on every mailbox; group mailboxes are found and read with -GroupMailbox."""
    states = [MailboxState(identity) for identity in identities]
    results = pipeline.run([_read_command(state, trustee) for state in states], keep=permission_entries)
    not_found = []
    for state, result in zip(states, results):
        if isinstance(result, NotFoundError):
            not_found.append(state)
        else:
            _take_read(state, result)
    if not_found:
        group_mailboxes = _classify(pipeline, not_found)
        reads = pipeline.run([_read_command(s, trustee) for s in group_mailboxes], keep=permission_entries)
        for state, result in zip(group_mailboxes, reads):
            _take_read(state, result)
    return states


def _read_command(state, trustee):
    parameters = {"Identity": state.identity, "User": trustee.identity}
    if state.group_mailbox:
        parameters["GroupMailbox"] = True
    return Command("Get-MailboxPermission", parameters)


def _take_read(state, result):
    """Record a read: its entries (see permission_entries), or why the mailbox cannot be read."""
    if isinstance(result, NotFoundError):
        state.problem = "mailbox '%s' was not found" % state.identity
        state.missing = True
    elif isinstance(result, AmbiguousIdentityError):
        state.problem = "'%s' matches several mailboxes; use its primary SMTP address or GUID" % state.identity
    elif isinstance(result, ExchangeError):
        state.error = result
    else:
        state.aces = result


def _classify(pipeline, states):
    """Tell group mailboxes, other recipients and unknown names apart; return the group mailboxes."""
    group_mailboxes = []
    found = classify_missing(pipeline, [state.identity for state in states])
    for state in states:
        info = found[state.identity]
        if isinstance(info, ExchangeError):
            _take_read(state, info)
            continue
        kind = info.get("RecipientTypeDetails")
        state.primary_smtp_address = info.get("PrimarySmtpAddress")
        if kind == GROUP_MAILBOX:
            state.group_mailbox = True
            group_mailboxes.append(state)
        elif kind in MAILBOX_TYPES:
            state.problem = "mailbox '%s' (%s) cannot be read: Get-MailboxPermission does not find it" % (
                state.identity, kind)
        else:
            state.problem = "'%s' is a %s, not a mailbox" % (state.identity, kind or "recipient without mailbox")
    return group_mailboxes


class Change:
    """What to do on one mailbox."""

    __slots__ = ("state", "before", "after", "add", "remove", "inherited")

    def __init__(self, state, before, after, add=None, remove=None, inherited=None):
        self.state = state
        self.before = before
        self.after = after
        self.add = add or []
        self.remove = remove or []
        self.inherited = inherited or []

    @property
    def action(self):
        if self.add:
            return "added"
        if self.remove:
            return "removed"
        return "unchanged"


class PermissionRequest:
    """The desired state of one trustee's rights, as the task states it."""

    def __init__(self, trustee, access_rights, inheritance_type="All", automapping=None, deny=False, state="present"):
        self.trustee = trustee
        self.access_rights = sort_rights(access_rights)
        self.inheritance_type = inheritance_type
        self.automapping = automapping
        self.deny = deny
        self.state = state

    def plan(self, mailbox):
        before = sort_rights(mailbox.rights(self.deny))
        if self.state == "present":
            held = mailbox.rights(self.deny, self.inheritance_type)
            add = [right for right in self.access_rights if right not in held]
            return Change(mailbox, before, sort_rights(set(before) | set(add)), add=add)
        removals = []
        for ace in mailbox.aces or []:
            if ace["is_inherited"] or ace["deny"] != self.deny:
                continue
            rights = [right for right in ace["access_rights"] if right in self.access_rights]
            if rights:
                removals.append((rights, ace["inheritance_type"]))
        inherited = sorted(mailbox.rights(self.deny, inherited=True) & set(self.access_rights))
        after = sort_rights(set(before) - set(self.access_rights))
        return Change(mailbox, before, after, remove=removals, inherited=inherited)

    def write_commands(self, change):
        """The cmdlets that carry out one change: one Add, or one Remove per ACE."""
        base = {"Identity": change.state.identity, "User": self.trustee.identity}
        if self.deny:
            base["Deny"] = True
        if change.state.group_mailbox:
            base["GroupMailbox"] = True
        if change.add:
            parameters = dict(base, AccessRights=change.add, InheritanceType=self.inheritance_type)
            if self.automapping is not None and "FullAccess" in change.add:
                parameters["AutoMapping"] = self.automapping
            return [Command("Add-MailboxPermission", parameters)]
        commands = []
        for rights, inheritance_type in change.remove:
            parameters = dict(base, AccessRights=rights, Confirm=False)
            if inheritance_type:
                parameters["InheritanceType"] = inheritance_type
            commands.append(Command("Remove-MailboxPermission", parameters))
        return commands
