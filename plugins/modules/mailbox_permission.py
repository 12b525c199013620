#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mailbox_permission
short_description: Grant or revoke Exchange Online mailbox permissions (Add-MailboxPermission) on many mailboxes
version_added: 1.0.0
description:
  - Ensures that a trustee has, or has not, the given access rights on one mailbox or on many thousands of mailboxes
    in a single task, like C(Add-MailboxPermission) and C(Remove-MailboxPermission) but idempotent.
  - The module reads every mailbox's access control entries first (one C(Get-MailboxPermission) per mailbox) and
    matches the trustee's entries by SID; with O(state=present) it adds only the rights that are missing, with
    O(state=absent) it removes only explicit rights that exist. A second run reports no change and makes no write
    call.
  - Every identity and the trustee are resolved before anything is changed. Unknown or ambiguous identities (see
    O(missing) and O(unusable)), a trustee that cannot hold mailbox permissions, and invalid option combinations fail
    the task with a list of every bad value.
  - A write is reported as done only when the tenant confirms it. Exchange answers a C(Remove-MailboxPermission) that
    removed nothing with success and a warning (for example when the entry has another InheritanceType, which
    Exchange does not show); the module then reads the mailbox again, retries with the other InheritanceTypes, and
    reports the mailbox as V(failed), with the service's words, if the right is still there.
  - Check mode works like C(-WhatIf); the same plan is computed and returned, nothing is written.
  - Mailboxes are processed concurrently in C($batch) requests through one connection and one access token; the
    concurrency adapts to the throttling of the tenant.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.bulk
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes
options:
  user:
    description:
      - The trustee, like C(-User) of C(Add-MailboxPermission).
      - A user with a mailbox, a mail user, or a mail-enabled security group, named by user principal name, primary SMTP
        address or GUID.
      - A security group that is not mail-enabled, a distribution group or a Microsoft 365 group fails the task, because
        Exchange either refuses them or accepts them without the access working.
      - With O(state=absent), a SID such as V(S-1-5-21-1234567890-1234567890-1234567890-1234) removes the entries of an
        orphaned trustee (a deleted user whose entries are left on mailboxes, and count towards the limit of 500).
      - An empty value, or a malformed address, fails the task before anything is sent.
    type: str
    required: true
    aliases: [trustee]
  access_rights:
    description:
      - The rights, like C(-AccessRights), among V(ChangeOwner), V(ChangePermission), V(DeleteItem), V(ExternalAccount),
        V(FullAccess), V(ReadPermission).
      - Written as in PowerShell, in any letter case and also several in one string (V(fullaccess),
        V(FullAccess, ReadPermission)); a name that is not a right fails the task, naming it.
      - With O(state=present) these rights are added where missing; rights the trustee holds beyond them are kept.
      - With O(state=absent) these rights are removed where the trustee holds them explicitly.
    type: list
    elements: str
    default: [FullAccess]
  inheritance_type:
    description:
      - Like C(-InheritanceType) of C(Add-MailboxPermission). Used when rights are added.
    type: str
    choices: [All, Children, Descendents, None, SelfAndChildren]
    default: All
  automapping:
    description:
      - Like C(-AutoMapping). Whether Outlook opens the mailbox automatically for the trustee.
      - Sent only when set and only when FullAccess is added. Exchange defaults to V(true), which makes the Outlook of an
        archive or migration account try to open every mailbox; set V(false) for such accounts.
      - Exchange cannot report AutoMapping back, so an existing grant is not changed when this option differs from how
        it was granted; revoke and grant again to change it.
      - Only valid with O(access_rights=[FullAccess]) and O(state=present).
    type: bool
  deny:
    description:
      - Like C(-Deny). Manage deny entries instead of allow entries.
    type: bool
    default: false
  state:
    description:
      - V(present) adds the missing rights, V(absent) removes existing explicit rights.
      - Inherited rights cannot be removed from a mailbox; they are reported as a warning.
    type: str
    choices: [present, absent]
    default: present
  acl_limit:
    description:
      - What to do with mailboxes whose access control list is full (500 explicit entries), where Exchange refuses a
        new entry for the trustee. The read the module makes anyway counts the entries, so this costs no request.
      - V(fail) sends the grant and reports the mailbox as V(failed) with Exchange's refusal.
      - V(skip) sends nothing there and reports the mailbox as V(skipped) with the reason; the task does not fail for
        it.
      - V(stop) fails the task before any change when any mailbox of the task is at the limit, naming them.
      - A mailbox where the trustee already holds an entry of the same kind is not at the limit for it.
    type: str
    choices: [fail, skip, stop]
    default: fail
notes:
  - Changes can take up to 60 minutes to become effective for the trustee.
seealso:
  - module: m365.exchange.mailbox_info
  - name: Add-MailboxPermission
    description: The cmdlet whose parameters this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/add-mailboxpermission
"""

EXAMPLES = r"""
- name: Give the archive account FullAccess to one mailbox, without automapping
  m365.exchange.mailbox_permission:
    identity: ceo@contoso.com
    user: archive.admin@contoso.com
    access_rights: [FullAccess]
    automapping: false

- name: Find every user and shared mailbox
  m365.exchange.mailbox_info:
    recipient_type_details: [UserMailbox, SharedMailbox]
  register: scope

- name: Grant FullAccess on all of them in one task
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    automapping: false
  register: grant

- name: The same grant as a rerun that is safe at any time, listing only the mailboxes it changes
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    automapping: false
    list_unchanged: false
  register: regrant

- name: Give a mail-enabled security group read access to the shared mailboxes
  m365.exchange.mailbox_permission:
    identity:
      - info@contoso.com
      - support@contoso.com
    user: helpdesk-team@contoso.com
    access_rights: [FullAccess, ReadPermission]

- name: Preview a revoke (like -WhatIf) and show what would change
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    state: absent
  check_mode: true
  diff: true
  register: preview

- name: Revoke, skipping mailboxes deleted in the meantime
  m365.exchange.mailbox_permission:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: archive.admin@contoso.com
    state: absent
    missing: warn

- name: Connection settings once for every module of the collection
  module_defaults:
    group/m365.exchange.exchange:
      tenant: contoso.onmicrosoft.com
      client_id: "{{ exo_client_id }}"
      certificate_path: /etc/ansible/exo-automation.pfx
      certificate_password: "{{ exo_certificate_password }}"
  block:
    - name: Grant through the shared connection settings
      m365.exchange.mailbox_permission:
        identity: legal@contoso.com
        user: archive.admin@contoso.com
        automapping: false
"""

RETURN = r"""
summary:
  description:
    - How many mailboxes got each outcome (every key is always present). A mailbox named several ways counts once.
  returned: always
  type: dict
  sample: {"added": 4980, "removed": 0, "changed": 0, "unchanged": 17, "failed": 1, "skipped": 2, "gone": 0}
results:
  description:
    - One entry per mailbox, in the order the identities were given; other names of the same mailbox are in
      RV(results[].aliases).
    - With O(list_unchanged=false), only the entries whose RV(results[].action) is not V(unchanged).
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The identity as given (the first, when the mailbox was named several ways).
      type: str
      sample: ceo@contoso.com
    aliases:
      description: The other identities given for the same mailbox.
      type: list
      elements: str
      returned: when the mailbox was named more than once
      sample: [ceo, Morgan Chen]
    primary_smtp_address:
      description:
        - The mailbox's primary SMTP address when the module had to look the mailbox up (group mailboxes, failures);
          otherwise V(null), as the module addresses the mailbox by the identity given.
      type: str
      sample: null
    action:
      description:
        - V(added), V(removed), V(unchanged), V(failed), V(skipped) or V(gone). In check mode, what would happen.
        - V(added) and V(removed) are reported only when the tenant confirms the change (see the notes).
        - V(gone) (with O(state=absent)) means that the identity no longer has a mailbox (deleted, converted to a mail
          user), so no access is left on it; see O(missing).
      type: str
      sample: added
    before:
      description: The trustee's explicit rights of the managed kind (allow or deny) before the task.
      type: list
      elements: str
      sample: []
    after:
      description: The trustee's explicit rights after the task (in check mode, as they would be).
      type: list
      elements: str
      sample: [FullAccess]
    error:
      description: Why the mailbox failed, was skipped or is gone, in the service's words where it gave them.
      type: str
      returned: when RV(results[].action) is V(failed), V(skipped) or V(gone)
      sample: "Add-MailboxPermission 'full.acl@contoso.com': ... maximum allowed access control entries of 500 ..."
refused:
  description:
    - V(true) when the task failed before any change for a reason that concerns the task as a whole (identities that
      cannot be used while O(missing) or O(unusable) is V(fail), O(acl_limit=stop), a failed read with
      O(continue_on_error=false)). RV(results) then lists each mailbox with its planned action, none of which was
      carried out.
  returned: when the task was refused before any change
  type: bool
  sample: true
trustee:
  description: The trustee as resolved in Exchange.
  returned: success
  type: dict
  sample: {"given": "archive.admin@contoso.com", "name": "archive.admin@contoso.com",
           "guid": "5b1c7c1e-0c7e-4bbf-9b1c-3a0b9f1c2d3e", "sid": "S-1-5-21-2945127412-1848212957-3901842213-1105",
           "recipient_type_details": "UserMailbox"}
api_stats:
  description: What the module sent to Exchange Online, for troubleshooting and capacity planning.
  returned: always
  type: dict
  sample: {"http_requests": 1002, "batch_requests": 1000, "cmdlets": 9998, "throttled": 12, "retries": 12,
           "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._mailbox_permission import ARGUMENT_SPEC, run
from ansible_collections.m365.exchange.plugins.module_utils._module import run_module


def main():
    run_module(ARGUMENT_SPEC, run, supports_check_mode=True)


if __name__ == "__main__":
    main()
