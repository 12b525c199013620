# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fake Exchange of fake_exchange.py with RBAC for Applications: service principals, management scopes, role
assignments and Test-ServicePrincipalAuthorization.

Scope filters are not evaluated: a test says which recipients a scope holds (`scope_members`), since evaluating
OPATH is the emulator's job (tested there and by the integration targets). Rows have the shapes the emulator
documents (tests/emulator/README.md, "Delegations, folders, RBAC for Applications").
"""

import uuid

from ansible_collections.m365.exchange.plugins.module_utils._client import CommandResult
from ansible_collections.m365.exchange.plugins.module_utils._errors import InvalidParameterError, NotFoundError

from fake_exchange import FakeExchange  # pylint: disable=import-error

ROLES = ("Application Mail.Read", "Application Mail.ReadBasic", "Application Mail.Send", "Application Calendars.Read")
BUILTIN = {"name": "Mail Recipients-Organization Management", "guid": "00000000-0000-4000-9000-000000000001",
           "role": "Mail Recipients", "app": None, "assignee": "Organization Management", "scope": ""}


def guid(*parts):
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


def not_found(identity):
    return NotFoundError("The operation couldn't be performed because object '%s' couldn't be found." % identity)


class FakeRbacExchange(FakeExchange):
    """A tenant with RBAC for Applications objects."""

    def __init__(self):
        super().__init__()
        self.service_principals = []  # {app_id, object_id, display_name, exchange_object_id}
        self.scopes = []  # {name, guid, filter}
        self.assignments = []  # {name, guid, role, app, scope}; plus BUILTIN
        self.scope_members = {}  # scope name -> set of recipient names in it
        self.stored_filter = lambda text: text  # how Exchange shows a filter it stored (e.g. normalized)
        self.ignore_writes = set()  # cmdlets answered with success that change nothing
        self.invoked = []  # cmdlets sent through client.invoke (not the pipeline)

    # ---- the tenant -----------------------------------------------------------------------------

    def add_app(self, name, display_name=None):
        record = {"app_id": guid("app", name), "object_id": guid("sp", name),
                  "display_name": name if display_name is None else display_name,
                  "exchange_object_id": guid("exo", name)}
        self.service_principals.append(record)
        return record

    def add_scope(self, name, text, members=()):
        self.scopes.append({"name": name, "guid": guid("scope", name), "filter": text})
        self.scope_members[name] = set(members)

    def assign(self, app, role, scope="", name=None):
        record = {"name": name or "%s-%s" % (role, app["object_id"]),
                  "guid": guid("assignment", role, app["object_id"], scope, name or ""),
                  "role": role, "app": app["object_id"], "scope": scope}
        self.assignments.append(record)
        return record

    def invoke(self, cmdlet, parameters=None, select=None):
        self.invoked.append(cmdlet)
        return super().invoke(cmdlet, parameters, select)

    def answer(self, cmdlet, parameters):
        if cmdlet in self.ignore_writes:
            self.calls.append((cmdlet, dict(parameters)))
            return CommandResult()
        return super().answer(cmdlet, parameters)

    # ---- lookups --------------------------------------------------------------------------------

    def _principal(self, identity):
        key = str(identity).lower()
        found = [sp for sp in self.service_principals
                 if key in (sp["app_id"], sp["object_id"], sp["exchange_object_id"], sp["display_name"].lower())]
        if not found:
            raise not_found(identity)
        return found[0]

    def _scope(self, identity):
        key = str(identity).lower()
        for scope in self.scopes:
            if key in (scope["name"].lower(), scope["guid"]):
                return scope
        raise not_found(identity)

    def _check_filter(self, text):
        if "departmnt" in text.lower():
            raise InvalidParameterError(
                "New-ManagementScope: the service rejected a parameter: Cannot bind parameter "
                "'RecipientRestrictionFilter' to the target. Exception setting \"RecipientRestrictionFilter\": "
                "\"'Departmnt' is not a recognized filterable property.\"", cmdlet="New-ManagementScope", status=400)

    def _sp_row(self, sp):
        return {"Identity": sp["object_id"], "Name": sp["object_id"], "AppId": sp["app_id"],
                "ObjectId": sp["object_id"], "DisplayName": sp["display_name"],
                "ExchangeObjectId": sp["exchange_object_id"]}

    def _scope_row(self, scope):
        return {"Identity": scope["name"], "Name": scope["name"], "Guid": scope["guid"],
                "RecipientFilter": self.stored_filter(scope["filter"]), "ScopeRestrictionType": "RecipientScope",
                "Exclusive": False}

    def _assignment_row(self, record):
        if record is BUILTIN:
            assignee, name, kind = record["assignee"], record["assignee"], "RoleGroup"
        else:
            sp = next((s for s in self.service_principals if s["object_id"] == record["app"]), None)
            assignee, name, kind = record["app"], (sp["display_name"] if sp else "") or record["app"], "ServicePrincipal"
        return {"Identity": record["name"], "Name": record["name"], "Guid": record["guid"], "Role": record["role"],
                "RoleAssignee": assignee, "RoleAssigneeName": name, "RoleAssigneeType": kind,
                "CustomResourceScope": record["scope"],
                "RecipientWriteScope": "CustomRecipientScope" if record["scope"] else "Organization", "Enabled": True}

    # ---- service principals ---------------------------------------------------------------------

    def _get_serviceprincipal(self, parameters):
        if "Identity" in parameters:
            return CommandResult([self._sp_row(self._principal(parameters["Identity"]))])
        return CommandResult([self._sp_row(sp) for sp in self.service_principals])

    def _new_serviceprincipal(self, parameters):
        for sp in self.service_principals:
            if parameters["AppId"] in (sp["app_id"],) or parameters["ObjectId"] == sp["object_id"]:
                raise InvalidParameterError("A service principal with AppId %s already exists." % parameters["AppId"],
                                            cmdlet="New-ServicePrincipal", status=400)
        sp = {"app_id": parameters["AppId"], "object_id": parameters["ObjectId"],
              "display_name": parameters.get("DisplayName", ""), "exchange_object_id": guid("exo", parameters["AppId"])}
        self.service_principals.append(sp)
        return CommandResult([self._sp_row(sp)])

    def _set_serviceprincipal(self, parameters):
        self._principal(parameters["Identity"])["display_name"] = parameters["DisplayName"]
        return CommandResult()

    def _remove_serviceprincipal(self, parameters):
        sp = self._principal(parameters["Identity"])
        self.service_principals.remove(sp)
        self.assignments = [a for a in self.assignments if a["app"] != sp["object_id"]]
        return CommandResult()

    # ---- management scopes ----------------------------------------------------------------------

    def _get_managementscope(self, parameters):
        if "Identity" in parameters:
            return CommandResult([self._scope_row(self._scope(parameters["Identity"]))])
        return CommandResult([self._scope_row(scope) for scope in self.scopes])

    def _new_managementscope(self, parameters):
        self._check_filter(parameters["RecipientRestrictionFilter"])
        self.add_scope(parameters["Name"], parameters["RecipientRestrictionFilter"])
        return CommandResult([self._scope_row(self.scopes[-1])])

    def _set_managementscope(self, parameters):
        scope = self._scope(parameters["Identity"])
        self._check_filter(parameters["RecipientRestrictionFilter"])
        scope["filter"] = parameters["RecipientRestrictionFilter"]
        return CommandResult()

    def _remove_managementscope(self, parameters):
        scope = self._scope(parameters["Identity"])
        users = [a["name"] for a in self.assignments if a["scope"] == scope["name"]]
        if users:
            raise InvalidParameterError("The management scope \"%s\" can't be removed because it's used by the "
                                        "following management role assignments: %s." % (scope["name"], ", ".join(users)),
                                        cmdlet="Remove-ManagementScope", status=400)
        self.scopes.remove(scope)
        return CommandResult()

    # ---- role assignments -----------------------------------------------------------------------

    def _get_managementroleassignment(self, parameters):
        records = self.assignments + [BUILTIN]
        if "Identity" in parameters:
            key = parameters["Identity"].lower()
            records = [r for r in records if key in (r["name"].lower(), r["guid"])]
            if not records:
                raise not_found(parameters["Identity"])
        if "Role" in parameters:
            records = [r for r in records if r["role"].lower() == parameters["Role"].lower()]
        return CommandResult([self._assignment_row(r) for r in records])

    def _new_managementroleassignment(self, parameters):
        if parameters["Role"] not in ROLES:
            raise not_found(parameters["Role"])
        sp = self._principal(parameters["App"])
        scope = self._scope(parameters["CustomResourceScope"])["name"] if "CustomResourceScope" in parameters else ""
        if parameters.get("Name") and any(a["name"].lower() == parameters["Name"].lower() for a in self.assignments):
            raise InvalidParameterError("The management role assignment \"%s\" already exists." % parameters["Name"],
                                        cmdlet="New-ManagementRoleAssignment", status=400)
        record = self.assign(sp, parameters["Role"], scope, parameters.get("Name"))
        return CommandResult([self._assignment_row(record)])

    def _remove_managementroleassignment(self, parameters):
        key = parameters["Identity"].lower()
        found = [a for a in self.assignments if key in (a["name"].lower(), a["guid"])]
        if not found:
            raise not_found(parameters["Identity"])
        self.assignments.remove(found[0])
        return CommandResult()

    # ---- Test-ServicePrincipalAuthorization -----------------------------------------------------

    def _test_serviceprincipalauthorization(self, parameters):
        sp = self._principal(parameters["Identity"])
        recipient = self.find(parameters["Resource"], mailbox_only=True)
        if recipient.kind == "GroupMailbox":
            raise not_found(parameters["Resource"])
        rows = []
        for record in self.assignments:
            if record["app"] != sp["object_id"]:
                continue
            scope = record["scope"]
            rows.append({"RoleName": record["role"], "GrantedPermissions": record["role"].split(" ", 1)[1],
                         "AllowedResourceScope": scope or "Organization",
                         "ScopeType": "CustomRecipientScope" if scope else "Organization",
                         "InScope": (recipient.name in self.scope_members.get(scope, set())) if scope else True})
        return CommandResult(rows)
