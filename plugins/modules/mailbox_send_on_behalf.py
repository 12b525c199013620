#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mailbox_send_on_behalf
short_description: Add or remove a SendOnBehalf delegate (GrantSendOnBehalfTo) on many Exchange Online mailboxes
version_added: 1.0.0
description:
  - Ensures that a delegate is, or is not, among the recipients allowed to send on behalf of a mailbox (the
    C(GrantSendOnBehalfTo) property, like C(Set-Mailbox -GrantSendOnBehalfTo)) on one mailbox or on many thousands of
    mailboxes in a single task, idempotently.
  - C(GrantSendOnBehalfTo) holds several delegates. The module adds or removes only the one delegate of the task, with
    the add/remove form of the property, so the mailbox's other delegates stay as they are, also when someone else
    changes them at the same time.
  - The module reads every mailbox first (one C(Get-Mailbox) per mailbox) and matches the delegate by the Name of the
    resolved recipient, which is unique in the tenant, never by its display name, which two recipients may share.
    A second run reports no change and makes no write call.
  - Every identity and the delegate are resolved before anything is changed. Unknown or ambiguous identities (see
    O(missing) and O(unusable)), a delegate that cannot send on behalf (a distribution group, a Microsoft 365 group,
    a security group that is not mail-enabled), and invalid options fail the task with a list of every bad value.
  - Exchange answers a C(Set-Mailbox) that changes nothing with success and a warning; the module then reads the
    mailbox again and reports what the tenant holds.
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
  user:
    description:
      - The delegate who may send on behalf of the mailboxes.
      - A user with a mailbox, a mail user, or a mail-enabled security group, named by user principal name, primary SMTP
        address or GUID.
      - A distribution group, a Microsoft 365 group or a security group that is not mail-enabled fails the task before
        anything is changed. A SID fails too (Exchange removes a deleted delegate from the property by itself).
    type: str
    required: true
    aliases: [trustee, delegate]
  state:
    description:
      - V(present) adds the delegate where it is missing, V(absent) removes it where it is one; the other delegates of
        each mailbox are kept.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Microsoft 365 group mailboxes keep their senders on behalf with C(Set-UnifiedGroup); they are reported as unusable
    (see O(unusable)).
  - Reading costs one C(Get-Mailbox) per mailbox (only the properties needed); a change one C(Set-Mailbox) per changed
    mailbox, and one more read where Exchange's answer does not prove the change.
  - With O(admin_api=v2), C(Get-Mailbox) and C(Set-Mailbox) go to the Mailbox endpoint of the Exchange Online Admin API
    v2.0 (the app needs V(Exchange.ManageAsAppV2) as well); the delegate is still resolved through InvokeCommand.
seealso:
  - module: m365.exchange.recipient_permission
  - module: m365.exchange.mailbox_folder_permission
  - module: m365.exchange.mailbox_info
  - name: Set-Mailbox -GrantSendOnBehalfTo
    description: The property this module manages.
    link: https://learn.microsoft.com/powershell/module/exchange/set-mailbox#-grantsendonbehalfto
"""

EXAMPLES = r"""
- name: Let an assistant send on behalf of two executives
  m365.exchange.mailbox_send_on_behalf:
    identity:
      - ceo@contoso.com
      - cfo@contoso.com
    user: assistant@contoso.com

- name: Remove a delegate everywhere, keeping every other delegate (preview first)
  m365.exchange.mailbox_send_on_behalf:
    identity: "{{ scope.mailboxes | map(attribute='primary_smtp_address') | list }}"
    user: former.assistant@contoso.com
    state: absent
    list_unchanged: false
  check_mode: true
  diff: true

- name: The same through the documented Admin API v2.0
  m365.exchange.mailbox_send_on_behalf:
    identity: ceo@contoso.com
    user: assistant@contoso.com
    admin_api: v2
"""

RETURN = r"""
summary:
  description:
    - How many mailboxes got each outcome (every key is always present). A mailbox named several ways counts once.
  returned: always
  type: dict
  sample: {"added": 2, "removed": 0, "changed": 0, "unchanged": 0, "failed": 0, "skipped": 0, "gone": 0}
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
      sample: [ceo]
    primary_smtp_address:
      description:
        - The mailbox's primary SMTP address when the module had to look it up (failures, skipped identities);
          otherwise V(null).
      type: str
      sample: null
    action:
      description:
        - V(added), V(removed), V(unchanged), V(failed), V(skipped) or V(gone). In check mode, what would happen.
        - V(added) and V(removed) are reported only when the tenant confirms the change.
        - V(gone) (with O(state=absent)) means that the identity no longer has a mailbox.
      type: str
      sample: added
    before:
      description: Whether the user was a delegate before the task, V([SendOnBehalf]) or V([]).
      type: list
      elements: str
      sample: []
    after:
      description: The same after the task (in check mode, as it would be).
      type: list
      elements: str
      sample: [SendOnBehalf]
    error:
      description: Why the mailbox failed, was skipped or is gone, in the service's words where it gave them.
      type: str
      returned: when RV(results[].action) is V(failed), V(skipped) or V(gone)
      sample: "mailbox 'left.company@contoso.com' was not found"
trustee:
  description: The delegate as resolved in Exchange.
  returned: success
  type: dict
  sample: {"given": "assistant@contoso.com", "name": "assistant@contoso.com",
           "guid": "5b1c7c1e-0c7e-4bbf-9b1c-3a0b9f1c2d3e", "sid": "S-1-5-21-2945127412-1848212957-3901842213-1105",
           "recipient_type_details": "UserMailbox"}
api_stats:
  description: What the module sent to Exchange Online, for troubleshooting and capacity planning.
  returned: always
  type: dict
  sample: {"http_requests": 4, "batch_requests": 2, "cmdlets": 6, "throttled": 0, "retries": 0, "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._mailbox_send_on_behalf import ARGUMENT_SPEC, run
from ansible_collections.m365.exchange.plugins.module_utils._module import run_module


def main():
    run_module(ARGUMENT_SPEC, run, supports_check_mode=True)


if __name__ == "__main__":
    main()
