# -*- coding: utf-8 -*-

# Copyright: (c) 2026, m365.exchange developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The service_principal module: an app registered in Exchange Online (New/Set/Remove-ServicePrincipal)."""

from ansible_collections.m365.exchange.plugins.module_utils._argspec import STATE, merged
from ansible_collections.m365.exchange.plugins.module_utils._errors import InvalidInputError
from ansible_collections.m365.exchange.plugins.module_utils._rbac import (
    ObjectRun,
    assignee_matches,
    assignment_record,
    describe_app,
    guid_problem,
    service_principals,
)
from ansible_collections.m365.exchange.plugins.module_utils._validation import Problems

ARGUMENT_SPEC = merged(
    STATE,
    app_id=dict(type="str"),
    object_id=dict(type="str"),
    display_name=dict(type="str"),
)
REQUIRED_ONE_OF = [("app_id", "object_id")]

APP_ID = "the application (client) ID of the app registration"
OBJECT_ID = "the Object ID of the app's enterprise application (service principal) in Entra ID"
OBJECT_ID_HELP = ("object_id is the Object ID of the app's enterprise application in Entra ID (Enterprise "
                  "applications > the app > Object ID), not the object ID of its app registration")


def validated(params):
    problems = Problems()
    app_id, object_id = params["app_id"], params["object_id"]
    if app_id is not None:
        problems.add(guid_problem(app_id, "app_id", APP_ID))
    if object_id is not None:
        problems.add(guid_problem(object_id, "object_id", OBJECT_ID))
    if app_id and object_id and app_id.strip().lower() == object_id.strip().lower():
        problems.add("app_id and object_id are the same GUID %s: %s, which differs from the app ID" % (
            app_id.strip(), OBJECT_ID_HELP))
    if params["state"] == "present" and app_id is None:
        problems.add("app_id is required with state=present: give %s" % APP_ID)
    problems.raise_if_any()
    return (app_id.strip().lower() if app_id else None), (object_id.strip().lower() if object_id else None)


def current_principal(records, app_id, object_id):
    """The service principal the task names; refuses an app ID and an object ID of two different ones."""
    by_app = [r for r in records if app_id and r["app_id"] == app_id]
    by_object = [r for r in records if object_id and r["object_id"] == object_id]
    if by_app and object_id and by_app[0]["object_id"] != object_id:
        raise InvalidInputError(
            "Nothing was changed: object_id %s does not match the service principal Exchange has for app %s: its "
            "object ID is %s. %s. Exchange cannot change the object ID of a service principal: to register the app "
            "with another one, remove it (state=absent, after removing its role assignments) and register it again"
            % (object_id, app_id, by_app[0]["object_id"], OBJECT_ID_HELP))
    if by_object and app_id and by_object[0]["app_id"] != app_id:
        raise InvalidInputError(
            "Nothing was changed: object_id %s is the service principal of another app in Exchange, %s, not of app_id "
            "%s. %s" % (object_id, describe_app(by_object[0]), app_id, OBJECT_ID_HELP))
    return (by_app or by_object or [None])[0]


def run(module):
    params = module.params
    app_id, object_id = validated(params)
    client = module.client
    current = current_principal(service_principals(client), app_id, object_id)
    task = ObjectRun(module, "service_principal")
    if params["state"] == "absent":
        after = remove(module, task, current)
    elif current is None:
        after = register(module, task, app_id, object_id, params["display_name"])
    else:
        after = update(module, task, current, params["display_name"])
    task.finish(after != current, current, after)


def reader(client, app_id):
    def read():
        return current_principal(service_principals(client), app_id, None)
    return read


def remove(module, task, current):
    if current is None:
        return None
    refuse_assignments(module.client, current)
    if not module.check_mode:
        task.write("Remove-ServicePrincipal", {"Identity": current["object_id"]}, reader(module.client, current["app_id"]),
                   lambda state: state is None, "the service principals")
    return None


def register(module, task, app_id, object_id, display_name):
    if object_id is None:
        raise InvalidInputError("Nothing was changed: app %s has no service principal in Exchange Online; to register "
                                "it, give object_id too: %s" % (app_id, OBJECT_ID))
    wanted = {"app_id": app_id, "object_id": object_id, "display_name": display_name or "", "exchange_object_id": None}
    if module.check_mode:
        return wanted
    parameters = {"AppId": app_id, "ObjectId": object_id}
    if display_name:
        parameters["DisplayName"] = display_name
    return task.write("New-ServicePrincipal", parameters, reader(module.client, app_id),
                      lambda state: state is not None and state["object_id"] == object_id
                      and state["display_name"] == wanted["display_name"], "the service principals")


def update(module, task, current, display_name):
    if display_name is None or display_name == current["display_name"]:
        return current
    if module.check_mode:
        return dict(current, display_name=display_name)
    return task.write("Set-ServicePrincipal", {"Identity": current["object_id"], "DisplayName": display_name},
                      reader(module.client, current["app_id"]),
                      lambda state: state is not None and state["display_name"] == display_name,
                      "the service principals")


def refuse_assignments(client, principal):
    """A service principal is removed only when it holds no role assignment, which would go with it unnoticed."""
    rows = client.invoke("Get-ManagementRoleAssignment", {}).value
    held = [a for a in (assignment_record(row) for row in rows) if assignee_matches(principal, a)]
    if held:
        raise InvalidInputError(
            "Nothing was changed: the service principal of %s still holds %d role assignment%s: %s. Remove %s first "
            "(m365.exchange.management_role_assignment with state=absent), then the service principal" % (
                describe_app(principal), len(held), "" if len(held) == 1 else "s",
                "; ".join("'%s' (%s, scope %s)" % (a["name"], a["role"], a["custom_resource_scope"] or
                                                   "the whole organization") for a in held),
                "it" if len(held) == 1 else "them"))
