#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: management_role_assignment
short_description: Assign an Application role to an app in Exchange Online (New-ManagementRoleAssignment -App)
version_added: 1.0.0
description:
  - Ensures that an app holds, or does not hold, an Application role of RBAC for Applications on the mailboxes of a
    management scope (or of the whole organization), like C(New-ManagementRoleAssignment -App) and
    C(Remove-ManagementRoleAssignment) but idempotent.
  - An assignment with the same app, role and scope is the same assignment, whatever its name; a task that finds one
    changes nothing. Exchange cannot change an assignment's role, app or scope, so another combination is another
    assignment.
  - The app must be registered in Exchange (M(m365.exchange.service_principal)) and the scope must exist
    (M(m365.exchange.management_scope)); otherwise the task fails before anything is changed.
  - Which mailboxes the assignment reaches is shown by M(m365.exchange.app_access_info).
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.rbac
  - m365.exchange.rbac.app
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes
options:
  role:
    description:
      - The Application role, like C(-Role), in any letter case, with or without its C(Application) prefix (V(Mail.Read)
        is V(Application Mail.Read)).
      - One of V(Application Mail.Read), V(Application Mail.ReadBasic), V(Application Mail.ReadWrite),
        V(Application Mail.Send), V(Application MailboxSettings.Read), V(Application MailboxSettings.ReadWrite),
        V(Application Calendars.Read), V(Application Calendars.ReadWrite), V(Application Contacts.Read),
        V(Application Contacts.ReadWrite), V(Application Mail Full Access), V(Application Exchange Full Access),
        V(Application EWS.AccessAsApp), V(Application MailboxFolder.Read), V(Application MailboxFolder.ReadWrite),
        V(Application MailboxItem.Read), V(Application MailboxItem.ReadWrite), V(Application MailboxItem.Export),
        V(Application MailboxItem.ImportExport), V(Application SMTP.SendAsApp). Another value fails the task, naming
        them.
    type: str
    required: true
  custom_resource_scope:
    description:
      - The management scope that limits the mailboxes the app reaches, like C(-CustomResourceScope).
      - Without it the assignment covers every mailbox of the organization, and the task warns about it.
    type: str
  name:
    description:
      - The assignment's name, like C(-Name); at most 64 characters. Exchange names it C(<role>-<object ID>) when it is
        not given.
      - A name another assignment holds fails the task before anything is changed. With O(state=absent) it selects
        which assignment of the app, role and scope to remove; a name that belongs to another assignment fails the
        task and nothing is removed.
      - An assignment that exists under another name is left as it is, with a warning (Exchange cannot rename it).
    type: str
seealso:
  - module: m365.exchange.service_principal
  - module: m365.exchange.management_scope
  - module: m365.exchange.app_access_info
  - name: New-ManagementRoleAssignment
    description: The cmdlet this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/new-managementroleassignment
"""

EXAMPLES = r"""
- name: The archive app reads the mail of the legal department's mailboxes
  m365.exchange.management_role_assignment:
    app: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    role: Application Mail.Read
    custom_resource_scope: Archive - Legal

- name: Take the access away again
  m365.exchange.management_role_assignment:
    app: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    role: Application Mail.Read
    custom_resource_scope: Archive - Legal
    state: absent
"""

RETURN = r"""
assignment:
  description: The assignment after the task (in check mode, as it would be); V(null) when there is none.
  returned: always
  type: dict
  contains:
    name:
      description: The assignment's name (V(null) in check mode when Exchange would choose it).
      type: str
      sample: Application Mail.Read-0b7d5e2a-9c41-4f3e-8a6b-1d2c3e4f5a6b
    guid:
      description: The assignment's GUID (V(null) before it exists).
      type: str
      sample: 7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d
    role:
      description: The Application role.
      type: str
      sample: Application Mail.Read
    app_id:
      description: The app's application (client) ID.
      type: str
      sample: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    app_object_id:
      description: The object ID of the app's service principal.
      type: str
      sample: 0b7d5e2a-9c41-4f3e-8a6b-1d2c3e4f5a6b
    app_display_name:
      description: The display name of the app's service principal in Exchange (may be empty).
      type: str
      sample: Contoso Archiver
    custom_resource_scope:
      description: The scope's name; V(null) for the whole organization.
      type: str
      sample: Archive - Legal
    recipient_write_scope:
      description: V(CustomRecipientScope) with a scope, V(Organization) without.
      type: str
      sample: CustomRecipientScope
    enabled:
      description: Whether the assignment is enabled.
      type: bool
      sample: true
removed:
  description:
    - With O(state=absent), the assignments removed (in check mode, that would be removed), each as RV(assignment).
  returned: when O(state=absent) and the app is registered
  type: list
  elements: dict
  sample: []
api_stats:
  description: What the module sent to Exchange Online.
  returned: always
  type: dict
  sample: {"http_requests": 5, "batch_requests": 0, "cmdlets": 5, "throttled": 0, "retries": 0, "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._management_role_assignment import ARGUMENT_SPEC, run
from ansible_collections.m365.exchange.plugins.module_utils._module import run_module


def main():
    run_module(ARGUMENT_SPEC, run, failure_result=dict(assignment=None), supports_check_mode=True)


if __name__ == "__main__":
    main()
