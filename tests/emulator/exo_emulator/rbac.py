"""RBAC for Applications: service principals, management scopes, role assignments for apps,
Test-ServicePrincipalAuthorization (the scope filter evaluated live against a mailbox), Get-OrganizationConfig.

State lives on the Tenant as plain records (saved with it): ``service_principals``
(``app_id, object_id, display_name, exchange_object_id``), ``management_scopes`` (``name, guid, filter,
recipient_root, exclusive``), ``role_assignments`` (``name, guid, role, app`` = the service principal's
object id, ``scope`` = scope name or ""), ``organization_config`` (overrides of Get-OrganizationConfig).
"""

import re
import uuid

from . import errors, opath
from .cmdlets import CMDLETS as REGISTRY, FILTER_PROPERTIES, Cmdlet, Result, resolve_one
from .extcommon import SWITCH, p, render, require, task_error
from .params import spec
from .tenant import GROUP_TYPES, USER_TYPES

RBAC_NAMESPACE = uuid.UUID("3c1e8a52-7f0d-4b6e-9a14-5d2f6c8b0e91")

# learn.microsoft.com/exchange/permissions-exo/application-rbac, "Supported Application Roles" (13 roles), then
# newer roles a public audit script maps from Graph permissions (GrantedPermissions for those assumed).
APPLICATION_ROLES = (
    ("Application Mail.Read", "MS Graph", ("Mail.Read",)),
    ("Application Mail.ReadBasic", "MS Graph", ("Mail.ReadBasic",)),
    ("Application Mail.ReadWrite", "MS Graph", ("Mail.ReadWrite",)),
    ("Application Mail.Send", "MS Graph", ("Mail.Send",)),
    ("Application MailboxSettings.Read", "MS Graph", ("MailboxSettings.Read",)),
    ("Application MailboxSettings.ReadWrite", "MS Graph", ("MailboxSettings.ReadWrite",)),
    ("Application Calendars.Read", "MS Graph", ("Calendars.Read",)),
    ("Application Calendars.ReadWrite", "MS Graph", ("Calendars.ReadWrite",)),
    ("Application Contacts.Read", "MS Graph", ("Contacts.Read",)),
    ("Application Contacts.ReadWrite", "MS Graph", ("Contacts.ReadWrite",)),
    ("Application Mail Full Access", "MS Graph", ("Mail.ReadWrite", "Mail.Send")),
    ("Application Exchange Full Access", "MS Graph",
     ("Mail.ReadWrite", "Mail.Send", "MailboxSettings.ReadWrite", "Calendars.ReadWrite", "Contacts.ReadWrite")),
    ("Application EWS.AccessAsApp", "EWS", ("EWS.AccessAsApp",)),
    ("Application MailboxFolder.Read", "MS Graph", ("MailboxFolder.Read.All",)),
    ("Application MailboxFolder.ReadWrite", "MS Graph", ("MailboxFolder.ReadWrite.All",)),
    ("Application MailboxItem.Read", "MS Graph", ("MailboxItem.Read.All",)),
    ("Application MailboxItem.ReadWrite", "MS Graph", ("MailboxItem.ReadWrite.All",)),
    ("Application MailboxItem.Export", "MS Graph", ("MailboxItem.Export.All",)),
    ("Application MailboxItem.ImportExport", "MS Graph", ("MailboxItem.ImportExport.All",)),
    ("Application SMTP.SendAsApp", "SMTP", ("SMTP.SendAsApp",)),
)
ROLE_BY_NAME = {name.lower(): (name, perms) for name, _protocol, perms in APPLICATION_ROLES}
# Role-group assignments every organization has (Get-ManagementRoleAssignment lists them; not removable here).
BUILTIN_ASSIGNMENTS = (("Mail Recipients-Organization Management", "Mail Recipients", "Organization Management"),
                       ("Role Management-Organization Management", "Role Management", "Organization Management"),
                       ("Mail Recipients-Recipient Management", "Mail Recipients", "Recipient Management"),
                       ("View-Only Recipients-View-Only Organization Management", "View-Only Recipients",
                        "View-Only Organization Management"))
GUID_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
OBJECT_EXISTS = "Microsoft.Exchange.Data.Directory.ADObjectAlreadyExistsException"


def record_guid(tenant, *parts):
    return str(uuid.uuid5(RBAC_NAMESPACE, ":".join((tenant.tenant_id,) + tuple(parts))))


# -- scope filters ------------------------------------------------------------------------------------------------

class _FilterContext:
    def __init__(self, tenant):
        self.tenant = tenant

    def group_members(self, identity):
        groups = self.tenant.resolve(identity, lambda r: r.rtd in GROUP_TYPES)
        if not groups:
            return set()
        return {id(m) for m in groups[0].members or ()}


def compile_scope_filter(tenant, text, parameter="RecipientRestrictionFilter"):
    """A predicate for a RecipientRestrictionFilter (OPATH, the same filterable properties as -Filter)."""
    properties = dict(FILTER_PROPERTIES)
    properties["emailaddresses"] = opath.Property("EmailAddresses", "multi", tenant.addresses)
    try:
        return opath.compile_filter(text, properties, _FilterContext(tenant))
    except opath.FilterError as exc:
        raise errors.cmdlet_error(400, "BadRequest", "Invalid Operation", errors.BINDING_TYPE,
                                  "Cannot bind parameter '%s' to the target. Exception setting \"%s\": \"%s\""
                                  % (parameter, parameter, exc)) from None


def in_scope(tenant, scope_record, rec):
    if scope_record is None:
        return True
    return bool(compile_scope_filter(tenant, scope_record["filter"])(rec))


# -- lookups -----------------------------------------------------------------------------------------------------

def find_service_principal(tenant, identity):
    key = str(identity).strip().lower()
    matches = [sp for sp in tenant.service_principals
               if key in (sp["object_id"].lower(), sp["app_id"].lower(), sp.get("exchange_object_id", "").lower())]
    if not matches:
        matches = [sp for sp in tenant.service_principals if key and sp.get("display_name", "").lower() == key]
    if not matches:
        raise errors.not_found(identity, tenant.server_fqdn)
    if len(matches) > 1:
        raise errors.ambiguous(identity)
    return matches[0]


def find_scope(tenant, identity):
    key = str(identity).strip().lower()
    for scope in tenant.management_scopes:
        if key in (scope["name"].lower(), scope["guid"].lower()):
            return scope
    raise errors.not_found(identity, tenant.server_fqdn)


def find_assignment(tenant, identity):
    key = str(identity).strip().lower()
    for assignment in tenant.role_assignments:
        if key in (assignment["name"].lower(), assignment["guid"].lower()):
            return assignment
    raise errors.not_found(identity, tenant.server_fqdn)


def _already_exists(text):
    return task_error(text, OBJECT_EXISTS)


# -- rows ----------------------------------------------------------------------------------------------------------

def service_principal_row(sp, select=None):
    values = {"Identity": sp["object_id"], "Name": sp["object_id"], "DisplayName": sp.get("display_name", ""),
              "AppId": sp["app_id"], "ObjectId": sp["object_id"],
              "ExchangeObjectId": sp.get("exchange_object_id", ""), "IsValid": True, "ObjectState": "Unchanged"}
    return render(values, select)


def scope_row(scope, select=None):
    values = {"Identity": scope["name"], "Name": scope["name"], "Guid": scope["guid"],
              "RecipientFilter": scope["filter"], "RecipientRoot": scope.get("recipient_root", ""),
              "ScopeRestrictionType": "RecipientScope", "Exclusive": bool(scope.get("exclusive")),
              "ServerFilter": "", "DatabaseFilter": "", "IsValid": True, "ObjectState": "Unchanged"}
    return render(values, select)


def assignment_row(tenant, assignment, select=None):
    if assignment.get("builtin"):
        assignee, assignee_name, assignee_type = assignment["assignee"], assignment["assignee"], "RoleGroup"
    else:
        sp = next((s for s in tenant.service_principals if s["object_id"] == assignment["app"]), None)
        assignee = assignment["app"]
        assignee_name = (sp.get("display_name") if sp else "") or assignment["app"]
        assignee_type = "ServicePrincipal"
    scope = assignment.get("scope") or ""
    values = {"Name": assignment["name"], "Identity": assignment["name"], "Guid": assignment["guid"],
              "Role": assignment["role"], "RoleAssignee": assignee, "RoleAssigneeName": assignee_name,
              "RoleAssigneeType": assignee_type, "AssignmentMethod": "Direct", "CustomResourceScope": scope,
              "CustomRecipientWriteScope": "", "RecipientWriteScope": "CustomRecipientScope" if scope else "Organization",
              "ConfigWriteScope": "OrganizationConfig", "Enabled": assignment.get("enabled", True),
              "IsValid": True, "ObjectState": "Unchanged"}
    return render(values, select)


def _builtin_assignments(tenant):
    return [{"name": name, "guid": record_guid(tenant, "builtin", name), "role": role, "assignee": assignee,
             "scope": "", "builtin": True} for name, role, assignee in BUILTIN_ASSIGNMENTS]


# -- service principals ---------------------------------------------------------------------------------------------

def _guid_value(parameter, value):
    if not GUID_PATTERN.match(str(value).strip()):
        raise task_error("The value \"%s\" of the %s parameter isn't a valid GUID." % (value, parameter),
                         "System.ArgumentException")
    return str(value).strip().lower()


def new_service_principal(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "AppId")
    if "ObjectId" not in parameters and "ServiceId" not in parameters:
        raise errors.missing_parameters()
    app_id = _guid_value("AppId", parameters["AppId"])
    object_id = _guid_value("ObjectId", parameters.get("ObjectId", parameters.get("ServiceId")))
    for sp in tenant.service_principals:
        if app_id == sp["app_id"] or object_id == sp["object_id"]:
            raise _already_exists("A service principal with AppId %s or ObjectId %s already exists."
                                  % (app_id, object_id))
    sp = {"app_id": app_id, "object_id": object_id, "display_name": parameters.get("DisplayName", ""),
          "exchange_object_id": record_guid(tenant, "sp", object_id)}
    tenant.service_principals = tenant.service_principals + [sp]
    warnings = []
    if "ServiceId" in parameters:
        warnings.append("The ServiceId parameter is being deprecated. Please use the ObjectId parameter instead.")
    return Result([sp], service_principal_row, warnings=warnings)


def get_service_principal(inv):
    tenant, parameters = inv.tenant, inv.params
    items = [find_service_principal(tenant, parameters["Identity"])] if "Identity" in parameters \
        else list(tenant.service_principals)
    return Result(items, service_principal_row)


def set_service_principal(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    sp = find_service_principal(tenant, parameters["Identity"])
    display = parameters.get("DisplayName", sp.get("display_name", ""))
    if display == sp.get("display_name", ""):
        return Result(warnings=["The command completed successfully but no settings of '%s' have been modified."
                                % sp["object_id"]])
    tenant.service_principals = [dict(s, display_name=display) if s is sp else s for s in tenant.service_principals]
    return Result()


def remove_service_principal(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    sp = find_service_principal(tenant, parameters["Identity"])
    tenant.service_principals = [s for s in tenant.service_principals if s is not sp]
    # Its role assignments go with it (assumed).
    tenant.role_assignments = [a for a in tenant.role_assignments if a["app"] != sp["object_id"]]
    return Result()


# -- management scopes ------------------------------------------------------------------------------------------------

def new_management_scope(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Name", "RecipientRestrictionFilter")
    name = parameters["Name"].strip()
    compile_scope_filter(tenant, parameters["RecipientRestrictionFilter"])
    if any(s["name"].lower() == name.lower() for s in tenant.management_scopes):
        raise _already_exists("The management scope \"%s\" already exists." % name)
    scope = {"name": name, "guid": record_guid(tenant, "scope", name, str(len(tenant.management_scopes))),
             "filter": parameters["RecipientRestrictionFilter"], "recipient_root": parameters.get("RecipientRoot", ""),
             "exclusive": bool(parameters.get("Exclusive"))}
    tenant.management_scopes = tenant.management_scopes + [scope]
    return Result([scope], scope_row)


def get_management_scope(inv):
    tenant, parameters = inv.tenant, inv.params
    items = [find_scope(tenant, parameters["Identity"])] if "Identity" in parameters else list(tenant.management_scopes)
    if parameters.get("Exclusive"):
        items = [s for s in items if s.get("exclusive")]
    return Result(items, scope_row)


def set_management_scope(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    scope = find_scope(tenant, parameters["Identity"])
    changed = dict(scope)
    if "RecipientRestrictionFilter" in parameters:
        compile_scope_filter(tenant, parameters["RecipientRestrictionFilter"])
        changed["filter"] = parameters["RecipientRestrictionFilter"]
    if "RecipientRoot" in parameters:
        changed["recipient_root"] = parameters["RecipientRoot"]
    if "Name" in parameters and parameters["Name"].strip() != scope["name"]:
        new_name = parameters["Name"].strip()
        if any(s["name"].lower() == new_name.lower() for s in tenant.management_scopes if s is not scope):
            raise _already_exists("The management scope \"%s\" already exists." % new_name)
        changed["name"] = new_name
        tenant.role_assignments = [dict(a, scope=new_name) if a.get("scope") == scope["name"] else a
                                   for a in tenant.role_assignments]
    if changed == scope:
        return Result(warnings=["The command completed successfully but no settings of '%s' have been modified."
                                % scope["name"]])
    tenant.management_scopes = [changed if s is scope else s for s in tenant.management_scopes]
    return Result()


def remove_management_scope(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    scope = find_scope(tenant, parameters["Identity"])
    users = [a["name"] for a in tenant.role_assignments if a.get("scope") == scope["name"]]
    if users:
        raise task_error("The management scope \"%s\" can't be removed because it's used by the following management "
                         "role assignments: %s." % (scope["name"], ", ".join(users)),
                         "System.InvalidOperationException")
    tenant.management_scopes = [s for s in tenant.management_scopes if s is not scope]
    return Result()


# -- role assignments ---------------------------------------------------------------------------------------------------

def new_management_role_assignment(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Role", "App")
    role = ROLE_BY_NAME.get(parameters["Role"].strip().lower())
    if role is None:
        raise errors.not_found(parameters["Role"], tenant.server_fqdn)
    sp = find_service_principal(tenant, parameters["App"])
    scope = find_scope(tenant, parameters["CustomResourceScope"]) if "CustomResourceScope" in parameters else None
    taken = {a["name"].lower() for a in tenant.role_assignments} | {n.lower() for n, _r, _a in BUILTIN_ASSIGNMENTS}
    if "Name" in parameters:
        name = parameters["Name"].strip()
        if name.lower() in taken:
            raise _already_exists("The management role assignment \"%s\" already exists." % name)
    else:
        base = ("%s-%s" % (role[0], sp["object_id"]))[:64]
        name, number = base, 1
        while name.lower() in taken:
            number += 1
            name = "%s%d" % (base[:64 - len(str(number))], number)
    assignment = {"name": name, "guid": record_guid(tenant, "assignment", name, str(len(tenant.role_assignments))),
                  "role": role[0], "app": sp["object_id"], "scope": scope["name"] if scope else "", "enabled": True}
    tenant.role_assignments = tenant.role_assignments + [assignment]
    return Result([assignment], lambda item, select: assignment_row(tenant, item, select))


def get_management_role_assignment(inv):
    tenant, parameters = inv.tenant, inv.params
    items = list(tenant.role_assignments) + _builtin_assignments(tenant)
    if "Identity" in parameters:
        key = parameters["Identity"].strip().lower()
        items = [a for a in items if key in (a["name"].lower(), a["guid"].lower())]
        if not items:
            raise errors.not_found(parameters["Identity"], tenant.server_fqdn)
    if "Role" in parameters:
        items = [a for a in items if a["role"].lower() == parameters["Role"].strip().lower()]
    if "RoleAssignee" in parameters:
        key = parameters["RoleAssignee"].strip().lower()
        sp_ids = {sp["object_id"] for sp in tenant.service_principals
                  if key in (sp["object_id"].lower(), sp["app_id"].lower(), sp.get("display_name", "").lower())}
        items = [a for a in items if a.get("app") in sp_ids or a.get("assignee", "").lower() == key]
    if "RoleAssigneeType" in parameters:
        wanted = parameters["RoleAssigneeType"].strip().lower()
        items = [a for a in items if ("rolegroup" if a.get("builtin") else "serviceprincipal") == wanted]
    if "Enabled" in parameters:
        items = [a for a in items if a.get("enabled", True) == parameters["Enabled"]]
    return Result(items, lambda item, select: assignment_row(tenant, item, select))


def remove_management_role_assignment(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    key = parameters["Identity"].strip().lower()
    if any(key == n.lower() for n, _r, _a in BUILTIN_ASSIGNMENTS):
        raise task_error("The built-in management role assignment \"%s\" can't be removed in the emulator."
                         % parameters["Identity"], "System.InvalidOperationException")
    assignment = find_assignment(tenant, parameters["Identity"])
    tenant.role_assignments = [a for a in tenant.role_assignments if a is not assignment]
    return Result()


# -- Test-ServicePrincipalAuthorization -------------------------------------------------------------------------------

def test_service_principal_authorization(inv):
    tenant, parameters = inv.tenant, inv.params
    require(parameters, "Identity")
    sp = find_service_principal(tenant, parameters["Identity"])
    resource = None
    if "Resource" in parameters:
        resource = resolve_one(tenant, parameters["Resource"], lambda r: r.is_active and r.rtd in USER_TYPES)
    rows = []
    for assignment in tenant.role_assignments:
        if assignment["app"] != sp["object_id"] or not assignment.get("enabled", True):
            continue
        role = ROLE_BY_NAME.get(assignment["role"].lower())
        scope = next((s for s in tenant.management_scopes if s["name"] == assignment.get("scope")), None)
        rows.append({"RoleName": assignment["role"], "GrantedPermissions": ", ".join(role[1]) if role else "",
                     "AllowedResourceScope": scope["name"] if scope else "Organization",
                     "ScopeType": "CustomRecipientScope" if scope else "Organization",
                     "InScope": in_scope(tenant, scope, resource) if resource is not None else "Not Run"})
    return Result(rows, render)


# -- Get-OrganizationConfig -----------------------------------------------------------------------------------------------

def organization_config_values(tenant):
    values = {
        "Identity": tenant.domain, "Name": tenant.domain, "DisplayName": tenant.name.capitalize(),
        "Guid": record_guid(tenant, "organization"), "IsDehydrated": False, "EwsEnabled": None,
        "EwsApplicationAccessPolicy": None, "EwsAllowList": [], "EwsBlockList": [], "EwsAllowEntourage": None,
        "EwsAllowMacOutlook": None, "EwsAllowOutlook": None, "OAuth2ClientProfileEnabled": True,
        "AuditDisabled": False, "MailTipsAllTipsEnabled": True, "MailTipsExternalRecipientsTipsEnabled": False,
        "MailTipsGroupMetricsEnabled": True, "MailTipsLargeAudienceThreshold": 25,
        "MailTipsMailboxSourcedTipsEnabled": True, "DefaultAuthenticationPolicy": "",
        "ActivityBasedAuthenticationTimeoutEnabled": True, "AppsForOfficeEnabled": True,
        "PublicFoldersEnabled": "Local", "SmtpActionableMessagesEnabled": True, "ConnectorsEnabled": True,
        "DirectReportsGroupAutoCreationEnabled": False, "AdminDisplayVersion": "0.20 (15.20.7762.21)",
        "ExchangeVersion": "0.20 (15.0.0.0)", "OrganizationId": "%s.PROD.OUTLOOK.COM/Microsoft Exchange Hosted "
        "Organizations/%s - %s.PROD.OUTLOOK.COM/ConfigurationUnits/%s/Configuration" % (
            tenant.prefix, tenant.domain, tenant.prefix, tenant.domain),
        "IsValid": True, "ObjectState": "Unchanged",
    }
    values.update(tenant.organization_config)
    return values


def get_organization_config(inv):
    return Result([inv.tenant], lambda tenant, select: render(organization_config_values(tenant), select))


_IDENTITY = p("Identity", "identity")
_CONFIRM = p("Confirm", SWITCH)
_FORCE = p("Force", SWITCH)
_STRING = "string"

CMDLETS = (
    Cmdlet("New-ServicePrincipal", spec(p("AppId", _STRING), p("ObjectId", _STRING), p("ServiceId", _STRING),
                                        p("DisplayName", _STRING), _CONFIRM), new_service_principal, write=True),
    Cmdlet("Get-ServicePrincipal", spec(_IDENTITY, p("Organization", _STRING)), get_service_principal),
    Cmdlet("Set-ServicePrincipal", spec(_IDENTITY, p("DisplayName", _STRING), _CONFIRM), set_service_principal,
           write=True),
    Cmdlet("Remove-ServicePrincipal", spec(_IDENTITY, _CONFIRM), remove_service_principal, write=True),
    Cmdlet("New-ManagementScope", spec(p("Name", _STRING), p("RecipientRestrictionFilter", _STRING),
                                       p("RecipientRoot", _STRING), p("Exclusive", SWITCH), _FORCE, _CONFIRM),
           new_management_scope, write=True),
    Cmdlet("Get-ManagementScope", spec(_IDENTITY, p("Exclusive", SWITCH), p("Orphan", SWITCH)), get_management_scope),
    Cmdlet("Set-ManagementScope", spec(_IDENTITY, p("Name", _STRING), p("RecipientRestrictionFilter", _STRING),
                                       p("RecipientRoot", _STRING), _FORCE, _CONFIRM), set_management_scope,
           write=True),
    Cmdlet("Remove-ManagementScope", spec(_IDENTITY, _FORCE, _CONFIRM), remove_management_scope, write=True),
    Cmdlet("New-ManagementRoleAssignment", spec(p("Name", _STRING), p("Role", _STRING), p("App", _STRING),
                                                p("CustomResourceScope", _STRING), _FORCE, _CONFIRM),
           new_management_role_assignment, write=True),
    Cmdlet("Get-ManagementRoleAssignment", spec(_IDENTITY, p("Role", _STRING), p("RoleAssignee", _STRING),
                                                p("RoleAssigneeType", _STRING), p("Enabled", "bool")),
           get_management_role_assignment),
    Cmdlet("Remove-ManagementRoleAssignment", spec(_IDENTITY, _FORCE, _CONFIRM), remove_management_role_assignment,
           write=True),
    Cmdlet("Test-ServicePrincipalAuthorization", spec(_IDENTITY, p("Resource", "identity"), _CONFIRM),
           test_service_principal_authorization),
    Cmdlet("Get-OrganizationConfig", spec(_IDENTITY), get_organization_config),
)

REGISTRY.update((c.name.lower(), c) for c in CMDLETS)
