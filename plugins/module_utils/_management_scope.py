# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The management_scope module: a management scope with a recipient filter (New/Set/Remove-ManagementScope)."""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._errors import InvalidInputError
from ansible_collections.m365.exchange.plugins.module_utils._rbac import (
    ObjectRun,
    assignment_record,
    explain_filter_refusal,
    filter_problems,
    name_problem,
    normalized_filter,
    read_or_none,
    same_scope,
    scope_record,
)
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems

ARGUMENT_SPEC = merged(
    STATE,
    name=dict(type="str", required=True),
    recipient_restriction_filter=dict(type="str"),
)
REQUIRED_IF = [("state", "present", ["recipient_restriction_filter"])]


class ScopeRun(ObjectRun):
    def __init__(self, module, recipient_filter):
        super().__init__(module, "scope")
        self.recipient_filter = recipient_filter

    def refusal(self, error):
        return explain_filter_refusal(error, self.recipient_filter)


def validated(params):
    problems = Problems()
    problems.add(name_problem(params["name"], "name"))
    if params["recipient_restriction_filter"] is not None:
        filter_problems(params["recipient_restriction_filter"], problems)
    problems.raise_if_any()
    return params["name"].strip()


def read_scope(client, name):
    rows = read_or_none(client, "Get-ManagementScope", name)
    return scope_record(rows[0]) if rows else None


def run(module):
    params = module.params
    name = validated(params)
    recipient_filter = params["recipient_restriction_filter"]
    client = module.client
    current = read_scope(client, name)
    task = ScopeRun(module, recipient_filter)

    def read():
        return read_scope(client, name)

    if params["state"] == "absent":
        after = None
        if current is not None:
            refuse_in_use(client, current)
            if not module.check_mode:
                task.write("Remove-ManagementScope", {"Identity": current["guid"] or current["name"]}, read,
                           lambda state: state is None, "the scope")
    elif current is None:
        after = {"name": name, "guid": None, "recipient_restriction_filter": recipient_filter,
                 "scope_restriction_type": "RecipientScope", "exclusive": False}
        if not module.check_mode:
            after = task.write("New-ManagementScope", {"Name": name, "RecipientRestrictionFilter": recipient_filter},
                               read, lambda state: state is not None and _same_filter(state, recipient_filter),
                               "the scope")
    elif not _same_filter(current, recipient_filter):
        after = dict(current, recipient_restriction_filter=recipient_filter)
        if not module.check_mode:
            after = task.write("Set-ManagementScope", {"Identity": current["guid"] or current["name"],
                                                       "RecipientRestrictionFilter": recipient_filter},
                               read, lambda state: state is not None and _same_filter(state, recipient_filter),
                               "the scope")
    else:
        after = current
    task.finish(after != current, current, after)


def _same_filter(scope, recipient_filter):
    return normalized_filter(scope["recipient_restriction_filter"]) == normalized_filter(recipient_filter)


def refuse_in_use(client, scope):
    """Exchange refuses to remove a scope a role assignment uses: say which, before anything is sent."""
    rows = client.invoke("Get-ManagementRoleAssignment", {}).value
    users = [a for a in (assignment_record(row) for row in rows) if same_scope(a["custom_resource_scope"], scope["name"])]
    if users:
        raise InvalidInputError(
            "Nothing was changed: management scope '%s' is the custom resource scope of %d role assignment%s: %s. "
            "Remove %s first (m365.exchange.management_role_assignment with state=absent), then the scope" % (
                scope["name"], len(users), "" if len(users) == 1 else "s",
                "; ".join("'%s' (%s for %s)" % (a["name"], a["role"], a["role_assignee_name"] or a["role_assignee"])
                          for a in users), "it" if len(users) == 1 else "them"))
