#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mailbox_info
short_description: Select Exchange Online mailboxes and read their permissions
version_added: 1.0.0
description:
  - Selects mailboxes by identity, by type, by an OPATH filter evaluated by Exchange, or by the membership of a group,
    like C(Get-Mailbox), and optionally reads their permissions like C(Get-MailboxPermission), who may send as them
    (C(Get-RecipientPermission)) and on their behalf (C(GrantSendOnBehalfTo)), and the permissions of their folders
    (C(Get-MailboxFolderPermission)).
  - Results are complete across pages, use snake_case keys and never contain raw API payloads.
  - A selection that matches nothing returns an empty list; an identity that does not exist fails the task unless
    O(missing) says otherwise.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes.info_module
options:
  identity:
    description:
      - Select these mailboxes, each by primary SMTP address, user principal name, alias, GUID or
        ExternalDirectoryObjectId. Group mailboxes are found too.
      - Mutually exclusive with O(filter) and O(member_of_group).
    type: list
    elements: str
  recipient_type_details:
    description:
      - Select mailboxes of these types, like C(-RecipientTypeDetails).
      - Without this option all mailboxes except Microsoft 365 group mailboxes are selected; add V(GroupMailbox) to
        include them.
      - Combined with O(identity) or O(member_of_group), keeps only mailboxes of these types.
    type: list
    elements: str
    choices: [DiscoveryMailbox, EquipmentMailbox, GroupMailbox, LinkedMailbox, LinkedRoomMailbox, RoomMailbox,
              SchedulingMailbox, SharedMailbox, TeamMailbox, UserMailbox]
  filter:
    description:
      - An OPATH filter evaluated by Exchange, like C(-Filter) of C(Get-Mailbox), for example
        V(Department -eq 'Legal' -and CustomAttribute1 -ne 'NoArchive').
      - Quote values with single quotes and double a quote inside a value (V(DisplayName -eq 'O''Brien')).
      - A filter with an unterminated quoted value fails the task before anything is sent; other syntax errors are
        reported by Exchange and fail the task with its reason.
    type: str
  member_of_group:
    description:
      - Select the mailboxes of the members of this group, nested groups included.
      - A distribution group, a security group (mail-enabled or not) or a Microsoft 365 group, by name, primary SMTP
        address or GUID.
    type: str
  result_size:
    description:
      - The most mailboxes to return, like C(-ResultSize); V(unlimited) or a positive number.
    type: str
    default: unlimited
  properties:
    description:
      - More Get-Mailbox properties to return, by their Exchange names (for example V(Department), V(SKUAssigned),
        V(WhenCreated)). They are returned under snake_case keys (V(department), V(sku_assigned), V(when_created)).
    type: list
    elements: str
    default: []
  include_permissions:
    description:
      - Read the permissions of each selected mailbox (one C(Get-MailboxPermission) per mailbox) and return them as
        RV(mailboxes[].permissions).
    type: bool
    default: false
  permission_user:
    description:
      - Read only the access control entries of this trustee (like C(-User) of C(Get-MailboxPermission)). Implies
        O(include_permissions=true).
      - Also limits O(include_send_as), O(include_send_on_behalf) and O(include_folder_permissions) to this trustee,
        which tells everything one user holds.
    type: str
  count_permissions:
    description:
      - Read the permissions of each selected mailbox and return how many explicit entries it holds as
        RV(mailboxes[].permission_count), the number Exchange counts against its limit of 500 access control entries.
      - Without O(include_permissions), the entries themselves are not returned, which keeps the result small for a
        whole tenant.
      - Cannot be combined with O(permission_user), which makes Exchange return only that trustee's entries.
    type: bool
    default: false
  include_inherited:
    description:
      - Return inherited access control entries too.
    type: bool
    default: false
  include_self:
    description:
      - Return the entries of C(NT AUTHORITY\SELF), which every mailbox has (in RV(mailboxes[].permissions) and
        RV(mailboxes[].send_as)).
    type: bool
    default: false
  include_send_as:
    description:
      - Read who may send as each selected mailbox (one C(Get-RecipientPermission) per mailbox) and return it as
        RV(mailboxes[].send_as).
      - With O(permission_user), only that trustee's entry.
    type: bool
    default: false
  include_send_on_behalf:
    description:
      - Return who may send on behalf of each selected mailbox (C(GrantSendOnBehalfTo)) as
        RV(mailboxes[].send_on_behalf). Read with the selection itself, at no extra cmdlet.
      - With O(permission_user), only that trustee (matched by its Name, never by a display name).
    type: bool
    default: false
  include_folder_permissions:
    description:
      - Read the permissions of these folders of each selected mailbox (one C(Get-MailboxFolderPermission) per mailbox
        and folder) and return them as RV(mailboxes[].folder_permissions), for example V([Calendar]) or
        V([Calendar, Inbox\\Projects]).
      - Folders are named by their path from the top of the mailbox. The default folders (V(Calendar), V(Inbox), ...)
        are found under their localized names too, at two more cmdlets for a mailbox where the name differs.
        A mailbox that does not have a folder returns no entries for it.
      - With O(permission_user), only that user's entry (Exchange matches the user; the rows name users by display
        name).
    type: list
    elements: str
  missing:
    description:
      - What to do when an identity of O(identity) does not exist.
      - V(fail) fails the task; V(warn) leaves it out with a warning; V(ignore) leaves it out.
      - An ambiguous identity always fails the task.
    type: str
    choices: [fail, warn, ignore]
    default: fail
  concurrency:
    description:
      - The most cmdlets kept in flight at once when reading many mailboxes.
    type: int
    default: 64
seealso:
  - module: m365.exchange.mailbox_permission
  - name: Get-Mailbox
    description: The cmdlet whose selection options this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/get-mailbox
"""

EXAMPLES = r"""
- name: All user and shared mailboxes of the tenant
  m365.exchange.mailbox_info:
    recipient_type_details: [UserMailbox, SharedMailbox]
  register: scope

- name: Show how many were found
  ansible.builtin.debug:
    msg: "{{ scope.mailboxes | length }} mailboxes"

- name: Mailboxes of the legal department, with their license flag
  m365.exchange.mailbox_info:
    filter: "Department -eq 'Legal'"
    properties: [SKUAssigned]

- name: Mailboxes of the members of a group, nested groups included
  m365.exchange.mailbox_info:
    member_of_group: finance@contoso.com

- name: Who has access to two shared mailboxes
  m365.exchange.mailbox_info:
    identity:
      - info@contoso.com
      - support@contoso.com
    include_permissions: true
  register: shared

- name: Where the archive account holds explicit access
  m365.exchange.mailbox_info:
    recipient_type_details: [UserMailbox, SharedMailbox]
    permission_user: archive.admin@contoso.com
  register: archive_access

- name: List the mailboxes with such access
  ansible.builtin.debug:
    msg: "{{ archive_access.mailboxes | selectattr('permissions') | map(attribute='primary_smtp_address') | list }}"

- name: Everything one user holds on the shared mailboxes (FullAccess and the like, SendAs, SendOnBehalf, calendar)
  m365.exchange.mailbox_info:
    recipient_type_details: [SharedMailbox]
    permission_user: former.assistant@contoso.com
    include_send_as: true
    include_send_on_behalf: true
    include_folder_permissions: [Calendar]
  register: holdings
"""

RETURN = r"""
mailboxes:
  description: The selected mailboxes.
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The mailbox's Exchange identity (its name).
      type: str
      sample: ceo
    display_name:
      description: The display name.
      type: str
      sample: Chief Executive
    alias:
      description: The alias.
      type: str
      sample: ceo
    user_principal_name:
      description: The user principal name.
      type: str
      sample: ceo@contoso.com
    primary_smtp_address:
      description: The primary SMTP address.
      type: str
      sample: ceo@contoso.com
    recipient_type_details:
      description: The mailbox type.
      type: str
      sample: UserMailbox
    external_directory_object_id:
      description: The Entra ID object ID.
      type: str
      sample: 3c2a1f50-5b1e-4a8e-9f0e-2f7c9d1b0a11
    guid:
      description: The Exchange object GUID.
      type: str
      sample: 9feb3a0c-1d2e-4f5a-8b7c-6d5e4f3a2b1c
    permissions:
      description:
        - The mailbox's access control entries, without inherited entries and C(NT AUTHORITY\SELF) unless asked.
      returned: when O(include_permissions=true) or O(permission_user) is set
      type: list
      elements: dict
      contains:
        user:
          description: The trustee as Exchange displays it (a UPN, a group name, or a SID for a deleted trustee).
          type: str
          sample: archive.admin@contoso.com
        user_sid:
          description: The trustee's security identifier.
          type: str
          sample: S-1-5-21-3623811015-3361044348-30300820-1013
        access_rights:
          description: The rights of the entry.
          type: list
          elements: str
          sample: [FullAccess]
        is_inherited:
          description: Whether the entry is inherited.
          type: bool
          sample: false
        deny:
          description: Whether the entry denies the rights.
          type: bool
          sample: false
        inheritance_type:
          description: The entry's inheritance type, when Exchange reports it.
          type: str
          sample: All
    send_as:
      description:
        - Who may send as the mailbox (C(Get-RecipientPermission)), without C(NT AUTHORITY\SELF) unless
          O(include_self=true).
      returned: when O(include_send_as=true)
      type: list
      elements: dict
      contains:
        trustee:
          description: The trustee as Exchange displays it (a UPN, a group name, or a SID for a deleted trustee).
          type: str
          sample: helpdesk@contoso.com
        trustee_sid:
          description: The trustee's security identifier; match trustees on it.
          type: str
          sample: S-1-5-21-3623811015-3361044348-30300820-1013
        access_rights:
          description: The rights of the entry.
          type: list
          elements: str
          sample: [SendAs]
        deny:
          description: Whether the entry denies SendAs (C(AccessControlType) V(Deny)).
          type: bool
          sample: false
    send_on_behalf:
      description: The delegates who may send on behalf of the mailbox (C(GrantSendOnBehalfTo)), by their Name.
      returned: when O(include_send_on_behalf=true)
      type: list
      elements: str
      sample: [helpdesk, archive.admin]
    folder_permissions:
      description: The entries of the folders of O(include_folder_permissions), Default and Anonymous included.
      returned: when O(include_folder_permissions) is set
      type: list
      elements: dict
      contains:
        folder:
          description: The folder as asked in O(include_folder_permissions).
          type: str
          sample: Calendar
        folder_path:
          description: The folder's path in this mailbox (a localized name for a default folder).
          type: str
          sample: Kalender
        user:
          description: The user as Exchange displays it (a display name, V(Default), V(Anonymous), or C(NT:S-1-5-21-...)
            for a user who is gone).
          type: str
          sample: Helpdesk
        access_rights:
          description: The role, or the granular rights when they are not exactly a role.
          type: list
          elements: str
          sample: [Editor]
        sharing_permission_flags:
          description: The calendar delegate flags.
          type: list
          elements: str
          sample: [Delegate]
    permission_count:
      description:
        - The mailbox's explicit (not inherited) access control entries, C(NT AUTHORITY\SELF) included.
        - Exchange refuses a new entry on a mailbox that holds 500.
      returned: when O(count_permissions=true)
      type: int
      sample: 3
missing:
  description: Identities of O(identity) that do not exist (with O(missing=warn) or O(missing=ignore)).
  returned: always
  type: list
  elements: str
  sample: [left.company@contoso.com]
api_stats:
  description: What the module sent to Exchange Online.
  returned: always
  type: dict
  sample: {"http_requests": 12, "batch_requests": 10, "cmdlets": 102, "throttled": 0, "retries": 0,
           "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._mailbox_info import (
    ARGUMENT_SPEC,
    MUTUALLY_EXCLUSIVE,
    run,
)
from ansible_collections.m365.exchange.plugins.module_utils._module import run_module


def main():
    run_module(ARGUMENT_SPEC, run, failure_result=dict(mailboxes=[]), mutually_exclusive=MUTUALLY_EXCLUSIVE,
               supports_check_mode=True)


if __name__ == "__main__":
    main()
