#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mailbox_folder_permission
short_description: Grant, change or remove a folder permission (calendar sharing, delegates) on many mailboxes
version_added: 1.0.0
description:
  - Ensures that a user has a given role on a folder of one mailbox or of many thousands of mailboxes in a single
    task, or no entry at all, like C(Add-MailboxFolderPermission), C(Set-MailboxFolderPermission) and
    C(Remove-MailboxFolderPermission) but idempotent. The calendar is the default folder.
  - The module reads the user's entry on the folder of every mailbox first (one C(Get-MailboxFolderPermission -User)
    per mailbox, so that Exchange matches the resolved user, never a display name two users may share). A user without
    an entry gets one (V(added)); an entry with another role or other sharing flags is changed in place (V(changed)),
    never doubled; with O(state=absent) the entry is removed. A second run reports no change and makes no write call.
  - The calendar is found whatever the mailbox's language. C(mailbox:\Calendar) does not exist in a German mailbox
    (C(Kalender)); when a default folder is not found under its English name, one C(Get-MailboxFolderStatistics
    -FolderScope) tells its name in that mailbox and the mailbox is read again under it. See the notes for the cost.
  - Every identity and the user are resolved before anything is changed. Unknown or ambiguous identities, a folder that
    a mailbox does not have (see O(missing) and O(unusable)), a user that cannot hold folder permissions (a distribution
    group, a Microsoft 365 group, a security group that is not mail-enabled), an unknown role and invalid option
    combinations fail the task with a list of every bad value.
  - Writes whose answer does not prove the change (a warning that nothing was modified, an entry that exists already,
    a change of the sharing flags) are followed by a read of that mailbox; the result reports what the tenant holds.
  - Check mode works like C(-WhatIf); the same plan is computed and returned, nothing is written.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.bulk
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes
options:
  folder:
    description:
      - The folder, by its path from the top of the mailbox, like the part after C(mailbox:\) of C(-Identity), for
        example V(Calendar), V(Inbox), V(Inbox\\Projects) (V(Inbox/Projects) is taken the same way). Folder names are not case
        sensitive.
      - The default folders (V(Calendar), V(Inbox), V(Contacts), V(Tasks), V(Notes), V(Sent Items), V(Deleted Items),
        V(Drafts), V(Junk Email), V(Outbox)), and folders under them, are found under their localized names too.
      - A mailbox that has no such folder is unusable (see O(unusable)).
    type: str
    default: Calendar
  user:
    description:
      - Whose entry, like C(-User).
      - A user with a mailbox, a mail user, or a mail-enabled security group, named by user principal name, primary SMTP
        address or GUID; or V(Default) (everyone in the organization without an entry of their own) or V(Anonymous)
        (unauthenticated users, for published calendars).
      - A distribution group, a Microsoft 365 group or a security group that is not mail-enabled fails the task before
        anything is changed.
      - With O(state=absent), a SID such as V(S-1-5-21-1234567890-1234567890-1234567890-1234) removes the entries of a
        user who is gone (Exchange shows them as C(NT:S-1-5-21-...)).
    type: str
    required: true
    aliases: [trustee]
  access_rights:
    description:
      - The entry's permission, like C(-AccessRights); required with O(state=present), not used with O(state=absent).
      - One role, V(Owner), V(PublishingEditor), V(Editor), V(PublishingAuthor), V(Author), V(NonEditingAuthor),
        V(Reviewer), V(Contributor), V(AvailabilityOnly) and V(LimitedDetails) (calendars only), or V(None);
        or granular rights, V(ReadItems), V(CreateItems), V(EditOwnedItems), V(DeleteOwnedItems), V(EditAllItems),
        V(DeleteAllItems), V(CreateSubfolders), V(FolderOwner), V(FolderContact), V(FolderVisible).
      - In any letter case, also several in one string (V(readitems, folderVisible)). A role cannot be combined with
        other names. Granular rights that are exactly a role are that role (V([ReadItems, FolderVisible]) is
        V(Reviewer)), as Exchange shows them.
      - An entry with other rights is changed to these (V(changed)).
    type: list
    elements: str
  sharing_permission_flags:
    description:
      - The calendar delegate flags of the entry, like C(-SharingPermissionFlags). V(Delegate) (the user receives meeting
        requests and responses for the mailbox) and V(CanViewPrivateItems) (with V(Delegate) only). Exchange allows them
        on calendars with the V(Editor) role only.
      - V([]) (or V([None])) means no flags; an entry with V(Delegate) is changed to have none.
      - When left out, the flags are not managed. An existing V(Editor) entry keeps its flags, a new entry gets none,
        and an entry changed to another role loses them (Exchange clears them).
    type: list
    elements: str
  send_notification_to_user:
    description:
      - Like C(-SendNotificationToUser). Send the user a sharing invitation when the entry is added or changed; for
        calendars with the roles V(AvailabilityOnly), V(LimitedDetails), V(Reviewer) and V(Editor).
      - Nothing is sent where the entry is already as wanted.
    type: bool
    default: false
  state:
    description:
      - V(present) adds the entry or changes it to O(access_rights) and O(sharing_permission_flags).
      - V(absent) removes the user's entry. V(Default) and V(Anonymous) cannot be removed, so they are set to V(None)
        instead (reported as V(removed)); that is the "no access" of those two.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Changes can take up to 60 minutes to become effective for the user.
  - Cost per mailbox. Reading is one C(Get-MailboxFolderPermission). A mailbox whose default folder has another name
    (a mailbox in another language) costs two more cmdlets, once per task (C(Get-MailboxFolderStatistics -FolderScope)
    and the read under the right name); a mailbox that does not exist costs the C(Get-MailboxFolderStatistics) too before
    it is classified. A change is one more cmdlet, and one more read where its answer does not prove it.
  - Exchange Online has been seen to answer a C(Set-MailboxFolderPermission) that should clear the V(Delegate) flag with
    success while the flag stays; the module reads such entries back and reports the mailbox as V(failed), with the way
    out, when the flag is still there after one more try.
  - With O(admin_api=v2), the four C(MailboxFolderPermission) cmdlets go to the MailboxFolderPermission endpoint of the
    Exchange Online Admin API v2.0 (the app needs V(Exchange.ManageAsAppV2) as well), except those for Microsoft 365
    group mailboxes (the endpoint has no C(-GroupMailbox)); the user is still resolved through InvokeCommand.
seealso:
  - module: m365.exchange.mailbox_send_on_behalf
  - module: m365.exchange.recipient_permission
  - module: m365.exchange.mailbox_info
  - name: Add-MailboxFolderPermission
    description: The cmdlet whose parameters this module follows, with the table of roles.
    link: https://learn.microsoft.com/powershell/module/exchange/add-mailboxfolderpermission
"""

EXAMPLES = r"""
- name: Let the assistant manage the executives' calendars as their delegate
  m365.exchange.mailbox_folder_permission:
    identity:
      - ceo@contoso.com
      - cfo@contoso.com
    user: assistant@contoso.com
    access_rights: [Editor]
    sharing_permission_flags: [Delegate]

- name: Every room calendar shows titles and locations to everyone (Default), whatever the mailbox's language
  m365.exchange.mailbox_folder_permission:
    identity: "{{ rooms.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: Default
    access_rights: [LimitedDetails]

- name: Give a team read access to a shared mailbox's project folder
  m365.exchange.mailbox_folder_permission:
    identity: projects@contoso.com
    folder: Inbox\Projects
    user: project-team@contoso.com
    access_rights: [Reviewer]

- name: Remove a departed user's calendar access everywhere (preview first)
  m365.exchange.mailbox_folder_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: former.assistant@contoso.com
    state: absent
    list_unchanged: false
  check_mode: true
  diff: true

- name: Stop sharing free/busy with the whole organization (Default is set to None)
  m365.exchange.mailbox_folder_permission:
    identity: ceo@contoso.com
    user: Default
    state: absent
"""

RETURN = r"""
summary:
  description:
    - How many mailboxes got each outcome (every key is always present). A mailbox named several ways counts once
      where Exchange names it (the user has an entry there).
  returned: always
  type: dict
  sample: {"added": 40, "removed": 0, "changed": 2, "unchanged": 7, "failed": 0, "skipped": 0, "gone": 0}
results:
  description:
    - One entry per mailbox, in the order the identities were given.
    - With O(list_unchanged=false), only the entries whose RV(results[].action) is not V(unchanged).
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The identity as given.
      type: str
      sample: ceo@contoso.com
    aliases:
      description: The other identities given for the same mailbox.
      type: list
      elements: str
      returned: when the mailbox was named more than once
      sample: [ceo]
    primary_smtp_address:
      description:
        - The mailbox's primary SMTP address when the module had to look it up (failures, skipped identities);
          otherwise V(null).
      type: str
      sample: null
    action:
      description:
        - V(added), V(changed) (another role or other flags), V(removed), V(unchanged), V(failed), V(skipped) or
          V(gone). In check mode, what would happen.
        - They are reported only when the tenant confirms the change where the answer of the write does not.
        - V(gone) (with O(state=absent)) means that the identity no longer has a mailbox.
      type: str
      sample: changed
    before:
      description:
        - The user's entry before the task, its role (or granular rights) followed by its sharing flags; V([]) when the
          user has no entry.
      type: list
      elements: str
      sample: [Editor, Delegate]
    after:
      description: The entry after the task (in check mode, as it would be), in the same form.
      type: list
      elements: str
      sample: [Reviewer]
    error:
      description: Why the mailbox failed, was skipped or is gone, in the service's words where it gave them.
      type: str
      returned: when RV(results[].action) is V(failed), V(skipped) or V(gone)
      sample: "mailbox 'info@contoso.com' (SharedMailbox) has no folder 'Inbox\\Archive 2019': ..."
trustee:
  description: The user as resolved in Exchange (for V(Default) and V(Anonymous), the name only).
  returned: success
  type: dict
  sample: {"given": "assistant@contoso.com", "name": "assistant@contoso.com",
           "guid": "5b1c7c1e-0c7e-4bbf-9b1c-3a0b9f1c2d3e", "sid": "S-1-5-21-2945127412-1848212957-3901842213-1105",
           "recipient_type_details": "UserMailbox"}
folder:
  description: The folder path the task used (each mailbox's localized name of a default folder is used for it).
  returned: success
  type: str
  sample: Calendar
api_stats:
  description: What the module sent to Exchange Online, for troubleshooting and capacity planning.
  returned: always
  type: dict
  sample: {"http_requests": 4, "batch_requests": 2, "cmdlets": 6, "throttled": 0, "retries": 0, "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._mailbox_folder_permission import ARGUMENT_SPEC, run
from ansible_collections.m365.exchange.plugins.module_utils._module import run_module


def main():
    run_module(ARGUMENT_SPEC, run, supports_check_mode=True)


if __name__ == "__main__":
    main()
