#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: management_scope
short_description: Manage an Exchange Online management scope with a recipient filter (New-ManagementScope)
version_added: 1.0.0
description:
  - Ensures that a management scope exists with the given recipient filter, or does not exist, like
    C(New-ManagementScope), C(Set-ManagementScope) and C(Remove-ManagementScope) but idempotent.
  - With RBAC for Applications, the scope is the set of mailboxes an app reaches through a role assignment
    (M(m365.exchange.management_role_assignment) with O(m365.exchange.management_role_assignment#module:custom_resource_scope)).
  - The filter is compared with the one Exchange holds regardless of spacing, the letter case of property names and
    operators, the quote characters and parentheses around the whole filter; a filter that differs otherwise is
    replaced with C(Set-ManagementScope).
  - A scope that a role assignment uses is not removed; the task fails naming the assignments (Exchange refuses it
    too).
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.rbac
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes
options:
  name:
    description:
      - The name of the scope, like C(-Name) (and C(-Identity) to find it); at most 64 characters.
    type: str
    required: true
  recipient_restriction_filter:
    description:
      - The OPATH filter that selects the scope's recipients, like C(-RecipientRestrictionFilter), for example
        V(Department -eq 'Legal' -and RecipientTypeDetails -eq 'UserMailbox').
      - Quote values with single quotes and double a quote inside a value (V(DisplayName -eq 'O''Brien')).
      - An empty filter, an unterminated quoted value and unbalanced parentheses fail the task before anything is sent;
        Exchange checks the properties, operators and values, and its refusal fails the task with its reason.
      - The filter is evaluated live by Exchange; a mailbox that comes to match it later is in scope from then on.
        Without a C(RecipientTypeDetails) condition it matches every kind of recipient the other conditions select,
        Microsoft 365 group mailboxes included.
      - Required with O(state=present).
    type: str
seealso:
  - module: m365.exchange.service_principal
  - module: m365.exchange.management_role_assignment
  - module: m365.exchange.app_access_info
  - name: New-ManagementScope
    description: The cmdlet this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/new-managementscope
  - name: Filterable properties for the RecipientFilter parameter
    description: The properties a recipient filter can use.
    link: https://learn.microsoft.com/powershell/exchange/recipientfilter-properties
"""

EXAMPLES = r"""
- name: The mailboxes of the legal department
  m365.exchange.management_scope:
    name: Archive - Legal
    recipient_restriction_filter: >-
      (RecipientTypeDetails -eq 'UserMailbox' -or RecipientTypeDetails -eq 'SharedMailbox')
      -and (Department -eq 'Legal')

- name: Mailboxes a campaign marked with a custom attribute
  m365.exchange.management_scope:
    name: Archive campaign 2026-07
    recipient_restriction_filter: "CustomAttribute12 -eq 'archive-2026-07'"

- name: Remove a scope (after the role assignments that use it)
  m365.exchange.management_scope:
    name: Archive - Legal
    state: absent
"""

RETURN = r"""
scope:
  description: The scope after the task (in check mode, as it would be); V(null) when it does not exist.
  returned: always
  type: dict
  contains:
    name:
      description: The scope's name.
      type: str
      sample: Archive - Legal
    guid:
      description: The scope's GUID (V(null) before it exists).
      type: str
      sample: 5c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f
    recipient_restriction_filter:
      description: The filter, as Exchange holds it (its C(RecipientFilter)).
      type: str
      sample: Department -eq 'Legal'
    scope_restriction_type:
      description: The kind of scope.
      type: str
      sample: RecipientScope
    exclusive:
      description: Whether the scope is exclusive.
      type: bool
      sample: false
api_stats:
  description: What the module sent to Exchange Online.
  returned: always
  type: dict
  sample: {"http_requests": 3, "batch_requests": 0, "cmdlets": 3, "throttled": 0, "retries": 0, "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._management_scope import ARGUMENT_SPEC, REQUIRED_IF, run
from ansible_collections.m365.exchange.plugins.module_utils._module import run_module


def main():
    run_module(ARGUMENT_SPEC, run, failure_result=dict(scope=None), required_if=REQUIRED_IF, supports_check_mode=True)


if __name__ == "__main__":
    main()
