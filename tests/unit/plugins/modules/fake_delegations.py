# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake Exchange of fake_exchange.py with the other delegations: SendAs, GrantSendOnBehalfTo and folder
permissions (localized default folders included), answering as the live service does where the modules depend on
it: "already present" / "isn't present" / "no settings modified" answered with 200 and a warning, folder rows that
name the user by display name, an error (not an empty answer) for a -User read of a user without an entry."""

from ansible_collections.m365.exchange.plugins.module_utils._client import CommandResult
from ansible_collections.m365.exchange.plugins.module_utils._errors import InvalidParameterError, NotFoundError

from fake_exchange import SELF_SID, FakeExchange  # pylint: disable=import-error

CALENDAR_NAMES = {"en": "Calendar", "de": "Kalender", "fr": "Calendrier"}
INBOX_NAMES = {"en": "Inbox", "de": "Posteingang", "fr": "Boîte de réception"}
STORE_TASKS = "Microsoft.Exchange.Management.StoreTasks."
ROLE_RIGHTS = {
    "owner": "Owner", "editor": "Editor", "reviewer": "Reviewer", "author": "Author", "none": "None",
    "availabilityonly": "AvailabilityOnly", "limiteddetails": "LimitedDetails", "contributor": "Contributor",
    "publishingeditor": "PublishingEditor", "publishingauthor": "PublishingAuthor",
    "noneditingauthor": "NonEditingAuthor",
}


def task_error(cmdlet, identity, text, exception):
    return InvalidParameterError("%s '%s': the service rejected a parameter: %s" % (cmdlet, identity, text),
                                 cmdlet=cmdlet, identity=identity, status=400, error_type=STORE_TASKS + exception)


class FakeDelegations(FakeExchange):
    """FakeExchange plus SendAs, SendOnBehalf and folders."""

    def __init__(self):
        super().__init__()
        self.send_as = {}  # recipient name -> [SIDs]; missing: SELF on user objects
        self.send_on_behalf = {}  # mailbox name -> [GUIDs]
        self.language = {}  # mailbox name -> "en" (default), "de", "fr"
        self.extra_folders = {}  # mailbox name -> [paths under the root, with the localized names]
        self.folder_acl = {}  # (mailbox name, folder path lower case) -> [[principal, rights, flags]]
        self.display_names = {}  # recipient name -> display name (default: name title-cased)
        self.sticky_delegate = False  # Set-MailboxFolderPermission leaves the Delegate flag (a live report)

    # ---- the tenant -----------------------------------------------------------------------------

    def display(self, recipient):
        return self.display_names.get(recipient.name, recipient.name.title())

    def send_as_sids(self, recipient):
        if recipient.name in self.send_as:
            return self.send_as[recipient.name]
        return [SELF_SID] if not recipient.kind.endswith("Group") else []

    def folders(self, mailbox):
        language = self.language.get(mailbox.name, "en")
        names = [CALENDAR_NAMES[language], INBOX_NAMES[language]] + self.extra_folders.get(mailbox.name, [])
        return names

    def calendar(self, mailbox):
        return CALENDAR_NAMES[self.language.get(mailbox.name, "en")]

    def entries(self, mailbox, path):
        key = (mailbox.name, path.lower())
        if key not in self.folder_acl:
            is_calendar = path.lower() == self.calendar(mailbox).lower()
            self.folder_acl[key] = [["Default", "AvailabilityOnly" if is_calendar else "None", []],
                                    ["Anonymous", "None", []]]
        return self.folder_acl[key]

    def folder_entry(self, mailbox, path, principal):
        """[rights, flags] of a principal (a recipient, Default or Anonymous) on a folder, or None."""
        key = principal if isinstance(principal, str) else principal.sid
        for entry in self.entries(mailbox, path):
            if entry[0] == key:
                return [entry[1], list(entry[2])]
        return None

    def share(self, mailbox, path, principal, rights, flags=()):
        key = principal if isinstance(principal, str) else principal.sid
        entries = self.entries(mailbox, path)
        for entry in entries:
            if entry[0] == key:
                entry[1], entry[2] = rights, list(flags)
                return
        entries.append([key, rights, list(flags)])

    # ---- SendAs -------------------------------------------------------------------------------------

    def _send_as_row(self, recipient, sid):
        return {"Identity": recipient.name, "Trustee": self._display(sid), "AccessControlType": "Allow",
                "AccessRights": ["SendAs"], "TrusteeSidString": sid, "TrusteeWithPrimarySmtpAddress": ""}

    def _get_recipientpermission(self, parameters):
        recipient = self.find(parameters["Identity"])
        wanted = self._trustee_sid(parameters["Trustee"]) if "Trustee" in parameters else None
        return CommandResult([self._send_as_row(recipient, sid) for sid in self.send_as_sids(recipient)
                              if wanted is None or sid == wanted])

    def _add_recipientpermission(self, parameters):
        recipient = self.find(parameters["Identity"])
        sid = self._trustee_sid(parameters["Trustee"])
        current = self.send_as_sids(recipient)
        if sid in current:
            return CommandResult(warnings=["The appropriate access control entry is already present on the object "
                                           "\"%s\" for account \"%s\"." % (recipient.name, sid)])
        self.send_as[recipient.name] = current + [sid]
        return CommandResult([self._send_as_row(recipient, sid)])

    def _remove_recipientpermission(self, parameters):
        recipient = self.find(parameters["Identity"])
        sid = self._trustee_sid(parameters["Trustee"])
        current = self.send_as_sids(recipient)
        if sid not in current:
            return CommandResult(warnings=["Can't remove the access control entry on the object \"%s\" for account "
                                           "\"%s\" because the ACE isn't present." % (recipient.name, sid)])
        self.send_as[recipient.name] = [s for s in current if s != sid]
        return CommandResult()

    # ---- SendOnBehalf -------------------------------------------------------------------------------

    def _mailbox_row(self, recipient):
        row = super()._mailbox_row(recipient)
        names = []
        for guid in self.send_on_behalf.get(recipient.name, []):
            found = [r for r in self.recipients if r.guid == guid]
            if found:
                names.append(found[0].name)
        row["GrantSendOnBehalfTo"] = names
        row["DisplayName"] = self.display(recipient)
        return row

    def _set_mailbox(self, parameters):
        mailbox = self.find(parameters["Identity"], mailbox_only=True)
        value = parameters["GrantSendOnBehalfTo"]
        assert isinstance(value, dict) and value.get("@odata.type") == "#Exchange.GenericHashTable", value
        current = list(self.send_on_behalf.get(mailbox.name, []))
        wanted = list(current)
        for item in value.get("add", []):
            guid = self.find(item).guid
            if guid not in wanted:
                wanted.append(guid)
        for item in value.get("remove", []):
            guid = self.find(item).guid
            wanted = [g for g in wanted if g != guid]
        if wanted == current:
            return CommandResult(warnings=["The command completed successfully but no settings of '%s' have been "
                                           "modified." % mailbox.name])
        self.send_on_behalf[mailbox.name] = wanted
        return CommandResult()

    # ---- folders ------------------------------------------------------------------------------------

    def _folder(self, identity, parameters=None):
        mailbox_part, _sep, path = identity.partition(":\\")
        mailbox = self.find(mailbox_part, mailbox_only=True)
        if mailbox.kind == "GroupMailbox" and not (parameters or {}).get("GroupMailbox"):
            raise NotFoundError("'%s' couldn't be found" % mailbox_part)
        for name in self.folders(mailbox):
            if name.lower() == path.lower():
                return mailbox, name
        raise NotFoundError("The operation couldn't be performed because '%s' couldn't be found." % identity)

    def _principal(self, user):
        for special in ("Default", "Anonymous"):
            if str(user).lower() == special.lower():
                return special, special
        text = str(user)
        if text.upper().startswith("NT:"):
            text = text[3:]
        if text.upper().startswith("S-1-"):
            return text.upper(), "NT:" + text.upper()
        recipient = self.find(user)
        if recipient.kind in ("MailUniversalDistributionGroup", "GroupMailbox", "UniversalSecurityGroup"):
            raise InvalidParameterError("The user \"%s\" is either not valid SMTP address, or there is no matching "
                                        "information." % user, status=400)
        return recipient, self.display(recipient)

    def _folder_row(self, mailbox, path, principal, rights, flags):
        display = principal if isinstance(principal, str) and not principal.startswith("S-1-") else None
        if display is None:
            found = [r for r in self.recipients if r.sid == principal]
            display = self.display(found[0]) if found else "NT:" + principal
        return {"FolderName": path.split("\\")[-1], "User": display, "AccessRights": [rights] if isinstance(
            rights, str) else list(rights), "SharingPermissionFlags": ", ".join(flags) or None,
            "Identity": "%s:\\%s" % (mailbox.name, path)}

    def _key(self, principal):
        return principal if isinstance(principal, str) else principal.sid

    def _get_mailboxfolderpermission(self, parameters):
        mailbox, path = self._folder(parameters["Identity"], parameters)
        entries = self.entries(mailbox, path)
        if "User" in parameters:
            principal, display = self._principal(parameters["User"])
            entries = [e for e in entries if e[0] == self._key(principal)]
            if not entries:
                return task_error("Get-MailboxFolderPermission", parameters["Identity"],
                                  "There is no existing permission entry found for user: %s." % display,
                                  "UserNotFoundInPermissionEntryException")
        return CommandResult([self._folder_row(mailbox, path, e[0], e[1], e[2]) for e in entries])

    def _rights(self, names):
        names = list(names)
        if len(names) == 1 and names[0].lower() in ROLE_RIGHTS:
            return ROLE_RIGHTS[names[0].lower()]
        return names

    def _flags(self, parameters):
        value = parameters.get("SharingPermissionFlags") or []
        value = [value] if isinstance(value, str) else value
        return [flag for flag in value if flag != "None"]

    def _add_mailboxfolderpermission(self, parameters):
        mailbox, path = self._folder(parameters["Identity"], parameters)
        principal, display = self._principal(parameters["User"])
        if self.folder_entry(mailbox, path, principal) is not None:
            return task_error("Add-MailboxFolderPermission", parameters["Identity"],
                              "An existing permission entry was found for user: %s." % display,
                              "UserAlreadyExistsInPermissionEntryException")
        self.entries(mailbox, path).append([self._key(principal), self._rights(parameters["AccessRights"]),
                                            self._flags(parameters)])
        return CommandResult([{"Identity": "%s:\\%s" % (mailbox.name, path)}])

    def _set_mailboxfolderpermission(self, parameters):
        mailbox, path = self._folder(parameters["Identity"], parameters)
        principal, display = self._principal(parameters["User"])
        for entry in self.entries(mailbox, path):
            if entry[0] != self._key(principal):
                continue
            rights = self._rights(parameters["AccessRights"])
            if "SharingPermissionFlags" in parameters or "SendNotificationToUser" in parameters:
                flags = self._flags(parameters)
            else:
                flags = entry[2] if rights == "Editor" else []
            if self.sticky_delegate and "Delegate" in entry[2]:
                flags = sorted(set(flags) | {"Delegate"})
            if [rights, flags] == [entry[1], entry[2]]:
                return CommandResult(warnings=["The command completed successfully but no permissions of '%s' have "
                                               "been modified." % parameters["Identity"]])
            entry[1], entry[2] = rights, flags
            return CommandResult()
        return task_error("Set-MailboxFolderPermission", parameters["Identity"],
                          "There is no existing permission entry found for user: %s." % display,
                          "UserNotFoundInPermissionEntryException")

    def _remove_mailboxfolderpermission(self, parameters):
        mailbox, path = self._folder(parameters["Identity"], parameters)
        principal, display = self._principal(parameters["User"])
        entries = self.entries(mailbox, path)
        kept = [e for e in entries if e[0] != self._key(principal)]
        if len(kept) == len(entries):
            return task_error("Remove-MailboxFolderPermission", parameters["Identity"],
                              "There is no existing permission entry found for user: %s." % display,
                              "UserNotFoundInPermissionEntryException")
        entries[:] = kept
        return CommandResult()

    def _get_mailboxfolderstatistics(self, parameters):
        mailbox = self.find(parameters["Identity"], mailbox_only=True)
        if mailbox.kind == "GroupMailbox" and not parameters.get("GroupMailbox"):
            raise NotFoundError("'%s' couldn't be found" % parameters["Identity"])
        language = self.language.get(mailbox.name, "en")
        scope = parameters.get("FolderScope")
        top = {"Calendar": CALENDAR_NAMES[language], "Inbox": INBOX_NAMES[language]}.get(scope)
        if top is None:
            return CommandResult([])
        # user folders under the default folder come first: the module must pick the row by its FolderType
        rows = [{"Name": name.split("\\")[-1], "FolderPath": "/" + name.replace("\\", "/"), "FolderType": "User Created"}
                for name in self.folders(mailbox) if name.lower().startswith(top.lower() + "\\")]
        rows.append({"Name": top, "FolderPath": "/" + top, "FolderType": scope})
        return CommandResult(rows)
