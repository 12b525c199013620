# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The management_role_assignment module: an Application role assigned to an app, in a custom resource scope or
organization-wide (New/Remove-ManagementRoleAssignment).

An assignment with the same app, role and scope is the same assignment, whatever its name: a task that names
another one finds it and changes nothing (Exchange cannot rename an assignment).
"""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._errors import InvalidInputError
from ansible_collections.m365.exchange.plugins.module_utils._rbac import (
    APP,
    ObjectRun,
    assignee_matches,
    assignment_record,
    canonical_role,
    describe_app,
    find_app,
    name_problem,
    read_or_none,
    same_scope,
)
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems

ARGUMENT_SPEC = merged(
    STATE, APP,
    role=dict(type="str", required=True),
    custom_resource_scope=dict(type="str"),
    name=dict(type="str"),
)


def validated(params):
    problems = Problems()
    if not params["app"].strip():
        problems.add("app is empty: name the app by its app ID, the object ID of its service principal or its "
                     "display name in Exchange")
    role = canonical_role(params["role"], problems)
    scope = params["custom_resource_scope"]
    if scope is not None:
        problems.add(name_problem(scope, "custom_resource_scope"))
    if params["name"] is not None:
        problems.add(name_problem(params["name"], "name"))
    problems.raise_if_any()
    return role, (scope.strip() if scope is not None else None), (params["name"].strip() if params["name"] else None)


def app_assignments(client, principal, role, scope):
    """The app's assignments of the role in the scope (None: organization-wide)."""
    rows = client.invoke("Get-ManagementRoleAssignment", {"Role": role}).value
    return [a for a in (assignment_record(row) for row in rows)
            if assignee_matches(principal, a) and a["role"].lower() == role.lower()
            and same_scope(a["custom_resource_scope"], scope)]


def shown(record, principal):
    """The module's view of an assignment."""
    return {"name": record["name"], "guid": record["guid"], "role": record["role"],
            "app_id": principal["app_id"], "app_object_id": principal["object_id"],
            "app_display_name": principal["display_name"],
            "custom_resource_scope": record["custom_resource_scope"],
            "recipient_write_scope": record["recipient_write_scope"], "enabled": record["enabled"]}


def run(module):
    params = module.params
    role, scope, name = validated(params)
    client = module.client
    absent = params["state"] == "absent"
    principal = find_app(client, params["app"], required=not absent)
    task = ObjectRun(module, "assignment")
    if principal is None:  # state=absent of an app Exchange does not know: nothing can be assigned to it
        task.finish(False, None, None)
        return
    current = app_assignments(client, principal, role, scope)

    def read():
        return app_assignments(client, principal, role, scope)

    if absent:
        removing = refuse_other(client, current, name, principal, role, scope)
        if removing and not module.check_mode:
            for record in removing:
                task.write("Remove-ManagementRoleAssignment", {"Identity": record["guid"] or record["name"]}, read,
                           lambda state, gone=record: all(r["name"] != gone["name"] for r in state),
                           "the app's role assignments")
        before = shown(removing[0], principal) if removing else None
        task.finish(bool(removing), before, None, removed=[shown(r, principal) for r in removing])
        return
    if current:
        if name and all(r["name"].lower() != name.lower() for r in current):
            module.warn("%s already holds %s in %s as assignment '%s'; name '%s' is not applied (Exchange cannot "
                        "rename an assignment)" % (describe_app(principal), role, _scope_words(scope),
                                                   current[0]["name"], name))
        task.finish(False, shown(current[0], principal), shown(current[0], principal))
        return
    check_new(client, principal, role, scope, name)
    if scope is None:
        module.warn("No custom_resource_scope: %s gets %s on every mailbox of the organization" % (
            describe_app(principal), role))
    parameters = {"App": principal["object_id"], "Role": role}
    if scope is not None:
        parameters["CustomResourceScope"] = scope
    if name is not None:
        parameters["Name"] = name
    after = {"name": name, "guid": None, "role": role, "role_assignee": principal["object_id"],
             "custom_resource_scope": scope, "enabled": True,
             "recipient_write_scope": "CustomRecipientScope" if scope else "Organization"}
    if not module.check_mode:
        state = task.write("New-ManagementRoleAssignment", parameters, read, bool, "the app's role assignments")
        after = state[0]
    task.finish(True, None, shown(after, principal))


def refuse_other(client, current, name, principal, role, scope):
    """The assignments to remove; a name that belongs to another assignment is refused, never removed."""
    if name is None:
        return current
    removing = [r for r in current if r["name"].lower() == name.lower()]
    if not removing:
        rows = read_or_none(client, "Get-ManagementRoleAssignment", name)
        if rows:
            other = assignment_record(rows[0])
            raise InvalidInputError(
                "Nothing was changed: role assignment '%s' is not %s of %s in %s but %s of %s in %s; it is left "
                "alone. Name the assignment to remove by its app, role and scope" % (
                    name, role, describe_app(principal), _scope_words(scope), other["role"],
                    other["role_assignee_name"] or other["role_assignee"], _scope_words(other["custom_resource_scope"])))
    return removing


def check_new(client, principal, role, scope, name):
    """What New-ManagementRoleAssignment would refuse, said in terms of the options, before anything is sent."""
    problems = Problems()
    if scope is not None and not read_or_none(client, "Get-ManagementScope", scope):
        problems.add("custom_resource_scope '%s' does not exist: create it first with m365.exchange.management_scope, "
                     "or leave custom_resource_scope out for an organization-wide assignment" % scope)
    if name is not None:
        rows = read_or_none(client, "Get-ManagementRoleAssignment", name)
        if rows:
            other = assignment_record(rows[0])
            problems.add("name '%s' is taken by the role assignment of %s to %s in %s: choose another name or leave "
                         "name out (Exchange then names it '%s-<object ID>')" % (
                             name, other["role"], other["role_assignee_name"] or other["role_assignee"],
                             _scope_words(other["custom_resource_scope"]), role))
    problems.raise_if_any("Nothing was changed")


def _scope_words(scope):
    return "scope '%s'" % scope if scope else "the whole organization"
