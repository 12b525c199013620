#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: app_access_info
short_description: Which mailboxes an app reaches through RBAC for Applications (Test-ServicePrincipalAuthorization)
version_added: 1.0.0
description:
  - Runs C(Test-ServicePrincipalAuthorization) for an app on each of many mailboxes and returns, for each mailbox, the
    Application roles the app holds and whether the mailbox is in the scope of each (C(InScope)), with a summary of
    how many mailboxes are in scope and how many are not.
  - Exchange evaluates the scopes now, without the cache that delays a change for the app itself, so this module
    proves what the tenant grants right after a change (for example that every mailbox of a campaign is in scope and
    every excluded mailbox is not).
  - The mailboxes are named in O(identity), or selected like M(m365.exchange.mailbox_info) does, by type, OPATH filter
    or group membership. One cmdlet per mailbox is sent through the paced, batched pipeline the other modules use.
  - Only RBAC for Applications is shown. An app can also reach every mailbox through a tenant-wide admin consent of a
    Microsoft Graph application permission in Entra ID, which Exchange does not know about; a scope does not limit
    such a consent.
author:
  - m365.exchange developers (@m365-exchange)
extends_documentation_fragment:
  - m365.exchange.connection
  - m365.exchange.rbac.app
  - m365.exchange.connection.action_group
  - ansible.builtin.action_common_attributes
  - m365.exchange.attributes.info_module
options:
  identity:
    description:
      - The mailboxes to test, each by primary SMTP address, user principal name, alias, GUID or
        ExternalDirectoryObjectId, passed to C(-Resource) as given (no other read per mailbox).
      - Repeats (the same string in any letter case) are tested once. An empty item, or an item with an V(@) that is
        not an address, fails the task before anything is sent.
      - Mutually exclusive with O(recipient_type_details), O(filter) and O(member_of_group). Without any of them,
        every mailbox of the organization except Microsoft 365 group mailboxes is tested.
    type: list
    elements: str
  recipient_type_details:
    description:
      - Test the mailboxes of these types, like C(-RecipientTypeDetails) of C(Get-Mailbox).
    type: list
    elements: str
    choices: [DiscoveryMailbox, EquipmentMailbox, LinkedMailbox, LinkedRoomMailbox, RoomMailbox, SchedulingMailbox,
              SharedMailbox, TeamMailbox, UserMailbox]
  filter:
    description:
      - Test the mailboxes an OPATH filter selects, like C(-Filter) of C(Get-Mailbox), for example the
        O(m365.exchange.management_scope#module:recipient_restriction_filter) of a scope.
      - A filter with an unterminated quoted value fails the task before anything is sent; Exchange's refusal of
        another filter fails the task with its reason.
    type: str
  member_of_group:
    description:
      - Test the mailboxes of the members of this group, nested groups included (as
        M(m365.exchange.mailbox_info) selects them).
    type: str
  roles:
    description:
      - The Application roles that count, by name as in
        O(m365.exchange.management_role_assignment#module:role); RV(mailboxes[].in_scope) is true when the
        mailbox is in the scope of one of them, and RV(mailboxes[].roles) lists only them.
      - Without it, every role the app holds counts.
      - A role the app does not hold is reported with a warning (no mailbox is in scope for it).
    type: list
    elements: str
  list_mailboxes:
    description:
      - Which mailboxes RV(mailboxes) lists; RV(summary) always counts all of them.
      - V(all), only those V(in_scope), only those V(not_in_scope), or V(none). Mailboxes whose test failed are always
        listed.
      - Over thousands of mailboxes, V(not_in_scope) (for the mailboxes that should be in scope) or V(in_scope) (for
        those that should not) keeps the result to the exceptions.
    type: str
    choices: [all, in_scope, not_in_scope, none]
    default: all
  missing:
    description:
      - What to do when a mailbox of O(identity) does not exist (C(Test-ServicePrincipalAuthorization) does not find
        it).
      - V(fail) fails the task after the tests, naming them; V(warn) leaves them out with a warning; V(ignore) leaves
        them out. They are listed in RV(missing) in every case.
    type: str
    choices: [fail, warn, ignore]
    default: fail
  include_ews_settings:
    description:
      - Also return the organization's EWS settings (C(Get-OrganizationConfig), one more cmdlet) in
        RV(ews_settings). Export tools that read mail through EWS need it on, and an application allow or block list
        can keep the app out.
    type: bool
    default: false
  concurrency:
    description:
      - The most cmdlets kept in flight at once, 1 to 64.
    type: int
    default: 64
notes:
  - An app without role assignments, and an app that holds a role for the whole organization (no scope), are reported
    with a warning.
seealso:
  - module: m365.exchange.management_role_assignment
  - module: m365.exchange.management_scope
  - module: m365.exchange.mailbox_info
  - name: Test-ServicePrincipalAuthorization
    description: The cmdlet this module runs for each mailbox.
    link: https://learn.microsoft.com/powershell/module/exchange/test-serviceprincipalauthorization
"""

EXAMPLES = r"""
- name: Every mailbox of the campaign must be in the archive app's scope
  m365.exchange.app_access_info:
    app: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    identity: "{{ campaign_mailboxes }}"
    roles: [Application Mail.Read]
    list_mailboxes: not_in_scope
  register: in_campaign

- name: And none of the excluded ones
  m365.exchange.app_access_info:
    app: 6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34
    identity: "{{ excluded_mailboxes }}"
    roles: [Application Mail.Read]
    list_mailboxes: in_scope
  register: excluded

- name: Stop when the scope Exchange enforces is not the campaign's
  ansible.builtin.assert:
    that:
      - in_campaign.summary.not_in_scope == 0
      - excluded.summary.in_scope == 0
    fail_msg: >-
      Not in scope: {{ in_campaign.mailboxes | map(attribute='identity') | join(', ') }};
      excluded but in scope: {{ excluded.mailboxes | map(attribute='identity') | join(', ') }}

- name: What the app reaches among the legal department's user mailboxes
  m365.exchange.app_access_info:
    app: Contoso Archiver
    recipient_type_details: [UserMailbox]
    filter: "Department -eq 'Legal'"
"""

RETURN = r"""
app:
  description: The app's service principal in Exchange.
  returned: success
  type: dict
  sample: {"app_id": "6f1c3c0e-2f8b-4a6d-9d0e-5b2c7a9e1f34", "object_id": "0b7d5e2a-9c41-4f3e-8a6b-1d2c3e4f5a6b",
           "display_name": "Contoso Archiver", "exchange_object_id": "2d9e8f7a-6b5c-4d3e-9f1a-0b2c3d4e5f6a"}
summary:
  description: How many mailboxes were tested, and how many of them are in scope, not in scope, missing or failed.
  returned: success
  type: dict
  sample: {"mailboxes": 1200, "in_scope": 1180, "not_in_scope": 20, "missing": 0, "failed": 0}
mailboxes:
  description: The mailboxes tested, in the order given or selected (see O(list_mailboxes)).
  returned: always
  type: list
  elements: dict
  contains:
    identity:
      description: The identity as given in O(identity), else the mailbox's primary SMTP address.
      type: str
      sample: ceo@contoso.com
    primary_smtp_address:
      description: The primary SMTP address when the mailbox was selected by type, filter or group, else V(null).
      type: str
      sample: ceo@contoso.com
    in_scope:
      description:
        - Whether the app reaches the mailbox through one of the roles that count (see O(roles)); V(null) when the
          test failed.
      type: bool
      sample: true
    roles:
      description: The app's role assignments as Exchange evaluated them for this mailbox.
      type: list
      elements: dict
      contains:
        role:
          description: The Application role.
          type: str
          sample: Application Mail.Read
        granted_permissions:
          description: The permissions the role grants.
          type: str
          sample: Mail.Read
        allowed_resource_scope:
          description: The scope of the assignment, or V(Organization).
          type: str
          sample: Archive - Legal
        scope_type:
          description: V(CustomRecipientScope) or V(Organization).
          type: str
          sample: CustomRecipientScope
        in_scope:
          description: Whether the mailbox is in the assignment's scope.
          type: bool
          sample: true
    error:
      description: Why the test of this mailbox failed.
      type: str
      returned: when the test failed
      sample: "'jsmith' matches several mailboxes; use its primary SMTP address or GUID"
ews_settings:
  description:
    - The organization's EWS settings, from C(Get-OrganizationConfig).
  returned: when O(include_ews_settings=true)
  type: dict
  contains:
    ews_enabled:
      description: C(EwsEnabled); V(null) when not set (EWS is on).
      type: bool
      sample: null
    ews_application_access_policy:
      description: C(EwsApplicationAccessPolicy), V(EnforceAllowList) or V(EnforceBlockList); V(null) when not set.
      type: str
      sample: EnforceBlockList
    ews_allow_list:
      description: C(EwsAllowList), the user agents EWS lets in under V(EnforceAllowList).
      type: list
      elements: str
      sample: []
    ews_block_list:
      description: C(EwsBlockList), the user agents EWS keeps out under V(EnforceBlockList).
      type: list
      elements: str
      sample: []
missing:
  description: Identities of O(identity) that Exchange did not find.
  returned: success
  type: list
  elements: str
  sample: []
api_stats:
  description: What the module sent to Exchange Online.
  returned: always
  type: dict
  sample: {"http_requests": 122, "batch_requests": 120, "cmdlets": 1201, "throttled": 0, "retries": 0,
           "token_renewals": 0}
"""

from ansible_collections.m365.exchange.plugins.module_utils._app_access_info import (
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
