# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Mailbox folder permissions (Get/Add/Set/Remove-MailboxFolderPermission): roles and rights, folder paths,
localized default folders, rows, and the folder-permission delegation of the bulk engine.

Reads: one Get-MailboxFolderPermission -Identity "<mailbox>:\\<folder>" -User <trustee> per mailbox. Folder
permission rows name the user by display name, which two recipients may share; with -User, Exchange matches the
resolved trustee itself (by its primary SMTP address), and answers "There is no existing permission entry found for
user" when the trustee has no entry: that answer is the read "no entry", not a failure.

Localized default folders: a German mailbox has "Kalender", not "Calendar", and "<mailbox>:\\Calendar" is not
found there. When the read of a default folder (Calendar, Inbox, Contacts, ...) finds nothing, one
Get-MailboxFolderStatistics -FolderScope <folder> tells its name in that mailbox (the row whose FolderType is the
folder's, not the first row: a user folder under the calendar is listed too), and the mailbox is read again under
that name. A mailbox whose default folder is not localized costs nothing more; one that is costs two more cmdlets
(the statistics and the repeated read); a mailbox that does not exist at all costs the statistics too before it is
classified.

An entry is one role (Owner ... AvailabilityOnly, None) or a set of granular rights, plus the calendar's sharing
flags (Delegate, CanViewPrivateItems). A different role for an existing entry is a Set (action `changed`), never a
second entry. The live Set-MailboxFolderPermission has been seen to leave the Delegate flag in place when it should
clear it: every write that changes the flags is read back.
"""

import re

from ansible_collections.m365.exchange.plugins.module_utils._admin_api import with_v2_hint
from ansible_collections.m365.exchange.plugins.module_utils._bulk import Change, Delegation
from ansible_collections.m365.exchange.plugins.module_utils._client import Command
from ansible_collections.m365.exchange.plugins.module_utils._parsing import as_names

# ---- roles, rights and flags ---------------------------------------------------------------------------------

READ, CREATE, EDIT_OWNED, DELETE_OWNED, EDIT_ALL, DELETE_ALL = 0x1, 0x2, 0x8, 0x10, 0x20, 0x40
CREATE_SUB, OWNER, CONTACT, VISIBLE, FREEBUSY, FREEBUSY_DETAILED = 0x80, 0x100, 0x200, 0x400, 0x800, 0x1000

RIGHTS = (("ReadItems", READ), ("CreateItems", CREATE), ("EditOwnedItems", EDIT_OWNED),
          ("DeleteOwnedItems", DELETE_OWNED), ("EditAllItems", EDIT_ALL), ("DeleteAllItems", DELETE_ALL),
          ("CreateSubfolders", CREATE_SUB), ("FolderOwner", OWNER), ("FolderContact", CONTACT),
          ("FolderVisible", VISIBLE))
# The roles of Add-MailboxFolderPermission and the rights each stands for (Microsoft's table); AvailabilityOnly and
# LimitedDetails are the free/busy rights of calendars, which have no granular names.
ROLES = (
    ("Owner", CREATE | CREATE_SUB | DELETE_ALL | DELETE_OWNED | EDIT_ALL | EDIT_OWNED | CONTACT | OWNER | VISIBLE
     | READ),
    ("PublishingEditor", CREATE | CREATE_SUB | DELETE_ALL | DELETE_OWNED | EDIT_ALL | EDIT_OWNED | VISIBLE | READ),
    ("Editor", CREATE | DELETE_ALL | DELETE_OWNED | EDIT_ALL | EDIT_OWNED | VISIBLE | READ),
    ("PublishingAuthor", CREATE | CREATE_SUB | DELETE_OWNED | EDIT_OWNED | VISIBLE | READ),
    ("Author", CREATE | DELETE_OWNED | EDIT_OWNED | VISIBLE | READ),
    ("NonEditingAuthor", CREATE | DELETE_OWNED | VISIBLE | READ),
    ("Reviewer", VISIBLE | READ),
    ("Contributor", CREATE | VISIBLE),
    ("AvailabilityOnly", FREEBUSY),
    ("LimitedDetails", FREEBUSY | FREEBUSY_DETAILED),
    ("None", 0),
)
ROLE_NAMES = tuple(name for name, _bits in ROLES)
RIGHT_NAMES = tuple(name for name, _bits in RIGHTS)
ACCESS_RIGHT_NAMES = ROLE_NAMES + RIGHT_NAMES
_BITS = dict((name.lower(), bits) for name, bits in ROLES + RIGHTS)
_ROLE_BY_BITS = dict((bits, name) for name, bits in ROLES)
EDITOR = "Editor"
NONE = "None"
NOTIFY_ROLES = ("AvailabilityOnly", "LimitedDetails", "Reviewer", "Editor")

DELEGATE = "Delegate"
CAN_VIEW_PRIVATE_ITEMS = "CanViewPrivateItems"
FLAG_NAMES = (DELEGATE, CAN_VIEW_PRIVATE_ITEMS)

SPECIAL_USERS = ("Default", "Anonymous")

# Warning of a Set-MailboxFolderPermission that changed nothing (answered 200): a read tells.
NOTHING_DONE = ("no permissions of", "have been modified")
NO_ENTRY_TYPE = "UserNotFoundInPermissionEntryException"
ENTRY_EXISTS_TYPE = "UserAlreadyExistsInPermissionEntryException"

# English name of a default folder (lower case) -> -FolderScope of Get-MailboxFolderStatistics, which is also the
# FolderType of its row.
DEFAULT_FOLDERS = {
    "calendar": "Calendar", "inbox": "Inbox", "contacts": "Contacts", "tasks": "Tasks", "notes": "Notes",
    "sent items": "SentItems", "deleted items": "DeletedItems", "drafts": "Drafts", "junk email": "JunkEmail",
    "outbox": "Outbox",
}
DEFAULT_FOLDER = "Calendar"
_SEPARATORS = re.compile(r"[\\/]+")
_CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def rights_bits(names):
    """The rights of names (roles or granular rights, any case) as bits; None when a name is unknown."""
    bits = 0
    for name in names:
        value = _BITS.get(str(name).strip().lower())
        if value is None:
            return None
        bits |= value
    return bits


def rights_shown(bits):
    """Rights as Get-MailboxFolderPermission shows them: the role whose rights are exactly these, else each right."""
    role = _ROLE_BY_BITS.get(bits)
    if role is not None:
        return [role]
    return [name for name, value in RIGHTS if bits & value] or [NONE]


def canonical_rights(names):
    """Names as Exchange spells them, in the order of the role table, without repeats."""
    known = dict((name.lower(), name) for name in ACCESS_RIGHT_NAMES)
    found = set(known.get(str(name).strip().lower(), str(name).strip()) for name in names)
    return [name for name in ACCESS_RIGHT_NAMES if name in found] + sorted(found - set(ACCESS_RIGHT_NAMES))


def flags_of(value):
    """SharingPermissionFlags from a row (null, "None", "Delegate, CanViewPrivateItems", a list) as a frozenset."""
    known = dict((name.lower(), name) for name in FLAG_NAMES)
    return frozenset(known.get(name.lower(), name) for name in as_names(value) if name.lower() != "none")


def sorted_flags(flags):
    return [name for name in FLAG_NAMES if name in flags] + sorted(set(flags) - set(FLAG_NAMES))


# ---- folder paths ------------------------------------------------------------------------------------------------

def folder_path(text):
    """(path with backslashes, problem): "Inbox/Projects", "\\Inbox\\Projects" and ":\\Calendar" are accepted."""
    if text is None or not str(text).strip():
        return None, "folder is empty: name a folder by its path from the top of the mailbox, such as Calendar or " \
                     "Inbox\\Projects"
    text = str(text).strip()
    if _CONTROL_CHARACTER.search(text):
        return None, "folder %r contains a control character" % text
    if text.startswith(":"):
        text = text[1:]
    segments = [segment.strip() for segment in _SEPARATORS.split(text) if segment.strip()]
    if not segments:
        return None, "folder '%s' names no folder: use a path such as Calendar or Inbox\\Projects" % text
    return "\\".join(segments), None


def default_folder_scope(path):
    """The -FolderScope of the default folder a path starts in (its English name), or None."""
    return DEFAULT_FOLDERS.get(path.split("\\", 1)[0].lower())


def located_path(path, rows, scope):
    """The path in a mailbox whose default folder has another name, from Get-MailboxFolderStatistics rows; None when
    the rows have no folder of that type."""
    for row in rows:
        if str(row.get("FolderType") or "").lower() == scope.lower() and row.get("Name"):
            rest = path.split("\\", 1)[1:]
            return "\\".join([row["Name"]] + rest)
    return None


def folder_identity(mailbox, path):
    return "%s:\\%s" % (mailbox, path)


def statistics_command(mailbox, scope, group_mailbox=False):
    parameters = {"Identity": mailbox, "FolderScope": scope}
    if group_mailbox:
        parameters["GroupMailbox"] = True
    return Command("Get-MailboxFolderStatistics", parameters, ("Name", "FolderPath", "FolderType"))


# ---- rows ------------------------------------------------------------------------------------------------------

def _user_text(value):
    if isinstance(value, dict):  # tolerate an object form of the user
        return value.get("DisplayName") or value.get("Name") or value.get("Identity") or ""
    return str(value or "")


def folder_entry(row):
    """A Get-MailboxFolderPermission row in the modules' shape."""
    identity = str(row.get("Identity") or "")
    return {
        "user": _user_text(row.get("User")),
        "access_rights": canonical_rights(as_names(row.get("AccessRights"))) or [NONE],
        "sharing_permission_flags": sorted_flags(flags_of(row.get("SharingPermissionFlags"))),
        "folder_name": row.get("FolderName"),
        "identity": identity or None,
    }


def mailbox_name_of(identity):
    """The mailbox's Name from a row's Identity "{Name}:\\{path}"."""
    if identity and ":\\" in identity:
        return identity.split(":\\", 1)[0]
    return None


def is_no_entry(error):
    return NO_ENTRY_TYPE in (error.error_type or "") or "no existing permission entry" in str(error).lower()


def is_entry_exists(error):
    return ENTRY_EXISTS_TYPE in (error.error_type or "") or "existing permission entry was found" in str(error).lower()


# ---- the delegation -------------------------------------------------------------------------------------------

class FolderUser:
    """The user of a folder entry: a resolved trustee, Default, Anonymous, or the SID of a user who is gone."""

    def __init__(self, trustee=None, special=None):
        self.trustee = trustee
        self.special = special

    @property
    def name(self):
        return self.special or self.trustee.name

    @property
    def parameter(self):
        """How the folder cmdlets' -User names it: Default/Anonymous, the SID, or the unique primary SMTP address."""
        if self.special:
            return self.special
        trustee = self.trustee
        if trustee.sid and trustee.recipient_type_details == "OrphanedSid":
            return trustee.sid
        return trustee.name if "@" in (trustee.name or "") else trustee.identity

    def to_dict(self):
        if self.special:
            return {"given": self.special, "name": self.special, "guid": None, "sid": None,
                    "recipient_type_details": self.special}
        return self.trustee.to_dict()


class Entry:
    """The user's entry on the folder, as read."""

    __slots__ = ("rights", "bits", "flags")

    def __init__(self, rights, flags):
        self.rights = rights
        self.bits = rights_bits(rights)
        self.flags = frozenset(flags)

    def same_rights(self, rights, bits):
        if self.bits is None or bits is None:  # a name this module does not know: compare the names
            return set(r.lower() for r in self.rights) == set(r.lower() for r in rights)
        return self.bits == bits

    def shown(self):
        return list(self.rights) + sorted_flags(self.flags)


class FolderRead:
    __slots__ = ("name", "entry")

    def __init__(self, name, entry):
        self.name = name
        self.entry = entry


class Expected:
    """What a read after the writes must show."""

    __slots__ = ("entry", "rights", "bits", "flags", "flags_change")

    def __init__(self, entry, rights=None, flags=frozenset(), flags_change=False):
        self.entry = entry  # False: no entry (removed)
        self.rights = rights
        self.bits = rights_bits(rights) if rights else None
        self.flags = frozenset(flags)
        self.flags_change = flags_change


class FolderPermission(Delegation):
    """Grant, change or remove one user's entry on a folder of many mailboxes."""

    def __init__(self, user, folder, access_rights=None, flags=None, notify=False, state="present", v2=False):
        self.user = user
        self.folder = folder  # a path with backslashes
        self.rights = rights_shown(rights_bits(access_rights)) if access_rights else None
        self.bits = rights_bits(self.rights) if self.rights else None
        self.flags = None if flags is None else frozenset(flags)  # None: the flags are not managed
        self.notify = notify
        self.state = state
        self.v2 = v2
        self.scope = default_folder_scope(folder)
        self._paths = {}  # mailbox (lower case) -> the folder's path there, when it differs

    # ---- reading ---------------------------------------------------------------------------------

    def path(self, target):
        return self._paths.get(target.identity.lower(), self.folder)

    def _identity(self, target):
        return folder_identity(target.identity, self.path(target))

    def _parameters(self, target, **more):
        parameters = {"Identity": self._identity(target), "User": self.user.parameter}
        parameters.update(more)
        if target.group_mailbox:
            parameters["GroupMailbox"] = True
        return parameters

    def read_command(self, target):
        return Command("Get-MailboxFolderPermission", self._parameters(target))

    def keep(self, result):
        for row in result.value:
            entry = folder_entry(row)
            return FolderRead(mailbox_name_of(entry["identity"]),
                              Entry(entry["access_rights"], entry["sharing_permission_flags"]))
        return FolderRead(None, None)

    def read_error(self, target, error):
        if is_no_entry(error):
            return FolderRead(None, None)
        return with_v2_hint(error) if self.v2 else error

    def mailbox_key(self, read):
        return read.name.lower() if read.name else None

    def locate_command(self, target):
        if self.scope is None or target.identity.lower() in self._paths:
            return None
        return statistics_command(target.identity, self.scope, target.group_mailbox)

    def located(self, target, result):
        path = located_path(self.folder, result.value, self.scope)
        if path is None:
            return "mailbox '%s' has no %s folder: Get-MailboxFolderStatistics -FolderScope %s finds none" % (
                target.identity, self.scope, self.scope)
        self._paths[target.identity.lower()] = path
        return True

    def not_readable(self, target, kind):
        return ("mailbox '%s' (%s) has no folder '%s': name the folder by its path from the top of the mailbox, such "
                "as Calendar or Inbox\\Projects (default folders are found under their localized names too)" % (
                    target.identity, kind, self.path(target)))

    # ---- planning --------------------------------------------------------------------------------

    def plan(self, target):
        entry = target.read.entry
        before = entry.shown() if entry else []
        if self.state == "absent":
            return self._plan_absent(target, entry, before)
        if entry is None:
            flags = self.flags or frozenset()
            return Change(target, before, self.rights + sorted_flags(flags), "added", [self._add(target)],
                          data=Expected(True, self.rights, flags, bool(flags)))
        flags = self._flags_after(entry)
        if entry.same_rights(self.rights, self.bits) and entry.flags == flags:
            return Change(target, before, before, "unchanged")
        return Change(target, before, self.rights + sorted_flags(flags), "changed", [self._set(target, entry)],
                      data=Expected(True, self.rights, flags, flags != entry.flags))

    def _plan_absent(self, target, entry, before):
        if self.user.special:
            if entry is None or entry.same_rights([NONE], 0):
                return Change(target, before, before, "unchanged")
            return Change(target, before, [NONE], "removed", [self._set_none(target)],
                          data=Expected(True, [NONE], frozenset(), bool(entry.flags)))
        if entry is None:
            return Change(target, before, before, "unchanged")
        return Change(target, before, [], "removed", [self._remove(target)], data=Expected(False))

    def _flags_after(self, entry):
        """The flags the entry has after the task: as given, else kept where the role stays Editor."""
        if self.flags is not None:
            return self.flags
        return entry.flags if self.rights == [EDITOR] else frozenset()

    def _add(self, target):
        more = {"AccessRights": list(self.rights)}
        if self.flags:
            more["SharingPermissionFlags"] = sorted_flags(self.flags)
        if self.notify:
            more["SendNotificationToUser"] = True
        # an entry that exists is refused; settled_by_read lets a read decide, so a resend is harmless
        return Command("Add-MailboxFolderPermission", self._parameters(target, **more), retry_safe=True)

    def _set(self, target, entry, again=False):
        more = {"AccessRights": list(self.rights)}
        flags = self._flags_after(entry)
        # Either parameter resets the flags to what it gives: send the flags whenever one of them goes out (and
        # when a Set is sent again because the flags did not come out as wanted).
        if self.flags is not None or (self.notify and flags) or (again and self.rights == [EDITOR]):
            more["SharingPermissionFlags"] = sorted_flags(flags) or NONE
        if self.notify:
            more["SendNotificationToUser"] = True
        return Command("Set-MailboxFolderPermission", self._parameters(target, **more), retry_safe=True)

    def _set_none(self, target):
        return Command("Set-MailboxFolderPermission", self._parameters(target, AccessRights=[NONE]), retry_safe=True)

    def _remove(self, target):
        return Command("Remove-MailboxFolderPermission", self._parameters(target, Confirm=False), retry_safe=True)

    # ---- confirming --------------------------------------------------------------------------------

    def suspicious(self, warnings):
        return any(marker in warning.lower() for warning in warnings for marker in NOTHING_DONE)

    def unproven(self, change):
        return bool(change.data and change.data.flags_change)

    def settled_by_read(self, change, error):
        return is_entry_exists(error) or is_no_entry(error)

    def holds(self, change, read):
        expected = change.data
        entry = read.entry
        if not expected.entry:
            return entry is None
        return entry is not None and entry.same_rights(expected.rights, expected.bits) and entry.flags == expected.flags

    def retry_commands(self, change, read):
        """One more write from what the read shows: a Set where an Add met an existing entry (another role), an Add
        where the entry went away, the same Set where the flags did not change."""
        target, entry = change.target, read.entry
        if self.state == "absent":
            if self.user.special:
                return [self._set_none(target)]
            return [self._remove(target)] if entry is not None else []
        if entry is None:
            return [self._add(target)]
        return [self._set(target, entry, again=True)]

    def still_missing(self, change, read):
        said = " ".join(change.warnings)
        shown = ", ".join(read.entry.shown()) if read.entry else "no entry"
        message = ("the writes were answered without error%s, but reading '%s' afterwards shows %s for %s (wanted: %s)" % (
            " (the service said: %s)" % said if said else "", self._identity(change.target), shown, self.user.name,
            ", ".join(change.after) or "no entry"))
        if change.data and change.data.flags_change:
            message += (". Exchange Online has been seen to keep the Delegate flag after Set-MailboxFolderPermission: "
                        "remove the entry (state=absent) and grant it again")
        return message + ". Rerun the task; if it persists, check the folder's permissions in Outlook"

    def after_write_error(self, change, error):
        if self.v2:
            with_v2_hint(error)
        return "failed"

    # ---- what the result and the journal say --------------------------------------------------------

    def journal_fields(self):
        fields = {"kind": "folder", "folder": self.folder, "trustee": self.user.name}
        if self.user.trustee is not None and self.user.trustee.guid:
            fields["trustee_guid"] = self.user.trustee.guid
        return fields

    def result_fields(self):
        return {"trustee": self.user.to_dict(), "folder": self.folder}

    def diff_key(self):
        return "%s on %s" % (self.user.name, self.folder)
