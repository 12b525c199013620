#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: recipient_permission
short_description: Grant or revoke SendAs (Add-RecipientPermission) on many Exchange Online recipients
version_added: 1.0.0
description:
  - Ensures that a trustee has, or has not, the SendAs permission on one recipient or on many thousands of recipients
    in a single task, like C(Add-RecipientPermission) and C(Remove-RecipientPermission) but idempotent.
  - The module reads every recipient's SendAs entries first (one C(Get-RecipientPermission) per recipient) and matches
    the trustee's entry by its SID (C(TrusteeSidString)), never by the display string in C(Trustee). With
    O(state=present) it adds SendAs where it is missing, with O(state=absent) it removes it where it exists. A second
    run reports no change and makes no write call.
  - Every identity and the trustee are resolved before anything is changed. Unknown or ambiguous identities (see
    O(missing) and O(unusable)), a trustee that cannot hold SendAs (a distribution group, a Microsoft 365 group, a
    security group that is not mail-enabled), and invalid options fail the task with a list of every bad value.
  - Exchange answers an C(Add-RecipientPermission) of an entry that exists, and a C(Remove-RecipientPermission) of one
    that does not, with success and a warning; the module then reads the recipient again and reports what the tenant
    holds.
  - Check mode works like C(-WhatIf); the same plan is computed and returned, nothing is written.
  - Recipients are processed concurrently in C($batch) requests through one connection and one access token.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.bulk
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes
options:
  identity:
    description:
      - The recipients, like C(-Identity) of C(Add-RecipientPermission). Mailboxes of every type, mail users, and
        mail-enabled groups (SendAs on a distribution group lets the trustee send as the group).
      - Each item is a primary SMTP address, user principal name, alias, GUID or ExternalDirectoryObjectId. Primary SMTP
        addresses and GUIDs are unique; an alias or a name may match several recipients (see O(unusable)).
      - Repeats are processed once, also when they are different names of one recipient (the recipient's own name, as
        Exchange reports it, tells); RV(results[].aliases) lists the other names.
      - An empty item fails the task; it is never sent, because an empty identity makes Exchange return every
        recipient. A malformed address fails the task before anything is sent.
    type: list
    elements: str
    required: true
    aliases: [mailbox]
  user:
    description:
      - The trustee, like C(-Trustee) of C(Add-RecipientPermission).
      - A user with a mailbox, a mail user, or a mail-enabled security group, named by user principal name, primary SMTP
        address or GUID.
      - A distribution group, a Microsoft 365 group or a security group that is not mail-enabled fails the task before
        anything is changed, because SendAs can only be granted to a security principal.
      - With O(state=absent), a SID such as V(S-1-5-21-1234567890-1234567890-1234567890-1234) removes the SendAs of an
        orphaned trustee (a deleted user whose entry is left on recipients).
    type: str
    required: true
    aliases: [trustee]
  access_rights:
    description:
      - The rights, like C(-AccessRights). V(SendAs) is the only right of recipient permissions; any letter case.
    type: list
    elements: str
    default: [SendAs]
  state:
    description:
      - V(present) adds SendAs where it is missing, V(absent) removes it where the trustee holds it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Changes can take up to 60 minutes to become effective for the trustee.
  - Reading costs one C(Get-RecipientPermission) per recipient; a change one more cmdlet per changed recipient, and one
    more read where Exchange's answer does not prove the change.
  - SendAs has no endpoint in the Exchange Online Admin API v2.0; this module always uses InvokeCommand (see
    O(admin_api)).
seealso:
  - module: m365.exchange.mailbox_send_on_behalf
  - module: m365.exchange.mailbox_permission
  - module: m365.exchange.mailbox_info
  - name: Add-RecipientPermission
    description: The cmdlet whose parameters this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/add-recipientpermission
"""

EXAMPLES = r"""
- name: Let the help desk send as two shared mailboxes
  m365.exchange.recipient_permission:
    identity:
      - info@contoso.com
      - support@contoso.com
    user: helpdesk@contoso.com

- name: Let a mail-enabled security group send as a distribution group
  m365.exchange.recipient_permission:
    identity: finance@contoso.com
    user: finance-team@contoso.com

- name: Preview a revoke on every shared mailbox (like -WhatIf), with the diff
  m365.exchange.recipient_permission:
    identity: "{{ shared.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: helpdesk@contoso.com
    state: absent
  check_mode: true
  diff: true
  register: preview

- name: Remove the SendAs left by a deleted user
  m365.exchange.recipient_permission:
    identity: orphans@contoso.com
    user: S-1-5-21-2945127412-1848212957-3901842213-20005
    state: absent
"""

RETURN = r"""
summary:
  description:
    - How many recipients got each outcome (every key is always present). A recipient named several ways counts once.
  returned: always
  type: dict
  sample: {"added": 120, "removed": 0, "changed": 0, "unchanged": 3, "failed": 0, "skipped": 0, "gone": 0}
results:
  description:
    - One entry per recipient, in the order the identities were given; other names of the same recipient are in
      RV(results[].aliases).
    - With O(list_unchanged=false), only the entries whose RV(results[].action) is not V(unchanged).
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The identity as given (the first, when the recipient was named several ways).
      type: str
      sample: info@contoso.com
    aliases:
      description: The other identities given for the same recipient.
      type: list
      elements: str
      returned: when the recipient was named more than once
      sample: [info]
    primary_smtp_address:
      description:
        - The recipient's primary SMTP address when the module had to look it up (failures, skipped identities);
          otherwise V(null).
      type: str
      sample: null
    action:
      description:
        - V(added), V(removed), V(unchanged), V(failed), V(skipped) or V(gone). In check mode, what would happen.
        - V(added) and V(removed) are reported only when the tenant confirms the change.
        - V(gone) (with O(state=absent)) means that the identity no longer exists, so no SendAs is left on it.
      type: str
      sample: added
    before:
      description: The trustee's SendAs before the task, V([SendAs]) or V([]).
      type: list
      elements: str
      sample: []
    after:
      description: The trustee's SendAs after the task (in check mode, as it would be).
      type: list
      elements: str
      sample: [SendAs]
    error:
      description: Why the recipient failed, was skipped or is gone, in the service's words where it gave them.
      type: str
      returned: when RV(results[].action) is V(failed), V(skipped) or V(gone)
      sample: "recipient 'team.7@contoso.com' ... "
trustee:
  description: The trustee as resolved in Exchange.
  returned: success
  type: dict
  sample: {"given": "helpdesk@contoso.com", "name": "helpdesk@contoso.com",
           "guid": "5b1c7c1e-0c7e-4bbf-9b1c-3a0b9f1c2d3e", "sid": "S-1-5-21-2945127412-1848212957-3901842213-1105",
           "recipient_type_details": "UserMailbox"}
api_stats:
  description: What the module sent to Exchange Online, for troubleshooting and capacity planning.
  returned: always
  type: dict
  sample: {"http_requests": 14, "batch_requests": 12, "cmdlets": 125, "throttled": 0, "retries": 0,
           "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._module import run_module
from ansible_collections.m365.exchange.plugins.module_utils._recipient_permission import ARGUMENT_SPEC, run


def main():
    run_module(ARGUMENT_SPEC, run, supports_check_mode=True)


if __name__ == "__main__":
    main()
