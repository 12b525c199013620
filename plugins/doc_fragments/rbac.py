# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)


class ModuleDocFragment:
    # The modules of RBAC for Applications that manage one Exchange object (service_principal, management_scope,
    # management_role_assignment; plugins/module_utils/_rbac.py).
    DOCUMENTATION = r"""
options:
  state:
    description:
      - V(present) creates the object when it does not exist and changes what differs from the task; V(absent) removes
        it when it exists.
      - A task that finds the object as it should be sends no write, so a rerun reports no change.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Every write is followed by a read of the object; the task reports a change only when that read shows it, and
    fails with the service's words when it does not. A write whose answer was lost is settled by that read and sent
    once more when the read does not show it.
  - Input that cannot work (a malformed GUID, an unknown role, an unbalanced filter, a scope that does not exist) fails
    the task before anything is changed, naming every bad value and what is accepted.
  - Exchange Online applies RBAC for Applications changes to the app after a delay (its documentation says 30 minutes
    to 2 hours, by the cache of the app's permissions). M(m365.exchange.app_access_info) tells at once what the tenant
    grants, because C(Test-ServicePrincipalAuthorization) bypasses that cache.
seealso:
  - name: Role Based Access Control for Applications in Exchange Online
    description: The service principals, scopes and Application roles these modules manage.
    link: https://learn.microsoft.com/exchange/permissions-exo/application-rbac
"""

    # The app a role assignment or an access check is about (management_role_assignment, app_access_info).
    APP = r"""
options:
  app:
    description:
      - The application, by its application (client) ID, the object ID of its service principal, or the display name of
        its service principal in Exchange Online (IDs are unique; a display name may be empty or shared).
      - The app must be registered in Exchange Online, with M(m365.exchange.service_principal) or
        C(New-ServicePrincipal). An app that is not fails the task, naming the service principals Exchange has;
        only a removal (C(state=absent)) of what such an app holds reports no change instead, as it holds nothing.
    type: str
    required: true
"""
