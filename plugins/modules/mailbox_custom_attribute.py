#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: mailbox_custom_attribute
short_description: Set or take away a value of a custom attribute (CustomAttribute1-15) on many Exchange Online mailboxes
version_added: 1.0.0
description:
  - Ensures that one of a mailbox's custom attributes (C(CustomAttribute1) to C(CustomAttribute15), like
    C(Set-Mailbox -CustomAttribute12)) holds a value, or no longer holds it, on one mailbox or on many thousands of
    mailboxes in a single task, idempotently.
  - Made for marks that a management scope or another OPATH filter selects (C(CustomAttribute12 -eq 'archive-2026')),
    such as the mark the P(m365.exchange.archive_access#role) role sets when its scope for RBAC for Applications cannot
    be written as a filter. With O(journal), the value each mailbox held before is recorded before anything is written,
    so that it can be put back later (O(restore)).
  - The module reads every mailbox first (one C(Get-Mailbox) per mailbox, the attribute only); a second run reports no
    change and makes no write call.
  - With O(state=present), a mailbox whose attribute already holds another value is somebody else's use of the
    attribute; the task fails before anything is changed, naming those mailboxes, unless O(overwrite=true).
  - With O(state=absent), the value is taken away only where the attribute holds it (in any letter case, as an OPATH
    C(-eq) compares); mailboxes that hold another value, or none, are left as they are.
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
  attribute:
    description:
      - The custom attribute, V(CustomAttribute1) to V(CustomAttribute15), in any letter case.
      - The multi-valued C(ExtensionCustomAttribute1-5) are not supported.
    type: str
    required: true
  value:
    description:
      - With O(state=present), the value to set; with O(state=absent), the value to take away.
      - At most 1,024 characters, without leading or trailing spaces.
    type: str
    required: true
  state:
    description:
      - V(present) sets O(value) where the attribute does not hold it; V(absent) takes it away where the attribute
        holds it (the attribute is cleared, or set to the mailbox's entry in O(restore)).
    type: str
    choices: [present, absent]
    default: present
  overwrite:
    description:
      - With O(state=present), whether a value another process put into the attribute may be replaced. V(false) fails
        the task before anything is changed when any mailbox holds another value, naming them.
      - The replaced values are in RV(results[].before) and in the O(journal)'s read lines.
    type: bool
    default: false
  restore:
    description:
      - With O(state=absent), the value to put back per mailbox instead of clearing the attribute, keyed by the identity
        as given in O(identity) (any letter case). Mailboxes not listed are cleared.
    type: dict
notes:
  - Microsoft 365 group mailboxes keep their custom attributes with C(Set-UnifiedGroup); they are reported as unusable
    (see O(unusable)).
  - Reading costs one C(Get-Mailbox) per mailbox (the attribute only); a change one C(Set-Mailbox) per changed mailbox,
    and one more read where Exchange's answer does not prove the change.
  - A scope or filter over the attribute sees a new value once the directory has it; Exchange may take some minutes to
    apply a scope change to an app's access.
seealso:
  - module: m365.exchange.mailbox_info
  - module: m365.exchange.management_scope
  - module: m365.exchange.app_access_info
  - name: Set-Mailbox -CustomAttribute1
    description: The property this module manages.
    link: https://learn.microsoft.com/powershell/module/exchange/set-mailbox#-customattribute1
"""

EXAMPLES = r"""
- name: Mark the mailboxes of an archive campaign, recording what the attribute held before
  m365.exchange.mailbox_custom_attribute:
    identity: "{{ campaign_mailboxes }}"
    attribute: CustomAttribute12
    value: archive-2026-07
    journal: /var/lib/archive/mark.jsonl

- name: Take the mark away again, putting back a value one mailbox held before
  m365.exchange.mailbox_custom_attribute:
    identity: "{{ campaign_mailboxes }}"
    attribute: CustomAttribute12
    value: archive-2026-07
    state: absent
    restore:
      ceo@contoso.com: legal-hold
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
        - V(added) (the attribute was empty), V(changed) (it held another value, or a value was put back),
          V(removed) (cleared), V(unchanged), V(failed), V(skipped) or V(gone). In check mode, what would happen.
        - V(added), V(changed) and V(removed) are reported only when the tenant confirms the change.
      type: str
      sample: added
    before:
      description: The attribute's value before the task, as a list of one value, or V([]) when it was empty.
      type: list
      elements: str
      sample: []
    after:
      description: The same after the task (in check mode, as it would be).
      type: list
      elements: str
      sample: [archive-2026-07]
    error:
      description: Why the mailbox failed, was skipped or is gone, in the service's words where it gave them.
      type: str
      returned: when RV(results[].action) is V(failed), V(skipped) or V(gone)
      sample: "mailbox 'left.company@contoso.com' was not found"
attribute:
  description: The attribute, in its canonical spelling.
  returned: success
  type: str
  sample: CustomAttribute12
value:
  description: The value of the task.
  returned: success
  type: str
  sample: archive-2026-07
api_stats:
  description: What the module sent to Exchange Online, for troubleshooting and capacity planning.
  returned: always
  type: dict
  sample: {"http_requests": 4, "batch_requests": 2, "cmdlets": 6, "throttled": 0, "retries": 0, "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._mailbox_custom_attribute import ARGUMENT_SPEC, run
from ansible_collections.m365.exchange.plugins.module_utils._module import run_module


def main():
    run_module(ARGUMENT_SPEC, run, supports_check_mode=True)


if __name__ == "__main__":
    main()
