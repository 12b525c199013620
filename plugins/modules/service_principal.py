#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: service_principal
short_description: Register an app in Exchange Online for RBAC for Applications (New-ServicePrincipal)
version_added: 1.0.0
description:
  - Ensures that an app (an Entra ID app registration and its enterprise application) is, or is not, registered as a
    service principal in Exchange Online, like C(New-ServicePrincipal), C(Set-ServicePrincipal) and
    C(Remove-ServicePrincipal) but idempotent.
  - A registered app can then be given Application roles on the mailboxes of a management scope with
    M(m365.exchange.management_role_assignment).
  - The service principal is found by its app ID (or, with O(state=absent), by its object ID). An O(object_id) that
    does not match the service principal Exchange has for the app fails the task, because Exchange cannot change it.
  - A service principal that still holds role assignments is not removed; the task fails naming them, so that no
    access is dropped unnoticed.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.rbac
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes
options:
  app_id:
    description:
      - The application (client) ID of the app registration, like C(-AppId).
      - Required with O(state=present). With O(state=absent), O(app_id) or O(object_id) names the service principal.
    type: str
  object_id:
    description:
      - The Object ID of the app's enterprise application (its service principal) in Entra ID, like C(-ObjectId).
        It is not the object ID of the app registration, and not the app ID.
      - Required to register an app that Exchange does not know yet. For an app that is registered, it must match the
        object ID Exchange has.
      - Exchange does not check it against Entra ID; a wrong one is accepted and the app's access then does not work.
    type: str
  display_name:
    description:
      - The display name of the service principal in Exchange, like C(-DisplayName). Exchange leaves it empty when it
        is not given.
      - Changed with C(Set-ServicePrincipal) when it differs; left as it is when not set. Not used with
        O(state=absent).
    type: str
seealso:
  - module: m365.exchange.management_scope
  - module: m365.exchange.management_role_assignment
  - module: m365.exchange.app_access_info
  - name: New-ServicePrincipal
    description: The cmdlet this module follows.
    link: https://learn.microsoft.com/powershell/module/exchange/new-serviceprincipal
"""

EXAMPLES = r"""
- name: Register the archive app in Exchange Online
  m365.exchange.service_principal:
    app_id: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    object_id: 0b7d5e2a-9c41-4f3e-8a6b-1d2c3e4f5a6b
    display_name: Contoso Archiver

- name: Remove it (its role assignments must be removed first)
  m365.exchange.service_principal:
    app_id: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    state: absent
"""

RETURN = r"""
service_principal:
  description:
    - The service principal after the task (in check mode, as it would be); V(null) when it does not exist.
  returned: always
  type: dict
  contains:
    app_id:
      description: The application (client) ID.
      type: str
      sample: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    object_id:
      description: The object ID of the app's service principal in Entra ID (its Identity in Exchange).
      type: str
      sample: 0b7d5e2a-9c41-4f3e-8a6b-1d2c3e4f5a6b
    display_name:
      description: The display name in Exchange (empty when none was given).
      type: str
      sample: Contoso Archiver
    exchange_object_id:
      description: The ID of the service principal's object in Exchange (V(null) before it exists).
      type: str
      sample: 2d9e8f7a-6b5c-4d3e-9f1a-0b2c3d4e5f6a
api_stats:
  description: What the module sent to Exchange Online.
  returned: always
  type: dict
  sample: {"http_requests": 3, "batch_requests": 0, "cmdlets": 3, "throttled": 0, "retries": 0, "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._module import run_module
from ansible_collections.m365.exchange.plugins.module_utils._service_principal import (
    ARGUMENT_SPEC,
    REQUIRED_ONE_OF,
    run,
)


def main():
    run_module(ARGUMENT_SPEC, run, failure_result=dict(service_principal=None), required_one_of=REQUIRED_ONE_OF,
               supports_check_mode=True)


if __name__ == "__main__":
    main()
